"""Service periods, quota consumption and charge requests."""

import datetime
import re
import threading
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from djmoney.money import Money
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from billing.errors import BillingError
from catalog.models import ServiceItem, ServiceTier
from catalog.services import load_catalog
from contracts.models import ChargeRequest, ChargeStatus, ConsumptionEntry, Contact, PeriodKind
from contracts.quotas import person_day_quota, training_quota
from contracts.services import (
    charge_request_approve,
    charge_request_create,
    charge_request_customer_answer,
    charge_request_from_token,
    charge_request_reject,
    charge_requests_apply_closing_rule,
    consume,
    customer_link_token,
    period_add,
    periods_mark_lapsed,
)
from contracts.tasks import apply_closing_rule, mark_lapsed_periods
from tests.contracts.conftest import at
from tests.factories import (
    ContractFactory,
    CustomerFactory,
    PersonDayBundleFactory,
    ServicePeriodFactory,
    user_with,
)

D = datetime.date
# Uses dated in 2026 must fall in an open contract year, whatever the real date.
pytestmark = [pytest.mark.django_db, pytest.mark.today("2026-12-01")]


# --- periods -------------------------------------------------------------------------------------------


def test_overlapping_periods_of_one_contract_are_refused(catalogue):
    contract = ContractFactory()
    tier = ServiceTier.objects.get(code="standard")
    period_add(contract=contract, kind=PeriodKind.FREE, start=D(2025, 1, 1), end=D(2025, 12, 31), tier=tier)
    with pytest.raises(BillingError) as error:
        period_add(
            contract=contract, kind=PeriodKind.PAID, start=D(2025, 12, 31), end=D(2026, 12, 31), tier=tier
        )
    assert error.value.code == "period_overlap"
    adjacent = period_add(
        contract=contract,
        kind=PeriodKind.PAID,
        start=D(2026, 1, 1),
        end=D(2026, 12, 31),
        tier=tier,
        fee=Money(1, "CNY"),
    )
    assert adjacent.calendar.code == "5x8"


def test_periods_of_different_contracts_may_overlap(catalogue):
    customer = CustomerFactory()
    tier = ServiceTier.objects.get(code="standard")
    for _ in range(2):
        period_add(
            contract=ContractFactory(customer=customer),
            kind=PeriodKind.FREE,
            start=D(2025, 1, 1),
            end=D(2025, 12, 31),
            tier=tier,
        )


def test_a_free_period_has_no_fee_and_a_period_ends_after_it_starts(catalogue):
    contract, tier = ContractFactory(), ServiceTier.objects.get(code="standard")
    with pytest.raises(BillingError):
        period_add(
            contract=contract,
            kind="free",
            start=D(2025, 1, 1),
            end=D(2025, 12, 31),
            tier=tier,
            fee=Money(5, "CNY"),
        )
    with pytest.raises(BillingError):
        period_add(contract=contract, kind="free", start=D(2025, 1, 1), end=D(2024, 12, 31), tier=tier)


def test_periods_that_end_unrenewed_are_marked_lapsed(catalogue):
    lapsed = ServicePeriodFactory(start=D(2023, 1, 1), end=D(2024, 5, 31))
    renewed = ServicePeriodFactory(start=D(2023, 1, 1), end=D(2024, 12, 31))
    ServicePeriodFactory(contract=renewed.contract, start=D(2025, 1, 1), end=D(2027, 12, 31))
    assert periods_mark_lapsed(today=D(2026, 3, 4)) == 1
    lapsed.refresh_from_db()
    renewed.refresh_from_db()
    assert lapsed.lapsed_at is not None
    assert renewed.lapsed_at is None
    assert periods_mark_lapsed(today=D(2026, 3, 4)) == 0


# --- consumption ---------------------------------------------------------------------------------------


