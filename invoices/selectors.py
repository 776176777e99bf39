"""Reads of invoices: totals, balances, overdue ageing, statements."""

import datetime
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.utils.translation import gettext as _
from djmoney.money import Money

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
from quotes.models import QuoteLine

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
