"""Order lines: the invoicing policy a quote line gets from its pricing basis, shown on the quote, and the
order lines an accepted quote makes at the agreed price."""

import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.template.loader import render_to_string
from django.urls import reverse

from billing.errors import BillingError
from catalog.models import ServiceItem
from quotes.documents import quote_context
from quotes.models import InvoicingPolicy, OrderLine, QuoteLine, ServiceOrder
from quotes.services import customer_link_token, quote_add_line, quote_customer_answer, quote_send

pytestmark = pytest.mark.django_db


def add(quote, code, quantity, **options) -> QuoteLine:
    return quote_add_line(
        quote=quote, service=ServiceItem.objects.get(code=code), quantity=quantity, **options
    )


def test_person_days_are_billed_as_delivered_and_everything_else_when_ordered(quote):
    person_days, data_volume = quote.lines.exclude(kind="travel").order_by("position")
    assert person_days.invoicing_policy == InvoicingPolicy.DELIVERED
    assert data_volume.invoicing_policy == InvoicingPolicy.ORDERED
    assert add(quote, "health-check", 1).invoicing_policy == InvoicingPolicy.ORDERED  # a fixed price
    assert add(quote, "kms-course", 1).invoicing_policy == InvoicingPolicy.ORDERED  # a course


def test_person_days_may_be_billed_when_ordered_but_only_person_days_as_delivered(quote):
    fixed_days = add(quote, "custom-development", 2, invoicing_policy="ordered")
    assert fixed_days.invoicing_policy == InvoicingPolicy.ORDERED
    lines = quote.lines.count()
    for code, policy in (("health-check", "delivered"), ("custom-development", "later")):
        with pytest.raises(BillingError) as refused:
            add(quote, code, 1, invoicing_policy=policy)
        assert refused.value.code == "invalid_policy"
    assert quote.lines.count() == lines


def test_an_accepted_quote_makes_one_order_line_per_line_at_its_agreed_price(quote):
    quote_customer_answer(quote=quote_send(quote=quote), accept=True, name="王芳", ip=None)
    order = ServiceOrder.objects.get(quote=quote)
    lines = list(order.lines.select_related("quote_line"))
    assert [line.quote_line.kind for line in lines] == [
        "person_days",
        "data_volume",
    ]  # travel is billed at cost
    for line in lines:
        agreed = line.quote_line
        assert line.amount == agreed.gross  # prices include VAT
        assert (line.unit_price, line.list_amount, line.quantity) == (
            agreed.unit_price,
            agreed.list_amount,
            agreed.quantity,
        )
        assert line.invoicing_policy == agreed.invoicing_policy
        assert line.order.customer_id == quote.customer_id


def test_the_combined_discount_is_kept_on_the_order_line(quote):
    line = add(quote, "custom-development", 2, discount=Decimal("0.1"))
    quote_customer_answer(quote=quote_send(quote=quote), accept=True, name="王芳", ip=None)
    assert OrderLine.objects.get(quote_line=line).discount == Decimal("0.1")
    assert OrderLine.objects.get(quote_line=line).amount == line.gross


def test_the_invoicing_policy_is_shown_on_the_builder_the_pdf_and_the_customers_page(
    quote, admin_client, client
):
    builder = admin_client.get(reverse("quotes:builder", args=[quote.pk])).content.decode()
    assert builder.count('class="muted policy"') == 2
    sent = quote_send(quote=quote)
    pdf_html = render_to_string("quotes/quote_pdf.html", quote_context(sent))
    assert pdf_html.count('class="muted policy"') == 2
    answer = client.get(reverse("quotes:answer", args=[customer_link_token(sent)])).content.decode()
    assert answer.count('class="muted policy"') == 2


def test_orders_accepted_before_invoicing_policies_get_order_lines_billed_when_ordered(quote):
    quote_customer_answer(quote=quote_send(quote=quote), accept=True, name="王芳", ip=None)
    OrderLine.objects.all().delete()
    migration = importlib.import_module("quotes.migrations.0004_orders_order_lines")
    migration.order_lines_for_existing_orders(apps, None)
    lines = OrderLine.objects.order_by("quote_line__position")
    assert [line.invoicing_policy for line in lines] == ["ordered", "ordered"]
    assert [line.amount for line in lines] == [line.gross for line in quote.lines.exclude(kind="travel")]
