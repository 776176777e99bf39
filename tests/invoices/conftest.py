"""A customer billed in two currencies, for the statement, chart, export and page tests."""

import datetime
from decimal import Decimal

import pytest
from djmoney.money import Money

from invoices.models import Invoice, InvoiceRun
from invoices.services import credit_note_issue, invoice_issue, invoice_run_execute, payment_record
from tests.factories import CustomerFactory, ServicePeriodFactory

D = datetime.date


def cny(amount) -> Money:
    return Money(Decimal(amount), "CNY")


def usd(amount) -> Money:
    return Money(Decimal(amount), "USD")


def issued_invoices(customer, *, up_to: datetime.date, issue_date: datetime.date) -> dict[str, Invoice]:
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=up_to, customer=customer))
    drafts = Invoice.objects.filter(customer=customer, status="draft")
    return {draft.currency: invoice_issue(invoice=draft, issue_date=issue_date) for draft in drafts}


@pytest.fixture
def two_currencies(catalogue):
    """A customer billed in CNY and USD: the CNY invoice of 2026-01 is credited in part and paid in part,
    the USD invoice of 2026-01 is paid in part; a second CNY invoice comes in 2026-03."""
    customer = CustomerFactory(code="TWO")
    ServicePeriodFactory(
        contract__customer=customer, start=D(2026, 1, 1), end=D(2026, 12, 31), fee=Decimal("10000.00")
    )
    ServicePeriodFactory(
        contract__customer=customer, start=D(2026, 1, 1), end=D(2026, 12, 31), fee=usd("1234.56")
    )
    january = issued_invoices(customer, up_to=D(2026, 1, 31), issue_date=D(2026, 1, 5))  # due 2026-02-04
    ServicePeriodFactory(
        contract__customer=customer, start=D(2026, 3, 1), end=D(2027, 2, 28), fee=Decimal("2000.10")
    )
    march = issued_invoices(customer, up_to=D(2026, 3, 31), issue_date=D(2026, 3, 10))  # due 2026-04-09
    cny_invoice, usd_invoice = january["CNY"], january["USD"]
    note = credit_note_issue(
        invoice=cny_invoice, reason="优惠", lines={cny_invoice.lines.get().pk: Decimal("0.25")}
    )
    Invoice.objects.filter(pk=note.pk).update(issue_date=D(2026, 2, 15))  # credited mid-February
    payment_record(invoice=cny_invoice, amount=cny("3000.00"), received_on=D(2026, 1, 20), reference="B1")
    payment_record(invoice=usd_invoice, amount=usd("234.56"), received_on=D(2026, 2, 20), reference="U1")
    return customer, cny_invoice, usd_invoice, march["CNY"], note
