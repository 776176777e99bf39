"""Regressions found by a review of the quote builder and the finance pages (the finance ones use the
quotes fixtures: a customer with a period, a quote of three lines)."""

import datetime
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.urls import reverse
from djmoney.money import Money

from billing.errors import BillingError
from catalog.models import ServiceItem
from invoices.models import Invoice, InvoiceLine
from invoices.selectors import revenue_by_month
from invoices.services import invoice_issue, payment_record
from quotes.models import Quote, QuoteStatus
from quotes.services import (
    quote_add_line,
    quote_approve_discount,
    quote_create,
    quote_fingerprint,
    quote_send,
    quote_set_discount,
    quote_submit,
)
from tests.factories import user_with

pytestmark = pytest.mark.django_db


def test_a_line_added_through_a_stale_copy_of_a_sent_quote_is_refused(quote):
    stale = Quote.objects.get(pk=quote.pk)
    quote_send(quote=Quote.objects.get(pk=quote.pk))
    with pytest.raises(BillingError) as refused:
        quote_add_line(
            quote=stale, service=ServiceItem.objects.get(code="custom-development"), quantity=1, discount=0.9
        )
    assert refused.value.code == "quote_locked"
    assert Quote.objects.get(pk=quote.pk).lines.count() == 3


def test_a_line_too_large_to_store_is_refused_not_stored(quote):
    with pytest.raises(BillingError) as refused:
        quote_add_line(
            quote=quote, service=ServiceItem.objects.get(code="custom-development"), quantity=Decimal("9e9")
        )
    assert refused.value.code == "amount_too_large"
    assert quote.lines.count() == 3


def test_the_builder_form_refuses_an_absurd_quantity(client, quote, django_user_model):
    client.force_login(user_with(django_user_model, "s", "view_quote", "change_quote"))
    response = client.post(
        reverse("quotes:add-line", args=[quote.pk]),
        {
            "service": "custom-development",
            "quantity": "9999999999.99",
            "role": "engineer",
            "delivery_mode": "remote",
        },
        follow=True,
    )
    assert "message error" in response.content.decode()
    assert quote.lines.count() == 3


def test_an_approval_given_on_a_page_older_than_the_quote_is_refused(quote, sales_manager):
    quote_set_discount(quote=quote, discount=Decimal("0.3"))
    quote_submit(quote=quote)
    seen = quote_fingerprint(quote)
    quote_set_discount(quote=quote, discount=Decimal("0.5"))
    quote_submit(quote=quote)
    with pytest.raises(BillingError) as refused:
        quote_approve_discount(quote=quote, by=sales_manager, reason="ok", seen=seen)
    assert refused.value.code == "quote_changed"
    approved = quote_approve_discount(
        quote=quote, by=sales_manager, reason="ok", seen=quote_fingerprint(quote)
    )
    assert approved.status == QuoteStatus.APPROVED


def test_quotes_waiting_for_approval_are_listed_however_many_quotes_there_are(
    admin_client, quote, customer, sales
):
    quote_set_discount(quote=quote, discount=Decimal("0.3"))
    quote_submit(quote=quote)
    for _ in range(201):
        quote_create(customer=customer, created_by=sales)
    page = admin_client.get(reverse("invoices:quotes")).content.decode()
    assert f'<tr class="waiting"><td><a href="{reverse("quotes:builder", args=[quote.pk])}">' in page


def test_a_bank_reference_recorded_for_another_amount_is_refused(customer):
    invoice = Invoice.objects.create(customer=customer)
    InvoiceLine.objects.create(
        invoice=invoice,
        position=1,
        description="x",
        quantity=1,
        unit_price=Money(1000, "CNY"),
        vat_rate=Decimal("0.06"),
        net=Money("943.40", "CNY"),
        vat=Money("56.60", "CNY"),
        gross=Money(1000, "CNY"),
    )
    invoice = invoice_issue(invoice=invoice)
    first = payment_record(
        invoice=invoice, amount=Money(400, "CNY"), received_on=datetime.date.today(), reference="B1"
    )
    assert (
        payment_record(
            invoice=invoice, amount=Money(400, "CNY"), received_on=datetime.date.today(), reference="B1"
        )
        == first
    )
    with pytest.raises(BillingError) as refused:
        payment_record(
            invoice=invoice, amount=Money(500, "CNY"), received_on=datetime.date.today(), reference="B1"
        )
    assert refused.value.code == "payment_reference_reused"


def test_revenue_is_summed_in_decimals(customer):
    invoice = Invoice.objects.create(customer=customer)
    for position, gross in enumerate(["0.10", "0.20"], start=1):
        InvoiceLine.objects.create(
            invoice=invoice,
            position=position,
            description="x",
            quantity=1,
            unit_price=Money(gross, "CNY"),
            vat_rate=Decimal(0),
            net=Money(gross, "CNY"),
            vat=Money(0, "CNY"),
            gross=Money(gross, "CNY"),
        )
    invoice_issue(invoice=invoice)
    assert revenue_by_month(months=1, today=datetime.date.today())["CNY"][-1]["period_fee"] == 0.3


@pytest.mark.parametrize(
    ("fraction", "shown"), [("0.125", "12.5%"), ("0.06", "6%"), ("0.2", "20%"), ("0", "0%")]
)
def test_percentages_are_shown_without_rounding_away_halves(fraction, shown):
    assert (
        Template("{% load billing_tags %}{{ value|percent }}").render(Context({"value": Decimal(fraction)}))
        == shown
    )
