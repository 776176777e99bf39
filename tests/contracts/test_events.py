"""The contract events (contracts.outbox): service periods, quotas and charge requests are recorded by the
services that change them, once each, with the object as the API shows it."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from djmoney.money import Money

from billing.errors import BillingError
from catalog.models import ServiceItem, ServiceTier
from contracts.models import Contact, PeriodKind, RenewalReminder
from contracts.services import (
    charge_request_approve,
    charge_request_create,
    charge_request_customer_answer,
    charge_request_reject,
    charge_requests_apply_closing_rule,
    consume,
    consumption_correct,
    period_add,
    period_renew,
    periods_announce_started,
    periods_mark_lapsed,
    renewal_reminders_send,
)
from contracts.tasks import mark_lapsed_periods
from events.models import Delivery, Event, WebhookEndpoint
from quotes.services import quote_customer_answer, quote_send, quotes_draft_renewals
from tests.contracts.conftest import at
from tests.factories import (
    ContractFactory,
    CustomerFactory,
    LicensedProductFactory,
    PersonDayBundleFactory,
    ServicePeriodFactory,
    user_with,
)

D = datetime.date
pytestmark = pytest.mark.django_db

PERIOD_FIELDS = {
    "id",
    "customer",
    "contract",
    "products",
    "kind",
    "start",
    "end",
    "tier",
    "calendar",
    "fee",
    "trainings_per_year",
    "retroactive",
    "status",
    "lapsed_at",
}
QUOTA_FIELDS = {
    "customer",
    "kind",
    "unit",
    "allowance",
    "used",
    "left",
    "valid_from",
    "valid_until",
    "period",
    "bundles",
    "contracts",
}


def recorded(event_type: str) -> list[Event]:
    return list(Event.objects.filter(type=event_type).order_by("id"))


def standard() -> ServiceTier:
    return ServiceTier.objects.get(code="standard")


# --- service periods -----------------------------------------------------------------------------------


@pytest.mark.today("2026-03-04")
def test_a_period_added_already_running_is_recorded_started_once_with_the_products_it_covers(catalogue):
    customer = CustomerFactory(code="ACME")
    purchase = ContractFactory(customer=customer)
    LicensedProductFactory(contract=purchase, version="8.5.2")
    renewal = ContractFactory(customer=customer, kind="renewal", continues=purchase)
    period = period_add(
        contract=renewal,
        kind=PeriodKind.PAID,
        start=D(2026, 1, 1),
        end=D(2026, 12, 31),
        tier=standard(),
        fee=Money("12000.00", "CNY"),
    )
    [event] = recorded("service_period.started")
    assert event.customer_code == "ACME"
    assert event.key == f"service_period.started:{period.pk}"
    shown = event.data["object"]
    assert set(shown) == PERIOD_FIELDS
    assert shown["id"] == period.pk
    assert shown["contract"] == renewal.number
    assert shown["products"] == [{"product": "KMS", "version": "8.5.2"}]
    assert (shown["kind"], shown["start"], shown["end"], shown["status"]) == (
        "paid",
        "2026-01-01",
        "2026-12-31",
        "active",
    )
    assert shown["fee"] == {"amount": "12000.00", "currency": "CNY"}
    assert periods_announce_started(today=D(2026, 3, 4)) == 0
    assert len(recorded("service_period.started")) == 1


@pytest.mark.today("2026-03-04")
def test_a_refused_period_records_nothing(catalogue):
    contract = ContractFactory()
    period_add(
        contract=contract, kind=PeriodKind.FREE, start=D(2026, 1, 1), end=D(2026, 12, 31), tier=standard()
    )
    with pytest.raises(BillingError):
        period_add(
            contract=contract, kind=PeriodKind.PAID, start=D(2026, 6, 1), end=D(2027, 5, 31), tier=standard()
        )
    with pytest.raises(BillingError):
        period_add(
            contract=contract,
            kind=PeriodKind.FREE,
            start=D(2027, 1, 1),
            end=D(2027, 12, 31),
            tier=standard(),
            fee=Money(1, "CNY"),
        )
    assert Event.objects.count() == 1  # the first period's start


@pytest.mark.today("2026-03-04")
def test_a_period_added_ahead_is_announced_on_its_first_day_by_the_daily_task_once(catalogue, time_machine):
    period = period_add(
        contract=ContractFactory(customer=CustomerFactory(code="ACME")),
        kind=PeriodKind.FREE,
        start=D(2026, 4, 1),
        end=D(2027, 3, 31),
        tier=standard(),
    )
    assert not Event.objects.exists()
    assert periods_announce_started(today=D(2026, 3, 31)) == 0
    time_machine.move_to(at(2026, 4, 1, 0, 5))
    mark_lapsed_periods()
    mark_lapsed_periods()
    [event] = recorded("service_period.started")
    assert event.customer_code == "ACME"
    assert event.data["object"]["id"] == period.pk
    assert event.data["object"]["status"] == "active"


@pytest.mark.today("2026-03-04")
def test_a_missed_day_is_caught_up_but_not_a_start_long_past(catalogue):
    contract = ContractFactory()
    period_add(
        contract=contract, kind=PeriodKind.FREE, start=D(2026, 4, 1), end=D(2026, 12, 31), tier=standard()
    )
    assert periods_announce_started(today=D(2026, 4, 30)) == 0
    assert periods_announce_started(today=D(2026, 4, 3)) == 1


@pytest.fixture
def ending(catalogue, django_user_model):
    """A period ending 2026-12-31 of customer ACME, with an account manager."""
    manager = django_user_model.objects.create_user(username="am", email="am@vendor.example.com")
    customer = CustomerFactory(code="ACME", account_manager=manager)
    return ServicePeriodFactory(contract__customer=customer, start=D(2026, 1, 1), end=D(2026, 12, 31))


def test_each_renewal_reminder_step_records_one_ending_event(ending):
    renewal_reminders_send(today=D(2026, 10, 2))  # 90 days left
    renewal_reminders_send(today=D(2026, 12, 1))  # 30 days left: the 60-day step was missed
    renewal_reminders_send(today=D(2026, 12, 1))
    events = recorded("service_period.ending")
    assert [(e.data["reminder_days"], e.data["ends_on"]) for e in events] == [
        (90, "2026-12-31"),
        (60, "2026-12-31"),
        (30, "2026-12-31"),
    ]
    assert {e.customer_code for e in events} == {"ACME"}
    assert {e.data["object"]["id"] for e in events} == {ending.pk}
    assert set(events[0].data["object"]) == PERIOD_FIELDS


def test_a_step_reminded_before_events_existed_records_no_ending_event(ending):
    RenewalReminder.objects.create(period=ending, days_before=90)
    renewal_reminders_send(today=D(2026, 10, 2))
    assert not Event.objects.exists()


def test_a_renewed_period_records_no_ending_event(ending):
    ServicePeriodFactory(contract=ending.contract, start=D(2027, 1, 1), end=D(2027, 12, 31))
    renewal_reminders_send(today=D(2026, 12, 1))
    assert not Event.objects.exists()


@pytest.mark.today("2026-12-01")
def test_a_renewal_records_renewed_naming_the_period_it_follows(ending):
    renewal = period_renew(
        contract=ending.contract, start=D(2027, 1, 1), end=D(2027, 12, 31), fee=Money("30000.00", "CNY")
    )
    [event] = recorded("service_period.renewed")
    assert event.customer_code == "ACME"
    assert event.data["object"]["id"] == renewal.pk
    assert event.data["object"]["kind"] == "paid"
    assert event.data["object"]["status"] == "upcoming"
    assert event.data["renews"] == {"id": ending.pk, "contract": ending.contract.number, "end": "2026-12-31"}
    assert not recorded("service_period.started")  # it starts next year


@pytest.mark.today("2026-12-01")
def test_an_accepted_renewal_quote_records_renewed_through_the_contract_service(ending):
    quote = quotes_draft_renewals(today=D(2026, 12, 1))[0]
    quote_customer_answer(quote=quote_send(quote=quote), accept=True, name="王芳", ip=None)
    [event] = recorded("service_period.renewed")
    assert event.data["object"]["start"] == "2027-01-01"
    assert event.data["renews"]["id"] == ending.pk


@pytest.mark.today("2026-12-01")
def test_a_refused_renewal_records_nothing(catalogue):
    with pytest.raises(BillingError):
        period_renew(
            contract=ContractFactory(),
            start=D(2027, 1, 1),
            end=D(2027, 12, 31),
            fee=Money(1, "CNY"),
            retroactive=True,
        )
    assert not Event.objects.exists()


def test_a_lapse_is_recorded_once_however_often_the_check_runs(ending):
    assert periods_mark_lapsed(today=D(2027, 1, 2)) == 1
    assert periods_mark_lapsed(today=D(2027, 1, 3)) == 0
    [event] = recorded("service_period.lapsed")
    assert event.customer_code == "ACME"
    assert event.key == f"service_period.lapsed:{ending.pk}"
    assert event.data["object"]["status"] == "lapsed"
    assert event.data["object"]["lapsed_at"] is not None


# --- quotas --------------------------------------------------------------------------------------------


def _consume(customer, code: str, quantity, key: str):
    return consume(
        customer=customer,
        service=ServiceItem.objects.get(code=code),
        quantity=quantity,
        ticket_ref="T-1",
        idempotency_key=key,
        at=at(2026, 3, 4, 10),
    )


@pytest.mark.today("2026-12-01")
def test_trainings_record_low_then_exhausted_once_each(customer):
    _consume(customer, "customer-training", 1, "t1")
    [low] = recorded("quota.low")
    assert low.customer_code == "ACME"
    assert set(low.data["object"]) == QUOTA_FIELDS
    assert low.data["threshold"] == "1.00"
    assert (low.data["object"]["kind"], low.data["object"]["unit"]) == ("training", "training")
    assert (low.data["object"]["allowance"], low.data["object"]["left"]) == ("2.00", "1.00")
    assert low.data["object"]["contracts"] == [customer.contracts.get().number]
    _consume(customer, "customer-training", 1, "t1")  # a retry records nothing
    _consume(customer, "customer-training", 1, "t2")
    [exhausted] = recorded("quota.exhausted")
    assert exhausted.data["object"]["left"] == "0.00"
    assert exhausted.data["object"]["valid_from"] == "2026-01-01"
    with pytest.raises(BillingError):
        _consume(customer, "customer-training", 1, "t3")
    assert Event.objects.count() == 2


@pytest.mark.today("2026-12-01")
def test_person_days_record_low_at_a_fifth_and_exhausted_once_per_set_of_bundles(customer, django_user_model):
    bundle = PersonDayBundleFactory(contract=customer.contracts.get(), days=10)
    _consume(customer, "custom-development", 7, "p1")
    assert not Event.objects.exists()  # 3 left, above a fifth of 10
    _consume(customer, "custom-development", 1, "p2")
    [low] = recorded("quota.low")
    assert (low.data["object"]["unit"], low.data["object"]["left"], low.data["threshold"]) == (
        "person_day",
        "2.00",
        "2.00",
    )
    assert low.data["object"]["bundles"] == [bundle.pk]
    [use] = _consume(customer, "custom-development", 2, "p3")
    assert len(recorded("quota.exhausted")) == 1
    manager = user_with(django_user_model, "pd-am", "add_consumptionentry", "act_for_every_customer")
    consumption_correct(
        entry=use, quantity=Decimal(2), reason="wrong ticket", idempotency_key="c1", by=manager
    )
    _consume(customer, "custom-development", 2, "p4")  # exhausted again: the same quota, recorded once
    assert len(recorded("quota.exhausted")) == 1
    PersonDayBundleFactory(contract=customer.contracts.get(), days=1)  # a new bundle: a new quota
    _consume(customer, "custom-development", 1, "p5")
    assert len(recorded("quota.exhausted")) == 2


# --- charge requests -----------------------------------------------------------------------------------


@pytest.fixture
def account_manager(django_user_model):
    return user_with(django_user_model, "am", "approve_chargerequest", "act_for_every_customer")


@pytest.fixture
def charge(customer):
    Contact.objects.create(customer=customer, name="王芳", email="wang@acme.example.com")
    return charge_request_create(
        customer=customer,
        ticket_ref="TK-1",
        description="报表定制",
        requested_by="api:zendesk",
        estimated_person_days=2,
    )


CHARGE_FIELDS = {
    "id",
    "customer",
    "contract",
    "ticket",
    "service",
    "description",
    "estimated_person_days",
    "estimated_amount",
    "status",
    "requested_by",
    "sent_to_customer_at",
    "customer_answered_at",
    "closed_at",
    "created_at",
    "events",
}


@pytest.mark.today("2026-12-01")
def test_an_approved_then_confirmed_request_records_both(charge, account_manager):
    charge = charge_request_approve(request=charge, by=account_manager)
    [approved] = recorded("charge_request.approved")
    assert approved.customer_code == "ACME"
    assert set(approved.data["object"]) == CHARGE_FIELDS
    assert approved.data["object"]["status"] == "awaiting_customer"
    assert approved.data["finance_approved"] is False
    charge_request_customer_answer(request=charge, accept=True, name="王芳", ip="10.0.0.1")
    [confirmed] = recorded("charge_request.confirmed")
    assert confirmed.data["object"]["id"] == charge.pk
    assert confirmed.data["object"]["status"] == "confirmed"
    assert [e["status"] for e in confirmed.data["object"]["events"]] == [
        "pending_approval",
        "awaiting_customer",
        "confirmed",
    ]


@pytest.mark.today("2026-12-01")
def test_a_large_request_records_approved_only_when_finance_has_approved(
    customer, account_manager, django_user_model, settings
):
    settings.CHARGE_FINANCE_APPROVAL_ABOVE = 100
    charge = charge_request_create(
        customer=customer, ticket_ref="TK-2", description="大", requested_by="api", estimated_person_days=2
    )
    charge = charge_request_approve(request=charge, by=account_manager)
    assert not Event.objects.exists()
    finance = user_with(django_user_model, "fin", "finance_approve_chargerequest", "act_for_every_customer")
    charge_request_approve(request=charge, by=finance)
    [approved] = recorded("charge_request.approved")
    assert approved.data["finance_approved"] is True


@pytest.mark.today("2026-12-01")
def test_a_declined_and_a_rejected_request_are_recorded(charge, account_manager, customer):
    charge = charge_request_approve(request=charge, by=account_manager)
    charge_request_customer_answer(request=charge, accept=False, name="王芳", ip=None)
    other = charge_request_create(
        customer=customer, ticket_ref="TK-3", description="x", requested_by="api", estimated_person_days=1
    )
    charge_request_reject(request=other, by=account_manager)
    assert [e.data["object"]["id"] for e in recorded("charge_request.declined")] == [charge.pk]
    assert [e.data["object"]["status"] for e in recorded("charge_request.rejected")] == ["rejected"]


@pytest.mark.today("2026-12-01")
def test_a_refused_approval_or_answer_records_nothing(charge, django_user_model):
    with pytest.raises(BillingError):
        charge_request_approve(request=charge, by=user_with(django_user_model, "sales"))
    with pytest.raises(BillingError):
        charge_request_customer_answer(request=charge, accept=True, name="王芳", ip=None)
    assert not Event.objects.exists()


@pytest.mark.today("2026-12-01")
def test_the_closing_rule_records_closed_once_and_a_reopening_records_reopened(charge, account_manager):
    charge = charge_request_approve(request=charge, by=account_manager)
    later = timezone.now() + datetime.timedelta(days=32)
    assert charge_requests_apply_closing_rule(now=later) == (1, 0)
    assert charge_requests_apply_closing_rule(now=later) == (0, 0)
    [closed] = recorded("charge_request.closed")
    assert (closed.data["object"]["status"], closed.data["closed_by"]) == ("closed", "closing_rule")
    charge_request_customer_answer(request=charge, accept=True, name="王芳", ip=None)
    assert [e.type for e in Event.objects.order_by("id")][-2:] == [
        "charge_request.reopened",
        "charge_request.confirmed",
    ]


@pytest.mark.today("2026-12-01")
def test_a_confirmation_costs_a_fixed_number_of_queries_whatever_the_endpoints(customer, account_manager):
    """The event adds the request read again (two queries) and the outbox's three: the same with one
    listening endpoint or five."""

    def confirmation_queries(ticket: str) -> list[str]:
        charge = charge_request_create(
            customer=customer, ticket_ref=ticket, description="x", requested_by="api", estimated_person_days=1
        )
        charge = charge_request_approve(request=charge, by=account_manager)
        with CaptureQueriesContext(connection) as captured:
            charge_request_customer_answer(request=charge, accept=True, name="王芳", ip=None)
        return [query["sql"] for query in captured]

    def endpoint() -> WebhookEndpoint:
        return WebhookEndpoint.objects.create(url="https://hooks.example.com/in", secret="whsec_x")

    endpoint()
    one = confirmation_queries("TK-A")
    for _ in range(4):
        endpoint()
    five = confirmation_queries("TK-B")
    assert len(five) == len(one)
    assert len([sql for sql in five if '"events_' in sql]) == 3
    assert Delivery.objects.filter(event__type="charge_request.confirmed").count() == 6
