"""The settled mark (Invoice.settled) is invoice_balance's answer kept on the row: after any sequence of
payments and credit notes, through the services, it says whether anything is left to pay; the migration
that filled it for older invoices answers the same."""

import datetime
import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from djmoney.money import Money
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from invoices.models import Invoice, InvoiceStatus
from invoices.selectors import BALANCE_PREFETCH, invoice_balance
from invoices.services import LineCredit, credit_note_issue, payment_record
from tests.factories import CustomerFactory
from tests.invoices.test_credit_notes import issued_invoice

D = datetime.date
pytestmark = pytest.mark.django_db
backfill = importlib.import_module("invoices.migrations.0017_invoice_settled_backfill").backfill


def assert_marks_agree_with_invoice_balance():
    for invoice in Invoice.objects.prefetch_related(*BALANCE_PREFETCH):
        open_amount = invoice_balance(invoice)
        expected = invoice.status == InvoiceStatus.ISSUED and open_amount.amount <= 0
        assert invoice.settled == expected, (invoice, open_amount)


def two_line_invoice():
    return issued_invoice(("3", "66.67", "200.00", "0.06"), ("2", "150.00", "300.00", "0.13"))


shares = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(1), places=2)
steps = st.lists(st.tuples(st.sampled_from(["pay", "credit", "credit the rest"]), shares), max_size=6)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=steps)
def test_the_mark_agrees_with_invoice_balance_after_any_payments_and_credit_notes(catalogue, steps):
    invoice = two_line_invoice()
    assert not Invoice.objects.get(pk=invoice.pk).settled
    for number, (step, share) in enumerate(steps):
        open_amount = invoice_balance(Invoice.objects.get(pk=invoice.pk)).amount
        amount = (max(open_amount, Decimal(0)) * share).quantize(Decimal("0.01"))
        if step == "pay" and amount > 0:
            payment_record(
                invoice=invoice,
                amount=Money(amount, "CNY"),
                received_on=D(2026, 4, 1),
                reference=f"P{number}",
            )
        elif step == "credit":
            line = invoice.lines.order_by("position").first()
            left = line.gross.amount + sum(c.gross.amount for c in line.credited_by.all())
            wanted = (left * share).quantize(Decimal("0.01"))
            if wanted > 0:  # a credit after the invoice was paid leaves it below zero: settled still
                credit_note_issue(invoice=invoice, reason="部分", lines={line.pk: LineCredit(amount=wanted)})
        elif step == "credit the rest" and any(
            line.gross.amount + sum(c.gross.amount for c in line.credited_by.all()) > 0
            for line in invoice.lines.all()
        ):
            credit_note_issue(invoice=invoice, reason="余额")
        assert_marks_agree_with_invoice_balance()


def test_paying_the_whole_invoice_settles_it_and_a_part_does_not(catalogue):
    invoice = two_line_invoice()
    payment_record(invoice=invoice, amount=Money(100, "CNY"), received_on=D(2026, 4, 1), reference="A")
    assert not Invoice.objects.get(pk=invoice.pk).settled
    payment_record(invoice=invoice, amount=Money(400, "CNY"), received_on=D(2026, 4, 2), reference="B")
    assert Invoice.objects.get(pk=invoice.pk).settled


def test_the_migration_marks_older_invoices_as_invoice_balance_does(catalogue):
    paid, part_paid, credited, paid_then_credited, untouched = (two_line_invoice() for _ in range(5))
    for invoice, amount in ((paid, 500), (part_paid, 499), (paid_then_credited, 500)):
        payment_record(invoice=invoice, amount=Money(amount, "CNY"), received_on=D(2026, 4, 1), reference="X")
    credit_note_issue(invoice=credited, reason="全部")
    credit_note_issue(
        invoice=paid_then_credited,
        reason="部分",
        lines={paid_then_credited.lines.first().pk: LineCredit(amount=Decimal("10.00"))},
    )
    Invoice.objects.create(customer=CustomerFactory())  # a draft: never settled
    Invoice.objects.update(settled=False)  # as the column's default left them

    backfill(apps, None)

    assert_marks_agree_with_invoice_balance()
    assert set(Invoice.objects.filter(settled=False, kind="invoice").values_list("pk", flat=True)) == {
        part_paid.pk,
        untouched.pk,
        Invoice.objects.get(status=InvoiceStatus.DRAFT).pk,
    }
