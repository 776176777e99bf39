"""The set-up pages (workspace.setup_views): account managers create and edit customers, contacts,
contracts and free periods; roles without the permissions are refused."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from billing.roles import sync_roles
from catalog.models import BusinessCalendar, ServiceTier
from contracts.models import Contact, Contract, Customer, PeriodKind
from contracts.setup import customer_create
from tests.demo_roles import management, messages_of

pytestmark = pytest.mark.django_db

VALID_USCC = "91310000MA00000025"


@pytest.fixture
def users(catalogue, django_user_model):
    sync_roles()
    users = {}
    for role in ("account_manager", "finance", "sales", "administrator"):
        user = django_user_model.objects.create_user(username=role, is_staff=True)
        user.groups.set(Group.objects.filter(name=role))
        users[role] = user
    return users


@pytest.fixture
def am_client(client, users):
    client.force_login(users["account_manager"])
    return client


def new_customer_form(**overrides) -> dict:
    form = {
        "customer-code": "HUAXIA",
        "customer-legal_name": "华夏软件有限公司",
        "customer-uscc": VALID_USCC,
        "customer-city": "上海",
        "customer-region": "上海市",
        "customer-arrival_area": "same_city",
        "contact-name": "张伟",
        "contact-email": "zhang@example.com",
        "contact-is_primary": "on",
        "contract-number": "HT-2026-HX",
        "contract-kind": "purchase",
        "contract-signed_on": "2026-03-01",
        **management("products", total=2),
        "products-0-product": "KMS",
        "products-0-version": "8.5.2",
        **management("modules", total=1),
        "modules-0-code": "oa-flow",
        "modules-0-name": "定制审批流",
        "period-start": "2026-03-01",
        "period-end": "2027-02-28",
        "period-tier": "standard",
        "period-trainings_per_year": "2",
    }
    return {**form, **overrides}


def test_an_account_manager_sets_up_a_customer_on_one_page(am_client, users):
    page = am_client.get(reverse("contracts:customer-new"))
    assert page.status_code == 200
    assert 'name="customer-account_manager"' not in page.content.decode()  # only administrators assign
    response = am_client.post(reverse("contracts:customer-new"), new_customer_form())
    assert response.status_code == 302, messages_of(response)
    assert response["Location"] == reverse("invoices:customer", args=["HUAXIA"])
    customer = Customer.objects.get(code="HUAXIA")
    assert customer.account_manager == users["account_manager"]
    assert customer.contacts.get().is_primary
    contract = customer.contracts.get()
    assert contract.products.get().version == "8.5.2"
    assert contract.custom_modules.get().name == "定制审批流"
    assert contract.periods.get().kind == PeriodKind.FREE
    assert customer.history.get().history_user == users["account_manager"]
    shown = am_client.get(response["Location"]).content.decode()
    assert "KMS 8.5.2" in shown
    assert reverse("contracts:customer-edit", args=["HUAXIA"]) in shown


def test_a_bad_uscc_or_version_refuses_the_whole_set_up(am_client):
    response = am_client.post(
        reverse("contracts:customer-new"), new_customer_form(**{"customer-uscc": "123"})
    )
    assert response.status_code == 200
    assert response.context["customer"].errors["uscc"]
    response = am_client.post(
        reverse("contracts:customer-new"), new_customer_form(**{"products-0-version": "eight"})
    )
    assert response.status_code == 200
    assert response.context["licences"].errors[0]["version"]
    response = am_client.post(
        reverse("contracts:customer-new"),
        new_customer_form(**{"period-start": "2027-03-01", "period-end": "2026-03-01"}),
    )
    assert response.context["period"].errors["end"]
    assert not Customer.objects.exists()


@pytest.mark.parametrize("role", ["finance", "sales"])
def test_finance_and_sales_cannot_set_up_customers(client, users, role):
    client.force_login(users[role])
    assert client.get(reverse("contracts:customer-new")).status_code == 403
    assert client.post(reverse("contracts:customer-new"), new_customer_form()).status_code == 403
    customer = customer_create(by=users["account_manager"], code="OWN", legal_name="自有")
    assert client.get(reverse("contracts:customer-edit", args=[customer.code])).status_code == 403
    assert client.get(reverse("contracts:contract-new", args=[customer.code])).status_code == 403
    assert not Customer.objects.filter(code="HUAXIA").exists()


def test_the_nav_links_to_new_customer_only_for_who_may(client, users):
    client.force_login(users["account_manager"])
    assert (
        reverse("contracts:customer-new")
        in client.get(reverse("contracts:entitlement-lookup")).content.decode()
    )
    client.force_login(users["finance"])
    assert (
        reverse("contracts:customer-new")
        not in client.get(reverse("contracts:entitlement-lookup")).content.decode()
    )


def test_an_account_manager_edits_a_customer_and_its_contacts(am_client, users):
    customer = customer_create(by=users["account_manager"], code="EDIT", legal_name="旧名")
    url = reverse("contracts:customer-edit", args=["EDIT"])
    assert am_client.get(url).status_code == 200
    refused = am_client.post(url, {"legal_name": "新名", "uscc": "bad", "arrival_area": "same_city"})
    assert refused.context["form"].errors["uscc"]
    response = am_client.post(url, {"legal_name": "新名", "uscc": VALID_USCC, "arrival_area": "same_city"})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.legal_name, customer.uscc, customer.code) == ("新名", VALID_USCC, "EDIT")

    response = am_client.post(
        reverse("contracts:contact-new", args=["EDIT"]), {"name": "李娜", "phone": "13800000000"}
    )
    assert response.status_code == 302
    contact = Contact.objects.get(customer=customer)
    response = am_client.post(
        reverse("contracts:contact-edit", args=[contact.pk]), {"name": "李娜", "email": "li@example.com"}
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.email == "li@example.com"


def test_another_managers_customer_is_refused(client, users, django_user_model):
    other = django_user_model.objects.create_user(username="other", is_staff=True)
    other.groups.set(Group.objects.filter(name="account_manager"))
    customer = customer_create(by=other, code="THEIRS", legal_name="他人", account_manager=other)
    client.force_login(users["account_manager"])
    assert client.get(reverse("contracts:customer-edit", args=["THEIRS"])).status_code == 403
    assert client.post(reverse("contracts:contact-new", args=["THEIRS"]), {"name": "x"}).status_code == 403
    assert not customer.contacts.exists()


def test_a_contract_then_its_free_period_are_added_and_an_overlap_is_refused(am_client, users):
    customer = customer_create(by=users["account_manager"], code="MORE", legal_name="加购")
    form = {
        "contract-number": "HT-MORE-2",
        "contract-kind": "purchase",
        "contract-signed_on": "2026-05-01",
        **management("products", total=1),
        "products-0-product": "EIS",
        "products-0-version": "5.2.0",
        **management("modules", total=0),
    }
    response = am_client.post(reverse("contracts:contract-new", args=["MORE"]), form)
    contract = customer.contracts.get()
    assert response["Location"] == reverse("contracts:period-new", args=[contract.pk])
    period_url = reverse("contracts:period-new", args=[contract.pk])
    assert am_client.get(period_url).status_code == 200
    period = {"start": "2026-05-01", "end": "2027-04-30", "tier": "standard", "trainings_per_year": "2"}
    assert am_client.post(period_url, period).status_code == 302
    overlapping = am_client.post(period_url, {**period, "start": "2027-04-01", "end": "2027-12-31"})
    assert overlapping.status_code == 200
    assert overlapping.context["form"].non_field_errors()
    assert contract.periods.count() == 1
    assert contract.periods.get().end == datetime.date(2027, 4, 30)


def test_the_admin_holds_account_managers_to_their_own_customers_too(client, users, django_user_model):
    """The role now adds contracts and periods: the admin refuses them for another manager's customer."""
    other = django_user_model.objects.create_user(username="other", is_staff=True)
    theirs = customer_create(by=None, code="THEIRS", legal_name="他人", account_manager=other)
    mine = customer_create(by=users["account_manager"], code="MINE", legal_name="自己")
    client.force_login(users["account_manager"])
    inlines = {**management("products"), **management("custom_modules"), **management("periods")}
    inlines |= management("bundles")
    contract = {"number": "HT-ADMIN", "kind": "purchase", "signed_on": "2026-01-01", **inlines}
    refused = client.post(reverse("admin:contracts_contract_add"), {**contract, "customer": theirs.pk})
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["customer"]
    added = client.post(reverse("admin:contracts_contract_add"), {**contract, "customer": mine.pk})
    assert added.status_code == 302
    own = mine.contracts.get()
    theirs_contract = Contract.objects.create(customer=theirs, number="HT-THEIRS", kind="purchase",
                                              signed_on=datetime.date(2026, 1, 1))  # fmt: skip
    assert (
        client.get(reverse("admin:contracts_contract_change", args=[theirs_contract.pk])).status_code == 200
    )
    period = {"kind": "free", "start": "2026-01-01", "end": "2026-12-31", "tier": ServiceTier.objects.get(
        code="standard").pk, "calendar": BusinessCalendar.objects.get(code="5x8").pk, "fee_0": "0",
        "fee_1": "CNY", "trainings_per_year": "2"}  # fmt: skip
    client.post(reverse("admin:contracts_serviceperiod_add"), {**period, "contract": theirs_contract.pk})
    assert not theirs_contract.periods.exists()
    client.post(reverse("admin:contracts_serviceperiod_add"), {**period, "contract": own.pk})
    assert own.periods.get().history.get().history_user == users["account_manager"]
