"""API keys for machine clients: issuing and revoking them, and the DRF authentication and permission
classes that check them.

A key reads ``ask_<prefix>_<secret>``. The prefix is public (it finds the row and names the key in
lists); only the SHA-256 of the whole key is stored. A fast hash is right here: the secret is 32 random
bytes, so there is nothing to brute-force, unlike a password.
"""

import datetime
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission

from billing.errors import BillingError
from billing.history import history_record
from billing.models import ApiKey

# The scopes a key may hold, with what each lets a client do.
SCOPES = {
    "entitlements:read": _("Read customers' entitlements"),
    "consumption:write": _("Record consumption against entitlements"),
    "charges:write": _("Request charges for out-of-scope work"),
    "work:write": _("Record delivered work (person-days)"),
    "credits:write": _("Issue credit notes for issued invoices"),
    "orders:read": _("Read service orders and what is delivered and invoiced of them"),
    "orders:write": _("Close service orders"),
    "invoices:read": _("Read customers' invoices and statements of account"),
    "events:read": _("Read the list of events (what changed, in order)"),
    "webhooks:write": _("Manage webhook endpoints and their deliveries"),
}

KEY_TYPE = "ask"
# last_used_at is kept to this resolution, so that a busy key does not write on every request.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def check_key_terms(*, scopes: Iterable[str], expires_at: datetime.datetime | None) -> None:
    """Refuses scopes the system does not know and an expiry that has passed."""
    unknown = sorted(set(scopes) - SCOPES.keys())
    if unknown:
        raise BillingError(
            _("Unknown scope(s): %(scopes)s."), code="unknown_scope", params={"scopes": ", ".join(unknown)}
        )
    if expires_at is not None and expires_at <= timezone.now():
        raise BillingError(_("An API key cannot expire in the past."), code="expiry_in_past")


def create_api_key(
    *,
    name: str,
    scopes: Iterable[str],
    expires_at: datetime.datetime | None = None,
    created_by: AbstractBaseUser | None = None,
) -> tuple[ApiKey, str]:
    """Issues a key; returns it with the raw key, which is never stored and must be shown now."""
    scopes = set(scopes)
    check_key_terms(scopes=scopes, expires_at=expires_at)
    prefix = secrets.token_hex(6)  # hex, so it holds no "_" and the key splits unambiguously
    raw_key = f"{KEY_TYPE}_{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey.objects.create(
        name=name,
        prefix=prefix,
        key_hash=hash_key(raw_key),
        scopes=[scope for scope in SCOPES if scope in scopes],
        expires_at=expires_at,
        created_by=created_by,
    )
    return api_key, raw_key


def revoke_api_key(*, api_key: ApiKey) -> ApiKey:
    """Revokes the key from now on; revoking a revoked key keeps the first revocation time."""
    if ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()):
        history_record(ApiKey.objects.filter(pk=api_key.pk))
    key_changed()
    api_key.refresh_from_db(fields=["revoked_at"])
    return api_key


# Keys found are kept in this process for API_KEY_CACHE_SECONDS, so a ticketing tool asking on every
# ticket costs no key query per request. Expiry is checked on every request against the kept row;
# revoking or editing a key forgets it here at once and in other processes within those seconds. Only
# keys that exist are kept, so unknown keys cannot grow the cache.
_found: dict[str, tuple[float, ApiKey]] = {}


def forget_api_keys() -> None:
    """Drops the keys this process keeps."""
    _found.clear()


def key_changed() -> None:
    """After a revocation or an edit: the kept keys are dropped now, and again when the transaction
    commits (another thread may have kept the old row in between)."""
    forget_api_keys()
    transaction.on_commit(forget_api_keys)


