"""Finance exports for the accounting system: invoices and their lines as CSV or XLSX.

Every row carries its currency and nothing is summed across rows, so two currencies are never added.
Every cell goes through billing.spreadsheets' formula rule: text that a spreadsheet would read as a formula
(=, +, -, @, tab, carriage return first) is prefixed with an apostrophe, so an exported customer name can
never run as a formula.
"""

import tablib

from billing.spreadsheets import formula_escaped_dataset
from invoices.models import Invoice
from invoices.selectors import FAPIAO_PREFETCH, fapiao_numbers, invoice_totals


def invoices_dataset(invoices) -> tablib.Dataset:
    dataset = tablib.Dataset(
        headers=[
            "number",
            "kind",
            "issue_date",
            "due_date",
            "customer",
            "customer_name",
            "uscc",
            "currency",
            "net",
            "vat",
            "gross",
            "credits",
            "fapiao",
        ]
    )
    invoices = invoices.select_related("customer", "credits").prefetch_related("lines", FAPIAO_PREFETCH)
    for invoice in invoices:
        totals = invoice_totals(invoice)
        dataset.append(
            [
                invoice.number,
                invoice.kind,
                invoice.issue_date.isoformat() if invoice.issue_date else "",
                invoice.due_date.isoformat() if invoice.due_date else "",
                invoice.customer.code,
                invoice.customer.legal_name,
                invoice.customer.uscc,
                invoice.currency,
                f"{totals['net'].amount:.2f}",
                f"{totals['vat'].amount:.2f}",
                f"{totals['gross'].amount:.2f}",
                invoice.credits.number if invoice.credits else "",
                fapiao_numbers(invoice),
            ]
        )
    return formula_escaped_dataset(dataset)


def lines_dataset(invoices) -> tablib.Dataset:
    dataset = tablib.Dataset(
        headers=[
            "number",
            "currency",
            "position",
            "description",
            "quantity",
            "unit",
            "unit_price",
            "list_amount",
            "discount",
            "discount_amount",
            "vat_rate",
            "net",
            "vat",
            "gross",
            "pass_through",
        ]
    )
    for invoice in invoices.prefetch_related("lines"):
        for line in invoice.lines.all():
            dataset.append(
                [
                    invoice.number,
                    invoice.currency,
                    line.position,
                    line.description,
                    f"{line.quantity}",
                    line.unit,
                    f"{line.unit_price.amount:.2f}",
                    f"{line.list_amount.amount:.2f}",
                    f"{line.discount}",
                    f"{line.discount_amount.amount:.2f}",
                    f"{line.vat_rate}",
                    f"{line.net.amount:.2f}",
                    f"{line.vat.amount:.2f}",
                    f"{line.gross.amount:.2f}",
                    "1" if line.pass_through else "0",
                ]
            )
    return formula_escaped_dataset(dataset)


def issued(start, end):
    return Invoice.objects.filter(status="issued", issue_date__range=(start, end)).order_by(
        "series", "year", "sequence"
    )


def dataset_bytes(dataset: tablib.Dataset, format: str) -> bytes:
    """The file's bytes; CSV gets a UTF-8 byte-order mark so Excel reads the Chinese names right."""
    data = dataset.export(format)
    return data if isinstance(data, bytes) else ("\ufeff" + data).encode()
