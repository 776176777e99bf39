"""Credit notes that add up: an agreed amount or a quantity of a line, partial credits that never drift, no
credit of 0.00, and documents (PDF, export) that read as a credit note."""

import datetime
import io
import re
from decimal import Decimal

import pytest
from djmoney.money import Money
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from rest_framework.test import APIClient

from billing.apikeys import create_api_key
from billing.errors import BillingError
from billing.money import round_fen
from catalog.pricing import price_agreed
from invoices.exports import invoices_dataset, issued
from invoices.models import Charge, ChargeSource, Invoice, InvoiceKind, InvoiceLine, InvoiceRun
from invoices.selectors import invoice_balance, invoice_totals
from invoices.services import (
    LineCredit,
    credit_note_issue,
    invoice_issue,
    invoice_run_execute,
    work_log_record,
)
from invoices.tasks import render_invoice_pdf
from tests.factories import CustomerFactory, ServicePeriodFactory

D = datetime.date
pytestmark = pytest.mark.django_db


def issued_invoice(*lines, customer=None):
    """An issued invoice of ``lines``, each (quantity, unit price, list amount, VAT rate[, price includes
    VAT[, discount]]), priced by the pricing path as an invoice run prices a charge."""
    invoice = Invoice.objects.create(customer=customer or CustomerFactory())
    for position, (quantity, unit_price, list_amount, vat_rate, *terms) in enumerate(lines, start=1):
        inclusive = terms[0] if terms else True
        discount = terms[1] if len(terms) > 1 else "0"
        priced = price_agreed(
            unit_price=Money(unit_price, "CNY"),
            quantity=Decimal(quantity),
            vat_rate=Decimal(vat_rate),
            tax_inclusive=inclusive,
            discount=Decimal(discount),
            list_amount=Money(list_amount, "CNY"),
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
    return invoice_issue(invoice=invoice, issue_date=D(2026, 3, 31))


def credited_lines(invoice):
    return list(InvoiceLine.objects.filter(invoice__credits=invoice))


def assert_every_line_adds_up(invoice):
    """Every credit line: net + VAT = gross, none of them positive, and quantity x unit price printed is its
    list amount and its amount, the gross (the invoices here are priced VAT included), with no discount."""
    for line in credited_lines(invoice):
        assert line.net + line.vat == line.gross
        assert max(line.net.amount, line.vat.amount, line.gross.amount) <= 0
        printed = round_fen(line.quantity * line.unit_price.amount)  # half up, as every amount
        assert printed == line.list_amount.amount == line.gross.amount
        assert line.discount_amount == Money(0, "CNY")


def test_a_credit_note_credits_an_agreed_amount_of_a_line(catalogue):
    invoice = issued_invoice(("5", "100.00", "500.00", "0.06"))
    line = invoice.lines.get()
    agreed = {line.pk: LineCredit(amount=Decimal(150))}
    note = credit_note_issue(invoice=invoice, reason="协商退款", lines=agreed)
    credit = note.lines.get()
    assert (credit.quantity, credit.unit, credit.unit_price) == (Decimal(-1), "", Money(150, "CNY"))
    assert (credit.gross, credit.net, credit.vat) == (
        Money(-150, "CNY"),
        Money("-141.51", "CNY"),
        Money("-8.49", "CNY"),
    )
    assert credit.credited_quantity is None
    assert invoice_balance(invoice) == Money(350, "CNY")


def test_an_agreed_amount_of_a_line_priced_without_vat_prints_its_net_as_unit_price(catalogue):
    invoice = issued_invoice(("1", "471.70", "500.00", "0.06", False))
    line = invoice.lines.get()
    note = credit_note_issue(invoice=invoice, reason="协商", lines={line.pk: LineCredit(amount=Decimal(150))})
    credit = note.lines.get()
    assert credit.unit_price == -credit.net
    assert credit.gross == Money(-150, "CNY")


def test_a_quantity_credit_prints_the_quantity_at_the_lines_unit_price(catalogue):
    invoice = issued_invoice(("3", "2400.00", "7200.00", "0.06"))
    line = invoice.lines.get()
    note = credit_note_issue(invoice=invoice, reason="少做一天", lines={line.pk: Decimal(1)})
    credit = note.lines.get()
    assert (credit.quantity, credit.unit, credit.unit_price) == (Decimal(-1), "人天", Money(2400, "CNY"))
    assert (credit.credited_quantity, credit.gross) == (Decimal(1), Money(-2400, "CNY"))


def test_a_quantity_of_a_discounted_line_prints_at_its_discounted_unit_price(catalogue):
    invoice = issued_invoice(("5", "2400.00", "12000.00", "0.06", True, "0.2"))
    line = invoice.lines.get()
    assert line.gross == Money(9600, "CNY")
    credit = credit_note_issue(invoice=invoice, reason="少做两天", lines={line.pk: Decimal(2)}).lines.get()
    assert (credit.quantity, credit.unit_price, credit.list_amount) == (
        Decimal(-2),
        Money(1920, "CNY"),
        Money(-3840, "CNY"),
    )
    assert (credit.gross, credit.discount_amount) == (Money(-3840, "CNY"), Money(0, "CNY"))
    assert_every_line_adds_up(invoice)


def test_thirds_of_200_credit_exactly_200(catalogue):
    by_quantity = issued_invoice(("3", "66.67", "200.00", "0.06"))
    line = by_quantity.lines.get()
    for _third in range(3):
        credit_note_issue(invoice=by_quantity, reason="三分之一", lines={line.pk: Decimal(1)})
    grosses = [c.gross.amount for c in credited_lines(by_quantity)]
    assert sorted(grosses) == [Decimal("-66.67"), Decimal("-66.67"), Decimal("-66.66")]
    assert sum(grosses) == Decimal("-200.00")
    assert sum(c.net.amount for c in credited_lines(by_quantity)) == -line.net.amount
    assert invoice_balance(by_quantity) == Money(0, "CNY")
    assert_every_line_adds_up(by_quantity)

    one_unit = issued_invoice(("1", "200.00", "200.00", "0.06"))
    line = one_unit.lines.get()
    for quantity in ("0.33", "0.33", "0.34"):
        credit_note_issue(invoice=one_unit, reason="三分之一", lines={line.pk: Decimal(quantity)})
    assert sum(c.gross.amount for c in credited_lines(one_unit)) == Decimal("-200.00")
    assert_every_line_adds_up(one_unit)


def test_the_rest_of_a_line_credited_by_amount_can_always_be_credited(catalogue):
    invoice = issued_invoice(("1", "200.00", "200.00", "0.06"))
    line = invoice.lines.get()
    for amount in ("66.67", "66.67"):
        credit_note_issue(invoice=invoice, reason="分期", lines={line.pk: LineCredit(amount=Decimal(amount))})
    a_third = {line.pk: LineCredit(amount=Decimal("66.67"))}
    with pytest.raises(BillingError) as too_much:
        credit_note_issue(invoice=invoice, reason="分期", lines=a_third)
    assert too_much.value.code == "credit_too_much"
    assert "66.66" in str(too_much.value)
    credit_note_issue(invoice=invoice, reason="余额", lines={line.pk: LineCredit(amount=Decimal("66.66"))})
    assert invoice_balance(invoice) == Money(0, "CNY")
    assert_every_line_adds_up(invoice)


def test_a_credit_of_0_00_is_refused_and_nothing_is_written(catalogue):
    invoice = issued_invoice(("3", "2400.00", "7200.00", "0.06"), ("1000", "0.01", "10.00", "0.06"))
    days, cheap = invoice.lines.order_by("position")
    refused_credits = [
        {days.pk: LineCredit(amount=Decimal("0.00"))},
        {days.pk: Decimal("0")},
        {cheap.pk: Decimal("0.01")},  # 0.01 of 1000 units of 10.00 rounds to 0.00
        {days.pk: Decimal(1), cheap.pk: LineCredit(amount=Decimal(0))},  # one bad line refuses the note
    ]
    for lines in refused_credits:
        with pytest.raises(BillingError) as refused:
            credit_note_issue(invoice=invoice, reason="零", lines=lines)
        assert refused.value.code == "credit_zero"
        assert "0.00" in str(refused.value)
    assert not Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE).exists()


