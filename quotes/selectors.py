"""Reads across contracts and quotes."""

import datetime
from collections import defaultdict

from dateutil.relativedelta import relativedelta

from billing.money import sums_by_currency
from contracts.models import ServicePeriod
from contracts.selectors import period_status
from quotes.models import Quote


def renewal_pipeline(*, today: datetime.date, months_back: int = 3, months_ahead: int = 12) -> list[dict]:
    """Periods ending month by month, from ``months_back`` before this month to ``months_ahead`` after,
    each with its fee, its status (active, renewed, lapsed) and the state of its renewal quote."""
    first = today.replace(day=1) - relativedelta(months=months_back)
    last = today.replace(day=1) + relativedelta(months=months_ahead + 1) - datetime.timedelta(days=1)
    periods = list(
        ServicePeriod.objects.filter(end__range=(first, last))
        .select_related("contract__customer", "tier")
        .order_by("end", "contract__customer__code")
    )
    customers = {p.contract.customer_id for p in periods}
    by_customer = defaultdict(list)
    for other in ServicePeriod.objects.filter(contract__customer_id__in=customers).select_related("contract"):
        by_customer[other.contract.customer_id].append(other)
    firsts = {q.number: q.renewal_of_id for q in Quote.objects.filter(renewal_of__in=periods)}
    renewal_quotes = {}  # period id -> the latest revision of its renewal quote
    for quote in Quote.objects.filter(number__in=firsts).order_by("revision"):
        renewal_quotes[firsts[quote.number]] = quote
    months: dict[datetime.date, dict] = {}
    for period in periods:
        month = period.end.replace(day=1)
        row = months.setdefault(month, {"month": month, "periods": [], "fees": {}})
        quote = renewal_quotes.get(period.pk)
        row["periods"].append(
            {
                "period": period,
                "customer": period.contract.customer,
                "status": period_status(period, by_customer[period.contract.customer_id], today),
                "quote": quote,
            }
        )
    for row in months.values():  # per currency: two currencies are never added
        row["fees"] = sums_by_currency(entry["period"].fee for entry in row["periods"])
    return [months[month] for month in sorted(months)]
