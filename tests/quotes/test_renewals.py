"""Renewals: reminders to the account manager, renewal quote drafts, acceptance into a paid period."""

import datetime
import threading

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone
from djmoney.money import Money

from catalog.services import load_catalog
from contracts.models import RenewalReminder, ServicePeriod
from contracts.services import renewal_reminders_send
from quotes.models import Quote, QuoteKind, QuoteStatus
from quotes.selectors import renewal_pipeline
from quotes.services import quote_customer_answer, quote_revise, quote_send, quotes_draft_renewals
from tests.factories import CustomerFactory, ServicePeriodFactory

D = datetime.date
pytestmark = pytest.mark.django_db


@pytest.fixture
def ending(catalogue, django_user_model):
    """A one-year paid period ending 2026-12-31 with an account manager."""
    manager = django_user_model.objects.create_user(
        username="am", email="am@vendor.example.com", password="x"
    )
    customer = CustomerFactory(account_manager=manager)
    return ServicePeriodFactory(
        contract__customer=customer, start=D(2026, 1, 1), end=D(2026, 12, 31), fee=88000
    )


def test_the_account_manager_is_reminded_once_per_step(ending):
    assert renewal_reminders_send(today=D(2026, 9, 1)) == []  # 121 days left
    assert [r.days_before for r in renewal_reminders_send(today=D(2026, 10, 2))] == [90]
    assert renewal_reminders_send(today=D(2026, 10, 3)) == []  # same step, next day
    assert [r.days_before for r in renewal_reminders_send(today=D(2026, 11, 2))] == [60]
    assert [r.days_before for r in renewal_reminders_send(today=D(2026, 12, 5))] == [30]
    assert len(mail.outbox) == 3
    assert mail.outbox[0].to == ["am@vendor.example.com"]
    assert "2026-12-31" in mail.outbox[0].subject


def test_steps_missed_while_the_task_did_not_run_make_one_e_mail(ending):
    assert sorted(r.days_before for r in renewal_reminders_send(today=D(2026, 12, 10))) == [30, 60, 90]
    assert len(mail.outbox) == 1


def test_a_renewed_period_gets_no_reminder(ending):
    ServicePeriodFactory(contract=ending.contract, start=D(2027, 1, 1), end=D(2027, 12, 31))
    assert renewal_reminders_send(today=D(2026, 12, 1)) == []


def test_a_renewal_quote_is_drafted_once_per_period(ending):
    drafted = quotes_draft_renewals(today=D(2026, 10, 2))
    assert len(drafted) == 1
    quote = drafted[0]
    assert (quote.kind, quote.renewal_start, quote.renewal_end) == (
        QuoteKind.RENEWAL,
        D(2027, 1, 1),
        D(2027, 12, 31),
    )
    assert quote.lines.get().gross == Money(88000, "CNY")
    assert quotes_draft_renewals(today=D(2026, 10, 3)) == []
    assert Quote.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_drafting_runs_draft_one_quote():
    load_catalog()
    ServicePeriodFactory(start=D(2026, 1, 1), end=D(2026, 12, 31))

    def run():
        quotes_draft_renewals(today=D(2026, 10, 2))
        connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Quote.objects.count() == 1


def drafted(today: datetime.date) -> Quote:
    """The renewal quote drafted on ``today``, kept valid whatever today's real date is."""
    quote = quotes_draft_renewals(today=today)[0]
    Quote.objects.filter(pk=quote.pk).update(valid_until=timezone.localdate() + datetime.timedelta(days=30))
    return Quote.objects.get(pk=quote.pk)


def test_a_renewal_quote_stays_valid_until_the_period_ends(ending):
    assert quotes_draft_renewals(today=D(2026, 10, 2))[0].valid_until == D(2026, 12, 31)


def test_an_accepted_renewal_quote_becomes_a_paid_period(ending):
    quote = drafted(D(2026, 10, 2))
    quote_customer_answer(quote=quote_send(quote=quote), accept=True, name="王芳", ip="192.0.2.1")
    renewal = ServicePeriod.objects.get(start=D(2027, 1, 1))
    assert (renewal.end, renewal.kind, renewal.fee) == (D(2027, 12, 31), "paid", Money(88000, "CNY"))
    assert renewal.tier == ending.tier


def test_a_revised_renewal_quote_renews_the_same_period(ending):
    quote = drafted(D(2026, 10, 2))
    revision = quote_revise(quote=quote_send(quote=quote))
    quote_customer_answer(quote=quote_send(quote=revision), accept=True, name="王芳", ip=None)
    assert ServicePeriod.objects.filter(start=D(2027, 1, 1)).count() == 1


def test_the_renewal_pipeline_lists_periods_by_month_with_their_quote(ending):
    lapsed = ServicePeriodFactory(start=D(2025, 11, 1), end=D(2026, 10, 31), fee=12000)
    quotes_draft_renewals(today=D(2026, 10, 2))
    months = renewal_pipeline(today=D(2026, 11, 25))
    by_month = {m["month"]: m for m in months}
    october = by_month[D(2026, 10, 1)]
    assert october["periods"][0]["period"] == lapsed
    assert october["periods"][0]["status"] == "lapsed"
    december = by_month[D(2026, 12, 1)]
    assert december["fees"] == {"CNY": Money(88000, "CNY")}
    assert december["periods"][0]["status"] == "active"
    assert december["periods"][0]["quote"].status == QuoteStatus.DRAFT
    assert RenewalReminder.objects.count() == 0


def test_a_renewal_quote_of_a_period_paid_in_dollars_is_in_dollars(catalogue):
    import datetime as dt

    from djmoney.money import Money

    from quotes.services import quote_totals, quotes_draft_renewals
    from tests.factories import CustomerFactory, ServicePeriodFactory

    today = dt.date(2026, 6, 10)
    ServicePeriodFactory(
        contract__customer=CustomerFactory(code="USD-CO"),
        start=dt.date(2025, 7, 1),
        end=dt.date(2026, 6, 30),
        fee=Money(8000, "USD"),
    )
    (quote,) = quotes_draft_renewals(today=today)
    assert quote.currency == "USD"
    assert quote_totals(quote)["gross"] == Money(8000, "USD")
