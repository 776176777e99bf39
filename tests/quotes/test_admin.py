import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from catalog.models import ServiceItem
from contracts.models import Contract, Customer
from quotes.models import Quote, QuoteStatus, ServiceOrder
from quotes.services import quote_add_line, quote_can_approve, quote_create, quote_set_discount, quote_submit
from tests.demo_roles import load_demo, log_in, management, messages_of

pytestmark = pytest.mark.django_db


def test_quote_admin_pages_open_and_a_quote_is_sent_from_the_list(admin_client, quote):
    assert admin_client.get(reverse("admin:quotes_quote_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:quotes_quote_change", args=[quote.pk])).status_code == 200
    assert admin_client.get(reverse("admin:quotes_serviceorder_changelist")).status_code == 200
    admin_client.post(
        reverse("admin:quotes_quote_changelist"),
        {"action": "send", "_selected_action": [quote.pk]},
        follow=True,
    )
    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.SENT


def test_quotes_are_never_deleted(admin_client, quote):
    assert admin_client.post(reverse("admin:quotes_quote_delete", args=[quote.pk])).status_code == 403


def test_a_sent_quote_cannot_be_edited_in_the_admin(admin_client, quote):
    admin_client.post(
        reverse("admin:quotes_quote_changelist"),
        {"action": "send", "_selected_action": [quote.pk]},
        follow=True,
    )
    admin_client.post(reverse("admin:quotes_quote_change", args=[quote.pk]), {"notes": "changed"})
    assert Quote.objects.get(pk=quote.pk).notes == ""


def inline_management(prefix: str, total: int) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def test_staff_build_a_quote_in_the_admin_from_the_catalogue(admin_client, customer):
    development = ServiceItem.objects.get(code="custom-development")
    response = admin_client.post(
        reverse("admin:quotes_quote_add"),
        {
            "customer": customer.pk,
            "discount": "0",
            "notes": "",
            "terms": "",
            **inline_management("lines", 0),
            **inline_management("lines-2", 2),
            "lines-2-0-service": development.pk,
            "lines-2-0-quantity": "3",
            "lines-2-0-role": "architect",
            "lines-2-0-delivery_mode": "on_site",
            "lines-2-0-discount": "0",
            "lines-2-1-description": "差旅预估",
            "lines-2-1-travel_amount": "2000",
            "lines-2-1-discount": "0",
        },
        follow=True,
    )
    assert response.status_code == 200
    quote = Quote.objects.get()
    assert quote.created_by.username == "admin"
    lines = list(quote.lines.all())
    assert [(line.kind, line.gross.amount) for line in lines] == [("person_days", 13500), ("travel", 2000)]


def test_a_sales_manager_approves_a_large_discount_in_the_admin(client, quote, sales_manager):
    quote_set_discount(quote=quote, discount=0.25)
    quote_submit(quote=quote)
    sales_manager.is_staff = True
    sales_manager.save()
    sales_manager.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_quote", "change_quote"])
    )
    client.force_login(sales_manager)
    page = client.get(reverse("admin:quotes_quote_change", args=[quote.pk]))
    assert "_approve_discount" in page.content.decode()
    client.post(
        reverse("admin:quotes_quote_change", args=[quote.pk]),
        {
            "customer": quote.customer.pk,
            "quote_date": "2026-03-04",
            "valid_until": quote.valid_until.isoformat(),
            "discount": "0.25",
            "notes": "",
            "terms": "",
            "approval_reason": "年度框架客户",
            "_approve_discount": "1",
            **inline_management("lines", 0),
            **inline_management("lines-2", 0),
        },
    )
    quote.refresh_from_db()
    assert (quote.status, quote.approval_reason, quote.approved_by) == (
        QuoteStatus.APPROVED,
        "年度框架客户",
        sales_manager,
    )


# --- the admin cannot move a quote past what quotes.services allows (as the demo roles) -----------------


