import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from catalog.models import ServiceItem
from quotes.models import Quote, QuoteStatus
from quotes.services import quote_set_discount, quote_submit

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
