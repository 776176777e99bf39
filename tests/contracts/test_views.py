import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from billing.roles import sync_roles
from contracts import demo
from contracts.models import ChargeRequest, ChargeStatus, Customer
from contracts.services import charge_request_create

# The factories' periods and bundles run 2025-2027: read them as of a day inside, whatever the real date.
pytestmark = [pytest.mark.django_db, pytest.mark.today("2026-12-01")]


@pytest.fixture
def demo_data(catalogue):
    demo.load()


def test_the_entitlement_lookup_shows_the_decision_of_the_api(admin_client, demo_data):
    url = reverse("contracts:entitlement-lookup")
    lapsed = admin_client.get(url, {"customer": "DEMO-LAPSED", "service": "hotline", "quantity": 1})
    assert 'data-outcome="not_covered"' in lapsed.content.decode()
    active = admin_client.get(
        url, {"customer": "DEMO-ACTIVE", "service": "defect-fix", "severity": "1", "quantity": 1}
    ).content.decode()
    assert 'data-outcome="included"' in active
    assert 'id="respond-by"' in active


def test_the_entitlement_lookup_answers_for_a_product_from_its_own_contract(admin_client, demo_data):
    url = reverse("contracts:entitlement-lookup")
    question = {"customer": "DEMO-TWO-PRODUCTS", "service": "defect-fix", "quantity": 1}
    kms = admin_client.get(url, {**question, "product": "KMS"}).content.decode()
    assert 'data-outcome="included"' in kms
    assert "HT-DEMO-KMS" in kms
    eis = admin_client.get(url, {**question, "product": "EIS"}).content.decode()
    assert 'data-outcome="not_covered"' in eis
    assert "HT-DEMO-KMS" not in eis


def test_the_lookup_form_reports_bad_input(admin_client, demo_data):
    page = admin_client.get(
        reverse("contracts:entitlement-lookup"), {"customer": "NOPE", "service": "hotline"}
    )
    assert page.status_code == 200
    assert "data-outcome" not in page.content.decode()
    assert "errorlist" in page.content.decode()


def test_an_account_manager_approves_a_charge_request_from_the_api_on_their_page(
    client, demo_data, django_user_model
):
    sync_roles()
    manager = django_user_model.objects.create_user(username="am", password="x", is_staff=True)
    manager.groups.set(Group.objects.filter(name="account_manager"))
    customer = Customer.objects.get(code="DEMO-ACTIVE")
    customer.account_manager = manager
    customer.save()
    charge = charge_request_create(
        customer=customer,
        ticket_ref="TK-5",
        description="报表定制",
        requested_by="api:zendesk",
        estimated_person_days=1,
    )
    client.force_login(manager)
    page = client.get(reverse("contracts:charge-requests")).content.decode()
    assert f'id="charge-{charge.pk}"' in page
    client.post(
        reverse("contracts:charge-request-decide", args=[charge.pk]), {"decision": "approve", "note": "ok"}
    )
    assert ChargeRequest.objects.get(pk=charge.pk).status == ChargeStatus.AWAITING_CUSTOMER
    assert f'id="charge-{charge.pk}"' not in client.get(reverse("contracts:charge-requests")).content.decode()


@pytest.mark.parametrize("decision", [None, "", "approved", "reject "])
def test_a_charge_request_decision_missing_or_unknown_is_refused_not_read_as_a_rejection(
    client, demo_data, django_user_model, decision
):
    sync_roles()
    manager = django_user_model.objects.create_user(username="am", password="x", is_staff=True)
    manager.groups.set(Group.objects.filter(name="account_manager"))
    customer = Customer.objects.get(code="DEMO-ACTIVE")
    customer.account_manager = manager
    customer.save()
    charge = charge_request_create(
        customer=customer,
        ticket_ref="TK-6",
        description="报表",
        requested_by="api:x",
        estimated_person_days=1,
    )
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(manager)
    posted = {"note": "?"} if decision is None else {"decision": decision, "note": "?"}
    answer = client.post(reverse("contracts:charge-request-decide", args=[charge.pk]), posted, follow=True)
    assert any(message.level_tag == "error" for message in answer.context["messages"])
    assert ChargeRequest.objects.get(pk=charge.pk).status == ChargeStatus.PENDING_APPROVAL
    assert not charge.events.exclude(status=ChargeStatus.PENDING_APPROVAL).exists()
