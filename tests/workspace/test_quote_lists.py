"""Sales' lists (workspace.quote_lists): quotes, service orders, the renewal pipeline."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.models import ServiceItem
from quotes.models import OrderStatus, Quote, QuoteKind, QuoteStatus, ServiceOrder
from quotes.services import quote_add_line, quote_create, quote_totals
from tests.factories import ServicePeriodFactory
from tests.workspace.conftest import (
    ListCase,
    check_export,
    check_paging,
    check_query_count,
    check_search,
    check_sort_by_customer,
    customer,
)
from tests.workspace.lists_helpers import listed
from tests.workspace.test_contract_lists import period
from workspace.quote_lists import OrderList, PipelineList, QuoteList

pytestmark = [pytest.mark.django_db, pytest.mark.today("2026-12-01")]


def quote(customer, i, quantity=1, **fields):
    made = quote_create(customer=customer)
    quote_add_line(
        quote=made, service=ServiceItem.objects.get(code="custom-development"), quantity=Decimal(quantity)
    )
    if fields:
        Quote.objects.filter(pk=made.pk).update(**fields)
    return Quote.objects.get(pk=made.pk)


def order(customer, i, **fields):
    return ServiceOrder.objects.create(quote=quote(customer, i), customer=customer, **fields)


CASES = {
    "quotes": ListCase(
        "invoices:quotes",
        QuoteList,
        quote,
        number=lambda quote: quote.number,
        code=lambda quote: quote.customer.code,
    ),
    "orders": ListCase(
        "invoices:orders",
        OrderList,
        order,
        number=lambda order: order.quote.number,
        code=lambda order: order.customer.code,
    ),
    "renewals": ListCase(
        "quotes:pipeline",
        PipelineList,
        period,
        number=lambda period: period.contract.number,
        code=lambda period: period.contract.customer.code,
    ),
}


@pytest.fixture(params=list(CASES))
def case(request, catalogue):
    return CASES[request.param]


def test_search_finds_a_row_by_customer_code_and_by_document_number(staff_client, case):
    check_search(staff_client, case)


def test_sorting_by_customer_orders_the_rows_both_ways(staff_client, case):
    check_sort_by_customer(staff_client, case)


def test_paging_shows_the_total_and_the_second_page(staff_client, case, monkeypatch):
    check_paging(staff_client, case, monkeypatch)


@pytest.mark.parametrize("format", ["csv", "xlsx"])
def test_the_export_holds_exactly_the_filtered_rows_of_every_page_formula_safe(
    staff_client, case, monkeypatch, managers, format
):
    check_export(staff_client, case, monkeypatch, managers, format)


def test_a_page_costs_as_many_queries_for_thirty_rows_as_for_three(
    staff_client, case, managers, django_assert_max_num_queries
):
    check_query_count(staff_client, case, managers, django_assert_max_num_queries)


# Quotes


def test_quote_filters_narrow_by_status_kind_dates_account_manager_and_currency(
    staff_client, catalogue, managers
):
    mine = customer(account_manager=managers[0])
    draft = quote(mine, 1)
    sent = quote(
        mine,
        2,
        status=QuoteStatus.SENT,
        sent_at=datetime.datetime(2026, 11, 20, 9, tzinfo=datetime.UTC),
        valid_until=datetime.date(2027, 1, 31),
    )
    old = quote(
        customer(account_manager=managers[1]),
        3,
        currency="USD",
        created_at=datetime.datetime(2025, 2, 1, 9, tzinfo=datetime.UTC),
        valid_until=datetime.date(2025, 3, 1),
    )
    period = ServicePeriodFactory(contract__customer=mine)
    renewal = quote(
        mine,
        4,
        kind=QuoteKind.RENEWAL,
        renewal_of=period,
        renewal_start=datetime.date(2028, 1, 1),
        renewal_end=datetime.date(2028, 12, 31),
        renewal_tier=period.tier,
    )
    url = reverse("invoices:quotes")
    names = {draft.pk: "draft", sent.pk: "sent", old.pk: "old", renewal.pk: "renewal"}

    def shown(**params):
        return {names[q.pk] for q in listed(staff_client.get(url, params))}

    assert shown() == {"draft", "sent", "old", "renewal"}
    assert shown(status=QuoteStatus.SENT) == {"sent"}
    assert shown(kind=QuoteKind.RENEWAL) == {"renewal"}
    assert shown(created_before="2025-12-31") == {"old"}
    assert shown(sent_after="2026-11-01", sent_before="2026-11-30") == {"sent"}
    assert shown(valid_before="2025-12-31") == {"old"}
    assert shown(account_manager=managers[1].pk) == {"old"}
    assert shown(currency="USD") == {"old"}


def test_quotes_show_and_sort_by_the_total_of_their_lines(staff_client, catalogue):
    quotes = [quote(customer(), i, quantity=quantity) for i, quantity in enumerate([3, 1, 2])]
    listing = listed(staff_client.get(reverse("invoices:quotes"), {"sort": "-gross_total"}))
    assert [q.pk for q in listing] == [quotes[0].pk, quotes[2].pk, quotes[1].pk]
    for listed_quote in listing:
        assert listed_quote.gross_total == quote_totals(listed_quote)["gross"].amount


# Service orders


def test_order_filters_narrow_by_status_date_and_account_manager_and_rows_link_their_page(
    staff_client, catalogue, managers
):
    open_order = order(customer(account_manager=managers[0]), 1)
    closed = order(
        customer(account_manager=managers[1]),
        2,
        status=OrderStatus.CLOSED,
        closed_at=datetime.datetime(2026, 10, 1, tzinfo=datetime.UTC),
    )
    ServiceOrder.objects.filter(pk=closed.pk).update(
        created_at=datetime.datetime(2025, 6, 1, tzinfo=datetime.UTC)
    )
    url = reverse("invoices:orders")

    def shown(**params):
        return {o.pk for o in listed(staff_client.get(url, params))}

    assert shown() == {open_order.pk, closed.pk}
    assert shown(status=OrderStatus.CLOSED) == {closed.pk}
    assert shown(ordered_after="2026-01-01") == {open_order.pk}
    assert shown(closed_after="2026-09-01") == {closed.pk}
    assert shown(account_manager=managers[0].pk) == {open_order.pk}
    page = staff_client.get(url).content.decode()
    assert f'href="{reverse("invoices:order", args=[open_order.pk])}"' in page


def test_orders_sort_by_their_total(staff_client, catalogue):
    orders = [
        ServiceOrder.objects.create(quote=quote(c, i, quantity=q), customer=c)
        for i, (c, q) in enumerate([(customer(), 2), (customer(), 5), (customer(), 1)])
    ]
    listing = listed(staff_client.get(reverse("invoices:orders"), {"sort": "gross_total"}))
    assert [o.pk for o in listing] == [orders[2].pk, orders[0].pk, orders[1].pk]


# The renewal pipeline


@pytest.fixture
def pipeline(catalogue, managers):
    """Periods ending inside the window (three months back to twelve ahead of 2026-12-01) with no renewal
    quote, a drafted one, and one whose second revision is sent; and one ending in 2029."""
    none = period(customer(account_manager=managers[0]), 1, end=datetime.date(2027, 2, 28))
    drafted = period(customer(account_manager=managers[1]), 2, end=datetime.date(2027, 2, 10))
    sent = period(customer(), 3, end=datetime.date(2027, 5, 31), fee=80000)
    later = period(customer(), 4, end=datetime.date(2029, 6, 30))
    for renewed in (drafted, sent):
        first = quote_create(
            customer=renewed.contract.customer,
            kind=QuoteKind.RENEWAL,
            renewal_of=renewed,
            renewal_start=renewed.end + datetime.timedelta(days=1),
            renewal_end=renewed.end + datetime.timedelta(days=365),
            renewal_tier=renewed.tier,
        )
    Quote.objects.filter(pk=first.pk).update(status=QuoteStatus.SUPERSEDED)
    first.pk, first.revision, first.renewal_of, first.status = None, 2, None, QuoteStatus.SENT
    first.save()
    return {"none": none, "drafted": drafted, "sent": sent, "later": later, "revision": first}


def test_the_pipeline_shows_the_window_by_default_and_filters_by_renewal_quote_state(
    staff_client, pipeline, managers
):
    url = reverse("quotes:pipeline")
    names = {p.pk: name for name, p in pipeline.items() if name != "revision"}

    def shown(**params):
        return {names[p.pk] for p in listed(staff_client.get(url, params))}

    assert shown() == {"none", "drafted", "sent"}
    assert shown(tab="all") == {"none", "drafted", "sent", "later"}
    assert shown(renewal="none") == {"none"}
    assert shown(renewal="drafted") == {"drafted"}
    assert shown(renewal="sent") == {"sent"}  # the latest revision counts
    assert shown(renewal="accepted") == set()
    assert shown(account_manager=managers[1].pk) == {"drafted"}
    assert shown(ends_before="2027-03-31") == {"none", "drafted"}
    assert shown(state="active") == {"none", "drafted", "sent"}
    page = staff_client.get(url, {"renewal": "sent"}).content.decode()
    assert f"{pipeline['revision'].number}-R2" in page
    assert f'href="{reverse("quotes:builder", args=[pipeline["revision"].pk])}"' in page


def test_the_pipeline_sums_the_fees_of_the_periods_shown_by_month(staff_client, pipeline):
    page = staff_client.get(reverse("quotes:pipeline"), {"sort": "end"})
    months = {row["month"]: row for row in page.context["months"]}
    assert {(m.strftime("%Y-%m"), row["periods"]) for m, row in months.items()} == {
        ("2027-02", 2),
        ("2027-05", 1),
    }
    assert [str(fee) for fee in months[datetime.date(2027, 5, 1)]["fees"]] == [str(pipeline["sent"].fee)]
    ends = [p.end for p in listed(page)]
    assert ends == sorted(ends)
    assert timezone.localdate() == datetime.date(2026, 12, 1)
