"""contracts.selectors.period_status_sql, the annotation the period lists filter and sort by, gives each
period the state period_status gives it, on every day around its start and end."""

import datetime

import pytest

from contracts.models import ServicePeriod
from contracts.selectors import period_status, period_status_sql
from tests.factories import ContractFactory, CustomerFactory, ServicePeriodFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def periods(catalogue):
    """A customer's free year renewed without a gap on a renewal contract, a paid year then a gap of one
    day before the next; another customer's period ending the same day, never renewed."""
    customer = CustomerFactory()
    purchase = ContractFactory(customer=customer)
    renewal = ContractFactory(customer=customer, kind="renewal", continues=purchase)
    day = datetime.date
    ServicePeriodFactory(contract=purchase, kind="free", fee=0, start=day(2024, 1, 1), end=day(2024, 12, 31))
    ServicePeriodFactory(contract=renewal, start=day(2025, 1, 1), end=day(2025, 12, 31))
    ServicePeriodFactory(contract=renewal, start=day(2026, 1, 2), end=day(2026, 12, 31))
    ServicePeriodFactory(contract__customer=CustomerFactory(), start=day(2024, 1, 1), end=day(2024, 12, 31))


DAYS = ["2023-12-31", "2024-06-01", "2024-12-31", "2025-01-01", "2025-12-31", "2026-01-01", "2026-01-02"]


def test_the_sql_state_of_every_period_is_the_one_period_status_gives(periods):
    states = set()
    for day in [*DAYS, "2027-06-01"]:
        states |= states_agree(datetime.date.fromisoformat(day))
    assert states == {"upcoming", "active", "renewed", "lapsed"}


def states_agree(today: datetime.date) -> set[str]:
    """Asserts the two agree on every period as of ``today``; the states they gave."""
    loaded = list(ServicePeriod.objects.select_related("contract"))
    by_sql = dict(
        ServicePeriod.objects.annotate(state=period_status_sql(today=today)).values_list("pk", "state")
    )
    for period in loaded:
        customers = [other for other in loaded if other.contract.customer_id == period.contract.customer_id]
        assert by_sql[period.pk] == period_status(period, customers, today), (period, today)
    return set(by_sql.values())
