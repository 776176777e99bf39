"""Reads across contracts and quotes."""

import datetime
from collections import defaultdict
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db.models import Count, DecimalField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money

from billing.errors import BillingError
from billing.money import sums_by_currency
from catalog.pricing import Priced, price_agreed
from contracts.models import ServicePeriod
from contracts.selectors import period_status
from quotes.models import OrderLine, Quote, QuoteLine


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


def periods_ending_by_month(*, today: datetime.date, months_ahead: int = 11) -> dict[datetime.date, dict]:
    """For the charts: how many periods end in each month from this one to ``months_ahead`` after, and
    their fees per currency (never added across currencies). Counted and summed by the database: one
    query, whatever the number of periods (renewal_pipeline lists them one by one)."""
    first = today.replace(day=1)
    last = first + relativedelta(months=months_ahead + 1) - datetime.timedelta(days=1)
    months: dict[datetime.date, dict] = {}
    rows = (
        ServicePeriod.objects.filter(end__range=(first, last))
        .order_by()
        .values("end", "fee_currency")
        .annotate(periods=Count("pk"), fees=Sum("fee"))
    )
    for row in rows:  # by day (a few hundred rows at most), cut into months here
        month = months.setdefault(row["end"].replace(day=1), {"periods": 0, "fees": {}})
        month["periods"] += row["periods"]
        currency = row["fee_currency"]
        month["fees"][currency] = month["fees"].get(currency, Money(0, currency)) + Money(
            row["fees"], currency
        )
    return months


def quote_gross_sql(*, quote: str = "pk") -> Coalesce:
    """A quote's gross as an annotation (quote_totals' rule: the sum of its lines' stored gross), for lists
    that sort or filter by it; ``quote`` names the quote's key from the annotated rows (``quote`` from an
    order)."""
    amounts = DecimalField(max_digits=14, decimal_places=2)
    total = (
        QuoteLine.objects.filter(quote=OuterRef(quote))
        .order_by()
        .values("quote")
        .annotate(total=Sum("gross"))
        .values("total")
    )
    return Coalesce(Subquery(total, output_field=amounts), Value(Decimal(0)), output_field=amounts)


def with_renewal_quote(periods: QuerySet) -> QuerySet:
    """``periods`` with the latest revision of each one's renewal quote (renewal_pipeline's rule: the first
    revision names the period, later ones share its number) as ``renewal_quote_id``,
    ``renewal_quote_number``, ``renewal_quote_revision`` and ``renewal_quote_status`` (None without one)."""
    first = Quote.objects.filter(renewal_of=OuterRef("pk"), revision=1).values("number")[:1]
    periods = periods.annotate(renewal_quote_number=Subquery(first))
    latest = Quote.objects.filter(number=OuterRef("renewal_quote_number")).order_by("-revision")
    return periods.annotate(
        renewal_quote_id=Subquery(latest.values("pk")[:1]),
        renewal_quote_revision=Subquery(latest.values("revision")[:1]),
        renewal_quote_status=Subquery(latest.values("status")[:1]),
    )


def quote_by_reference(reference: str) -> Quote | None:
    """The quote a reference names: its number, with ``-R<revision>`` after the first revision."""
    number, _sep, revision = reference.strip().partition("-R")
    if not revision:
        revision = "1"
    if not revision.isdigit():
        return None
    return Quote.objects.filter(number=number, revision=int(revision)).first()


def order_line_named(*, order_line_id: int | None = None, quote_reference: str = "", service_code: str = ""):
    """The order line a work log names: by its id, or by the reference of the accepted quote plus the
    service (refused when the order has no such line, or several: then the id is needed). None when
    nothing is named."""
    lines = OrderLine.objects.select_related("order__quote", "service")
    if order_line_id is not None:
        line = lines.filter(pk=order_line_id).first()
        if line is None:
            raise BillingError(
                _("There is no order line %(line)s."),
                code="unknown_order_line",
                params={"line": order_line_id},
            )
        return line
    if not quote_reference:
        return None
    quote = quote_by_reference(quote_reference)
    if quote is None or not hasattr(quote, "order"):
        raise BillingError(
            _("“%(reference)s” is not an accepted quote with a service order."),
            code="unknown_order",
            params={"reference": quote_reference},
        )
    matching = list(lines.filter(order__quote=quote, service__code=service_code))
    if len(matching) != 1:
        raise BillingError(
            _("Order %(reference)s has %(count)s lines for “%(service)s”: name the order line by its id."),
            code="unknown_order_line" if not matching else "ambiguous_order_line",
            params={"reference": quote.reference, "count": len(matching), "service": service_code},
        )
    return matching[0]


def order_line_priced(line: OrderLine, quantity: Decimal, *, before: Decimal = Decimal(0)) -> Priced:
    """``quantity`` of an order line at its agreed price (unit price, discount, VAT), not the rate card's:
    what delivered work against it is billed. The whole quantity is its agreed list amount (a data
    volume's tier total), so that it bills exactly what the quote said; ``before`` (what was billed of it
    already) makes delivered pieces add up to the whole line to the fen."""
    return price_agreed(
        unit_price=line.unit_price,
        quantity=quantity,
        vat_rate=line.vat_rate,
        tax_inclusive=line.tax_inclusive,
        discount=line.discount,
        unit=line.unit,
        basis=line.basis,
        list_amount=line.list_amount if before + quantity == line.quantity else None,
        before=before,
    )
