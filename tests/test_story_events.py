"""One customer's year told by its events: its free period starts, a quote is sent and accepted, out-of-scope
work is approved and confirmed, the invoice run bills it all, the invoice is issued and paid. A real
receiver on 127.0.0.1 gets every event once, in order, each signature verified with the Standard Webhooks
library, and the amounts in the payloads agree to the fen with the quote, the invoice and the payment; the
event list of the API gives the same events in the same order."""

import datetime
import json
from decimal import Decimal

import pytest
from djmoney.money import Money
from rest_framework.test import APIClient
from standardwebhooks.webhooks import Webhook

from billing.apikeys import create_api_key
from catalog.models import ServiceItem, ServiceTier
from contracts.models import Contact, PeriodKind
from contracts.services import (
    charge_request_approve,
    charge_request_create,
    charge_request_customer_answer,
    period_add,
)
from events.delivery import webhook_secret_new
from events.examples import EXAMPLES
from events.models import WebhookEndpoint
from invoices.models import Invoice, InvoiceRun
from invoices.selectors import invoice_totals
from invoices.services import invoice_issue, invoice_run_execute, payment_record
from quotes.services import quote_add_line, quote_create, quote_customer_answer, quote_send, quote_totals
from tests.events.receiver import Receiver
from tests.factories import ContractFactory, CustomerFactory, user_with

pytestmark = pytest.mark.django_db


def shape(value):
    """The keys of a payload at every depth (a list by its first item), not its values."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return None


def same_shape(real, example) -> bool:
    """The README's example has every key the real payload has, at every depth (an empty list in either
    is no evidence either way)."""
    if isinstance(real, dict):
        return (
            isinstance(example, dict)
            and real.keys() == example.keys()
            and all(same_shape(real[key], example[key]) for key in real)
        )
    if isinstance(real, list):
        return not real or not example or same_shape(real[0], example[0])
    return True


def fen(money: dict) -> Decimal:
    return Decimal(money["amount"])


def test_a_customers_year_reaches_the_receiver_signed_in_order_and_to_the_fen(
    catalogue, settings, django_user_model, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    today = datetime.date.today()
    manager = user_with(
        django_user_model, "am", "change_chargerequest", "approve_chargerequest", "view_customer"
    )
    with Receiver() as receiver:
        secret = webhook_secret_new()
        WebhookEndpoint.objects.create(url=receiver.url, secret=secret, description="ticketing")

        def step(action):
            with django_capture_on_commit_callbacks(execute=True):
                return action()

        customer = CustomerFactory(code="ACME", account_manager=manager)
        Contact.objects.create(customer=customer, name="王芳", email="wang@acme.example.com", is_primary=True)
        contract = ContractFactory(customer=customer, number="ACME-P1")
        step(
            lambda: period_add(
                contract=contract,
                kind=PeriodKind.PAID,
                start=today - datetime.timedelta(days=1),
                end=today + datetime.timedelta(days=364),
                tier=ServiceTier.objects.get(code=ServiceTier.STANDARD),
                fee=Money(88000, "CNY"),
            )
        )

        quote = quote_create(customer=customer)
        quote_add_line(quote=quote, service=ServiceItem.objects.get(code="custom-development"), quantity=3)
        quote = step(lambda: quote_send(quote=quote))
        step(lambda: quote_customer_answer(quote=quote, accept=True, name="王芳", ip="192.0.2.1"))

        charge = charge_request_create(
            customer=customer,
            ticket_ref="TK-7",
            description="报表定制",
            requested_by="api:zendesk",
            estimated_person_days=Decimal(1),
        )
        charge = step(lambda: charge_request_approve(request=charge, by=manager))
        step(lambda: charge_request_customer_answer(request=charge, accept=True, name="王芳", ip="192.0.2.1"))

        run = invoice_run_execute(run=InvoiceRun.objects.create(up_to=today, customer=customer))
        draft = Invoice.objects.get(run=run)
        invoice = step(lambda: invoice_issue(invoice=draft, issue_date=today))
        gross = invoice_totals(invoice)["gross"]
        step(lambda: payment_record(invoice=invoice, amount=gross, received_on=today, reference="B-1"))

        delivered = [json.loads(request.body) for request in receiver.accepted()]
        for request in receiver.accepted():
            Webhook(secret).verify(request.body, request.headers)

    types = [event["type"] for event in delivered]
    assert types == [
        "service_period.started",
        "quote.sent",
        "quote.accepted",
        "charge_request.approved",
        "charge_request.confirmed",
        "invoice.issued",
        "payment.recorded",
        "invoice.paid",
    ]
    ids = [event["id"] for event in delivered]
    assert len(set(ids)) == len(ids)
    assert all(event["customer"] == "ACME" for event in delivered)
    by_type = {event["type"]: event["data"] for event in delivered}
    assert fen(by_type["quote.accepted"]["object"]["gross"]) == quote_totals(quote)["gross"].amount
    issued = by_type["invoice.issued"]["object"]
    assert (fen(issued["gross"]), issued["number"]) == (gross.amount, invoice.number)
    assert sum(fen(line["gross"]) for line in issued["lines"]) == gross.amount
    assert fen(issued["balance"]) == gross.amount
    assert fen(by_type["payment.recorded"]["object"]["amount"]) == gross.amount
    assert fen(by_type["invoice.paid"]["object"]["balance"]) == Decimal("0.00")
    # the invoice bills the period fee, the accepted quote's days and the confirmed request, to the fen
    assert gross.amount > Decimal(88000)

    # the README's example payloads (events.examples) have the shape of the real ones, key for key
    for event in delivered:
        assert same_shape(shape(event["data"]), shape(EXAMPLES[event["type"]])), event["type"]

    _key, raw = create_api_key(name="ticketing", scopes=["events:read"])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    listed = api.get("/api/v1/events", {"customer": "ACME"}).json()
    assert [event["id"] for event in listed["events"]] == ids