def find_api_key(raw_key: str) -> ApiKey | None:
    """The key this raw key is, or None; it may be revoked or expired."""
    digest = hash_key(raw_key)
    kept = _found.get(digest)
    if kept is not None and kept[0] > time.monotonic():
        return kept[1]
    kind, _sep, rest = raw_key.partition("_")
    prefix, _sep, secret = rest.partition("_")
    if kind != KEY_TYPE or not prefix or not secret:
        return None
    api_key = ApiKey.objects.filter(prefix=prefix).first()
    if api_key is None or not hmac.compare_digest(api_key.key_hash, digest):
        return None
    if settings.API_KEY_CACHE_SECONDS > 0:
        _found[digest] = (time.monotonic() + settings.API_KEY_CACHE_SECONDS, api_key)
    return api_key


def record_use(api_key: ApiKey, *, at: datetime.datetime) -> None:
    """Sets last_used_at when it is older than LAST_USED_RESOLUTION; the condition is in the UPDATE so
    that concurrent requests write it once."""
    if api_key.last_used_at is not None and at - api_key.last_used_at < LAST_USED_RESOLUTION:
        return
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=at - LAST_USED_RESOLUTION)
    ApiKey.objects.filter(stale, pk=api_key.pk).update(last_used_at=at)
    api_key.last_used_at = at


@dataclass(frozen=True)
class ApiClient:
    """The machine behind an API key: ``request.user`` in API views (``request.auth`` is the key)."""

    api_key: ApiKey
    is_authenticated: ClassVar[bool] = True
    is_anonymous: ClassVar[bool] = False

    @property
    def pk(self) -> str:
        # DRF's user-keyed throttles count per ``request.user.pk``; this keeps keys apart from users.
        return f"api-key-{self.api_key.pk}"

    @property
    def name(self) -> str:
        return self.api_key.name

    @property
    def scopes(self) -> list[str]:
        return self.api_key.scopes

    def __str__(self) -> str:
        return str(self.api_key)


class ApiKeyAuthentication(BaseAuthentication):
    """``Authorization: Bearer <key>``. Without that header it returns None, so DRF answers 401."""

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != b"bearer":
            return None
        if len(header) != 2:
            raise AuthenticationFailed(_("Malformed Authorization header; send “Bearer <API key>”."))
        try:
            raw_key = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed(_("Invalid API key.")) from None
        api_key = find_api_key(raw_key)
        if api_key is None:
            raise AuthenticationFailed(_("Invalid API key."))
        now = timezone.now()
        if api_key.is_revoked:
            raise AuthenticationFailed(_("This API key has been revoked."))
        if api_key.is_expired(now):
            raise AuthenticationFailed(_("This API key has expired."))
        record_use(api_key, at=now)
        # for the audit history, which sees the Django request only (billing.history.api_change_reason)
        request._request.api_key = api_key
        return ApiClient(api_key), api_key

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class HasScope(BasePermission):
    """The key must hold every scope in the view's ``required_scopes``: a list, or a dict from HTTP method
    to list (HEAD follows GET). A view or method that declares none is refused: set ``required_scopes = []``
    for "any valid key", or set ``permission_classes`` on the view."""

    message = _("This API key lacks a scope this operation needs.")

    def has_permission(self, request, view) -> bool:
        required = self.required_scopes(request, view)
        if required is None or not isinstance(request.auth, ApiKey):
            return False
        missing = [scope for scope in required if scope not in request.auth.scopes]
        if missing:
            self.message = _("This API key lacks the scope(s): %(scopes)s.") % {"scopes": ", ".join(missing)}
            return False
        return True

    @staticmethod
    def required_scopes(request, view) -> list[str] | None:
        declared = getattr(view, "required_scopes", None)
        if isinstance(declared, dict):
            method = "GET" if request.method == "HEAD" and "HEAD" not in declared else request.method
            declared = declared.get(method)
        if declared is None:
            return None
        if unknown := set(declared) - SCOPES.keys():
            raise ImproperlyConfigured(f"{type(view).__name__} requires unknown scopes {sorted(unknown)}")
        return list(declared)


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """Describes ApiKeyAuthentication in the OpenAPI schema as HTTP bearer authentication."""

    target_class = ApiKeyAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key, “ask_<prefix>_<secret>”, issued by the vendor.",
        }
