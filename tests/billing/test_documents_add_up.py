"""Documents that add up: a discounted line shows its list unit price, its discount and its amount, so
quantity x unit price - discount = amount on every page, PDF and export; the customer confirming a charge
request sees its price."""

import datetime
import io
from decimal import Decimal

import pypdf
import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation
from djmoney.money import Money

from catalog.models import ServiceItem
from contracts.models import ChargeStatus, Contact
from contracts.services import (
    charge_request_approve,
    charge_request_create,
    charge_request_price,
    customer_link_token,
)
from invoices.exports import issued, lines_dataset
from invoices.models import Charge, ChargeSource, InvoiceRun
from invoices.services import invoice_issue, invoice_run_execute
from invoices.tasks import render_invoice_pdf
from quotes.models import Quote
from quotes.services import customer_link_token as quote_link
from quotes.services import (
    quote_add_line,
    quote_approve_discount,
    quote_create,
    quote_customer_answer,
    quote_send,
)
from quotes.tasks import render_quote_pdf
from tests.factories import CustomerFactory, ServicePeriodFactory, user_with

pytestmark = pytest.mark.django_db
CNY = lambda amount: Money(Decimal(amount), "CNY")  # noqa: E731


@pytest.fixture
def customer(catalogue):
    customer = CustomerFactory(code="ACME")
    ServicePeriodFactory(contract__customer=customer)
    Contact.objects.create(customer=customer, name="王芳", email="wang@acme.example.com")
    return customer


@pytest.fixture
def discounted_quote(customer, django_user_model):
    """5 on-site engineer days at 2,400.00 and two health checks at 25,000.00 with a 20% quote discount,
    approved and sent."""
    sales = user_with(django_user_model, "sales", "view_quote", "change_quote")
    manager = user_with(django_user_model, "manager", "approve_discount", "change_quote")
    quote = quote_create(
        customer=customer,
        discount=Decimal("0.2"),
        created_by=sales,
        valid_until=timezone.localdate() + datetime.timedelta(days=30),
    )
    quote_add_line(
        quote=quote,
        service=ServiceItem.objects.get(code="custom-development"),
        quantity=5,
        delivery_mode="on_site",
        description="现场开发",
    )
    quote_add_line(quote=quote, service=ServiceItem.objects.get(code="health-check"), quantity=2)
    quote_approve_discount(quote=quote_send_or_submit(quote), by=manager, reason="战略客户")
    quote = quote_send(quote=Quote.objects.get(pk=quote.pk))
    render_quote_pdf(quote.pk)
    return Quote.objects.get(pk=quote.pk)


def quote_send_or_submit(quote):
    from quotes.services import quote_submit

    return quote_submit(quote=quote)


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def test_a_discounted_quote_line_shows_list_amount_discount_and_amount(discounted_quote):
    line = discounted_quote.lines.get(position=1)
    assert (line.quantity, line.unit_price) == (Decimal(5), CNY(2400))
    assert line.list_amount == CNY(12000)
    assert line.discount_amount == CNY(2400)
    assert line.amount == CNY(9600)
    assert line.list_amount - line.discount_amount == line.amount


def test_the_quote_pdf_prints_the_list_amount_and_the_discount(discounted_quote):
    text = pdf_text(discounted_quote.pdf.read())
    assert "2400.00" in text
    assert "12000.00" in text
    assert "-2400.00" in text
    assert "9600.00" in text
    assert "20%" in text


def test_the_customer_quote_page_and_the_builder_show_the_discount(
    client, discounted_quote, django_user_model
):
    page = client.get(reverse("quotes:answer", args=[quote_link(discounted_quote)])).content.decode()
    assert "12,000.00" in page
    assert "-¥2,400.00" in page
    assert "(20%)" in page
    client.force_login(django_user_model.objects.get(username="sales"))
    builder = client.get(reverse("quotes:builder", args=[discounted_quote.pk])).content.decode()
    assert "12,000.00" in builder
    assert "-¥2,400.00" in builder