def test_a_training_use_is_a_ledger_entry_and_a_retry_records_nothing_more(customer):
    training = ServiceItem.objects.get(code="customer-training")
    first = consume(
        customer=customer,
        service=training,
        quantity=1,
        ticket_ref="T-9",
        idempotency_key="k1",
        at=at(2026, 3, 4, 10),
    )
    again = consume(
        customer=customer,
        service=training,
        quantity=1,
        ticket_ref="T-9",
        idempotency_key="k1",
        at=at(2026, 3, 4, 10),
    )
    assert [e.pk for e in first] == [e.pk for e in again]
    assert ConsumptionEntry.objects.count() == 1
    assert first[0].ticket_ref == "T-9"
    assert training_quota(first[0].period, D(2026, 3, 4)).left == 1


def test_trainings_beyond_the_allowance_are_refused(customer):
    training = ServiceItem.objects.get(code="customer-training")
    consume(
        customer=customer,
        service=training,
        quantity=2,
        ticket_ref="T",
        idempotency_key="a",
        at=at(2026, 3, 4, 10),
    )
    with pytest.raises(BillingError) as error:
        consume(
            customer=customer,
            service=training,
            quantity=1,
            ticket_ref="T",
            idempotency_key="b",
            at=at(2026, 3, 4, 10),
        )
    assert error.value.code == "quota_exhausted"
    assert error.value.status == 409


def test_person_days_are_drawn_from_the_bundle_that_expires_first(customer):
    contract = customer.contracts.first()
    later = PersonDayBundleFactory(contract=contract, days=10, valid_until=D(2027, 12, 31))
    sooner = PersonDayBundleFactory(contract=contract, days=3, valid_until=D(2026, 6, 30))
    service = ServiceItem.objects.get(code="custom-development")
    entries = consume(
        customer=customer,
        service=service,
        quantity=5,
        ticket_ref="T",
        idempotency_key="pd",
        at=at(2026, 3, 4, 10),
    )
    assert [(e.bundle_id, e.quantity) for e in entries] == [(sooner.pk, 3), (later.pk, 2)]
    assert (
        consume(customer=customer, service=service, quantity=5, ticket_ref="T", idempotency_key="pd")
        == entries
    )
    assert person_day_quota(customer, D(2026, 3, 4)).left == 8


def test_services_without_a_counted_quota_cannot_be_consumed(customer):
    with pytest.raises(BillingError) as error:
        consume(
            customer=customer,
            service=ServiceItem.objects.get(code="hotline"),
            quantity=1,
            ticket_ref="T",
            idempotency_key="x",
        )
    assert error.value.code == "not_a_quota"


@pytest.mark.django_db(transaction=True)
def test_concurrent_consumes_never_take_a_quota_below_zero():
    load_catalog()
    customer = CustomerFactory()
    PersonDayBundleFactory(contract=ServicePeriodFactory(contract__customer=customer).contract, days=5)
    service = ServiceItem.objects.get(code="custom-development")
    outcomes = []

    def worker(n: int) -> None:
        try:
            consume(
                customer=customer,
                service=service,
                quantity=2,
                ticket_ref="T",
                idempotency_key=f"c{n}",
                at=at(2026, 3, 4, 10),
            )
            outcomes.append("ok")
        except BillingError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("ok") == 2
    assert outcomes.count("quota_exhausted") == 4
    assert person_day_quota(customer, D(2026, 3, 4)).used == 4


