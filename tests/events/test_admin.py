"""Events and webhooks in the admin: administrators manage endpoints through the services (the secret shown
once, private URLs refused), read events and deliveries and resend; finance cannot get in."""

import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from billing.roles import sync_roles
from events.endpoints import webhook_endpoint_create
from events.models import Delivery, DeliveryAttempt, DeliveryStatus, Event, WebhookEndpoint
from events.services import event_record
from tests.demo_roles import log_in, messages_of

pytestmark = pytest.mark.django_db

HOOK = "https://hooks.example.com/billing"
SECRET = re.compile(r"whsec_[A-Za-z0-9+/=]+")


@pytest.fixture(autouse=True)
def allowed_host(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["hooks.example.com"]


@pytest.fixture
def roles(django_user_model):
    sync_roles()
    users = {}
    for role in ("administrator", "finance"):
        user = django_user_model.objects.create_user(username=role, is_staff=True)
        user.groups.set(Group.objects.filter(name=role))
        users[role] = django_user_model.objects.get(pk=user.pk)
    return users


@pytest.fixture
def administrator(client, roles):
    return log_in(client, roles["administrator"])


def test_finance_cannot_see_or_add_endpoints_events_or_deliveries(client, roles):
    log_in(client, roles["finance"])
    for page in (
        "admin:events_webhookendpoint_changelist",
        "admin:events_webhookendpoint_add",
        "admin:events_event_changelist",
        "admin:events_delivery_changelist",
    ):
        assert client.get(reverse(page)).status_code in (302, 403), page
    response = client.post(reverse("admin:events_webhookendpoint_add"), {"url": HOOK, "enabled": "on"})
    assert response.status_code in (302, 403)
    assert not WebhookEndpoint.objects.exists()
    assert (
        reverse("admin:app_list", args=["events"]) not in client.get(reverse("admin:index")).content.decode()
    )


def test_an_administrator_adds_an_endpoint_and_sees_its_secret_once(client, administrator, roles):
    response = client.post(
        reverse("admin:events_webhookendpoint_add"),
        {"url": HOOK, "event_types": ["invoice.issued"], "description": "Accounting", "enabled": "on"},
        follow=True,
    )
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.event_types == ["invoice.issued"]
    assert SECRET.findall(response.content.decode()) == [endpoint.secret]
    assert "will not be shown again" in " ".join(messages_of(response))
    for page in (
        client.get(reverse("admin:events_webhookendpoint_changelist")),
        client.get(reverse("admin:events_webhookendpoint_change", args=[endpoint.pk])),
        client.get(reverse("admin:events_webhookendpoint_history", args=[endpoint.pk])),
    ):
        assert page.status_code == 200
        assert endpoint.secret not in page.content.decode()
    assert endpoint.history.get().history_user == roles["administrator"]


def test_the_admin_refuses_a_private_url_on_the_form(client, administrator):
    response = client.post(
        reverse("admin:events_webhookendpoint_add"), {"url": "https://10.0.0.8/in", "enabled": "on"}
    )
    assert response.status_code == 200
    assert "private" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_enabling_again_in_the_admin_clears_why_it_was_disabled(client, administrator):
    endpoint = webhook_endpoint_create(url=HOOK)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(enabled=False, disabled_reason="evt_1 failed")
    client.post(
        reverse("admin:events_webhookendpoint_changelist"),
        {"action": "enable", "_selected_action": [endpoint.pk]},
    )
    endpoint.refresh_from_db()
    assert (endpoint.enabled, endpoint.disabled_reason) == (True, "")


def test_rotating_in_the_admin_shows_the_new_secret_once(client, administrator):
    endpoint = webhook_endpoint_create(url=HOOK)
    old = endpoint.secret
    response = client.post(
        reverse("admin:events_webhookendpoint_changelist"),
        {"action": "rotate_secret", "_selected_action": [endpoint.pk]},
        follow=True,
    )
    endpoint.refresh_from_db()
    assert endpoint.secret != old
    assert endpoint.previous_secret == old
    assert SECRET.findall(response.content.decode()) == [endpoint.secret]


def test_deleting_in_the_admin_deletes_the_endpoint(client, administrator):
    endpoint = webhook_endpoint_create(url=HOOK)
    client.post(reverse("admin:events_webhookendpoint_delete", args=[endpoint.pk]), {"post": "yes"})
    assert not WebhookEndpoint.objects.exists()


def test_events_are_read_only_and_filter_by_type_and_customer(client, administrator):
    quote = event_record("quote.sent", customer_code="ACME", data={"object": {"number": "Q2026-00001"}})
    invoice = event_record("invoice.issued", customer_code="OTHER", data={"object": {"number": "INV2026-1"}})
    changelist = reverse("admin:events_event_changelist")
    by_type = client.get(changelist, {"type__exact": "quote.sent"}).content.decode()
    assert quote.webhook_id in by_type
    assert invoice.webhook_id not in by_type
    by_customer = client.get(changelist, {"q": "OTHER"}).content.decode()
    assert invoice.webhook_id in by_customer
    assert quote.webhook_id not in by_customer
    page = client.get(reverse("admin:events_event_change", args=[quote.pk]))
    assert "Q2026-00001" in page.content.decode()
    assert client.get(reverse("admin:events_event_add")).status_code == 403
    client.post(reverse("admin:events_event_delete", args=[quote.pk]), {"post": "yes"})
    assert Event.objects.filter(pk=quote.pk).exists()


def test_a_delivery_shows_its_attempts_and_is_resent(client, administrator):
    webhook_endpoint_create(url=HOOK)
    event_record("quote.sent", customer_code="ACME", data={})
    delivery = Delivery.objects.get()
    DeliveryAttempt.objects.create(
        delivery=delivery, status_code=503, error="The receiver answered HTTP 503."
    )
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED, attempts=12)
    page = client.get(reverse("admin:events_delivery_change", args=[delivery.pk])).content.decode()
    assert "The receiver answered HTTP 503." in page
    response = client.post(
        reverse("admin:events_delivery_changelist"),
        {"action": "resend", "_selected_action": [delivery.pk]},
        follow=True,
    )
    assert "1 delivery will be sent again." in messages_of(response)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 0)
