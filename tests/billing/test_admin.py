"""API keys in the admin: the key is generated and shown once; the hash never appears; keys revoke."""

import hashlib
import re

import pytest
from django.contrib import admin
from django.urls import reverse

from billing.apikeys import create_api_key
from billing.models import ApiKey

pytestmark = pytest.mark.django_db


def test_adding_a_key_in_the_admin_shows_the_raw_key_once(admin_client, admin_user):
    response = admin_client.post(
        reverse("admin:billing_apikey_add"),
        {"name": "Zendesk", "scopes": ["entitlements:read", "charges:write"]},
        follow=True,
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 200
    shown = re.findall(r"ask_[0-9a-f]+_[A-Za-z0-9_-]+", response.content.decode())
    assert len(shown) == 1
    raw_key = shown[0]
    api_key = ApiKey.objects.get()
    assert api_key.key_hash == hashlib.sha256(raw_key.encode()).hexdigest()
    assert api_key.scopes == ["entitlements:read", "charges:write"]
    assert api_key.created_by == admin_user
    assert "will not be shown again" in response.content.decode()

    again = admin_client.get(reverse("admin:billing_apikey_changelist")).content.decode()
    assert raw_key not in again
    assert api_key.prefix in again


def test_the_admin_refuses_an_expiry_in_the_past(admin_client):
    response = admin_client.post(
        reverse("admin:billing_apikey_add"),
        {
            "name": "Zendesk",
            "scopes": ["entitlements:read"],
            "expires_at_0": "2000-01-01",
            "expires_at_1": "00:00",
        },
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 200
    assert "past" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_the_admin_lists_keys_by_prefix_and_never_shows_the_hash(admin_client):
    api_key, _raw = create_api_key(name="Zendesk", scopes=["entitlements:read"])
    listing = admin_client.get(reverse("admin:billing_apikey_changelist")).content.decode()
    change = admin_client.get(reverse("admin:billing_apikey_change", args=[api_key.pk])).content.decode()
    for page in (listing, change):
        assert api_key.prefix in page
        assert "entitlements:read" in page
        assert api_key.key_hash not in page


def test_an_issued_key_keeps_its_scopes_when_edited_in_the_admin(admin_client):
    api_key, _raw = create_api_key(name="Zendesk", scopes=["entitlements:read"])
    admin_client.post(reverse("admin:billing_apikey_change", args=[api_key.pk]), {"name": "Zendesk (prod)"})
    api_key.refresh_from_db()
    assert (api_key.name, api_key.scopes) == ("Zendesk (prod)", ["entitlements:read"])


def test_the_admin_action_revokes_the_selected_keys(admin_client):
    kept, _raw = create_api_key(name="Kept", scopes=[])
    revoked, _raw = create_api_key(name="Revoked", scopes=[])
    admin_client.post(
        reverse("admin:billing_apikey_changelist"),
        {"action": "revoke", "_selected_action": [revoked.pk]},
    )
    kept.refresh_from_db()
    revoked.refresh_from_db()
    assert kept.revoked_at is None
    assert revoked.revoked_at is not None


OUR_APPS = {"billing", "catalog", "contracts", "quotes", "invoices"}


def test_every_admin_action_checks_a_permission():
    """Django runs an action for anyone who sees the list unless it names the permissions it needs."""
    unchecked = [
        f"{model._meta.label}.{name}"
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in OUR_APPS
        for func, name, _description in model_admin._get_base_actions()
        if not getattr(func, "allowed_permissions", None)
    ]
    assert unchecked == []
