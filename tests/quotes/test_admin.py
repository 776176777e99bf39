import pytest
from django.urls import reverse

from quotes.models import Quote, QuoteStatus

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


def test_quotes_are_never_deleted_nor_added_outside_the_builder(admin_client, quote):
    assert admin_client.get(reverse("admin:quotes_quote_add")).status_code == 403
    assert admin_client.post(reverse("admin:quotes_quote_delete", args=[quote.pk])).status_code == 403


def test_a_sent_quote_cannot_be_edited_in_the_admin(admin_client, quote):
    admin_client.post(
        reverse("admin:quotes_quote_changelist"),
        {"action": "send", "_selected_action": [quote.pk]},
        follow=True,
    )
    admin_client.post(reverse("admin:quotes_quote_change", args=[quote.pk]), {"notes": "changed"})
    assert Quote.objects.get(pk=quote.pk).notes == ""
