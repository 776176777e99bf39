"""API keys: issuing, bearer authentication, scopes, revocation, expiry and the management command."""

import datetime
import hashlib
import io
import time

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from billing.apikeys import LAST_USED_RESOLUTION, create_api_key, forget_api_keys, revoke_api_key
from billing.errors import BillingError
from billing.models import ApiKey

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.billing.urls")]

ME = "/api/v1/me"


def bearer(raw_key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {raw_key}"}


def test_the_key_is_returned_once_and_stored_only_as_its_sha256(issue_key):
    api_key, raw_key = issue_key(scopes=["entitlements:read"])
    api_key.refresh_from_db()
    assert api_key.key_hash == hashlib.sha256(raw_key.encode()).hexdigest()
    secret = raw_key.split("_", 2)[2]
    stored = [str(getattr(api_key, field.attname)) for field in ApiKey._meta.concrete_fields]
    assert not any(secret in value for value in stored)


def test_the_key_carries_its_public_prefix(issue_key):
    api_key, raw_key = issue_key()
    kind, prefix, secret = raw_key.split("_", 2)
    assert (kind, prefix) == ("ask", api_key.prefix)
    assert len(secret) >= 43  # 32 random bytes, urlsafe base64


def test_each_key_is_different(issue_key):
    (first, first_raw), (second, second_raw) = issue_key(), issue_key()
    assert first.prefix != second.prefix
    assert first_raw != second_raw


def test_an_unknown_scope_is_refused():
    with pytest.raises(BillingError) as refused:
        create_api_key(name="Ticketing", scopes=["entitlements:read", "invoices:delete"])
    assert refused.value.code == "unknown_scope"
    assert "invoices:delete" in str(refused.value)
    assert not ApiKey.objects.exists()


def test_an_expiry_in_the_past_is_refused():
    with pytest.raises(BillingError) as refused:
        create_api_key(name="Ticketing", scopes=[], expires_at=timezone.now() - datetime.timedelta(days=1))
    assert refused.value.code == "expiry_in_past"


def test_scopes_are_stored_once_in_a_fixed_order(issue_key):
    api_key, _raw = issue_key(scopes=["charges:write", "entitlements:read", "charges:write"])
    api_key.refresh_from_db()
    assert api_key.scopes == ["entitlements:read", "charges:write"]


def test_a_bearer_key_authenticates_the_client(client, issue_key):
    expires_at = timezone.now() + datetime.timedelta(days=30)
    api_key, raw_key = issue_key(name="Zendesk", scopes=["entitlements:read"], expires_at=expires_at)
    response = client.get(ME, headers=bearer(raw_key))
    assert response.status_code == 200
    assert response.json() == {
        "name": "Zendesk",
        "prefix": api_key.prefix,
        "scopes": ["entitlements:read"],
        "expires_at": response.json()["expires_at"],
    }
    assert datetime.datetime.fromisoformat(response.json()["expires_at"]) == expires_at


def test_the_client_is_request_user_and_the_key_request_auth(client, issue_key):
    _api_key, raw_key = issue_key(name="Zendesk", scopes=["entitlements:read"])
    assert client.get("/api/test/scoped", headers=bearer(raw_key)).json() == {"client": "Zendesk"}


def test_a_request_without_a_key_is_refused_401_with_www_authenticate(client, db):
    response = client.get(ME)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json()["type"] == "/api/problems/unauthenticated"


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer ask_{prefix}_wrong-secret",
        "Bearer ask_000000000000_{secret}",
        "Bearer xyz_{prefix}_{secret}",
        "Bearer ask_{prefix}",
        "Bearer nonsense",
        "Bearer",
        "Bearer ask_{prefix}_{secret} extra",
        "Bearer ask_{prefix}_{secret}é",
    ],
)
def test_an_unknown_or_malformed_key_is_refused_401(client, issue_key, authorization):
    api_key, raw_key = issue_key()
    header = authorization.format(prefix=api_key.prefix, secret=raw_key.split("_", 2)[2])
    response = client.get(ME, headers={"authorization": header.encode().decode("latin-1")})
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_revoked_key_is_refused_401(client, issue_key):
    api_key, raw_key = issue_key()
    revoke_api_key(api_key=api_key)
    response = client.get(ME, headers={**bearer(raw_key), "Accept-Language": "en"})
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_an_expired_key_is_refused_401(client, issue_key):
    api_key, raw_key = issue_key(expires_at=timezone.now() + datetime.timedelta(days=1))
    ApiKey.objects.filter(pk=api_key.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    response = client.get(ME, headers={**bearer(raw_key), "Accept-Language": "en"})
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_revoking_twice_keeps_the_first_revocation_time(issue_key):
    api_key, _raw = issue_key()
    first = revoke_api_key(api_key=api_key).revoked_at
    assert revoke_api_key(api_key=ApiKey.objects.get(pk=api_key.pk)).revoked_at == first


def test_a_key_without_a_required_scope_is_refused_403(client, issue_key):
    _api_key, raw_key = issue_key(scopes=["consumption:write"])
    response = client.get("/api/test/scoped", headers=bearer(raw_key))
    assert response.status_code == 403
    assert response.json()["type"] == "/api/problems/forbidden"
    assert "entitlements:read" in response.json()["detail"]


def test_scopes_can_differ_by_method_and_head_follows_get(client, issue_key):
    _api_key, raw_key = issue_key(scopes=["entitlements:read"])
    assert client.get("/api/test/scoped", headers=bearer(raw_key)).status_code == 200
    assert client.head("/api/test/scoped", headers=bearer(raw_key)).status_code == 200
    refused = client.post("/api/test/scoped", headers=bearer(raw_key))
    assert refused.status_code == 403
    assert "charges:write" in refused.json()["detail"]
    _api_key, both = issue_key(scopes=["entitlements:read", "charges:write"])
    assert client.post("/api/test/scoped", headers=bearer(both)).status_code == 200


def test_a_view_that_declares_no_scopes_is_refused_to_every_key(client, issue_key):
    _api_key, raw_key = issue_key(scopes=["entitlements:read", "consumption:write", "charges:write"])
    assert client.get("/api/test/undeclared", headers=bearer(raw_key)).status_code == 403


def test_a_view_requiring_an_unknown_scope_fails_loudly(client, issue_key, caplog):
    _api_key, raw_key = issue_key(scopes=["entitlements:read"])
    response = client.get("/api/test/misspelled", headers=bearer(raw_key))
    assert response.status_code == 500
    assert "entitlement:read" in caplog.text


def test_last_used_at_is_recorded_but_not_on_every_request(client, issue_key, django_assert_num_queries):
    api_key, raw_key = issue_key()
    assert api_key.last_used_at is None
    client.get(ME, headers=bearer(raw_key))
    api_key.refresh_from_db()
    first_use = api_key.last_used_at
    assert first_use is not None

    forget_api_keys()  # as in another process, which reads the key
    with django_assert_num_queries(1):  # the key lookup; no UPDATE within the resolution
        assert client.get(ME, headers=bearer(raw_key)).status_code == 200
    api_key.refresh_from_db()
    assert api_key.last_used_at == first_use

    long_ago = first_use - LAST_USED_RESOLUTION - datetime.timedelta(seconds=1)
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=long_ago)
    forget_api_keys()
    client.get(ME, headers=bearer(raw_key))
    api_key.refresh_from_db()
    assert api_key.last_used_at > first_use


