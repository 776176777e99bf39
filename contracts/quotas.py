"""Quota balances, always derived from the consumption ledger (never stored)."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Sum

from contracts.models import ConsumptionEntry, Customer, PersonDayBundle, QuotaKind, ServicePeriod

THOUSANDTH = Decimal("0.001")


@dataclass(frozen=True)
class Quota:
    kind: str
    allowance: Decimal
    used: Decimal
    valid_from: datetime.date
    valid_until: datetime.date

    @property
    def left(self) -> Decimal:
        return max(self.allowance - self.used, Decimal(0))


def _used(total: Decimal | None) -> Decimal:
    """A sum of ledger quantities, to the thousandth: SQLite sums decimals as floats, and with corrections
    (negative entries) a sum such as 0.30 - 0.20 comes back as 0.0999..."""
    return (total or Decimal(0)).quantize(THOUSANDTH)


def training_quota(period: ServicePeriod, day: datetime.date) -> Quota:
    """Free trainings of the contract year containing ``day`` (one query). Corrections of its uses carry
    the day of the use, so they count in the same year."""
    year_start, year_end = period.contract_year(day)
    used = ConsumptionEntry.objects.filter(
        period=period, kind=QuotaKind.TRAINING, used_on__range=(year_start, year_end)
    ).aggregate(total=Sum("quantity"))["total"]
    return Quota(QuotaKind.TRAINING, Decimal(period.trainings_per_year), _used(used), year_start, year_end)


def bundles_with_use(customer: Customer, day: datetime.date) -> list[PersonDayBundle]:
    """The customer's prepaid person-day bundles valid on ``day``, earliest expiry first, each with
    ``used`` (its uses less their corrections; one query)."""
    bundles = list(
        PersonDayBundle.objects.filter(contract__customer=customer, valid_from__lte=day, valid_until__gte=day)
        .annotate(used=Sum("consumption__quantity"))
        .order_by("valid_until", "pk")
    )
    for bundle in bundles:
        bundle.used = _used(bundle.used)
    return bundles


def person_day_quota(customer: Customer, day: datetime.date) -> Quota | None:
    """All prepaid person-days valid on ``day`` together (one query); None without any bundle."""
    bundles = bundles_with_use(customer, day)
    if not bundles:
        return None
    return Quota(
        QuotaKind.PERSON_DAYS,
        sum((b.days for b in bundles), Decimal(0)),
        sum((b.used for b in bundles), Decimal(0)),
        min(b.valid_from for b in bundles),
        max(b.valid_until for b in bundles),
    )


# A quota is low (quota.low) when what is left is down to one unit (a training, a person-day) or to a fifth
# of the allowance, whichever is more. Quotas carry no threshold of their own.
LOW_SHARE = Decimal("0.2")


def quota_low_threshold(quota: Quota) -> Decimal:
    return max(Decimal(1), (quota.allowance * LOW_SHARE).quantize(THOUSANDTH))
