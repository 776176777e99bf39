"""Delivering events to webhook endpoints: where an endpoint may point, its signing secrets, sending one
endpoint's deliveries in order, and the staff's resend and replay.

Deliveries follow the Standard Webhooks specification (headers ``webhook-id``, ``webhook-timestamp`` and
``webhook-signature``, HMAC-SHA256) through its published library. An endpoint's deliveries for one
customer go out in event order: the oldest pending one is sent under a row lock, and while it fails it
holds back the later ones, until it is delivered or given up (the endpoint is then disabled).
"""

import base64
import datetime
import ipaddress
import logging
import secrets
import socket
import urllib.parse

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.dispatch import send_task_on_commit
from events.models import Delivery, DeliveryStatus, Event, WebhookEndpoint

logger = logging.getLogger(__name__)

USER_AGENT = "billing-webhooks/1 (contract and billing system; Standard Webhooks)"
# How long one attempt may take in all, whatever the receiver trickles: connect, answer and excerpt.
_ATTEMPT_DEADLINE_FACTOR = 2


# -- Where an endpoint may point (server-side request forgery) ---------------------------------------------


def _host_listed(host: str) -> bool:
    listed = {name.strip().lower().strip("[]") for name in settings.WEBHOOK_ALLOWED_HOSTS}
    return host.lower() in listed


def _address_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """False for every range a request must not reach from here: private, loopback, link-local (the cloud
    metadata service at 169.254.169.254), reserved, multicast, unspecified, shared (100.64/10) and the IPv6
    forms that carry one of those IPv4 addresses (mapped, 6to4, NAT64)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in ipaddress.IPv6Network("64:ff9b::/96"):
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and not _address_public(embedded):
            return False
    return address.is_global and not (
        address.is_multicast or address.is_private or address.is_reserved or address.is_link_local
    )


def _resolved_addresses(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]


def webhook_url_check(url: str) -> None:
    """Raises ValidationError unless ``url`` is a place an endpoint may point to: https (http only on a
    host listed in WEBHOOK_ALLOWED_HOSTS), no user or password in it, and every address its host resolves
    to public, unless the host (name or literal address) is listed. Checked when an endpoint is saved and
    again before each attempt, since what a name resolves to may change."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValidationError(_("The webhook URL is not a valid URL."), code="webhook_url_invalid") from None
    host = (parts.hostname or "").rstrip(".")
    if parts.scheme not in ("http", "https") or not host:
        raise ValidationError(_("The webhook URL must be an https:// URL."), code="webhook_url_scheme")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ValidationError(
            _("The webhook URL must not carry a user name or password."), code="webhook_url_userinfo"
        )
    listed = _host_listed(host)
    if parts.scheme != "https" and not listed:
        raise ValidationError(
            _("The webhook URL must use https (http only for the hosts the administrator allows)."),
            code="webhook_url_scheme",
        )
    if listed:
        return
    try:
        addresses = _resolved_addresses(host, port or (443 if parts.scheme == "https" else 80))
    except (OSError, UnicodeError, ValueError):
        raise ValidationError(
            _("The webhook URL's host %(host)s cannot be resolved."),
            code="webhook_url_unresolved",
            params={"host": host},
        ) from None
    refused = [address for address in addresses if not _address_public(address)]
    if refused or not addresses:
        raise ValidationError(
            _(
                "The webhook URL's host %(host)s resolves to a private, loopback or reserved address "
                "(%(address)s), which webhooks may not reach unless the administrator allows the host."
            ),
            code="webhook_url_private",
            params={"host": host, "address": ", ".join(str(a) for a in refused) or "-"},
        )


# -- Signing secrets -----------------------------------------------------------------------------------------


def webhook_secret_new() -> str:
    """A new signing secret in the Standard Webhooks form: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def signing_secrets(endpoint: WebhookEndpoint, at: datetime.datetime) -> list[str]:
    """The secrets that sign a delivery sent at ``at``: the current one, and the previous one during the
    overlap after a rotation (a receiver that still has the old one keeps verifying)."""
    in_force = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_until and endpoint.previous_secret_until > at:
        in_force.append(endpoint.previous_secret)
    return in_force


def webhook_secret_rotate(endpoint: WebhookEndpoint) -> str:
    """Gives ``endpoint`` a new secret and returns it (shown once); the current one keeps signing beside it
    for WEBHOOK_SECRET_OVERLAP_HOURS."""
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        locked.previous_secret = locked.secret
        locked.previous_secret_until = timezone.now() + datetime.timedelta(
            hours=settings.WEBHOOK_SECRET_OVERLAP_HOURS
        )
        locked.secret = webhook_secret_new()
        locked.save(update_fields=["secret", "previous_secret", "previous_secret_until"])
    endpoint.secret = locked.secret
    endpoint.previous_secret = locked.previous_secret
    endpoint.previous_secret_until = locked.previous_secret_until
    return locked.secret


# -- Resend and replay ---------------------------------------------------------------------------------------


def _dispatch_on_commit(endpoint_id: int, customer_codes) -> None:
    from events.tasks import send_deliveries  # the tasks call this module

    for customer_code in sorted(set(customer_codes)):
        send_task_on_commit(send_deliveries, endpoint_id, customer_code)


_AGAIN = {"status": DeliveryStatus.PENDING, "attempts": 0, "delivered_at": None}


def delivery_resend(delivery: Delivery) -> Delivery:
    """Sends ``delivery`` again (delivered or given up alike) with the same ``webhook-id``: pending, due
    now, with a fresh retry schedule. It goes out before the later pending deliveries of its endpoint and
    customer, and once the endpoint is enabled if it is not."""
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(**_AGAIN, next_attempt_at=timezone.now())
        delivery.refresh_from_db()
        _dispatch_on_commit(delivery.endpoint_id, [delivery.customer_code])
    return delivery


def events_replay(endpoint: WebhookEndpoint, *, after_id: int, until_id: int | None = None) -> int:
    """Sends ``endpoint`` again every event after ``after_id`` (up to ``until_id``, included) of the types
    it listens to, with their own ``webhook-id``s: deliveries it had are pending again, the missing ones
    (events recorded before it existed, or while it listened to other types) are created. Returns how
    many events will be sent."""
    events = Event.objects.filter(id__gt=after_id)
    if until_id is not None:
        events = events.filter(id__lte=until_id)
    if endpoint.event_types:
        events = events.filter(type__in=endpoint.event_types)
    now = timezone.now()
    with transaction.atomic():
        chosen = list(events.values_list("id", "customer_code"))
        Delivery.objects.filter(endpoint=endpoint, event_id__in=[i for i, _c in chosen]).update(
            **_AGAIN, next_attempt_at=now
        )
        Delivery.objects.bulk_create(
            (
                Delivery(endpoint=endpoint, event_id=event_id, customer_code=code, next_attempt_at=now)
                for event_id, code in chosen
            ),
            ignore_conflicts=True,
            batch_size=1000,
        )
        _dispatch_on_commit(endpoint.pk, [code for _i, code in chosen])
    return len(chosen)
