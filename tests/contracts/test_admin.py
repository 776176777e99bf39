"""The contracts admin: every page opens, the ledger is read-only, charge requests are approved there."""

import datetime

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.urls import reverse
from djmoney.money import Money

from catalog.models import ServiceItem
from contracts import demo
from contracts.models import ChargeRequest, ChargeStatus, ConsumptionEntry, Contract, Customer
from contracts.services import charge_request_create, consume
from tests.demo_roles import load_demo, log_in, management, messages_of

# The factories' periods and bundles run 2025-2027: read them as of a day inside, whatever the real date.
pytestmark = [pytest.mark.django_db, pytest.mark.today("2026-12-01")]

MODELS = [m for m in admin.site._registry if m._meta.app_label == "contracts"]


@pytest.fixture
def demo_data(catalogue):
    demo.load()
    consume(
        customer=Customer.objects.get(code="DEMO-ACTIVE"),
        service=ServiceItem.objects.get(code="custom-development"),
        quantity=1,
        ticket_ref="TK-1",
        idempotency_key="admin-test",
    )
    charge_request_create(
        customer=Customer.objects.get(code="DEMO-ACTIVE"),
        ticket_ref="TK-2",
        description="报表",
        requested_by="api:test",
        estimated_person_days=1,
    )


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.model_name)
def test_every_contracts_admin_page_opens(admin_client, demo_data, model):
    opts = model._meta
    assert admin_client.get(reverse(f"admin:contracts_{opts.model_name}_changelist")).status_code == 200
    first = model.objects.first()
    assert first is not None
    assert (
        admin_client.get(reverse(f"admin:contracts_{opts.model_name}_change", args=[first.pk])).status_code
        == 200
    )


def test_the_consumption_ledger_cannot_be_edited_in_the_admin(admin_client, demo_data):
    entry = ConsumptionEntry.objects.get()
    assert admin_client.get(reverse("admin:contracts_consumptionentry_add")).status_code == 403
    assert (
        admin_client.post(reverse("admin:contracts_consumptionentry_delete", args=[entry.pk])).status_code
        == 403
    )


def test_an_account_manager_approves_a_charge_request_in_the_admin(client, django_user_model, demo_data):
    manager = django_user_model.objects.create_user(username="am", password="x", is_staff=True)
    manager.user_permissions.set(
        Permission.objects.filter(
            codename__in=["approve_chargerequest", "view_chargerequest", "change_chargerequest"]
        )
    )
    client.force_login(manager)
    charge = ChargeRequest.objects.get()
    response = client.post(
        reverse("admin:contracts_chargerequest_changelist"),
        {"action": "approve", "_selected_action": [charge.pk]},
        follow=True,
    )
    assert response.status_code == 200
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.AWAITING_CUSTOMER
    assert charge.approved_by == manager


# --- the admin cannot move a charge request or a period past what contracts.services allows ------------


@pytest.fixture
def roles(catalogue, django_user_model):
    return load_demo(django_user_model)


@pytest.fixture
def large_request(roles):
    """50,000 CNY of out-of-scope work for DEMO-ACTIVE, whose account manager is the demo's."""
    return charge_request_create(
        customer=Customer.objects.get(code="DEMO-ACTIVE"),
        ticket_ref="TK-50000",
        description="数据仓库对接",
        requested_by="api:zendesk",
        estimated_amount=Money(50000, "CNY"),
    )


def charge_form(**fields) -> dict:
    return {**management("events"), **fields}


def test_an_account_manager_cannot_edit_a_large_charge_request_down_and_approve_it_alone(
    client, roles, large_request
):
    log_in(client, roles["account_manager"])
    url = reverse("admin:contracts_chargerequest_change", args=[large_request.pk])
    client.post(url, charge_form(estimated_amount_0="100", estimated_amount_1="CNY", description="改"))
    large_request.refresh_from_db()
    assert large_request.estimated_amount == Money(50000, "CNY")
    assert large_request.description == "数据仓库对接"
    changelist = reverse("admin:contracts_chargerequest_changelist")
    approve = {"action": "approve", "_selected_action": [large_request.pk]}
    client.post(changelist, approve)
    again = client.post(changelist, approve, follow=True)
    assert f"{large_request}: Finance approves charge requests of this size." in messages_of(again)
    large_request.refresh_from_db()
    assert (large_request.status, large_request.approved_by) == (
        ChargeStatus.PENDING_FINANCE,
        roles["account_manager"],
    )
    log_in(client, roles["finance"])
    client.post(changelist, approve)
    large_request.refresh_from_db()
    assert (large_request.status, large_request.finance_approved_by) == (
        ChargeStatus.AWAITING_CUSTOMER,
        roles["finance"],
    )


@pytest.mark.parametrize("role", ["account_manager", "finance", "administrator"])
def test_the_admin_cannot_approve_a_charge_request_by_editing_its_status(client, roles, large_request, role):
    log_in(client, roles[role])
    url = reverse("admin:contracts_chargerequest_change", args=[large_request.pk])
    client.post(
        url,
        charge_form(
            status=ChargeStatus.CONFIRMED,
            approved_by=roles[role].pk,
            finance_approved_by=roles[role].pk,
            customer_answer_name="张伟",
        ),
    )
    large_request.refresh_from_db()
    assert (large_request.status, large_request.approved_by, large_request.customer_answer_name) == (
        ChargeStatus.PENDING_APPROVAL,
        None,
        "",
    )
    delete = reverse("admin:contracts_chargerequest_delete", args=[large_request.pk])
    assert client.post(delete).status_code == 403


def test_a_service_period_is_added_through_period_add_and_never_changed_in_the_admin(client, roles):
    log_in(client, roles["administrator"])
    contract = Contract.objects.get(number="HT-2025-017")
    period = contract.periods.get()
    add = reverse("admin:contracts_serviceperiod_add")
    terms = {"contract": contract.pk, "kind": "paid", "tier": period.tier.pk, "calendar": period.calendar.pk,
             "fee_0": "1000", "fee_1": "CNY", "trainings_per_year": "2"}  # fmt: skip
    refused = client.post(add, {**terms, "start": "2027-06-01", "end": "2028-05-31"}, follow=True)
    assert "overlaps" in refused.content.decode()
    assert contract.periods.count() == 1
    client.post(add, {**terms, "start": "2028-01-01", "end": "2028-12-31"})
    assert contract.periods.count() == 2
    client.post(
        reverse("admin:contracts_serviceperiod_change", args=[period.pk]),
        {**terms, "start": "2020-01-01", "end": "2030-12-31", "fee_0": "1"},
    )
    period.refresh_from_db()
    assert (period.start, period.end, period.fee) == (
        datetime.date(2025, 1, 1),
        datetime.date(2027, 12, 31),
        Money(120000, "CNY"),
    )