class TestQuotaUnderRandomConsumes(HypothesisTestCase):
    @classmethod
    def setUpTestData(cls):
        load_catalog()

    @settings(max_examples=25, deadline=None)
    @given(
        st.lists(
            st.tuples(st.sampled_from(["training", "days"]), st.integers(1, 4), st.integers(0, 5)),
            max_size=12,
        )
    )
    def test_balances_always_equal_the_allowance_minus_the_accepted_uses(self, steps):
        customer = CustomerFactory()
        period = ServicePeriodFactory(contract__customer=customer, start=D(2026, 1, 1), end=D(2026, 12, 31))
        PersonDayBundleFactory(contract=period.contract, days=6)
        services = {
            "training": ServiceItem.objects.get(code="customer-training"),
            "days": ServiceItem.objects.get(code="custom-development"),
        }
        accepted = {"training": Decimal(0), "days": Decimal(0)}
        refusals = set()
        for n, (kind, quantity, key) in enumerate(steps):
            try:
                consume(
                    customer=customer,
                    service=services[kind],
                    quantity=quantity,
                    ticket_ref="T",
                    idempotency_key=f"{customer.pk}-{kind}-{key}",
                    at=at(2026, 5, 1 + n, 10),
                )
            except BillingError as error:
                refusals.add(error.code)
        assert refusals <= {"quota_exhausted"}
        for kind in accepted:
            accepted[kind] = sum(
                e.quantity
                for e in ConsumptionEntry.objects.filter(
                    customer=customer, kind="training" if kind == "training" else "person_days"
                )
            )
        trainings = training_quota(period, D(2026, 6, 1))
        days = person_day_quota(customer, D(2026, 6, 1))
        assert trainings.used == accepted["training"] <= 2
        assert days.used == accepted["days"] <= 6
        assert trainings.left == 2 - trainings.used
        assert days.left == 6 - days.used


# --- charge requests -----------------------------------------------------------------------------------


@pytest.fixture
def account_manager(django_user_model):
    return user_with(django_user_model, "am", "approve_chargerequest")


@pytest.fixture
def finance(django_user_model):
    return user_with(django_user_model, "fin", "finance_approve_chargerequest")


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


