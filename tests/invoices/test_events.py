"""Invoice, credit note and payment events: recorded by the services that issue, credit and record
payments, once each, with the amounts of the documents to the fen; never by a service that refuses; the
daily overdue check announces an invoice once."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from djmoney.money import Money

from billing.errors import BillingError
from catalog.pricing import price_agreed
from contracts.models import Contact
from events.models import Event
from invoices.bulk import invoices_issue
from invoices.models import Invoice, InvoiceLine
from invoices.selectors import invoice_balance, invoice_totals
from invoices.services import (
    LineCredit,
    credit_note_issue,
    invoice_issue,
    overdue_reminders_send,
    payment_record,
)
from tests.factories import CustomerFactory

D = datetime.date
pytestmark = pytest.mark.django_db


def cny(amount) -> Money:
    return Money(Decimal(amount), "CNY")


def money(amount) -> dict:
    return {"amount": f"{Decimal(amount):.2f}", "currency": "CNY"}


def draft(customer, *unit_prices: str) -> Invoice:
    """A draft with one line per unit price (2 person-days each, 6% VAT included, 10% off)."""
    invoice = Invoice.objects.create(customer=customer)
    for position, unit_price in enumerate(unit_prices, start=1):
        priced = price_agreed(
            unit_price=cny(unit_price),
            quantity=Decimal(2),
            vat_rate=Decimal("0.06"),
            tax_inclusive=True,
            discount=Decimal("0.1"),
            list_amount=cny(Decimal(unit_price) * 2),
        )
        InvoiceLine.objects.create(
            invoice=invoice,
            position=position,
            description=f"line {position}",
            **{**priced.line_fields(), "unit": "人天"},
            discount=priced.discount,
            net=priced.net,
            vat=priced.vat,
            gross=priced.gross,
        )
    return invoice


@pytest.fixture
def customer():
    customer = CustomerFactory(code="ACME")
    Contact.objects.create(customer=customer, name="王芳", email="wang@acme.example.com")
    return customer


@pytest.fixture
def invoice(customer) -> Invoice:
    return invoice_issue(invoice=draft(customer, "3333.33", "1234.57"), issue_date=D(2026, 3, 2))


def events(event_type: str) -> list[Event]:
    return list(Event.objects.filter(type=event_type).order_by("id"))


def test_an_issued_invoice_is_recorded_once_with_its_amounts_to_the_fen(invoice):
    [event] = events("invoice.issued")
    shown, totals = event.data["object"], invoice_totals(invoice)
    assert event.customer_code == "ACME"
    assert (shown["id"], shown["number"], shown["customer"], shown["status"]) == (
        invoice.pk,
        invoice.number,
        "ACME",
        "issued",
    )
    assert (shown["issue_date"], shown["due_date"], shown["currency"]) == ("2026-03-02", "2026-04-01", "CNY")
    assert (shown["net"], shown["vat"], shown["gross"]) == (
        money(totals["net"].amount),
        money(totals["vat"].amount),
        money(totals["gross"].amount),
    )
    assert shown["balance"] == shown["gross"]
    assert shown["credits"] is None
    assert [line["gross"] for line in shown["lines"]] == [
        money(line.gross.amount) for line in invoice.lines.order_by("position")
    ]
    with pytest.raises(BillingError):
        invoice_issue(invoice=invoice)
    assert len(events("invoice.issued")) == 1


def test_bulk_issue_records_the_issued_drafts_only(customer):
    first, empty, second = (
        draft(customer, "100.00"),
        Invoice.objects.create(customer=customer),
        draft(customer, "200.00"),
    )
    report = invoices_issue(pks=[first.pk, empty.pk, second.pk], by=None)
    assert [outcome.pk for outcome in report.refused] == [empty.pk]
    issued = Invoice.objects.filter(pk__in=[first.pk, second.pk]).order_by("pk")
    assert [event.data["object"]["number"] for event in events("invoice.issued")] == [
        invoice.number for invoice in issued
    ]


def test_issuing_costs_the_same_queries_whatever_the_lines(customer):
    def queries(invoice) -> int:
        with CaptureQueriesContext(connection) as captured:
            invoice_issue(invoice=invoice)
        return len(captured)

    invoice_issue(invoice=draft(customer, "100.00"))  # the series' first number creates its sequence
    assert queries(draft(customer, "100.00")) == queries(draft(customer, *["100.00"] * 6))


def test_payments_are_recorded_and_the_last_one_pays_the_invoice_once(invoice):
    gross = invoice_totals(invoice)["gross"]
    payment_record(invoice=invoice, amount=cny("1000.00"), received_on=D(2026, 3, 10), reference="B1")
    [recorded] = events("payment.recorded")
    assert recorded.customer_code == "ACME"
    assert {key: recorded.data["object"][key] for key in ("customer", "date", "amount", "reference")} == {
        "customer": "ACME",
        "date": "2026-03-10",
        "amount": money("1000.00"),
        "reference": "B1",
    }
    assert recorded.data["object"]["allocations"] == [{"invoice": invoice.number, "amount": money("1000.00")}]
    assert recorded.data["invoice"]["balance"] == money(gross.amount - Decimal("1000.00"))
    assert events("invoice.paid") == []

    rest = invoice_balance(invoice)
    payment = payment_record(invoice=invoice, amount=rest, received_on=D(2026, 3, 20), reference="B2")
    payment_record(invoice=invoice, amount=rest, received_on=D(2026, 3, 20), reference="B2")  # a retry
    assert len(events("payment.recorded")) == 2
    [paid] = events("invoice.paid")
    assert (paid.customer_code, paid.key) == ("ACME", f"invoice.paid:{invoice.pk}")
    assert paid.data["object"]["balance"] == money("0")
    assert paid.data["settled_by"] == {"kind": "payment", "id": payment.pk, "reference": "B2"}


def test_credit_notes_are_recorded_and_crediting_what_is_left_pays_the_invoice_once(invoice):
    line = invoice.lines.get(position=1)
    note = credit_note_issue(
        invoice=invoice, reason="优惠", lines={line.pk: LineCredit(amount=Decimal("100.01"))}
    )
    [issued] = events("credit_note.issued")
    assert issued.customer_code == "ACME"
    assert (issued.data["object"]["number"], issued.data["object"]["credits"]) == (
        note.number,
        invoice.number,
    )
    assert issued.data["object"]["gross"] == money("-100.01")
    note_totals = invoice_totals(note)
    assert (issued.data["object"]["net"], issued.data["object"]["vat"]) == (
        money(note_totals["net"].amount),
        money(note_totals["vat"].amount),
    )
    assert issued.data["invoice"]["balance"] == money(
        invoice_totals(invoice)["gross"].amount - Decimal("100.01")
    )
    assert events("invoice.issued")[-1].data["object"]["number"] == invoice.number  # the note is no invoice
    assert events("invoice.paid") == []

    last = credit_note_issue(invoice=invoice, reason="取消")  # what is left of every line
    [paid] = events("invoice.paid")
    assert paid.data["object"]["balance"] == money("0")
    assert paid.data["settled_by"] == {"kind": "credit_note", "number": last.number}


def test_a_payment_costs_the_same_queries_whatever_the_lines(customer):
    def queries(invoice, reference: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            payment_record(
                invoice=invoice,
                amount=invoice_balance(invoice),
                received_on=D(2026, 3, 9),
                reference=reference,
            )
        return len(captured)

    one_line = invoice_issue(invoice=draft(customer, "100.00"))
    six_lines = invoice_issue(invoice=draft(customer, *["100.00"] * 6))
    assert queries(one_line, "B1") == queries(six_lines, "B2")


def test_refused_payments_and_credits_record_nothing(invoice):
    gross = invoice_totals(invoice)["gross"]
    with pytest.raises(BillingError):
        payment_record(
            invoice=invoice, amount=gross + cny("0.01"), received_on=D(2026, 3, 10), reference="B1"
        )
    line = invoice.lines.get(position=1)
    with pytest.raises(BillingError):
        credit_note_issue(
            invoice=invoice, reason="x", lines={line.pk: LineCredit(amount=Decimal("99999.00"))}
        )
    assert Event.objects.exclude(type="invoice.issued").count() == 0


def test_the_daily_overdue_check_announces_an_invoice_once(invoice, customer):
    paid = invoice_issue(invoice=draft(customer, "50.00"), issue_date=D(2026, 3, 2))
    payment_record(invoice=paid, amount=invoice_balance(paid), received_on=D(2026, 3, 5), reference="P")
    silent = invoice_issue(invoice=draft(CustomerFactory(code="MUTE"), "70.00"), issue_date=D(2026, 3, 2))
    overdue_reminders_send(today=D(2026, 4, 1))  # due that day: not overdue yet
    assert events("invoice.overdue") == []
    overdue_reminders_send(today=D(2026, 4, 2))
    overdue_reminders_send(today=D(2026, 4, 2))
    overdue_reminders_send(today=D(2026, 5, 2))
    announced = events("invoice.overdue")
    # the customer with nobody to remind is announced all the same
    assert sorted((event.data["object"]["number"], event.customer_code) for event in announced) == [
        (invoice.number, "ACME"),
        (silent.number, "MUTE"),
    ]
    acme = next(event for event in announced if event.customer_code == "ACME")
    assert (acme.key, acme.data["days_overdue"]) == (f"invoice.overdue:{invoice.pk}", 1)
    assert acme.data["object"]["balance"] == money(invoice_totals(invoice)["gross"].amount)
