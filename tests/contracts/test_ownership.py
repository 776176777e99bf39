"""Account managers act for their own customers only (contracts.ownership), whichever way they come: the
services refuse another manager's customer, so the admin, the staff pages and the API give the same answer;
a team lead (ACCOUNT_MANAGER_TEAMS) acts for his team; administrators, finance and sales are not limited;
who manages a customer is set by administrators only."""

import uuid
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from djmoney.money import Money

from billing.errors import BillingError
from catalog.models import ServiceItem
from contracts.models import ChargeRequest, ChargeStatus, ConsumptionEntry, Customer
from contracts.services import (
    charge_request_approve,
    charge_request_can_approve,
    charge_request_create,
    charge_request_reject,
    consume,
    consumption_correct,
)
from quotes.models import Quote, QuoteStatus
from quotes.services import (
    quote_add_line,
    quote_create,
    quote_revise,
    quote_send,
    quote_set_discount,
    quote_submit,
)
from tests.demo_roles import load_demo, log_in, management, messages_of, service_accepts

# The factories' periods and bundles run 2025-2027: read them as of a day inside, whatever the real date.
pytestmark = [pytest.mark.django_db, pytest.mark.today("2026-12-01")]


@pytest.fixture
def roles(catalogue, django_user_model):
    """The demo roles, a second account manager ``am2`` who manages DEMO-ACTIVE (the demo's customer with
    its charge request and quote), while ``account_manager`` keeps the other demo customers."""
    users = load_demo(django_user_model)
    other = django_user_model.objects.create_user(username="am2", email="am2@example.com", is_staff=True)
    other.groups.set(Group.objects.filter(name="account_manager"))
    users["am2"] = django_user_model.objects.get(pk=other.pk)
    Customer.objects.filter(code="DEMO-ACTIVE").update(account_manager=other)
    return users


def customer_form(customer: Customer, **fields) -> dict:
    """The customer's change form as the admin page posts it back (no inline row changed)."""
    return {
        "code": customer.code,
        "legal_name": customer.legal_name,
        "uscc": customer.uscc,
        "city": customer.city,
        "region": customer.region,
        "arrival_area": customer.arrival_area,
        "account_manager": customer.account_manager_id or "",
        **management("contacts"),
        **management("contracts"),
        **fields,
    }


def test_an_account_manager_cannot_reassign_another_managers_customer_to_himself_in_the_admin(client, roles):
    manager = roles["account_manager"]
    theirs = Customer.objects.get(code="DEMO-ACTIVE")
    log_in(client, manager)
    url = reverse("admin:contracts_customer_change", args=[theirs.pk])
    answer = client.post(url, customer_form(theirs, account_manager=manager.pk, legal_name="改名"))
    assert answer.status_code == 403
    theirs.refresh_from_db()
    assert (theirs.account_manager, theirs.legal_name) == (roles["am2"], "示例科技有限公司")
    # on his own customer he edits the details, but who manages it is not his to change either way
    own = Customer.objects.get(code="DEMO-FREE")
    url = reverse("admin:contracts_customer_change", args=[own.pk])
    client.post(url, customer_form(own, account_manager=roles["am2"].pk, city="九江"))
    own.refresh_from_db()
    assert (own.account_manager, own.city) == (manager, "九江")
    # and the charge request of the other manager's customer is not approved through the admin
    charge = ChargeRequest.objects.get(customer=theirs)
    answer = client.post(
        reverse("admin:contracts_chargerequest_changelist"),
        {"action": "approve", "_selected_action": [charge.pk]},
        follow=True,
    )
    assert f"{charge}: DEMO-ACTIVE is managed by another account manager." in messages_of(answer)
    assert ChargeRequest.objects.get(pk=charge.pk).status == ChargeStatus.PENDING_APPROVAL


def test_an_administrator_assigns_a_customers_account_manager_in_the_admin(client, roles):
    customer = Customer.objects.get(code="DEMO-ACTIVE")
    log_in(client, roles["administrator"])
    url = reverse("admin:contracts_customer_change", args=[customer.pk])
    client.post(url, customer_form(customer, account_manager=roles["account_manager"].pk))
    customer.refresh_from_db()
    assert customer.account_manager == roles["account_manager"]


def test_an_account_manager_cannot_move_a_charge_request_to_his_own_customer_in_the_admin(client, roles):
    charge = ChargeRequest.objects.get(customer__code="DEMO-ACTIVE")
    own = Customer.objects.get(code="DEMO-FREE")
    log_in(client, roles["account_manager"])
    client.post(
        reverse("admin:contracts_chargerequest_change", args=[charge.pk]),
        {"customer": own.pk, "estimated_person_days": "0.5", **management("events")},
    )
    charge.refresh_from_db()
    assert (charge.customer.code, charge.estimated_person_days) == ("DEMO-ACTIVE", Decimal(2))