def test_a_charge_request_approved_by_the_account_manager_goes_to_the_customer(
    charge, account_manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        charge = charge_request_approve(request=charge, by=account_manager)
    assert charge.status == ChargeStatus.AWAITING_CUSTOMER
    assert charge.sent_to_customer_at is not None
    assert mail.outbox[0].to == ["wang@acme.example.com"]
    token = re.search(r"/c/charge-requests/([^/\s]+)/", mail.outbox[0].body).group(1)
    assert charge_request_from_token(token) == charge
    assert [e.status for e in charge.events.order_by("pk")] == ["pending_approval", "awaiting_customer"]


def test_a_large_charge_needs_finance_too_and_two_different_people(
    customer, account_manager, finance, settings
):
    settings.CHARGE_FINANCE_APPROVAL_ABOVE = 10000
    big = charge_request_create(
        customer=customer,
        ticket_ref="TK-2",
        description="迁移",
        requested_by="api:x",
        estimated_amount=Money(50000, "CNY"),
    )
    big = charge_request_approve(request=big, by=account_manager)
    assert big.status == ChargeStatus.PENDING_FINANCE
    with pytest.raises(BillingError):
        charge_request_approve(request=big, by=account_manager)
    big = charge_request_approve(request=big, by=finance)
    assert big.status == ChargeStatus.AWAITING_CUSTOMER


def test_person_days_are_valued_at_the_engineer_rate_for_the_finance_threshold(
    customer, account_manager, settings
):
    settings.CHARGE_FINANCE_APPROVAL_ABOVE = 5000
    three_days = charge_request_create(
        customer=customer, ticket_ref="TK", description="x", requested_by="api:x", estimated_person_days=3
    )
    assert (
        charge_request_approve(request=three_days, by=account_manager).status == ChargeStatus.PENDING_FINANCE
    )


def test_the_requester_cannot_approve_their_own_request(customer, account_manager):
    own = charge_request_create(
        customer=customer,
        ticket_ref="TK",
        description="x",
        requested_by="am",
        requested_by_user=account_manager,
        estimated_person_days=1,
    )
    with pytest.raises(BillingError) as error:
        charge_request_approve(request=own, by=account_manager)
    assert error.value.code == "own_request"


def test_only_an_account_manager_approves(charge, finance, django_user_model):
    with pytest.raises(BillingError):
        charge_request_approve(request=charge, by=finance)
    with pytest.raises(BillingError):
        charge_request_approve(request=charge, by=user_with(django_user_model, "sales"))


def test_a_rejected_request_cannot_be_approved(charge, account_manager):
    charge_request_reject(request=charge, by=account_manager, note="超出范围")
    with pytest.raises(BillingError) as error:
        charge_request_approve(request=charge, by=account_manager)
    assert error.value.status == 409


def test_the_customer_confirms_through_the_signed_link_without_a_login(client, charge, account_manager):
    charge = charge_request_approve(request=charge, by=account_manager)
    url = reverse("contracts:charge-request-answer", args=[customer_link_token(charge)])
    page = client.get(url)
    assert page.status_code == 200
    assert "报表定制" in page.content.decode()
    response = client.post(url, {"name": "王芳", "answer": "accept"}, REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 200
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.CONFIRMED
    assert (charge.customer_answer_name, charge.customer_answer_ip) == ("王芳", "203.0.113.9")
    assert client.post(url, {"name": "王芳", "answer": "decline"}).status_code == 400


def test_a_tampered_link_shows_nothing(client, charge):
    url = reverse("contracts:charge-request-answer", args=[customer_link_token(charge) + "x"])
    response = client.get(url)
    assert response.status_code == 404
    assert "报表定制" not in response.content.decode()


def test_the_closing_rule_closes_after_a_month_allows_reopening_then_makes_it_final(
    charge, account_manager, django_capture_on_commit_callbacks
):
    charge = charge_request_approve(request=charge, by=account_manager)
    sent = charge.sent_to_customer_at
    assert charge_requests_apply_closing_rule(now=sent + datetime.timedelta(days=29)) == (0, 0)
    with django_capture_on_commit_callbacks(execute=True):
        assert charge_requests_apply_closing_rule(now=sent + datetime.timedelta(days=32)) == (1, 0)
    assert charge_requests_apply_closing_rule(now=sent + datetime.timedelta(days=32)) == (0, 0)  # runs twice
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.CLOSED
    assert mail.outbox[0].subject == "收费申请 TK-1 已关闭"
    assert charge_requests_apply_closing_rule(now=sent + datetime.timedelta(days=70)) == (0, 1)
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.FINAL
    with pytest.raises(BillingError):
        charge_request_customer_answer(request=charge, accept=True, name="王芳", ip=None)


def test_a_closed_request_may_be_reopened_within_a_month(charge, account_manager):
    charge = charge_request_approve(request=charge, by=account_manager)
    charge_requests_apply_closing_rule(now=timezone.now() + datetime.timedelta(days=32))
    charge.refresh_from_db()
    charge.closed_at = timezone.now() - datetime.timedelta(days=10)
    charge.save()
    charge = charge_request_customer_answer(request=charge, accept=True, name="王芳", ip="198.51.100.1")
    assert charge.status == ChargeStatus.CONFIRMED
    assert gettext("reopened by the customer") in [e.note for e in charge.events.all()]


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_the_closing_rule_runs_on_a_real_worker(real_celery_worker):
    load_catalog()
    customer = CustomerFactory()
    ServicePeriodFactory(contract__customer=customer, start=D(2020, 1, 1), end=D(2021, 12, 31))
    charge = charge_request_create(
        customer=customer, ticket_ref="TK", description="x", requested_by="api:x", estimated_person_days=1
    )
    ChargeRequest.objects.filter(pk=charge.pk).update(
        status=ChargeStatus.AWAITING_CUSTOMER,
        sent_to_customer_at=timezone.now() - datetime.timedelta(days=40),
    )
    assert apply_closing_rule.delay().get(timeout=30, disable_sync_subtasks=False) == {
        "closed": 1,
        "final": 0,
    }
    assert apply_closing_rule.delay().get(timeout=30, disable_sync_subtasks=False) == {
        "closed": 0,
        "final": 0,
    }
    assert mark_lapsed_periods.delay().get(timeout=30, disable_sync_subtasks=False) == 1