def test_the_create_api_key_command_prints_a_working_key_once(client):
    out = io.StringIO()
    call_command(
        "create_api_key", "--name", "Jira", "--scopes", "entitlements:read,consumption:write", stdout=out
    )
    lines = out.getvalue().splitlines()
    raw_key = next(line for line in lines if line.startswith("ask_"))
    assert any("will not be shown again" in line for line in lines)
    response = client.get(ME, headers=bearer(raw_key))
    assert response.status_code == 200
    assert response.json()["scopes"] == ["entitlements:read", "consumption:write"]
    assert response.json()["expires_at"] is None


def test_the_create_api_key_command_sets_an_expiry_in_days():
    call_command(
        "create_api_key", "--name", "Jira", "--scopes", "", "--expires-days", "90", stdout=io.StringIO()
    )
    lifetime = ApiKey.objects.get().expires_at - timezone.now()
    assert datetime.timedelta(days=90, minutes=-1) < lifetime <= datetime.timedelta(days=90)


def test_the_create_api_key_command_refuses_an_unknown_scope():
    with pytest.raises(CommandError, match="invoices:delete"):
        call_command("create_api_key", "--name", "Jira", "--scopes", "invoices:delete", stdout=io.StringIO())
    assert not ApiKey.objects.exists()


def test_a_key_in_use_is_kept_by_the_process_and_costs_no_query(client, issue_key, django_assert_num_queries):
    _api_key, raw_key = issue_key()
    client.get(ME, headers=bearer(raw_key))
    with django_assert_num_queries(0):
        assert client.get(ME, headers=bearer(raw_key)).status_code == 200


def test_a_kept_key_is_refused_at_once_when_revoked_or_edited_here(client, issue_key, admin_client):
    api_key, raw_key = issue_key()
    assert client.get(ME, headers=bearer(raw_key)).status_code == 200
    revoke_api_key(api_key=api_key)
    assert client.get(ME, headers=bearer(raw_key)).status_code == 401

    other, other_raw = issue_key()
    assert client.get(ME, headers=bearer(other_raw)).status_code == 200
    other.expires_at = timezone.now() - datetime.timedelta(seconds=1)
    other.save()
    assert client.get(ME, headers=bearer(other_raw)).status_code == 401


def test_a_kept_key_expires_on_time_and_other_processes_see_a_revocation_within_the_ttl(
    client, issue_key, settings
):
    expires_at = timezone.now() + datetime.timedelta(seconds=0.5)
    _api_key, raw_key = issue_key(expires_at=expires_at)
    assert client.get(ME, headers=bearer(raw_key)).status_code == 200
    time.sleep(max(0, (expires_at - timezone.now()).total_seconds()) + 0.05)
    assert client.get(ME, headers=bearer(raw_key)).status_code == 401  # expiry read from the kept row

    settings.API_KEY_CACHE_SECONDS = 0.2
    kept, kept_raw = issue_key()
    assert client.get(ME, headers=bearer(kept_raw)).status_code == 200
    ApiKey.objects.filter(pk=kept.pk).update(revoked_at=timezone.now())  # as another process would
    deadline = time.monotonic() + 5
    while client.get(ME, headers=bearer(kept_raw)).status_code == 200:
        assert time.monotonic() < deadline
        time.sleep(0.05)
