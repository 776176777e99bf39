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


def invoice_pdf_content(invoice: Invoice) -> bytes:
    """The issued document's PDF as rendered once (at issue, by a task); rendered now if that has not run
    yet. Staff and the customer's portal download the same bytes."""
    from invoices.tasks import render_invoice_pdf  # tasks call services; imported here to keep one direction

    if not invoice.pdf_sha256:
        render_invoice_pdf(invoice.pk)
        invoice.refresh_from_db()
    with invoice.pdf.open("rb") as file:
        return file.read()
