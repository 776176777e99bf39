"""contracts.setup: account managers set up customers through services that keep the admin's rules."""

import datetime

import pytest
from django.contrib.auth.models import Group
from stdnum.cn import uscc as uscc_number

from billing.errors import BillingError
from billing.roles import sync_roles
from catalog.models import Product, ServiceTier
from contracts.models import Contact, Customer, PeriodKind, ServicePeriod
from contracts.ownership import NotYourCustomer
from contracts.services import Conflict
from contracts.setup import (
    SetupForbidden,
    SetupInvalid,
    contact_add,
    contact_update,
    contract_create,
    customer_create,
    customer_setup,
    customer_update,
    free_period_add,
    manager_of_new_customer,
)

pytestmark = pytest.mark.django_db

VALID_USCC = "91110000MA0000001L"
D = datetime.date


def role_user(django_user_model, name: str, role: str):
    user = django_user_model.objects.create_user(username=name, is_staff=True)
    user.groups.set(Group.objects.filter(name=role))
    return django_user_model.objects.get(pk=user.pk)


@pytest.fixture
def roles(catalogue, django_user_model):
    sync_roles()
    return {
        role: role_user(django_user_model, role, role)
        for role in ("account_manager", "finance", "sales", "administrator")
    }


@pytest.fixture
def am(roles):
    return roles["account_manager"]


def _setup(by, code="NEW-CO", **overrides):
    parts = {
        "customer": {"code": code, "legal_name": "新客户有限公司", "uscc": VALID_USCC, "account_manager": by},
        "contact": {"name": "王芳", "email": "wang@example.com", "is_primary": True},
        "contract": {
            "number": f"HT-{code}",
            "signed_on": D(2026, 3, 1),
            "products": [(Product.objects.get(code="KMS"), "8.5.2")],
            "custom_modules": [("oa-flow", "定制审批流", None)],
        },
        "free_period": {
            "start": D(2026, 3, 1),
            "end": D(2027, 2, 28),
            "tier": ServiceTier.objects.get(code="standard"),
        },
    }
    parts.update(overrides)
    return customer_setup(by=by, **parts)


def test_an_account_manager_sets_up_a_customer_with_contact_contract_products_and_free_period(am):
    customer = _setup(am)
    assert customer.account_manager == am
    assert customer.contacts.get().name == "王芳"
    contract = customer.contracts.get()
    assert [(p.product.code, p.version) for p in contract.products.all()] == [("KMS", "8.5.2")]
    assert [m.code for m in contract.custom_modules.all()] == ["oa-flow"]
    period = contract.periods.get()
    assert (period.kind, period.start, period.end, period.fee.amount) == (
        PeriodKind.FREE,
        D(2026, 3, 1),
        D(2027, 2, 28),
        0,
    )
    assert period.calendar == period.tier.calendar


def test_the_uscc_is_checked_with_the_models_rule_and_compacted(am):
    customer = customer_create(by=am, code="SPACED", legal_name="甲", uscc="9111 0000 MA00 0000 1L")
    assert customer.uscc == VALID_USCC
    wrong = VALID_USCC[:-1] + ("0" if VALID_USCC[-1] != "0" else "1")
    assert not uscc_number.is_valid(wrong)
    with pytest.raises(SetupInvalid) as refused:
        customer_create(by=am, code="WRONG", legal_name="乙", uscc=wrong)
    assert "uscc" in refused.value.errors
    assert not Customer.objects.filter(code="WRONG").exists()


def test_a_bad_part_of_a_set_up_writes_nothing(am):
    with pytest.raises(SetupInvalid) as refused:
        _setup(am, contact={"name": "王芳", "email": "not an address"})
    assert refused.value.part == "contact"
    assert not Customer.objects.filter(code="NEW-CO").exists()
    with pytest.raises(SetupInvalid) as refused:
        _setup(
            am,
            contract={
                "number": "HT-X",
                "signed_on": D(2026, 3, 1),
                "products": [(Product.objects.get(code="KMS"), "eight")],
            },
        )
    assert refused.value.part == "products"
    assert not Customer.objects.filter(code="NEW-CO").exists()


