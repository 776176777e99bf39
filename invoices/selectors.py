"""Reads of invoices: totals, balances, overdue ageing, statements."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db.models import Q, Sum
from django.utils.translation import gettext as _
from djmoney.money import Money

from billing.money import round_fen
from catalog.models import ServiceGroup, ServiceItem
from contracts.models import ChargeRequest
from invoices.models import (
    Charge,
    ChargeSource,
    DataVolumeUsage,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    WorkLog,
)
from quotes.models import InvoicingPolicy, LineKind, OrderLine, QuoteLine, ServiceOrder
from quotes.selectors import order_line_priced

AGE_BUCKETS = ((30, "1-30"), (60, "31-60"), (90, "61-90"))


def invoice_totals(invoice: Invoice) -> dict:
    """Net, VAT and gross as sums of the lines, travel at cost apart."""
    zero = Money(0, invoice.currency)
    lines = list(invoice.lines.all())
    return {
        "net": sum((line.net for line in lines if not line.pass_through), zero),
        "vat": sum((line.vat for line in lines), zero),
        "travel": sum((line.gross for line in lines if line.pass_through), zero),
        "gross": sum((line.gross for line in lines), zero),
    }


# What invoice_totals and invoice_balance read: prefetched, a list of invoices costs a fixed number
# of queries.
BALANCE_PREFETCH = ("lines", "payments", "credit_notes__lines")


def invoice_balance(invoice: Invoice) -> Money:
    """What is still open: the gross, less issued credit notes, less payments."""
    zero = Money(0, invoice.currency)
    credited = sum(
        (
            line.gross
            for note in invoice.credit_notes.all()
            if note.status == InvoiceStatus.ISSUED
            for line in note.lines.all()
        ),
        zero,
    )
    paid = sum((payment.amount for payment in invoice.payments.all()), zero)
    return invoice_totals(invoice)["gross"] + credited - paid


def overdue_by_age(*, today: datetime.date) -> dict[str, list[tuple[Invoice, Money, int]]]:
    """Issued invoices past their due date with money open, by days overdue: 1-30, 31-60, 61-90, 90+."""
    buckets: dict[str, list] = {label: [] for _days, label in AGE_BUCKETS} | {"90+": []}
    overdue = Invoice.objects.filter(
        kind=InvoiceKind.INVOICE, status=InvoiceStatus.ISSUED, due_date__lt=today
    ).select_related("customer")
    for invoice in overdue.prefetch_related(*BALANCE_PREFETCH):
        open_amount = invoice_balance(invoice)
        if open_amount.amount <= 0:
            continue
        days = (today - invoice.due_date).days
        label = next((label for limit, label in AGE_BUCKETS if days <= limit), "90+")
        buckets[label].append((invoice, open_amount, days))
    return buckets


def statement_of_account(*, customer, start: datetime.date, end: datetime.date) -> dict:
    """Issued invoices and credit notes and payments of a customer between two dates, oldest first, with
    the balance brought forward and a running balance."""
    invoices = list(
        Invoice.objects.filter(customer=customer, status=InvoiceStatus.ISSUED).prefetch_related("lines")
    )
    payments = list(Payment.objects.filter(invoice__customer=customer).select_related("invoice"))
    entries = [(i.issue_date, 0, i.number, invoice_totals(i)["gross"], i) for i in invoices]
    entries += [(p.received_on, 1, p.reference, -p.amount, p) for p in payments]
    entries.sort(key=lambda e: (e[0], e[1], e[2]))
    currency = "CNY"
    opening = sum((e[3] for e in entries if e[0] < start), Money(0, currency))
    rows, balance = [], opening
    for day, _order, reference, amount, source in entries:
        if start <= day <= end:
            balance += amount
            rows.append(
                {"date": day, "reference": reference, "amount": amount, "balance": balance, "source": source}
            )
    return {
        "customer": customer,
        "start": start,
        "end": end,
        "opening": opening,
        "rows": rows,
        "closing": balance,
    }


def _issued_lines(
    *, months: int, today: datetime.date
) -> tuple[dict[datetime.date, dict], list[InvoiceLine]]:
    """Empty rows for the last ``months`` months and the issued invoice and credit-note lines in them."""
    first = today.replace(day=1) - relativedelta(months=months - 1)
    rows = {first + relativedelta(months=index): {} for index in range(months)}
    lines = InvoiceLine.objects.filter(
        invoice__status=InvoiceStatus.ISSUED, invoice__issue_date__gte=first
    ).select_related("invoice")
    return rows, list(lines)


def _by_month(rows: dict, lines: list[InvoiceLine], key_of, keys) -> list[dict]:
    """Gross per month and key, summed as Decimals and given as floats for the charts."""
    table = {month: dict.fromkeys(keys, Decimal(0)) for month in rows}
    for line in lines:
        sums = table.get(line.invoice.issue_date.replace(day=1))
        if sums is not None:
            key = key_of(line)
            sums[key] = sums.get(key, Decimal(0)) + line.gross.amount
    return [
        {"month": month, **{key: float(total) for key, total in sums.items()}}
        for month, sums in table.items()
    ]


def revenue_by_month(*, months: int, today: datetime.date) -> list[dict]:
    """Gross invoiced per month (credit notes deducted) over the last ``months`` months, split by what
    was billed (period fees, quote lines, person-days, ...)."""
    rows, lines = _issued_lines(months=months, today=today)
    sources = dict(
        Charge.objects.filter(invoice_line__in=[line.pk for line in lines]).values_list(
            "invoice_line_id", "source"
        )
    )

    def key_of(line: InvoiceLine) -> str:
        if line.invoice.kind == InvoiceKind.CREDIT_NOTE:
            return "credited"
        return sources.get(line.pk, ChargeSource.PERIOD_FEE)

    return _by_month(rows, lines, key_of, [*ChargeSource.values, "credited"])


PERIODS, TRAVEL, OUT_OF_SCOPE = "service-periods", "travel", "out-of-scope"


def revenue_by_group(*, months: int, today: datetime.date) -> tuple[list[dict], dict[str, str]]:
    """Gross invoiced per month by service group (服务类别) of what was billed, credit notes deducted from
    the group of the line they credit; period fees, travel at cost and out-of-scope work have buckets of
    their own. Returns the months and the bucket labels, in catalogue order. A fixed number of queries."""
    rows, lines = _issued_lines(months=months, today=today)
    billed = {line.credits_line_id or line.pk for line in lines}
    charges = dict(
        (line_id, (source, source_id))
        for line_id, source, source_id in Charge.objects.filter(invoice_line__in=billed).values_list(
            "invoice_line_id", "source", "source_id"
        )
    )
    ids: dict[str, set[int]] = {}
    for source, source_id in charges.values():
        ids.setdefault(source, set()).add(source_id)
    group_of_service = dict(ServiceItem.objects.values_list("code", "group__code"))
    service_codes = {
        ChargeSource.WORK_LOG: WorkLog.objects.filter(pk__in=ids.get(ChargeSource.WORK_LOG, ())),
        ChargeSource.DATA_VOLUME: DataVolumeUsage.objects.filter(
            pk__in=ids.get(ChargeSource.DATA_VOLUME, ())
        ),
        ChargeSource.CHARGE_REQUEST: ChargeRequest.objects.filter(
            pk__in=ids.get(ChargeSource.CHARGE_REQUEST, ())
        ),
    }
    group_of: dict[tuple[str, int], str | None] = {}
    for source, queryset in service_codes.items():
        for pk, code in queryset.values_list("pk", "service_code"):
            group_of[source, pk] = group_of_service.get(code)
    quote_lines = QuoteLine.objects.filter(pk__in=ids.get(ChargeSource.QUOTE_LINE, ()))
    for pk, group in quote_lines.values_list("pk", "service__group__code"):
        group_of[ChargeSource.QUOTE_LINE, pk] = group or PERIODS  # a renewal quote's period fee

    def key_of(line: InvoiceLine) -> str:
        source, source_id = charges.get(line.credits_line_id or line.pk, (ChargeSource.PERIOD_FEE, None))
        if source == ChargeSource.PERIOD_FEE:
            return PERIODS
        if source == ChargeSource.TRAVEL:
            return TRAVEL
        return group_of.get((source, source_id)) or OUT_OF_SCOPE

    labels = {PERIODS: str(_("service period fees (standard service)"))}
    labels |= {group.code: str(group.name) for group in ServiceGroup.objects.all()}
    labels |= {OUT_OF_SCOPE: str(_("out-of-scope work")), TRAVEL: str(_("travel and lodging at cost"))}
    return _by_month(rows, lines, key_of, labels), labels


@dataclass(frozen=True)
class Quantity:
    """A quantity of an order line and its amount, in the line's own terms (gross when its price includes
    VAT, net when not), rounded to the fen."""

    quantity: Decimal
    amount: Money


@dataclass(frozen=True)
class OrderLineProgress:
    """Where an order line stands. Always ordered = delivered + remaining + released (released: what was
    left undelivered when the order was closed), and invoiced - credited = what the ledger billed for it."""

    line: OrderLine
    ordered: Quantity
    delivered: Quantity
    beyond: Quantity  # logged past the ordered quantity: a charge request, never this line
    invoiced: Quantity
    credited: Quantity
    remaining: Quantity
    released: Quantity

    @property
    def parts(self) -> list[tuple[str, Quantity]]:
        """The columns a page shows, in order."""
        names = ("ordered", "delivered", "invoiced", "credited", "remaining", "released")
        return [(name, getattr(self, name)) for name in names]


def order_lines_progress(lines) -> list[OrderLineProgress]:
    """Ordered, delivered, invoiced, credited, remaining and released quantities and amounts of order lines
    (the one place they are computed; pages and the API read them here), in three queries for any number.

    Delivered: person-days logged against the line, up to its quantity; for a line billed when ordered that
    is not in person-days, everything is delivered once the order is closed. Invoiced: lines of issued
    invoices that bill the line's charges; credited: issued credit-note lines that credit them."""
    lines = list(lines)
    ids = [line.pk for line in lines]
    logged = {
        line_id: (total or Decimal(0), processed or Decimal(0))
        for line_id, total, processed in WorkLog.objects.filter(order_line__in=ids)
        .values("order_line")
        .annotate(total=Sum("days"), processed=Sum("days", filter=Q(processed_at__isnull=False)))
        .values_list("order_line", "total", "processed")
    }
    charges: dict[int, list[Charge]] = {}
    for charge in (
        Charge.objects.filter(order_line__in=ids)
        .select_related("invoice_line__invoice")
        .prefetch_related("invoice_line__credited_by__invoice")
    ):
        charges.setdefault(charge.order_line_id, []).append(charge)
    nothing = (Decimal(0), Decimal(0))
    return [_progress(line, *logged.get(line.pk, nothing), charges.get(line.pk, [])) for line in lines]


