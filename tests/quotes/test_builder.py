"""The quote builder staff pages: each form calls its service and the page shows the outcome."""

from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.models import ServiceItem
from contracts.models import Customer
from quotes.models import LineKind, Quote, QuoteStatus
from quotes.services import quote_add_line, quote_create, quote_fingerprint, quote_send
from tests.demo_roles import load_demo, log_in
from tests.factories import user_with

pytestmark = pytest.mark.django_db

SALES = ("view_quote", "add_quote", "change_quote", "view_customer")


@pytest.fixture
def seller(django_user_model):
    return user_with(django_user_model, "seller", *SALES)


@pytest.fixture
def manager(django_user_model):
    return user_with(django_user_model, "boss", *SALES, "approve_discount")


def test_sales_creates_a_quote_for_a_customer_and_lands_on_its_builder(client, customer, seller):
    client.force_login(seller)
    response = client.post(reverse("quotes:new"), {"customer": "ACME", "discount": "5", "notes": "年度服务"})
    quote = Quote.objects.get()
    assert response["Location"] == reverse("quotes:builder", args=[quote.pk])
    assert quote.created_by == seller
    assert quote.discount == Decimal("0.05")
    assert quote.notes == "年度服务"


def test_the_builder_prices_catalogue_lines_and_travel_through_the_pricing_module(client, customer, seller):
    client.force_login(seller)
    client.post(reverse("quotes:new"), {"customer": "ACME"})
    quote = Quote.objects.get()
    client.post(
        reverse("quotes:add-line", args=[quote.pk]),
        {"service": "custom-development", "quantity": "3", "role": "engineer", "delivery_mode": "on_site"},
    )
    client.post(
        reverse("quotes:add-line", args=[quote.pk]),
        {"service": "data-migration", "quantity": "250", "role": "engineer", "delivery_mode": "remote"},
    )
    client.post(reverse("quotes:add-travel", args=[quote.pk]), {"description": "往返机票", "amount": "2400"})
    lines = list(quote.lines.order_by("position"))
    assert [line.kind for line in lines] == [LineKind.PERSON_DAYS, LineKind.DATA_VOLUME, LineKind.TRAVEL]
    assert lines[0].delivery_mode == "on_site"
    assert lines[2].gross.amount == Decimal("2400.00")
    # travel at cost is part of the taxable sale (settings.TRAVEL_VAT "taxable"): 6% included in the cost
    assert (lines[2].net.amount, lines[2].vat.amount) == (Decimal("2264.15"), Decimal("135.85"))
    page = client.get(reverse("quotes:builder", args=[quote.pk])).content.decode()
    assert "往返机票" in page
    assert "元" in page  # the total in Chinese capitals


def test_a_bad_line_comes_back_as_a_message_and_adds_nothing(client, customer, seller):
    client.force_login(seller)
    client.post(reverse("quotes:new"), {"customer": "ACME"})
    quote = Quote.objects.get()
    response = client.post(
        reverse("quotes:add-line", args=[quote.pk]),
        {"service": "custom-development", "quantity": "-1", "role": "engineer", "delivery_mode": "remote"},
        follow=True,
    )
    assert quote.lines.count() == 0
    assert "message error" in response.content.decode()
    response = client.post(
        reverse("quotes:add-line", args=[quote.pk]),
        {"service": "custom-development", "basis": "per_data_volume", "quantity": "2"},
        follow=True,
    )
    assert quote.lines.count() == 0
    assert "message error" in response.content.decode()


def test_a_large_discount_waits_for_a_sales_manager_who_approves_it_with_a_reason(
    client, customer, seller, manager
):
    client.force_login(seller)
    client.post(reverse("quotes:new"), {"customer": "ACME", "discount": "25"})
    quote = Quote.objects.get()
    client.post(
        reverse("quotes:add-line", args=[quote.pk]),
        {"service": "custom-development", "quantity": "3", "role": "engineer", "delivery_mode": "remote"},
    )
    client.post(reverse("quotes:step", args=[quote.pk, "submit"]))
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.PENDING_APPROVAL
    assert client.post(reverse("quotes:approve", args=[quote.pk]), {"reason": "mine"}).status_code == 403
    client.post(reverse("quotes:step", args=[quote.pk, "send"]))
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.PENDING_APPROVAL  # not sent before the approval

    client.force_login(manager)
    page = client.get(reverse("quotes:builder", args=[quote.pk])).content.decode()
    assert reverse("quotes:approve", args=[quote.pk]) in page
    client.post(
        reverse("quotes:approve", args=[quote.pk]), {"reason": "战略客户", "seen": quote_fingerprint(quote)}
    )
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.APPROVED
    assert quote.approved_by == manager
    assert quote.approval_reason == "战略客户"