def test_an_overlapping_free_period_is_refused_by_period_add(am):
    contract = _setup(am).contracts.get()
    with pytest.raises(Conflict) as refused:
        free_period_add(
            contract=contract,
            by=am,
            start=D(2027, 1, 1),
            end=D(2027, 6, 30),
            tier=ServiceTier.objects.get(code="standard"),
        )
    assert refused.value.code == "period_overlap"
    assert contract.periods.count() == 1


def test_the_history_names_the_account_manager(am):
    customer = _setup(am)
    assert customer.history.get().history_user == am
    contract = customer.contracts.get()
    assert contract.history.get().history_user == am
    assert ServicePeriod.history.get(contract=contract).history_user == am
    contact = customer.contacts.get()
    assert contact.history.get().history_user == am
    contact_update(contact=contact, by=am, phone="13900000000")
    assert (contact.history.first().phone, contact.history.first().history_user) == ("13900000000", am)
    customer_update(customer=customer, by=am, city="天津")
    latest = customer.history.first()
    assert (latest.city, latest.history_user, latest.history_type) == ("天津", am, "~")


@pytest.mark.parametrize("role", ["finance", "sales"])
def test_roles_without_the_permission_cannot_create_customers_or_contracts(roles, role):
    user = roles[role]
    with pytest.raises(SetupForbidden):
        customer_create(by=user, code="NOPE", legal_name="不")
    customer = customer_create(by=roles["account_manager"], code="OWNED", legal_name="有")
    with pytest.raises(SetupForbidden):
        contract_create(customer=customer, by=user, number="HT-NOPE", signed_on=D(2026, 1, 1))
    with pytest.raises(SetupForbidden):
        contact_add(customer=customer, by=user, name="李")
    assert not Customer.objects.filter(code="NOPE").exists()


def test_an_account_manager_cannot_change_another_managers_customer(roles, django_user_model):
    other = role_user(django_user_model, "other-am", "account_manager")
    customer = _setup(other, code="THEIRS")
    am = roles["account_manager"]
    with pytest.raises(NotYourCustomer):
        customer_update(customer=customer, by=am, city="上海")
    with pytest.raises(NotYourCustomer):
        contact_add(customer=customer, by=am, name="李")
    with pytest.raises(NotYourCustomer):
        contact_update(contact=customer.contacts.get(), by=am, name="改")
    assert Contact.objects.get(customer=customer).name == "王芳"


def test_only_an_administrator_assigns_another_account_manager(roles, django_user_model):
    am, admin = roles["account_manager"], roles["administrator"]
    other = role_user(django_user_model, "other-am", "account_manager")
    with pytest.raises(SetupForbidden):
        customer_create(by=am, code="GIFT", legal_name="赠", account_manager=other)
    customer = customer_create(
        by=am, code="MINE", legal_name="我", account_manager=manager_of_new_customer(am)
    )
    assert customer.account_manager == am
    with pytest.raises(SetupForbidden):
        customer_update(customer=customer, by=am, account_manager=other)
    customer_update(customer=customer, by=admin, account_manager=other)
    customer.refresh_from_db()
    assert customer.account_manager == other
    assert manager_of_new_customer(admin) is None


def test_a_contract_number_or_customer_code_is_unique(am):
    _setup(am)
    with pytest.raises(SetupInvalid) as refused:
        customer_create(by=am, code="NEW-CO", legal_name="重复")
    assert "code" in refused.value.errors
    with pytest.raises(BillingError):
        contract_create(
            customer=Customer.objects.get(code="NEW-CO"), by=am, number="HT-NEW-CO", signed_on=D(2026, 1, 1)
        )
