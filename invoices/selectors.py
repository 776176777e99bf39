"""Reads of invoices: totals, balances, overdue ageing, statements."""

import datetime

from dateutil.relativedelta import relativedelta
from django.db.models import Sum
from djmoney.money import Money

from invoices.models import Charge, ChargeSource, Invoice, InvoiceKind, InvoiceLine, InvoiceStatus, Payment

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


def invoice_balance(invoice: Invoice) -> Money:
    """What is still open: the gross, less credit notes, less payments."""
    gross = invoice_totals(invoice)["gross"]
    credited = Money(
        Invoice.objects.filter(credits=invoice, status=InvoiceStatus.ISSUED).aggregate(
            total=Sum("lines__gross")
        )["total"]
        or 0,
        invoice.currency,
    )
    paid = Money(invoice.payments.aggregate(total=Sum("amount"))["total"] or 0, invoice.currency)
    return gross + credited - paid


def overdue_by_age(*, today: datetime.date) -> dict[str, list[tuple[Invoice, Money, int]]]:
    """Issued invoices past their due date with money open, by days overdue: 1-30, 31-60, 61-90, 90+."""
    buckets: dict[str, list] = {label: [] for _days, label in AGE_BUCKETS} | {"90+": []}
    overdue = Invoice.objects.filter(
        kind=InvoiceKind.INVOICE, status=InvoiceStatus.ISSUED, due_date__lt=today
    ).select_related("customer")
    for invoice in overdue.prefetch_related("lines", "payments"):
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


def revenue_by_month(*, months: int, today: datetime.date) -> list[dict]:
    """Gross invoiced per month (credit notes deducted) over the last ``months`` months, split by what
    was billed (period fees, quote lines, person-days, ...)."""
    first = today.replace(day=1) - relativedelta(months=months - 1)
    rows: dict[datetime.date, dict] = {}
    for month_index in range(months):
        month = first + relativedelta(months=month_index)
        rows[month] = {"month": month, **{source: 0 for source in ChargeSource.values}, "credited": 0}
    lines = InvoiceLine.objects.filter(invoice__status=InvoiceStatus.ISSUED, invoice__issue_date__gte=first)
    sources = dict(Charge.objects.filter(invoice_line__in=lines).values_list("invoice_line_id", "source"))
    for line in lines.select_related("invoice"):
        row = rows.get(line.invoice.issue_date.replace(day=1))
        if row is None:
            continue
        key = (
            "credited" if line.invoice.kind == InvoiceKind.CREDIT_NOTE else sources.get(line.pk, "period_fee")
        )
        row[key] += float(line.gross.amount)
    return list(rows.values())
