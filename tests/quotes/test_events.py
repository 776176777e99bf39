"""Quote and order events: recorded by the services that send, answer, close and expire them, once each,
with the quote or order as the outside sees it, and never by a service that refuses."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.errors import BillingError
from catalog.models import ServiceItem
from events.models import Event
from quotes.models import OrderStatus, QuoteStatus, ServiceOrder
from quotes.services import (
    order_close,
    quote_add_line,
    quote_create,
    quote_customer_answer,
    quote_send,
    quote_set_discount,
    quote_totals,
    quotes_apply_closing_rule,
)

pytestmark = pytest.mark.django_db


def events(event_type: str | None = None) -> list[Event]:
    found = Event.objects.order_by("id")
    return list(found.filter(type=event_type) if event_type else found)


def fen(money) -> str:
    return f"{money.amount:.2f}"


def test_a_sent_quote_is_recorded_once_with_its_lines_and_totals_to_the_fen(quote):
    quote_set_discount(quote=quote, discount=Decimal("0.05"))
    sent = quote_send(quote=quote)
    [event] = events()
    assert (event.type, event.customer_code) == ("quote.sent", "ACME")
    shown = event.data["object"]
    totals = quote_totals(sent)
    assert (shown["number"], shown["reference"], shown["customer"], shown["status"]) == (
        sent.number,
        sent.reference,
        "ACME",
        QuoteStatus.SENT,
    )
    assert shown["valid_until"] == sent.valid_until.isoformat()
    assert {name: shown[name] for name in ("net", "vat", "gross")} == {
        name: {"amount": fen(totals[name]), "currency": "CNY"} for name in ("net", "vat", "gross")
    }
    lines = list(sent.lines.order_by("position", "pk"))
    assert [
        (line["description"], line["list_amount"]["amount"], line["discount"], line["gross"]["amount"])
        for line in shown["lines"]
    ] == [
        (line.description, fen(line.list_amount), f"{line.discount:.8f}", fen(line.gross)) for line in lines
    ]
    assert sum(Decimal(line["gross"]["amount"]) for line in shown["lines"]) == totals["gross"].amount


def test_an_accepted_quote_is_recorded_with_the_order_it_made(quote):
    quote_customer_answer(quote=quote_send(quote=quote), accept=True, name="王芳", ip=None)
    [event] = events("quote.accepted")
    assert event.customer_code == "ACME"
    assert event.data["object"]["status"] == QuoteStatus.ACCEPTED
    assert event.data["order"] == ServiceOrder.objects.get().pk
    assert event.data["previous_status"] == QuoteStatus.SENT


def test_a_declined_quote_is_recorded_without_an_order(quote):
    quote_customer_answer(quote=quote_send(quote=quote), accept=False, name="王芳", ip=None)
    assert [event.type for event in events()] == ["quote.sent", "quote.declined"]
    assert "order" not in events("quote.declined")[0].data


def test_a_quote_closed_unanswered_by_the_closing_rule_expires_once(quote):
    sent = quote_send(quote=quote)
    later = sent.sent_at + datetime.timedelta(days=32)
    assert quotes_apply_closing_rule(now=later) == (1, 0)
    assert quotes_apply_closing_rule(now=later) == (0, 0)
    [event] = events("quote.expired")
    assert (event.customer_code, event.data["object"]["status"]) == ("ACME", QuoteStatus.CLOSED)
    assert quotes_apply_closing_rule(now=later + datetime.timedelta(days=32)) == (0, 1)  # final: no event
    assert len(events("quote.expired")) == 1


def test_a_refused_send_or_answer_records_nothing(quote):
    quote_set_discount(quote=quote, discount=Decimal("0.5"))  # waits for a sales manager
    with pytest.raises(BillingError):
        quote_send(quote=quote)
    assert events() == []
    quote_set_discount(quote=quote, discount=Decimal("0"))
    sent = quote_send(quote=quote)
    with pytest.raises(BillingError):
        quote_customer_answer(quote=sent, accept=True, name=" ", ip=None)
    assert [event.type for event in events()] == ["quote.sent"]


def test_a_closed_order_is_recorded_once_with_its_lines(quote):
    quote_customer_answer(quote=quote_send(quote=quote), accept=True, name="王芳", ip=None)
    order = ServiceOrder.objects.get()
    order_close(order=order, reason="交付完成")
    with pytest.raises(BillingError):
        order_close(order=order, reason="again")
    [event] = events("service_order.closed")
    shown = event.data["object"]
    assert (event.customer_code, shown["id"], shown["status"], shown["close_reason"]) == (
        "ACME",
        order.pk,
        OrderStatus.CLOSED,
        "交付完成",
    )
    assert shown["reference"] == quote.reference
    assert sorted(line["id"] for line in shown["lines"]) == sorted(order.lines.values_list("pk", flat=True))


def test_sending_costs_the_same_queries_whatever_the_lines(quote, customer):
    def queries(sending) -> int:
        with CaptureQueriesContext(connection) as captured:
            quote_send(quote=sending)
        return len(captured)

    three_lines = queries(quote)
    larger = quote_create(customer=customer, quote_date=quote.quote_date, valid_until=quote.valid_until)
    for _ in range(6):
        quote_add_line(quote=larger, service=ServiceItem.objects.get(code="custom-development"), quantity=1)
    assert queries(larger) == three_lines