@pytest.fixture
def roles(catalogue, django_user_model):
    return load_demo(django_user_model)


@pytest.fixture
def demo_quote(roles):
    """The demo's quote by sales with a 20% discount, waiting for a sales manager."""
    return Quote.objects.get(status=QuoteStatus.PENDING_APPROVAL)


def change_form(quote: Quote, **fields) -> dict:
    """The quote's change form as the admin page posts it back, with ``fields`` changed."""
    return {
        "valid_until": quote.valid_until.isoformat(),
        "discount": str(quote.discount),
        "notes": quote.notes,
        "terms": quote.terms,
        "approval_reason": "",
        **management("lines"),
        **management("lines-2"),
        **fields,
    }


def test_the_admin_cannot_set_a_quote_to_accepted(client, roles, demo_quote):
    log_in(client, roles["administrator"])
    url = reverse("admin:quotes_quote_change", args=[demo_quote.pk])
    client.post(url, change_form(demo_quote, status="accepted", answer_name="张伟", answered_at="2026-03-04"))
    sent = client.post(
        reverse("admin:quotes_quote_changelist"),
        {"action": "send", "_selected_action": [demo_quote.pk]},
        follow=True,
    )
    refusal = f"{demo_quote}: A sales manager must approve the discount before the quote is sent."
    assert refusal in messages_of(sent)
    demo_quote.refresh_from_db()
    assert (demo_quote.status, demo_quote.answer_name, demo_quote.answered_at) == (
        QuoteStatus.PENDING_APPROVAL,
        "",
        None,
    )
    assert not ServiceOrder.objects.exists()


def test_the_admin_cannot_give_a_draft_quote_another_customers_contract(client, roles):
    log_in(client, roles["sales"])
    acme, other = Customer.objects.get(code="DEMO-ACTIVE"), Customer.objects.get(code="DEMO-FREE")
    foreign = Contract.objects.get(number="HT-DEMO-FREE")
    before = Quote.objects.count()
    refused = client.post(
        reverse("admin:quotes_quote_add"),
        {"customer": acme.pk, "contract": foreign.pk, "discount": "0", "notes": "", "terms": "",
         **management("lines"), **management("lines-2")},
    )  # fmt: skip
    assert refused.status_code == 200
    assert "The contract belongs to another customer." in refused.content.decode()
    assert Quote.objects.count() == before
    draft = quote_create(customer=acme, created_by=roles["sales"])
    client.post(
        reverse("admin:quotes_quote_change", args=[draft.pk]),
        change_form(draft, customer=other.pk, contract=foreign.pk, quote_date="2020-01-01"),
    )
    draft.refresh_from_db()
    assert (draft.customer, draft.contract, draft.status) == (acme, None, QuoteStatus.DRAFT)
    assert draft.quote_date != datetime.date(2020, 1, 1)


def test_the_admin_changes_a_drafts_prices_only_through_the_services(client, roles):
    log_in(client, roles["sales"])
    draft = quote_create(customer=Customer.objects.get(code="DEMO-ACTIVE"), created_by=roles["sales"])
    line = quote_add_line(quote=draft, service=ServiceItem.objects.get(code="custom-development"), quantity=2)
    client.post(
        reverse("admin:quotes_quote_change", args=[draft.pk]),
        change_form(
            draft, discount="0.1", status="approved", **{"lines-0-id": line.pk, "lines-0-unit_price_0": "1"}
        ),
    )
    unit_price = line.unit_price
    line.refresh_from_db()
    draft.refresh_from_db()
    # the discount went through quote_set_discount, which repriced the line: 2 x 1,800.00 less 10%
    assert (draft.status, draft.discount, line.unit_price, line.gross.amount) == (
        QuoteStatus.DRAFT,
        Decimal("0.1"),
        unit_price,
        Decimal("3240.00"),
    )