def test_a_line_added_after_the_approval_takes_the_quote_back_to_draft(client, customer, seller, manager):
    client.force_login(seller)
    client.post(reverse("quotes:new"), {"customer": "ACME", "discount": "25"})
    quote = Quote.objects.get()
    line = {"service": "custom-development", "quantity": "3", "role": "engineer", "delivery_mode": "remote"}
    client.post(reverse("quotes:add-line", args=[quote.pk]), line)
    client.post(reverse("quotes:step", args=[quote.pk, "submit"]))
    client.force_login(manager)
    client.post(
        reverse("quotes:approve", args=[quote.pk]), {"reason": "ok", "seen": quote_fingerprint(quote)}
    )
    client.force_login(seller)
    client.post(reverse("quotes:add-line", args=[quote.pk]), {**line, "discount": "50"})
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DRAFT
    assert quote.approved_by is None


def test_sending_locks_the_quote_and_shows_the_customers_link(
    client, customer, seller, django_capture_on_commit_callbacks
):
    client.force_login(seller)
    client.post(reverse("quotes:new"), {"customer": "ACME"})
    quote = Quote.objects.get()
    client.post(
        reverse("quotes:add-line", args=[quote.pk]),
        {"service": "custom-development", "quantity": "1", "role": "engineer", "delivery_mode": "remote"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("quotes:step", args=[quote.pk, "send"]))
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SENT
    assert quote.pdf_sha256
    page = client.get(reverse("quotes:builder", args=[quote.pk])).content.decode()
    assert "/q/" in page
    assert reverse("quotes:staff-pdf", args=[quote.pk]) in page
    assert reverse("quotes:add-line", args=[quote.pk]) not in page
    response = client.post(
        reverse("quotes:add-line", args=[quote.pk]),
        {"service": "custom-development", "quantity": "1", "role": "engineer", "delivery_mode": "remote"},
        follow=True,
    )
    assert quote.lines.count() == 1
    assert "message error" in response.content.decode()
    pdf = client.get(reverse("quotes:staff-pdf", args=[quote.pk]))
    assert pdf["Content-Type"] == "application/pdf"


def test_an_unknown_step_is_not_found_and_reading_needs_the_view_permission(
    client, customer, seller, django_user_model
):
    client.force_login(seller)
    client.post(reverse("quotes:new"), {"customer": "ACME"})
    quote = Quote.objects.get()
    assert client.post(reverse("quotes:step", args=[quote.pk, "delete"])).status_code == 404
    client.force_login(user_with(django_user_model, "nobody", "view_customer"))
    assert client.get(reverse("quotes:builder", args=[quote.pk])).status_code == 403
    assert client.post(reverse("quotes:new"), {"customer": "ACME"}).status_code == 403


def test_view_only_roles_do_not_see_the_customers_signed_link(client, catalogue, django_user_model):
    """The customer's link accepts the quote in the customer's name: on the builder and in the admin only
    the roles that may send quotes see it; finance, who only views quotes, never does."""
    users = load_demo(django_user_model)
    quote = quote_create(customer=Customer.objects.get(code="DEMO-ACTIVE"), created_by=users["sales"])
    quote_add_line(quote=quote, service=ServiceItem.objects.get(code="custom-development"), quantity=1)
    quote_send(quote=quote)
    pages = [
        reverse("quotes:builder", args=[quote.pk]),
        reverse("admin:quotes_quote_change", args=[quote.pk]),
    ]
    seen_by = set()
    for role, user in users.items():
        log_in(client, user)
        for page in pages:
            response = client.get(page)
            assert response.status_code == 200, (role, page)
            if "/q/" in response.content.decode():
                seen_by.add((role, page))
    senders = {"sales", "sales_manager", "account_manager", "administrator"}
    assert seen_by == {(role, page) for role in senders for page in pages}