def test_a_credit_gives_a_quantity_or_an_amount_in_fen(catalogue):
    invoice = issued_invoice(("3", "2400.00", "7200.00", "0.06"))
    line = invoice.lines.get()
    for credit, code in [
        (LineCredit(quantity=Decimal(1), amount=Decimal(100)), "credit_quantity_or_amount"),
        (LineCredit(), "credit_quantity_or_amount"),
        (LineCredit(amount=Decimal("10.001")), "invalid_amount"),
        (LineCredit(amount=Decimal("-10")), "invalid_quantity"),
        (LineCredit(amount=Decimal("7200.01")), "credit_too_much"),
    ]:
        with pytest.raises(BillingError) as refused:
            credit_note_issue(invoice=invoice, reason="x", lines={line.pk: credit})
        assert refused.value.code == code
    assert not Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE).exists()


def test_a_whole_credit_after_a_partial_one_takes_what_is_left(catalogue):
    invoice = issued_invoice(("3", "66.67", "200.00", "0.06"), ("2", "150.00", "300.00", "0.13"))
    first = invoice.lines.order_by("position").first()
    credit_note_issue(invoice=invoice, reason="部分", lines={first.pk: LineCredit(amount=Decimal("12.34"))})
    credit_note_issue(invoice=invoice, reason="全部")
    assert invoice_balance(invoice) == Money(0, "CNY")
    assert invoice_totals(invoice)["gross"] == Money(500, "CNY")
    assert_every_line_adds_up(invoice)
    with pytest.raises(BillingError):
        credit_note_issue(invoice=invoice, reason="再来")


