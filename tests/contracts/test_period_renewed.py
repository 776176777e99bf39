"""Is this period renewed? One meaning (contracts.selectors.period_renewed) for lapse marking, renewal
reminders, renewal quote drafts and the renewals page: another period of the customer continues it without
a day's gap."""

import datetime

import pytest

from contracts.models import ServicePeriod
from contracts.selectors import period_renewed, periods_renewed
from contracts.services import periods_mark_lapsed, renewal_reminders_send
from quotes.models import Quote
from quotes.selectors import renewal_pipeline
from quotes.services import quotes_draft_renewals
from tests.factories import ContractFactory, CustomerFactory, ServicePeriodFactory

D = datetime.date
pytestmark = pytest.mark.django_db


@pytest.fixture
def ending(catalogue, django_user_model):
    """A period ending 2026-12-31, its customer with an account manager."""
    manager = django_user_model.objects.create_user(username="am", email="am@vendor.example.com")
    customer = CustomerFactory(account_manager=manager)
    return ServicePeriodFactory(contract__customer=customer, start=D(2026, 1, 1), end=D(2026, 12, 31))


def consequences(period: ServicePeriod) -> tuple[bool, bool, bool, str]:
    """(reminded, given a renewal quote, lapsed, status on the renewals page) for ``period``."""
    reminded = any(r.period_id == period.pk for r in renewal_reminders_send(today=D(2026, 12, 1)))
    drafted = any(q.renewal_of_id == period.pk for q in quotes_draft_renewals(today=D(2026, 12, 1)))
    periods_mark_lapsed(today=D(2027, 1, 2))
    period.refresh_from_db()
    rows = [
        row
        for month in renewal_pipeline(today=D(2027, 1, 2))
        for row in month["periods"]
        if row["period"] == period
    ]
    return reminded, drafted, period.lapsed_at is not None, rows[0]["status"]


def test_a_period_continued_the_next_day_by_the_customers_renewal_contract_is_renewed_everywhere(ending):
    renewal_contract = ContractFactory(customer=ending.contract.customer, kind="renewal")
    ServicePeriodFactory(contract=renewal_contract, start=D(2027, 1, 1), end=D(2027, 12, 31))
    assert period_renewed(ending)
    assert consequences(ending) == (False, False, False, "renewed")
    assert not Quote.objects.filter(renewal_of=ending).exists()


def test_an_overlapping_later_period_renews_it_too(ending):
    ServicePeriodFactory(contract__customer=ending.contract.customer, start=D(2026, 7, 1), end=D(2027, 6, 30))
    assert period_renewed(ending)
    assert consequences(ending)[:3] == (False, False, False)


def test_a_renewal_that_starts_after_a_gap_does_not_renew_it(ending):
    """The terms promise nothing between two periods: a gap of one day is a lapse, so the account manager
    is reminded and a renewal quote drafted while there is time, and the period lapses when it ends."""
    ServicePeriodFactory(contract=ending.contract, start=D(2027, 1, 2), end=D(2027, 12, 31))
    assert not period_renewed(ending)
    assert consequences(ending) == (True, True, True, "lapsed")


def test_a_period_without_a_later_one_is_reminded_drafted_and_lapses(ending):
    assert not period_renewed(ending)
    assert consequences(ending) == (True, True, True, "lapsed")


def test_a_later_period_of_another_customer_or_one_ending_earlier_does_not_renew_it(ending):
    ServicePeriodFactory(start=D(2027, 1, 1), end=D(2027, 12, 31))  # another customer
    ServicePeriodFactory(contract__customer=ending.contract.customer, start=D(2026, 3, 1), end=D(2026, 6, 30))
    assert not period_renewed(ending)
    assert list(periods_renewed(ServicePeriod.objects.filter(pk=ending.pk), renewed=False)) == [ending]