def test_the_invoice_bills_the_discounted_amount_and_prints_the_discount(discounted_quote):
    quote_customer_answer(quote=discounted_quote, accept=True, name="王芳", ip=None)
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=datetime.date(2099, 1, 1)))
    checks = discounted_quote.lines.get(position=2)
    line = Charge.objects.get(source=ChargeSource.QUOTE_LINE, source_id=checks.pk).invoice_line
    assert (line.quantity, line.unit_price, line.discount) == (Decimal(2), CNY(25000), Decimal("0.2"))
    assert line.list_amount == CNY(50000) == line.unit_price * line.quantity
    assert line.discount_amount == CNY(10000)
    assert line.amount == line.gross == CNY(40000) == checks.gross
    invoice = invoice_issue(invoice=line.invoice)
    render_invoice_pdf(invoice.pk)
    invoice.refresh_from_db()
    text = pdf_text(invoice.pdf.read())
    assert "50000.00" in text
    assert "-10000.00" in text
    assert "40000.00" in text
    rows = lines_dataset(issued(invoice.issue_date, invoice.issue_date)).dict
    row = next(r for r in rows if r["description"] == line.description)
    assert (row["list_amount"], row["discount"], row["discount_amount"], row["gross"]) == (
        "50000.00",
        "0.2000",
        "10000.00",
        "40000.00",
    )


@pytest.fixture
def waiting_request(customer, django_user_model, django_capture_on_commit_callbacks):
    manager = user_with(django_user_model, "am", "approve_chargerequest")
    request = charge_request_create(
        customer=customer,
        ticket_ref="TK-7",
        description="报表定制",
        requested_by="api:zendesk",
        estimated_person_days=Decimal("1.5"),
    )
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        return charge_request_approve(request=request, by=manager)


@pytest.mark.parametrize(("language", "total"), [("en", "Total"), ("zh-hans", "合计")])
def test_the_customer_confirming_a_charge_request_sees_its_price(client, waiting_request, language, total):
    price = charge_request_price(waiting_request)
    assert price.list_amount == CNY(2700)  # 1.5 days x 1,800.00, the engineer's remote rate in force
    assert price.net + price.vat == price.gross
    page = client.get(
        reverse("contracts:charge-request-answer", args=[customer_link_token(waiting_request)]),
        HTTP_ACCEPT_LANGUAGE=language,
    ).content.decode()
    assert "1.5" in page
    assert "1,800.00" in page
    assert "2,700.00" in page
    assert f"{price.gross.amount:,.2f}" in page
    assert f"{price.vat.amount:,.2f}" in page
    assert total in page


def test_the_charge_request_email_gives_the_price(waiting_request):
    assert waiting_request.status == ChargeStatus.AWAITING_CUSTOMER
    message = mail.outbox[-1]
    price = charge_request_price(waiting_request)
    assert message.to == ["wang@acme.example.com"]
    assert str(price.gross) in message.body
    assert str(price.vat) in message.body
    assert "1.5" in message.body


def test_a_data_volume_line_prints_its_tiers_so_each_part_adds_up(customer):
    quote = quote_create(customer=customer, valid_until=timezone.localdate() + datetime.timedelta(days=30))
    line = quote_add_line(
        quote=quote, service=ServiceItem.objects.get(code="data-migration"), quantity=Decimal("333.33")
    )
    assert line.slices == [
        {"quantity": "100.00", "unit_price": "200.00", "amount": "20000.00", "flat_fee": False},
        {"quantity": "233.33", "unit_price": "150.00", "amount": "34999.50", "flat_fee": False},
    ]
    assert line.list_amount == CNY("54999.50")
    quote = quote_send(quote=quote)
    render_quote_pdf(quote.pk)
    text = pdf_text(Quote.objects.get(pk=quote.pk).pdf.read())
    assert "100 × 200.00 = 20000.00" in text
    assert "233.33 × 150.00 = 34999.50" in text
    quote_customer_answer(quote=quote, accept=True, name="王芳", ip=None)
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=datetime.date(2099, 1, 1)))
    invoice_line = Charge.objects.get(source=ChargeSource.QUOTE_LINE, source_id=line.pk).invoice_line
    assert invoice_line.slices == line.slices
    assert invoice_line.list_amount == line.list_amount
    assert invoice_line.gross == line.gross


def test_an_hour_of_work_is_billed_and_printed_as_an_eighth_of_a_day(customer):
    """Work logs count person-days to the thousandth; the charge and the invoice line keep that quantity,
    so quantity x unit price is the printed amount (0.125 x 1,800.00 = 225.00, not 0.13 x 1,800.00)."""
    from invoices.services import work_log_record

    work_log_record(
        customer=customer,
        engineer="李工",
        work_date=timezone.localdate(),
        ticket_ref="TK-HOUR",
        idempotency_key="hour-1",
        hours=Decimal(1),
    )
    invoice_run_execute(run=InvoiceRun.objects.create(up_to=timezone.localdate()))
    line = Charge.objects.get(source=ChargeSource.WORK_LOG).invoice_line
    assert line.quantity == Decimal("0.125")
    assert line.list_amount == CNY(225) == line.unit_price * line.quantity
