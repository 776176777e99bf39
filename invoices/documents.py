"""What an invoice document shows."""

from django.conf import settings

from billing.money import rmb_capitals
from invoices.models import Invoice
from invoices.selectors import invoice_totals


def invoice_context(invoice: Invoice) -> dict:
    totals = invoice_totals(invoice)
    lines = list(invoice.lines.all())
    return {
        "invoice": invoice,
        "customer": invoice.customer,
        "lines": [line for line in lines if not line.pass_through],
        "travel_lines": [line for line in lines if line.pass_through],
        "totals": totals,
        "capitals": rmb_capitals(totals["gross"].amount),
        "vendor": settings.VENDOR,
    }