line_amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2)
quantities = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("50"), places=2)
shares = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(1), places=2)
steps = st.lists(st.tuples(st.sampled_from(["quantity", "amount"]), shares), max_size=6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(gross=line_amounts, quantity=quantities, vat_rate=st.sampled_from(["0", "0.06", "0.13"]), steps=steps)
def test_partial_credits_never_exceed_the_line_and_the_rest_always_reaches_it_exactly(
    catalogue, gross, quantity, vat_rate, steps
):
    """Random partial credits (a share of the quantity or of the amount left) never credit more than the
    line; crediting the rest then credits exactly the line, net and gross, to the fen."""
    unit_price = (gross / quantity).quantize(Decimal("0.01"))
    invoice = issued_invoice((quantity, unit_price, gross, vat_rate))
    line = invoice.lines.get()
    refusals = []
    for kind, share in steps:
        credited = -sum((c.gross.amount for c in credited_lines(invoice)), Decimal(0))
        credited_quantity = sum((c.credited_quantity or 0 for c in credited_lines(invoice)), Decimal(0))
        if kind == "amount":
            wanted = LineCredit(amount=((line.gross.amount - credited) * share).quantize(Decimal("0.01")))
        else:
            wanted = LineCredit(quantity=((quantity - credited_quantity) * share).quantize(Decimal("0.01")))
        try:
            credit_note_issue(invoice=invoice, reason="部分", lines={line.pk: wanted})
        except BillingError as refused:
            refusals.append(refused.code)
        credited = -sum((c.gross.amount for c in credited_lines(invoice)), Decimal(0))
        assert Decimal(0) <= credited <= line.gross.amount
    assert set(refusals) <= {"credit_zero", "credit_too_much"}
    if invoice_balance(invoice).amount > 0:
        credit_note_issue(invoice=invoice, reason="余额")
    credits = credited_lines(invoice)
    assert -sum(c.gross.amount for c in credits) == line.gross.amount
    assert -sum(c.net.amount for c in credits) == line.net.amount
    assert invoice_balance(invoice) == Money(0, "CNY")
    assert_every_line_adds_up(invoice)


def pdf_text(invoice) -> str:
    render_invoice_pdf(invoice.pk)
    invoice.refresh_from_db()
    reader = PdfReader(io.BytesIO(invoice.pdf.read()))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def test_the_credit_note_pdf_has_no_due_date_and_no_payment_footer_and_names_the_invoice(catalogue):
    invoice = issued_invoice(("3", "2400.00", "7200.00", "0.06"))
    note = credit_note_issue(invoice=invoice, reason="少做一天", lines={invoice.lines.get().pk: Decimal(1)})
    assert note.due_date is None
    text = pdf_text(note)
    assert f"贷项通知单Creditnote{note.number}" in text
    assert f"冲红原发票Correctsinvoice{invoice.number}" in text
    assert "原发票日期Invoicedate2026-03-31" in text
    for payment_words in ("到期日", "Due", "Pleasepay", "请将款项", "开户行", "Account:"):
        assert payment_words not in text
    assert "无需付款" in text

    invoice_text = pdf_text(invoice)  # the invoice itself still asks to be paid
    assert "到期日Due" in invoice_text
    assert "Pleasepay" in invoice_text


@pytest.mark.today("2026-12-01")  # its documents are numbered in the year they are issued (2026)
def test_the_export_row_of_a_credit_note_has_no_due_date(catalogue):
    invoice = issued_invoice(("3", "2400.00", "7200.00", "0.06"))
    agreed = {invoice.lines.get().pk: LineCredit(amount=Decimal(150))}
    note = credit_note_issue(invoice=invoice, reason="协商", lines=agreed)
    rows = {row["number"]: row for row in invoices_dataset(issued(D(2026, 1, 1), D(2027, 12, 31))).dict}
    assert rows[invoice.number]["due_date"] == "2026-04-30"
    assert rows[note.number]["kind"] == InvoiceKind.CREDIT_NOTE
    assert rows[note.number]["due_date"] == ""
    assert rows[note.number]["credits"] == invoice.number
    assert rows[note.number]["gross"] == "-150.00"


def api_client(*scopes):
    _key, raw = create_api_key(name="ERP", scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_the_api_credits_an_agreed_amount_once_per_idempotency_key(catalogue):
    invoice = issued_invoice(("5", "100.00", "500.00", "0.06"), ("3", "2400.00", "7200.00", "0.06"))
    client = api_client("credits:write")
    url = f"/api/v1/invoices/{invoice.number}/credit-notes"
    lines = [{"position": 1, "amount": "150.00"}, {"position": 2, "quantity": 1}]
    body = {"reason": "协商退款", "lines": lines}
    first = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="c1")
    assert first.status_code == 201
    answer = first.json()
    assert (answer["credits"], answer["gross"]) == (invoice.number, {"amount": "-2550.00", "currency": "CNY"})
    agreed, days = answer["lines"]
    assert (agreed["quantity"], agreed["unit_price"]["amount"], agreed["gross"]["amount"]) == (
        "-1.00",
        "150.00",
        "-150.00",
    )
    assert (agreed["credited_quantity"], days["credited_quantity"], days["unit"]) == (None, "1.00", "人天")
    again = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="c1")
    assert again.json() == answer
    assert Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE).count() == 1