def _progress(
    line: OrderLine, logged: Decimal, processed: Decimal, charges: list[Charge]
) -> OrderLineProgress:
    currency = str(line.amount.currency)
    zero = Decimal(0)

    def part(quantity: Decimal, amount: Decimal) -> Quantity:
        return Quantity(quantity, Money(round_fen(amount), currency))

    def own_terms(invoice_line: InvoiceLine) -> Decimal:
        return (invoice_line.gross if line.tax_inclusive else invoice_line.net).amount

    closed = not line.order.is_open
    delivered_quantity = min(logged, line.quantity)
    if line.invoicing_policy == InvoicingPolicy.DELIVERED:
        work_charges = [c for c in charges if c.source == ChargeSource.WORK_LOG]
        # delivered and not charged yet (logs the next run bills): worth their share of the agreed price
        pending = delivered_quantity - min(processed, line.quantity)
        delivered_amount = sum((c.amount.amount for c in work_charges), zero) + (
            order_line_priced(line, pending).amount.amount if pending > 0 else zero
        )
    else:
        if closed and line.kind != LineKind.PERSON_DAYS:
            delivered_quantity = line.quantity  # a course, a fixed price: delivered when the order is closed
        if delivered_quantity == line.quantity:
            delivered_amount = line.amount.amount
        elif delivered_quantity:
            delivered_amount = order_line_priced(line, delivered_quantity).amount.amount
        else:
            delivered_amount = zero
    delivered_amount = round_fen(delivered_amount)
    left = (line.quantity - delivered_quantity, line.amount.amount - delivered_amount)
    remaining, released = ((zero, zero), left) if closed else (left, (zero, zero))
    issued = [
        c.invoice_line
        for c in charges
        if c.invoice_line and c.invoice_line.invoice.status == InvoiceStatus.ISSUED
    ]
    credits = [
        credit
        for billed in issued
        for credit in billed.credited_by.all()
        if credit.invoice.status == InvoiceStatus.ISSUED
    ]
    return OrderLineProgress(
        line=line,
        ordered=part(line.quantity, line.amount.amount),
        delivered=part(delivered_quantity, delivered_amount),
        beyond=part(max(logged - line.quantity, zero), zero),
        invoiced=part(sum((b.quantity for b in issued), zero), sum((own_terms(b) for b in issued), zero)),
        credited=part(sum((-c.quantity for c in credits), zero), sum((-own_terms(c) for c in credits), zero)),
        remaining=part(*remaining),
        released=part(*released),
    )


def order_progress(order: ServiceOrder) -> list[OrderLineProgress]:
    return order_lines_progress(order.lines.select_related("order__quote", "service"))
