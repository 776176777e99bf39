"""What an invoice document shows."""

from billing.documents import priced_document
from invoices.models import Invoice
from invoices.selectors import invoice_fapiaos, invoice_totals


def invoice_context(invoice: Invoice) -> dict:
    return {
        "invoice": invoice,
        "customer": invoice.customer,
        "fapiaos": invoice_fapiaos(invoice),
        **priced_document(invoice.lines.all(), invoice_totals(invoice)),
    }
