"""The staff pages that show one thing (a customer, an invoice, a quote, an order, a statement, the
charts) ask the database a fixed number of times, however many quotes, invoices, lines or requests that
thing has (bench/pages_bench.py measures them at 100 and 10,000 customers)."""

import datetime
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.models import ServiceItem
from contracts.services import charge_request_create
from invoices.models import Invoice, InvoiceStatus
from invoices.services import LineCredit, credit_note_issue, payment_record
from quotes.models import ServiceOrder
from quotes.services import quote_add_line, quote_create, quote_customer_answer, quote_send
from tests.factories import CustomerFactory, ServicePeriodFactory
from tests.invoices.conftest import cny, issued_invoices

pytestmark = pytest.mark.django_db
D = datetime.date


def add_history(customer, *, years: range, quotes: int) -> None:
    """A paid period a year (each invoiced, issued and half paid), ``quotes`` accepted quotes of two lines
    (each an order) and as many charge requests."""
    development = ServiceItem.objects.get(code="custom-development")
    for year in years:
        ServicePeriodFactory(
            contract__customer=customer, start=D(year, 1, 1), end=D(year, 12, 31), fee=Decimal(1000 + year)
        )
        invoice = issued_invoices(customer, up_to=D(year, 1, 31), issue_date=D(year, 1, 5))["CNY"]
        payment_record(invoice=invoice, amount=cny(500), received_on=D(year, 1, 20), reference=f"B{year}")
    for n in range(quotes):
        quote = quote_create(customer=customer)
        quote_add_line(quote=quote, service=development, quantity=Decimal(2 + n))
        quote_add_line(quote=quote, service=development, quantity=Decimal(1))
        quote_customer_answer(quote=quote_send(quote=quote), accept=True, name="王", ip=None)
        charge_request_create(
            customer=customer,
            ticket_ref=f"CR-{customer.code}-{n}",
            description="定制开发",
            requested_by="api:test",
            estimated_person_days=Decimal(1),
            service_code="custom-development",
        )


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.fixture
def customer(catalogue):
    made = CustomerFactory(code="RICH")
    add_history(made, years=range(2021, 2023), quotes=2)
    return made


PAGES = {
    "customer": lambda c: reverse("invoices:customer", args=[c.code]),
    "statement": lambda c: reverse("invoices:statement", args=[c.code]) + "?from=2020-01-01&to=2026-12-31",
    "invoice": lambda c: reverse(
        "invoices:invoice", args=[Invoice.objects.filter(customer=c, status=InvoiceStatus.ISSUED).first().pk]
    ),
    "quote builder": lambda c: reverse("quotes:builder", args=[c.quotes.first().pk]),
    "order": lambda c: reverse("invoices:order", args=[ServiceOrder.objects.filter(customer=c).first().pk]),
    "charts": lambda c: reverse("invoices:charts"),
}


@pytest.mark.parametrize("page", PAGES)
def test_a_page_of_one_thing_asks_as_often_however_much_it_has(admin_client, customer, page):
    before = queries(admin_client, PAGES[page](customer))
    add_history(customer, years=range(2023, 2026), quotes=3)
    cache.clear()  # cold, as the first time: the charts keep their months' sums in the cache
    assert queries(admin_client, PAGES[page](customer)) == before


def test_the_charts_sum_again_only_the_months_with_new_documents(admin_client, customer):
    """A second view reads the months' sums from the cache; a document issued in one month makes that
    month's sums read again, and the figures follow it."""
    url = reverse("invoices:charts")
    cold = queries(admin_client, url)
    warm = queries(admin_client, url)
    assert warm < cold
    assert admin_client.get(url).context["chart_data"] == admin_client.get(url).context["chart_data"]


def test_the_customer_page_of_a_customer_with_years_of_history_takes_a_bounded_number_of_queries(
    admin_client, customer, django_assert_max_num_queries
):
    add_history(customer, years=range(2023, 2026), quotes=3)
    with django_assert_max_num_queries(26):  # 25, and the portal's timeline
        admin_client.get(reverse("invoices:customer", args=[customer.code]))


def a_draft_quote(customer, lines: int):
    development = ServiceItem.objects.get(code="custom-development")
    quote = quote_create(customer=customer)
    for n in range(lines):
        quote_add_line(quote=quote, service=development, quantity=Decimal(1 + n))
    return quote


def test_the_quote_builder_and_the_order_ask_as_often_for_two_lines_as_for_six(admin_client, customer):
    counts = []
    for lines in (2, 6):
        quote = a_draft_quote(customer, lines)
        builder = queries(admin_client, reverse("quotes:builder", args=[quote.pk]))
        quote_customer_answer(quote=quote_send(quote=quote), accept=True, name="王", ip=None)
        order = ServiceOrder.objects.get(quote=quote)
        counts.append((builder, queries(admin_client, reverse("invoices:order", args=[order.pk]))))
    assert counts[0] == counts[1]


def test_the_invoice_page_asks_as_often_with_one_credit_note_as_with_three(
    admin_client, customer, django_assert_max_num_queries
):
    invoice = Invoice.objects.filter(customer=customer, status=InvoiceStatus.ISSUED).first()
    line = invoice.lines.get()
    url = reverse("invoices:invoice", args=[invoice.pk])
    credit_note_issue(invoice=invoice, reason="优惠", lines={line.pk: LineCredit(amount=Decimal(10))})
    before = queries(admin_client, url)
    for _n in range(2):
        credit_note_issue(invoice=invoice, reason="优惠", lines={line.pk: LineCredit(amount=Decimal(10))})
    with django_assert_max_num_queries(before):
        admin_client.get(url)
