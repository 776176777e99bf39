"""Who may approve a large discount lives in quotes.services (quote_can_approve, from the same checks
quote_approve_discount raises on): the quote builder, the quotes list and the admin show the approval
exactly when the service would accept it."""

from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.models import ServiceItem
from contracts.models import Customer
from quotes.models import Quote, QuoteStatus
from quotes.services import (
    quote_add_line,
    quote_approve_discount,
    quote_can_approve,
    quote_create,
    quote_fingerprint,
    quote_set_discount,
    quote_submit,
)
from tests.demo_roles import load_demo, log_in, service_accepts

pytestmark = pytest.mark.django_db


def approval_accepted(quote: Quote, user) -> bool:
    """Whether quote_approve_discount accepts ``user``'s approval (with a reason); nothing is kept."""
    return service_accepts(
        lambda: quote_approve_discount(quote=quote, by=user, reason="ok", seen=quote_fingerprint(quote))
    )


def listed_as_waiting(page: str, quote: Quote) -> bool:
    """Whether the quotes list shows ``quote`` among the discounts waiting for the user's approval."""
    if 'class="waiting-list"' not in page:
        return False
    waiting = page.split('class="waiting-list"')[1].split("</table>")[0]
    return f'href="{reverse("quotes:builder", args=[quote.pk])}"' in waiting


@pytest.fixture
def cases(catalogue, django_user_model):
    """The demo's quote by sales waiting for a sales manager, one by the sales manager himself waiting
    too, and a draft."""
    users = load_demo(django_user_model)
    customer = Customer.objects.get(code="DEMO-ACTIVE")
    own = quote_create(customer=customer, discount=Decimal("0.3"), created_by=users["sales_manager"])
    quote_add_line(quote=own, service=ServiceItem.objects.get(code="custom-development"), quantity=1)
    quote_submit(quote=own)
    draft = quote_create(customer=customer, discount=Decimal("0.3"), created_by=users["sales"])
    demo = Quote.objects.exclude(pk=own.pk).get(status=QuoteStatus.PENDING_APPROVAL)
    return users, [demo, Quote.objects.get(pk=own.pk), draft]


def test_the_pages_show_the_discount_approval_exactly_when_the_service_would_accept(client, cases):
    users, quotes = cases
    approvers = set()
    for name, user in users.items():
        log_in(client, user)
        listing = client.get(reverse("invoices:quotes"))
        for quote in quotes:
            accepts = approval_accepted(quote, user)
            assert quote_can_approve(quote, user) == accepts, (name, quote.pk)
            builder = client.get(reverse("quotes:builder", args=[quote.pk]))
            if builder.status_code != 200:
                assert not accepts
                continue
            approve_url = reverse("quotes:approve", args=[quote.pk])
            assert (approve_url in builder.content.decode()) == accepts, (name, quote.pk)
            assert listed_as_waiting(listing.content.decode(), quote) == accepts, (name, quote.pk)
            admin_page = client.get(reverse("admin:quotes_quote_change", args=[quote.pk]))
            assert ('name="_approve_discount"' in admin_page.content.decode()) == accepts, (name, quote.pk)
            if accepts:
                approvers.add((name, quote.pk))
    demo, own, _draft = quotes
    assert approvers == {
        ("sales_manager", demo.pk),
        ("administrator", demo.pk),
        ("administrator", own.pk),
    }


def test_whoever_set_a_discount_or_submitted_the_quote_does_not_approve_it(catalogue, django_user_model):
    users = load_demo(django_user_model)
    managers = [users["sales_manager"], users["administrator"]]
    quote = quote_create(customer=Customer.objects.get(code="DEMO-ACTIVE"), created_by=users["sales"])
    service = ServiceItem.objects.get(code="custom-development")
    # a line discount of 60% given by one manager, the quote submitted by the other: neither approves
    quote_add_line(quote=quote, service=service, quantity=1, discount=Decimal("0.6"), by=managers[0])
    quote = quote_submit(quote=quote, by=managers[1])
    assert quote.status == QuoteStatus.PENDING_APPROVAL
    assert [approval_accepted(quote, manager) for manager in managers] == [False, False]
    # set again by the first manager and submitted by sales: the second manager may approve it now
    quote_set_discount(quote=quote, discount=Decimal("0.2"), by=managers[0])
    assert quote_submit(quote=quote, by=users["sales"]).status == QuoteStatus.PENDING_APPROVAL
    assert [approval_accepted(quote, manager) for manager in managers] == [False, True]