def test_an_account_manager_neither_approves_nor_rejects_another_managers_customers_charge_requests(
    client, roles
):
    charge = ChargeRequest.objects.get(customer__code="DEMO-ACTIVE")
    stranger, own_manager = roles["account_manager"], roles["am2"]
    for service in (charge_request_approve, charge_request_reject):
        with pytest.raises(BillingError) as refusal:
            service(request=charge, by=stranger)
        assert refusal.value.code == "not_your_customer"
    # the page lists it only for those who may decide it, and a decision posted anyway is refused
    page = log_in(client, stranger).get(reverse("contracts:charge-requests")).content.decode()
    assert f'id="charge-{charge.pk}"' not in page
    client.post(reverse("contracts:charge-request-decide", args=[charge.pk]), {"decision": "reject"})
    assert ChargeRequest.objects.get(pk=charge.pk).status == ChargeStatus.PENDING_APPROVAL
    assert charge_request_can_approve(charge, own_manager)
    assert charge_request_approve(request=charge, by=own_manager).approved_by == own_manager


def test_an_account_manager_quotes_only_for_his_own_customers_through_every_service(roles):
    stranger = roles["account_manager"]
    theirs = Customer.objects.get(code="DEMO-ACTIVE")
    with pytest.raises(BillingError) as refusal:
        quote_create(customer=theirs, created_by=stranger)
    assert refusal.value.code == "not_your_customer"
    draft = quote_create(customer=theirs, created_by=roles["sales"])
    service = ServiceItem.objects.get(code="custom-development")
    steps = {
        "add_line": lambda: quote_add_line(quote=draft, service=service, quantity=1, by=stranger),
        "set_discount": lambda: quote_set_discount(quote=draft, discount=Decimal("0.5"), by=stranger),
        "submit": lambda: quote_submit(quote=draft, by=stranger),
        "send": lambda: quote_send(quote=draft, by=stranger),
        "revise": lambda: quote_revise(quote=draft, by=stranger),
    }
    quote_add_line(quote=draft, service=service, quantity=1, by=roles["sales"])
    assert {name for name, step in steps.items() if service_accepts(step)} == set()
    # his own customer's quotes he makes and sends
    own = quote_create(customer=Customer.objects.get(code="DEMO-FREE"), created_by=stranger)
    quote_add_line(quote=own, service=service, quantity=1, by=stranger)
    assert quote_send(quote=own, by=stranger).status == QuoteStatus.SENT


def test_an_account_manager_does_not_change_another_managers_customers_quote_in_the_admin(client, roles):
    quote = Quote.objects.get(customer__code="DEMO-ACTIVE")
    quotes = Quote.objects.count()
    log_in(client, roles["account_manager"])
    url = reverse("admin:quotes_quote_change", args=[quote.pk])
    answer = client.post(
        url,
        {"valid_until": quote.valid_until.isoformat(), "discount": "0.6", "notes": "", "terms": "",
         "approval_reason": "", **management("lines"), **management("lines-2")},
    )  # fmt: skip
    assert answer.status_code == 403
    sent = client.post(
        reverse("admin:quotes_quote_changelist"),
        {"action": "revise", "_selected_action": [quote.pk]},
        follow=True,
    )
    assert f"{quote}: DEMO-ACTIVE is managed by another account manager." in messages_of(sent)
    quote.refresh_from_db()
    assert (quote.discount, quote.status, Quote.objects.count()) == (
        Decimal("0.2"),
        QuoteStatus.PENDING_APPROVAL,
        quotes,
    )
    # the builder offers him no step the services would refuse
    page = client.get(reverse("quotes:builder", args=[quote.pk])).content.decode()
    assert "set-discount" not in page
    assert "add-line" not in page


def test_an_account_manager_corrects_only_his_own_customers_consumption(roles):
    theirs = Customer.objects.get(code="DEMO-ACTIVE")
    (entry,) = consume(
        customer=theirs,
        service=ServiceItem.objects.get(code="custom-development"),
        quantity=1,
        ticket_ref="TK-1",
        idempotency_key="ownership-use",
    )

    def correct(by):
        return consumption_correct(
            entry=entry, quantity=Decimal(1), reason="wrong ticket", idempotency_key=str(uuid.uuid4()), by=by
        )

    with pytest.raises(BillingError):
        correct(roles["account_manager"])
    assert correct(roles["am2"]).quantity == Decimal(-1)
    assert ConsumptionEntry.objects.filter(corrects=entry).count() == 1


def test_a_team_lead_acts_for_his_teams_customers(roles, settings):
    charge = ChargeRequest.objects.get(customer__code="DEMO-ACTIVE")
    lead = roles["account_manager"]
    assert not charge_request_can_approve(charge, lead)
    settings.ACCOUNT_MANAGER_TEAMS = {"account_manager": ["am2"]}
    assert charge_request_can_approve(charge, lead)
    # the member does not act for the lead's customers
    own = Customer.objects.get(code="DEMO-FREE")
    lead_charge = charge_request_create(
        customer=own, ticket_ref="TK-9", description="x", requested_by="api:x", estimated_person_days=1
    )
    assert not charge_request_can_approve(lead_charge, roles["am2"])


@pytest.mark.parametrize("role", ["finance", "administrator"])
def test_finance_and_administrators_are_not_limited_to_customers_they_manage(roles, role):
    large = charge_request_create(
        customer=Customer.objects.get(code="DEMO-ACTIVE"),
        ticket_ref="TK-50000",
        description="数据仓库对接",
        requested_by="api:zendesk",
        estimated_amount=Money(50000, "CNY"),
    )
    large = charge_request_approve(request=large, by=roles["am2"])
    assert charge_request_approve(request=large, by=roles[role]).status == ChargeStatus.AWAITING_CUSTOMER
