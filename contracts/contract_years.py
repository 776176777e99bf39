"""When a use of a quota may be recorded: in a contract year that has not closed, and not ahead of our
clock by more than ``CONSUMPTION_FUTURE_MARGIN_SECONDS``.

A use counts against the allowance of the contract year (合同年度) in which it happens: a free training
against its service period's year (``ServicePeriod.contract_year``), person-days against the prepaid
bundles valid on its day. A contract year that ended before today is **closed**: nothing more is drawn in
it, so unused trainings of an earlier year cannot be drawn by dating a use back. The year that ends today
is still open. For person-days the year is that of the service period of the bundle's contract on the day
(a bundle whose contract has no period on that day: its own validity stands for the year).

A correction (``consumption_correct``) of a use in a closed year is allowed: it puts the ledger right and
gives the allowance back to that year only (it carries the use's day), where nothing can draw it any more.
"""

import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.errors import BillingError
from contracts.models import PersonDayBundle, ServicePeriod

Year = tuple[datetime.date, datetime.date]


def consumption_not_ahead_check(at: datetime.datetime, *, now: datetime.datetime) -> None:
    """Refuses a use dated further ahead of ``now`` than the configured margin (clock skew)."""
    margin = datetime.timedelta(seconds=settings.CONSUMPTION_FUTURE_MARGIN_SECONDS)
    if at > now + margin:
        raise BillingError(
            _("A use cannot be recorded ahead of time: %(at)s is later than now (%(now)s)."),
            code="consumption_in_future",
            params={
                "at": timezone.localtime(at).isoformat(timespec="minutes"),
                "now": timezone.localtime(now).isoformat(timespec="minutes"),
            },
        )


def contract_year_is_closed(year: Year, *, today: datetime.date) -> bool:
    return year[1] < today


def closed_contract_year_error(year: Year) -> BillingError:
    return BillingError(
        _("The contract year from %(start)s to %(end)s is closed: nothing more is drawn in it."),
        code="closed_contract_year",
        params={"start": year[0].isoformat(), "end": year[1].isoformat()},
    )


def contract_year_open_check(year: Year, *, today: datetime.date) -> None:
    if contract_year_is_closed(year, today=today):
        raise closed_contract_year_error(year)


def bundle_years(bundles: list[PersonDayBundle], day: datetime.date) -> dict[int, Year]:
    """The contract year containing ``day`` of each bundle valid on it, by bundle id (one query)."""
    periods = {
        period.contract_id: period
        for period in ServicePeriod.objects.filter(
            contract_id__in={b.contract_id for b in bundles}, start__lte=day, end__gte=day
        ).order_by("start")
    }
    years = {}
    for bundle in bundles:
        period = periods.get(bundle.contract_id)
        years[bundle.pk] = period.contract_year(day) if period else (bundle.valid_from, bundle.valid_until)
    return years
