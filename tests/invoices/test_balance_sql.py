"""invoice_balance (in Python, over prefetched rows) and invoice_balance_sql (an annotation, for lists that
sort and filter by what is open) are one rule written twice: they must agree for every invoice and date."""

import datetime
from decimal import Decimal

import pytest
from djmoney.money import Money

from invoices.models import Invoice, InvoiceKind
from invoices.selectors import BALANCE_PREFETCH, invoice_balance, invoice_balance_sql, invoice_gross_sql
from invoices.services import LineCredit, credit_note_issue, payment_record
from tests.workspace.test_finance_lists import issued_invoices

pytestmark = pytest.mark.django_db
DAYS = [datetime.date(2025, 3, day) for day in (1, 4, 9, 20)]


def test_the_annotation_agrees_with_invoice_balance_on_every_day(catalogue):
    paid, credited, both, untouched = issued_invoices(4)
    payment_record(invoice=paid, amount=Money(Decimal("300.00"), "CNY"), received_on=DAYS[1], reference="A")
    payment_record(invoice=paid, amount=Money(Decimal("700.00"), "CNY"), received_on=DAYS[3], reference="B")
    line = credited.lines.get()
    credit_note_issue(
        invoice=credited, reason="agreed", lines={line.pk: LineCredit(amount=Decimal("100.50"))}
    )
    payment_record(invoice=both, amount=Money(Decimal("1.00"), "CNY"), received_on=DAYS[2], reference="C")
    credit_note_issue(
        invoice=both, reason="the rest", lines={both.lines.get().pk: LineCredit(amount=Decimal("200"))}
    )

    for on in [*DAYS, None]:
        annotated = Invoice.objects.filter(kind=InvoiceKind.INVOICE).annotate(
            open_amount=invoice_balance_sql(on=on), gross_total=invoice_gross_sql()
        )
        for invoice in annotated.prefetch_related(*BALANCE_PREFETCH):
            assert Money(invoice.open_amount, invoice.currency) == invoice_balance(invoice, on=on), (
                invoice,
                on,
            )
    # today (None), every credit note counts: only the untouched invoice is open for its whole gross
    assert {invoice.pk for invoice in annotated if invoice.open_amount == invoice.gross_total} == {
        untouched.pk
    }