def test_the_api_refuses_a_credit_of_0_00_and_more_than_is_left_as_problems(catalogue):
    invoice = issued_invoice(("5", "100.00", "500.00", "0.06"))
    client = api_client("credits:write")
    url = f"/api/v1/invoices/{invoice.number}/credit-notes"
    cases = [
        ({"reason": "零", "lines": [{"position": 1, "amount": "0.00"}]}, 422, "credit-zero"),
        ({"reason": "多", "lines": [{"position": 1, "amount": "500.01"}]}, 409, "credit-too-much"),
        ({"reason": "两者", "lines": [{"position": 1, "amount": 1, "quantity": 1}]}, 422, "validation-error"),
        ({"reason": "无行", "lines": [{"position": 9, "amount": "1"}]}, 422, "validation-error"),
    ]
    for key, (body, status, problem) in enumerate(cases):
        refused = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=f"r{key}")
        assert refused.status_code == status
        assert refused["Content-Type"] == "application/problem+json"
        assert refused.json()["type"] == f"/api/problems/{problem}"
    missing = client.post("/api/v1/invoices/INV1999-000001/credit-notes", cases[0][0], format="json",
                          HTTP_IDEMPOTENCY_KEY="r9")  # fmt: skip
    assert missing.status_code == 404
    unscoped = api_client("work:write").post(url, cases[0][0], format="json", HTTP_IDEMPOTENCY_KEY="r10")
    assert unscoped.status_code == 403
    assert not Invoice.objects.filter(kind=InvoiceKind.CREDIT_NOTE).exists()


def test_an_agreed_amount_credited_on_an_order_line_takes_back_its_amount_and_no_quantity(catalogue):
    from tests.invoices.test_orders import accepted_order, log, progress_of, run

    customer = CustomerFactory(code="ACME")
    ServicePeriodFactory(contract__customer=customer, fee=0)
    line = accepted_order(customer, ("custom-development", 3, {})).lines.get()
    log(customer, "2", "w1", order_line=line)
    run()
    invoice = invoice_issue(invoice=Invoice.objects.get(), issue_date=D(2026, 4, 1))
    billed = invoice.lines.get()
    credit_note_issue(invoice=invoice, reason="协商", lines={billed.pk: LineCredit(amount=Decimal("150.00"))})
    credit_note_issue(invoice=invoice, reason="少一天", lines={billed.pk: Decimal(1)})
    progress = progress_of(line)
    assert progress.invoiced.quantity == Decimal(2)
    assert progress.credited.quantity == Decimal(1)
    assert progress.credited.amount == Money("150.00", "CNY") + billed.gross / 2
    assert progress.invoiced.amount - progress.credited.amount == invoice_balance(invoice)


def test_an_hour_billed_is_credited_by_its_quantity_to_the_thousandth(catalogue):
    """Work is billed to the thousandth of a person-day, so a credit by quantity takes thousandths too."""
    customer = CustomerFactory(code="HOURS")
    ServicePeriodFactory(contract__customer=customer, fee=0)
    work_log_record(
        customer=customer,
        engineer="李工",
        work_date=datetime.date(2026, 3, 10),
        ticket_ref="T",
        idempotency_key="hours-3",
        hours=Decimal(3),
    )
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=datetime.date(2026, 3, 31)))
    line = Charge.objects.get(source=ChargeSource.WORK_LOG).invoice_line
    invoice = invoice_issue(invoice=line.invoice, issue_date=datetime.date(2026, 4, 1))
    assert line.quantity == Decimal("0.375")
    note = credit_note_issue(invoice=invoice, reason="一小时不计", lines={line.pk: Decimal("0.125")})
    credited = note.lines.get()
    assert credited.gross == Money(-225, "CNY")
    rest = credit_note_issue(invoice=invoice, reason="其余", lines={line.pk: Decimal("0.25")})
    assert credited.gross + rest.lines.get().gross == -line.gross
