"""Payment reminders, statements of account and finance exports."""

import datetime
from io import StringIO

import pytest
import tablib
from django.core import mail
from django.core.management import call_command
from djmoney.money import Money

from contracts.models import Contact
from invoices.exports import invoices_dataset, issued, lines_dataset
from invoices.models import Invoice, InvoiceRun
from invoices.selectors import statement_of_account
from invoices.services import (
    credit_note_issue,
    invoice_issue,
    invoice_run_execute,
    overdue_reminders_send,
    payment_record,
)
from tests.factories import CustomerFactory, ServicePeriodFactory

D = datetime.date
pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(catalogue):
    customer = CustomerFactory(code="ACME", legal_name='=HYPERLINK("http://evil")')
    Contact.objects.create(customer=customer, name="王芳", email="wang@acme.example.com")
    ServicePeriodFactory(contract__customer=customer, start=D(2026, 1, 1), end=D(2026, 12, 31), fee=10000)
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=D(2026, 1, 31)))
    return invoice_issue(invoice=Invoice.objects.get(), issue_date=D(2026, 2, 1))  # due 2026-03-03


def test_overdue_reminders_go_once_per_step(invoice):
    assert overdue_reminders_send(today=D(2026, 3, 3)) == []
    assert [r.days_overdue for r in overdue_reminders_send(today=D(2026, 3, 4))] == [1]
    assert overdue_reminders_send(today=D(2026, 3, 5)) == []
    assert [r.days_overdue for r in overdue_reminders_send(today=D(2026, 4, 3))] == [30]
    assert len(mail.outbox) == 2
    assert invoice.number in mail.outbox[0].subject
    assert mail.outbox[0].to == ["wang@acme.example.com"]


def test_a_paid_invoice_gets_no_reminder(invoice):
    payment_record(invoice=invoice, amount=Money(10000, "CNY"), received_on=D(2026, 2, 10), reference="B1")
    assert overdue_reminders_send(today=D(2026, 6, 1)) == []


@pytest.mark.today("2026-12-01")  # its 2026 statement reads what is recorded up to today
def test_the_statement_of_account_runs_the_balance(invoice):
    payment_record(invoice=invoice, amount=Money(4000, "CNY"), received_on=D(2026, 2, 10), reference="B1")
    credit_note_issue(invoice=invoice, reason="优惠", lines={invoice.lines.get().pk: 1})
    [statement] = statement_of_account(customer=invoice.customer, start=D(2026, 1, 1), end=D(2026, 12, 31))
    assert statement.opening == Money(0, "CNY")
    assert [line.balance for line in statement.lines][:2] == [Money(10000, "CNY"), Money(6000, "CNY")]
    assert statement.closing == Money(-4000, "CNY")


def test_exports_escape_formulas_and_carry_vat(invoice, tmp_path):
    rows = invoices_dataset(issued(D(2026, 1, 1), D(2026, 12, 31))).dict
    assert rows[0]["customer_name"].startswith("'=")
    assert rows[0]["gross"] == "10000.00"
    lines = lines_dataset(issued(D(2026, 1, 1), D(2026, 12, 31))).dict
    assert lines[0]["vat"] == "566.04"
    call_command(
        "export_invoices",
        "--from",
        "2026-01-01",
        "--to",
        "2026-12-31",
        "--format",
        "xlsx",
        "--out",
        str(tmp_path),
        stdout=StringIO(),
    )
    book = tablib.Dataset().load((tmp_path / "invoices.xlsx").read_bytes(), format="xlsx")
    assert book.dict[0]["number"] == invoice.number
    call_command(
        "export_invoices",
        "--from",
        "2026-01-01",
        "--to",
        "2026-12-31",
        "--out",
        str(tmp_path),
        stdout=StringIO(),
    )
    assert (tmp_path / "invoice-lines.csv").read_bytes().startswith("\ufeff".encode())
