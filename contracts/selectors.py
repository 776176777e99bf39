"""Reads of contracts that are more than a one-line queryset."""

import datetime
from decimal import Decimal

from contracts.models import ConsumptionEntry, Customer, CustomModule, LicensedProduct, ServicePeriod
from contracts.quotas import person_day_quota, training_quota


class PeriodStatus:
    UPCOMING = "upcoming"
    ACTIVE = "active"
    RENEWED = "renewed"
    LAPSED = "lapsed"


def period_status(period: ServicePeriod, periods: list[ServicePeriod], today: datetime.date) -> str:
    """Upcoming, active, renewed (ended with a later period) or lapsed (ended unrenewed)."""
    if period.start > today:
        return PeriodStatus.UPCOMING
    if period.end >= today:
        return PeriodStatus.ACTIVE
    return PeriodStatus.RENEWED if any(p.end > period.end for p in periods) else PeriodStatus.LAPSED


def customer_coverage(*, customer: Customer, today: datetime.date) -> dict:
    """Everything a ticketing tool shows about a customer: periods with their status, the tier in force,
    licensed products (highest version each), custom modules and quotas used and left."""
    periods = list(
        ServicePeriod.objects.filter(contract__customer=customer)
        .select_related("tier", "calendar", "contract")
        .order_by("start")
    )
    running = [p for p in periods if p.covers(today)]
    current = max(running, key=lambda p: (p.tier.position, p.kind == "paid", p.start)) if running else None
    products: dict[str, LicensedProduct] = {}
    for licence in LicensedProduct.objects.filter(contract__customer=customer).select_related(
        "product", "contract"
    ):
        known = products.get(licence.product.code)
        if known is None or licence.parsed_version > known.parsed_version:
            products[licence.product.code] = licence
    quotas = [training_quota(current, today)] if current is not None else []
    bundle = person_day_quota(customer, today)
    if bundle is not None:
        quotas.append(bundle)
    return {
        "customer": customer.code,
        "legal_name": customer.legal_name,
        "covered": current is not None,
        "tier": current.tier.code if current else None,
        "arrival_area": customer.arrival_area,
        "periods": [
            {
                "id": p.pk,
                "contract": p.contract.number,
                "kind": p.kind,
                "start": p.start,
                "end": p.end,
                "tier": p.tier.code,
                "calendar": p.calendar.code,
                "fee": {"amount": f"{p.fee.amount:.2f}", "currency": str(p.fee.currency)},
                "status": period_status(p, periods, today),
            }
            for p in periods
        ],
        "products": [
            {"product": code, "version": lic.version, "contract": lic.contract.number}
            for code, lic in sorted(products.items())
        ],
        "custom_modules": [
            {"code": m.code, "name": m.name, "contract": m.contract.number, "upgrades": False}
            for m in CustomModule.objects.filter(contract__customer=customer).select_related("contract")
        ],
        "quotas": quotas,
    }


def consumption_left(entry: ConsumptionEntry) -> Decimal:
    """What is left of a use after its corrections: the most a further correction may give back."""
    return entry.quantity + sum((c.quantity for c in entry.corrections.all()), Decimal(0))


def consumption_ledger(*, customer: Customer, limit: int = 50) -> list[ConsumptionEntry]:
    """The customer's latest uses of its quotas, latest first, each with its corrections (``corrections``,
    prefetched) and what is left of it (``left``): two queries."""
    uses = list(
        ConsumptionEntry.objects.filter(customer=customer, corrects__isnull=True)
        .prefetch_related("corrections")
        .order_by("-used_on", "-pk")[:limit]
    )
    for use in uses:
        use.left = consumption_left(use)
    return uses
