"""The contracts admin: every page opens, the ledger is read-only, charge requests are approved there."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.urls import reverse

from catalog.models import ServiceItem
from contracts import demo
from contracts.models import ChargeRequest, ChargeStatus, ConsumptionEntry, Customer
from contracts.services import charge_request_create, consume

pytestmark = pytest.mark.django_db

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