@pytest.mark.parametrize("role", ["sales", "sales_manager", "account_manager", "finance", "administrator"])
def test_the_admin_shows_the_discount_approval_exactly_when_the_service_would_accept_it(
    client, roles, demo_quote, role
):
    user = roles[role]
    log_in(client, user)
    page = client.get(reverse("admin:quotes_quote_change", args=[demo_quote.pk]))
    if page.status_code != 200:
        assert not user.has_perm("quotes.view_quote")
        return
    assert ('name="_approve_discount"' in page.content.decode()) == quote_can_approve(demo_quote, user)
    assert quote_can_approve(demo_quote, user) == (role in ("sales_manager", "administrator"))


def test_a_sales_manager_cannot_approve_the_discount_of_their_own_quote_in_the_admin(client, roles):
    manager = roles["sales_manager"]
    acme = Customer.objects.get(code="DEMO-ACTIVE")
    quote = quote_create(customer=acme, discount=Decimal("0.3"), created_by=manager)
    quote_add_line(quote=quote, service=ServiceItem.objects.get(code="custom-development"), quantity=1)
    quote_submit(quote=quote)
    log_in(client, manager)
    url = reverse("admin:quotes_quote_change", args=[quote.pk])
    assert 'name="_approve_discount"' not in client.get(url).content.decode()
    answer = client.post(url, change_form(quote, approval_reason="mine", _approve_discount="1"), follow=True)
    assert "Nobody approves the discount of their own quote." in messages_of(answer)
    quote.refresh_from_db()
    assert (quote.status, quote.approved_by) == (QuoteStatus.PENDING_APPROVAL, None)


def test_a_sales_manager_who_raises_a_quotes_discount_and_submits_it_cannot_approve_it_himself(
    client, roles, django_user_model
):
    sales, manager = roles["sales"], roles["sales_manager"]
    quote = quote_create(customer=Customer.objects.get(code="DEMO-ACTIVE"), created_by=sales)
    quote_add_line(quote=quote, service=ServiceItem.objects.get(code="custom-development"), quantity=10)
    log_in(client, manager)
    url = reverse("admin:quotes_quote_change", args=[quote.pk])
    client.post(url, change_form(quote, discount="0.6"))
    changelist = reverse("admin:quotes_quote_changelist")
    client.post(changelist, {"action": "submit", "_selected_action": [quote.pk]})
    quote.refresh_from_db()
    assert (quote.discount, quote.status) == (Decimal("0.6"), QuoteStatus.PENDING_APPROVAL)
    assert 'name="_approve_discount"' not in client.get(url).content.decode()
    answer = client.post(url, change_form(quote, approval_reason="mine", _approve_discount="1"), follow=True)
    refusal = "Whoever set the discount or submitted the quote does not approve it: a second person does."
    assert refusal in messages_of(answer)
    quote.refresh_from_db()
    assert (quote.status, quote.approved_by) == (QuoteStatus.PENDING_APPROVAL, None)
    # a second sales manager approves it
    second = django_user_model.objects.create_user(username="sm2", is_staff=True)
    second.groups.set(manager.groups.all())
    log_in(client, second)
    client.post(url, change_form(quote, approval_reason="战略客户", _approve_discount="1"))
    quote.refresh_from_db()
    assert (quote.status, quote.approved_by.username) == (QuoteStatus.APPROVED, "sm2")


@pytest.mark.parametrize("action", ["submit", "send", "revise"])
def test_finance_with_view_only_quotes_cannot_send_or_revise_them_in_the_admin(
    client, roles, demo_quote, action
):
    log_in(client, roles["finance"])
    quotes = Quote.objects.count()
    answer = client.post(
        reverse("admin:quotes_quote_changelist"), {"action": action, "_selected_action": [demo_quote.pk]}
    )
    assert answer.status_code in (200, 302)
    demo_quote.refresh_from_db()
    assert (demo_quote.status, Quote.objects.count()) == (QuoteStatus.PENDING_APPROVAL, quotes)
