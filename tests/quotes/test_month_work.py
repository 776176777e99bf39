"""Sales without the admin: change and remove a quote line, cancel a quote not sent, draft a renewal quote
from the renewals page. The services refuse a quote once it is sent; the pages answer with the services."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from djmoney.money import Money

from billing.errors import BillingError
from catalog.models import ServiceItem
from quotes.models import LineKind, Quote, QuoteKind, QuoteStatus
from quotes.services import (
    line_priced,
    quote_add_line,
    quote_cancel,
    quote_change_line,
    quote_create,
    quote_draft_renewal,
    quote_remove_line,
    quote_send,
    quote_set_discount,
    quotes_draft_renewals,
)
from tests.factories import CustomerFactory, ServicePeriodFactory, user_with

pytestmark = pytest.mark.django_db
D = datetime.date
SALES = ("view_quote", "add_quote", "change_quote", "view_customer")


@pytest.fixture
def seller(django_user_model):
    return user_with(django_user_model, "seller", *SALES)


@pytest.fixture
def viewer(django_user_model):
    return user_with(django_user_model, "viewer", "view_quote", "view_customer")


def _line(quote, kind):
    return quote.lines.get(kind=kind)


def test_changing_a_lines_quantity_prices_it_as_a_new_line_of_that_quantity(quote):
    line = _line(quote, LineKind.PERSON_DAYS)
    quote_change_line(quote=quote, line=line, quantity=Decimal(8), description="定制开发（扩展）")
    line.refresh_from_db()
    fresh = quote_add_line(
        quote=quote, service=ServiceItem.objects.get(code="custom-development"), quantity=Decimal(8)
    )
    assert (line.quantity, line.description) == (Decimal(8), "定制开发（扩展）")
    assert (line.unit_price, line.net, line.gross) == (fresh.unit_price, fresh.net, fresh.gross)


def test_changing_a_data_volume_quantity_prices_it_through_its_tiers_again(quote):
    line = _line(quote, LineKind.DATA_VOLUME)
    before = line.gross
    quote_change_line(quote=quote, line=line, quantity=Decimal(2500))
    line.refresh_from_db()
    fresh = quote_add_line(
        quote=quote,
        service=ServiceItem.objects.get(code="data-migration"),
        quantity=Decimal(2500),
        delivery_mode="on_site",
    )
    assert line.gross == fresh.gross != before
    assert line.slices == fresh.slices


def test_a_line_discount_reprices_the_line_and_counts_as_setting_a_discount(quote, seller):
    line = _line(quote, LineKind.PERSON_DAYS)
    quote_change_line(quote=quote, line=line, discount=Decimal("0.10"), by=seller)
    line.refresh_from_db()
    assert line.discount == Decimal("0.10")
    assert line.gross == line_priced(line).gross
    assert line.discount_amount.amount > 0
    quote.refresh_from_db()
    assert quote.discount_set_by == seller


def test_a_travel_estimates_amount_changes_at_cost(quote):
    line = _line(quote, LineKind.TRAVEL)
    quote_change_line(quote=quote, line=line, amount=Decimal("1000.50"))
    line.refresh_from_db()
    assert line.gross == Money("1000.50", "CNY")
    assert line.vat == Money("56.63", "CNY")  # 6% included: travel is part of the taxable sale (TRAVEL_VAT)


def test_a_change_takes_an_approved_quote_back_to_draft(quote):
    quote_set_discount(quote=quote, discount=Decimal("0.05"))
    quote.status = QuoteStatus.APPROVED
    quote.save()
    quote_change_line(quote=quote, line=_line(quote, LineKind.PERSON_DAYS), quantity=Decimal(6))
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DRAFT


def test_removing_a_line_renumbers_the_others(quote):
    quote_remove_line(quote=quote, line=quote.lines.get(position=1))
    assert list(quote.lines.order_by("position").values_list("position", "kind")) == [
        (1, LineKind.DATA_VOLUME),
        (2, LineKind.TRAVEL),
    ]


def test_a_sent_quotes_lines_are_neither_changed_nor_removed(quote):
    quote_send(quote=quote)
    line = _line(quote, LineKind.PERSON_DAYS)
    with pytest.raises(BillingError) as refused:
        quote_change_line(quote=quote, line=line, quantity=Decimal(1))
    assert refused.value.code == "quote_locked"
    with pytest.raises(BillingError):
        quote_remove_line(quote=quote, line=line)
    line.refresh_from_db()
    assert line.quantity == Decimal(5)
    assert quote.lines.count() == 3


def test_a_line_of_another_quote_is_refused(quote, customer):
    other = quote_create(customer=customer)
    with pytest.raises(BillingError):
        quote_remove_line(quote=other, line=quote.lines.first())
    assert quote.lines.count() == 3


def test_a_cancelled_quote_is_locked_and_a_sent_one_is_not_cancelled(quote, customer):
    cancelled = quote_cancel(quote=quote)
    assert cancelled.status == QuoteStatus.CANCELLED
    assert cancelled.locked
    with pytest.raises(BillingError):
        quote_send(quote=cancelled)
    with pytest.raises(BillingError):
        quote_change_line(quote=cancelled, line=cancelled.lines.first(), quantity=Decimal(2))
    sent = quote_create(customer=customer)
    quote_add_line(quote=sent, service=ServiceItem.objects.get(code="custom-development"), quantity=1)
    quote_send(quote=sent)
    with pytest.raises(BillingError):
        quote_cancel(quote=sent)
    assert Quote.objects.get(pk=sent.pk).status == QuoteStatus.SENT


def test_the_change_page_reprices_a_line_and_comes_back_to_the_builder(client, quote, seller):
    client.force_login(seller)
    line = _line(quote, LineKind.PERSON_DAYS)
    url = reverse("quotes:change-line", args=[quote.pk, line.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"quantity": "7", "discount": "0", "description": "开发"})
    assert response["Location"] == reverse("quotes:builder", args=[quote.pk])
    line.refresh_from_db()
    assert line.quantity == Decimal(7)
    page = client.get(reverse("quotes:builder", args=[quote.pk])).content.decode()
    assert reverse("quotes:change-line", args=[quote.pk, line.pk]) in page
    assert reverse("quotes:remove-line", args=[quote.pk, line.pk]) in page


def test_the_change_page_shows_the_services_refusal_of_a_sent_quote(client, quote, seller):
    quote_send(quote=quote)
    client.force_login(seller)
    line = _line(quote, LineKind.PERSON_DAYS)
    response = client.post(
        reverse("quotes:change-line", args=[quote.pk, line.pk]),
        {"quantity": "7", "discount": "0", "description": "开发"},
    )
    assert response.status_code == 200
    assert "warning" in response.content.decode()
    line.refresh_from_db()
    assert line.quantity == Decimal(5)


def test_remove_and_cancel_buttons_work_for_sales(client, quote, seller):
    client.force_login(seller)
    travel = _line(quote, LineKind.TRAVEL)
    client.post(reverse("quotes:remove-line", args=[quote.pk, travel.pk]))
    assert not quote.lines.filter(kind=LineKind.TRAVEL).exists()
    client.post(reverse("quotes:step", args=[quote.pk, "cancel"]))
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.CANCELLED


def test_a_role_that_only_reads_quotes_gets_403_on_the_line_pages(client, quote, viewer):
    client.force_login(viewer)
    line = quote.lines.first()
    assert client.get(reverse("quotes:change-line", args=[quote.pk, line.pk])).status_code == 403
    assert client.post(reverse("quotes:remove-line", args=[quote.pk, line.pk])).status_code == 403
    assert client.post(reverse("quotes:step", args=[quote.pk, "cancel"])).status_code == 403
    assert quote.lines.count() == 3


@pytest.fixture
def ending(catalogue):
    customer = CustomerFactory()
    today = timezone.localdate()
    return ServicePeriodFactory(
        contract__customer=customer,
        start=today - datetime.timedelta(days=300),
        end=today + datetime.timedelta(days=64),
        fee=88000,
    )


def test_drafting_a_renewal_twice_gives_one_quote_the_one_the_task_drafts(ending, seller):
    first = quote_draft_renewal(period=ending, by=seller)
    again = quote_draft_renewal(period=ending, by=seller)
    assert first == again
    assert (first.kind, first.renewal_start) == (QuoteKind.RENEWAL, ending.end + datetime.timedelta(days=1))
    assert first.lines.get().gross == Money(88000, "CNY")
    assert first.created_by == seller
    assert quotes_draft_renewals(today=timezone.localdate()) == []
    assert Quote.objects.count() == 1


def test_drafting_a_renewal_the_task_drafted_opens_that_one(ending, seller):
    [drafted] = quotes_draft_renewals(today=timezone.localdate())
    assert quote_draft_renewal(period=ending, by=seller) == drafted


def test_the_renewals_page_drafts_the_quote_and_opens_it_in_the_builder(client, ending, seller):
    client.force_login(seller)
    page = client.get(reverse("quotes:pipeline")).content.decode()
    url = reverse("quotes:draft-renewal", args=[ending.pk])
    assert url in page
    response = client.post(url)
    quote = Quote.objects.get()
    assert response["Location"] == reverse("quotes:builder", args=[quote.pk])
    assert client.post(url)["Location"] == reverse("quotes:builder", args=[quote.pk])
    assert Quote.objects.count() == 1
    page = client.get(reverse("quotes:pipeline")).content.decode()
    assert reverse("quotes:builder", args=[quote.pk]) in page


def test_a_role_that_cannot_add_quotes_gets_403_drafting_a_renewal(client, ending, viewer):
    client.force_login(viewer)
    assert (
        reverse("quotes:draft-renewal", args=[ending.pk])
        not in client.get(reverse("quotes:pipeline")).content.decode()
    )
    assert client.post(reverse("quotes:draft-renewal", args=[ending.pk])).status_code == 403
    assert not Quote.objects.exists()
