"""Delivering events to webhook endpoints: where an endpoint may point, its signing secrets, sending one
endpoint's deliveries in order, and the staff's resend and replay.

Deliveries follow the Standard Webhooks specification (headers ``webhook-id``, ``webhook-timestamp`` and
``webhook-signature``, HMAC-SHA256) through its published library. An endpoint's deliveries for one
customer go out in event order: the oldest pending one is sent under a row lock, and while it fails it
holds back the later ones, until it is delivered or given up (the endpoint is then disabled).
"""

import base64
import contextlib
import datetime
import ipaddress
import json
import logging
import random
import secrets
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass

import requests
import requests.adapters
import requests.utils
import urllib3
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import mail_admins
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from standardwebhooks.webhooks import Webhook

from billing.dispatch import send_task_on_commit
from events.models import Delivery, DeliveryAttempt, DeliveryStatus, Event, WebhookEndpoint

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
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass  # a name
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]


def webhook_url_check(url: str) -> None:
    """Raises ValidationError unless ``url`` is a place an endpoint may point to: https (http only on a
    host listed in WEBHOOK_ALLOWED_HOSTS), no user or password in it, and every address its host resolves
    to public, unless the host (name or literal address) is listed. Checked when an endpoint is saved and
    again before each attempt, since what a name resolves to may change."""
    _approved_address(url)


def _approved_address(url: str) -> str | None:
    """Checks ``url`` (webhook_url_check) and returns the address an attempt connects to: the one checked,
    not what the name resolves to a moment later (DNS rebinding). None for a listed host."""
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
        return None
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
    return str(addresses[0])


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


def endpoint_catch_up(endpoint: WebhookEndpoint) -> int:
    """What an endpoint enabled again is owed: its given-up deliveries are pending again, and every event it
    listens to recorded since the first of them gets a delivery (none was queued while it was disabled).
    They go out in event order per customer, as ever; what it had received stays received. Returns how
    many deliveries are pending."""
    failed = Delivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.FAILED)
    first = failed.order_by("event_id").values_list("event_id", flat=True).first()
    if first is None:
        return 0
    now = timezone.now()
    with transaction.atomic():
        failed.update(**_AGAIN, next_attempt_at=now)
        missed = Event.objects.filter(id__gt=first).exclude(deliveries__endpoint=endpoint)
        if endpoint.event_types:
            missed = missed.filter(type__in=endpoint.event_types)
        Delivery.objects.bulk_create(
            (
                Delivery(endpoint=endpoint, event_id=event_id, customer_code=code, next_attempt_at=now)
                for event_id, code in missed.values_list("id", "customer_code").iterator()
            ),
            ignore_conflicts=True,
            batch_size=1000,
        )
        pending = Delivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.PENDING)
        _dispatch_on_commit(endpoint.pk, pending.values_list("customer_code", flat=True).distinct())
        return pending.count()


# -- Sending -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Answer:
    status_code: int | None
    excerpt: str
    error: str
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        return not self.error and self.status_code is not None and 200 <= self.status_code < 300


def webhook_request(endpoint: WebhookEndpoint, event: Event, at: datetime.datetime) -> tuple[bytes, dict]:
    """The body and headers of ``event`` sent to ``endpoint`` at ``at``, signed with every secret in force
    (Standard Webhooks: ``v1,<signature>`` per secret, space-separated)."""
    body = json.dumps(event.envelope(), separators=(",", ":"))
    at = at.astimezone(datetime.UTC)  # the library reads the timestamp as UTC whatever its zone
    signatures = " ".join(
        Webhook(secret).sign(msg_id=event.webhook_id, timestamp=at, data=body)
        for secret in signing_secrets(endpoint, at)
    )
    headers = {
        "webhook-id": event.webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signatures,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }
    return body.encode(), headers


class _AttemptAdapter(requests.adapters.HTTPAdapter):
    """Cuts the connection at ``deadline`` whatever the receiver does (the timeouts of requests bound each
    read, so a receiver trickling its status line or headers a byte at a time would hold the worker), and
    connects to ``address`` when given: the address webhook_url_check approved (the name is still the one
    sent, checked against the certificate and given to TLS)."""

    def __init__(self, deadline: float, address: str | None = None):
        super().__init__(max_retries=0)
        self.deadline, self.address = deadline, address

    def get_connection_with_tls_context(self, request, verify, proxies=None, cert=None):
        pool = super().get_connection_with_tls_context(request, verify, proxies=proxies, cert=cert)
        if not getattr(pool.ConnectionCls, "_attempt", False):
            # Through a proxy, the proxy connects (the name was checked); otherwise the approved address.
            proxy = requests.utils.select_proxy(request.url, proxies)
            address = None if proxy else self.address
            pool.ConnectionCls = _attempt_connection(pool.ConnectionCls, self.deadline, address)
        return pool


def _attempt_connection(base: type, deadline: float, address: str | None) -> type:
    class AttemptConnection(base):
        _attempt = True

        def _new_conn(self):
            if address is None:
                return super()._new_conn()
            name, self._dns_host = self._dns_host, address
            try:
                return super()._new_conn()
            finally:
                self._dns_host = name

        def connect(self):
            super().connect()
            self._watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), self._cut)
            self._watchdog.daemon = True
            self._watchdog.start()

        def _cut(self):
            with contextlib.suppress(OSError, AttributeError):
                self.sock.shutdown(socket.SHUT_RDWR)

        def close(self):
            if watchdog := getattr(self, "_watchdog", None):
                watchdog.cancel()
            super().close()

    return AttemptConnection


def _excerpt(response: requests.Response, deadline: float) -> str:
    """The start of the receiver's answer, read no longer than until ``deadline``: a receiver that trickles
    its answer does not hold the worker."""
    limit = settings.WEBHOOK_RESPONSE_EXCERPT_CHARS * 4  # bytes enough for that many UTF-8 characters
    read = b""
    while len(read) < limit and time.monotonic() < deadline:
        try:
            chunk = response.raw.read1(limit - len(read))
        except (urllib3.exceptions.HTTPError, OSError):  # cut at the deadline, or the receiver hung up
            break
        if not chunk:
            break
        read += chunk
    return read.decode("utf-8", "replace")[: settings.WEBHOOK_RESPONSE_EXCERPT_CHARS]


def _post(endpoint: WebhookEndpoint, event: Event) -> _Answer:
    """One attempt: checks again where the URL points (its name may resolve elsewhere now), then posts."""
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        address = _approved_address(endpoint.url)
    except ValidationError as refusal:
        return _Answer(None, "", " ".join(refusal.messages)[:300], elapsed())
    body, headers = webhook_request(endpoint, event, timezone.now())
    timeouts = (settings.WEBHOOK_CONNECT_TIMEOUT, settings.WEBHOOK_READ_TIMEOUT)
    deadline = started + _ATTEMPT_DEADLINE_FACTOR * sum(timeouts)
    try:
        with requests.Session() as session:
            session.trust_env = False  # no proxy or .netrc from the environment: the checked address only
            session.mount("https://", _AttemptAdapter(deadline, address))
            session.mount("http://", _AttemptAdapter(deadline, address))
            with session.post(
                endpoint.url, data=body, headers=headers, timeout=timeouts, allow_redirects=False, stream=True
            ) as response:
                if time.monotonic() >= deadline:  # cut in the middle of its headers: no answer
                    raise requests.Timeout
                excerpt = _excerpt(response, deadline)
                status = response.status_code
    except requests.RequestException as error:
        if isinstance(error, requests.Timeout) or time.monotonic() >= deadline:
            return _Answer(None, "", _("The receiver did not answer in time."), elapsed())
        reason = _("The receiver could not be reached: %(error)s") % {"error": error}
        return _Answer(None, "", reason[:300], elapsed())
    if 300 <= status < 400:
        error = _("The receiver answered with a redirect (HTTP %(status)s), which is not followed.")
    elif not 200 <= status < 300:
        error = _("The receiver answered HTTP %(status)s.")
    else:
        error = ""
    return _Answer(status, excerpt, error % {"status": status} if error else "", elapsed())


def _retry_wait(attempts: int) -> datetime.timedelta | None:
    """How long to wait after the ``attempts``-th failed attempt; None once the schedule is spent."""
    schedule = settings.WEBHOOK_RETRY_SCHEDULE
    if attempts > len(schedule):
        return None
    jitter = 1 + random.uniform(0, settings.WEBHOOK_RETRY_JITTER)
    return datetime.timedelta(seconds=schedule[attempts - 1] * jitter)


def _in_every_language(render, separator: str) -> str:
    """``render()`` in each of the site's languages: administrators read either."""
    texts = []
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            texts.append(render())
    return separator.join(dict.fromkeys(texts))


def _endpoint_give_up(endpoint: WebhookEndpoint, delivery: Delivery, answer: _Answer) -> None:
    """The last retry failed: the delivery is given up, the endpoint disabled (its later deliveries wait
    until it is enabled again) and the administrators told."""
    reason = _("Disabled after event %(event)s failed %(attempts)s times: %(error)s") % {
        "event": delivery.event.webhook_id,
        "attempts": delivery.attempts,
        "error": answer.error,
    }
    logger.warning("Webhook endpoint %s disabled: %s", endpoint.pk, reason)
    endpoint.enabled = False
    endpoint.disabled_reason = reason[:300]
    endpoint.save(update_fields=["enabled", "disabled_reason"])
    subject = _in_every_language(
        lambda: _("Webhook endpoint %(url)s disabled") % {"url": endpoint.url}, " / "
    )

    def message() -> str:
        return _(
            "Deliveries to the webhook endpoint %(url)s failed until the retry schedule ran out, so it was "
            "disabled.\n\n%(reason)s\n\nOnce the receiver works, enable the endpoint again: the failed "
            "delivery and every event recorded since go out again, in order."
        ) % {"url": endpoint.url, "reason": reason}

    body = _in_every_language(message, "\n\n----\n\n")
    transaction.on_commit(lambda: mail_admins(subject, body, fail_silently=True))


def _send_head(endpoint_id: int, customer_code: str) -> bool:
    """Sends the oldest pending delivery of the endpoint and customer, under a row lock held until its
    outcome is recorded: a worker killed meanwhile leaves it pending (sent again, same ``webhook-id``) and a
    second worker skips it. True when it was delivered and the next one may follow."""
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id, enabled=True).first()
        if endpoint is None:
            return False
        queue = Delivery.objects.filter(
            endpoint_id=endpoint_id, customer_code=customer_code, status=DeliveryStatus.PENDING
        )
        head_id = queue.order_by("event_id").values_list("id", flat=True).first()
        if head_id is None:
            return False
        # Only the head is locked: skipping a locked head for the next one would send out of order.
        # SQLite has no row locks; its write lock serialises the writers.
        head = (
            queue.filter(pk=head_id)
            .select_related("event")
            .select_for_update(skip_locked=True, of=("self",))
            .first()
        )
        if head is None:  # another worker is sending it, and will send the ones after it
            return False
        now = timezone.now()
        if head.next_attempt_at > now:  # waiting for its retry: the later ones wait with it
            return False
        answer = _post(endpoint, head.event)
        DeliveryAttempt.objects.create(
            delivery=head,
            started_at=now,
            duration_ms=answer.duration_ms,
            status_code=answer.status_code,
            succeeded=answer.succeeded,
            response_excerpt=answer.excerpt,
            error=answer.error[:300],
        )
        head.attempts += 1
        head.last_attempt_at = now
        if answer.succeeded:
            head.status = DeliveryStatus.DELIVERED
            head.delivered_at = timezone.now()
        elif (wait := _retry_wait(head.attempts)) is not None:
            head.next_attempt_at = now + wait
        else:
            head.status = DeliveryStatus.FAILED
            _endpoint_give_up(endpoint, head, answer)
        head.save(update_fields=["status", "attempts", "last_attempt_at", "next_attempt_at", "delivered_at"])
        return answer.succeeded


def deliveries_send(*, endpoint_id: int, customer_code: str, limit: int | None = None) -> int:
    """Sends the due pending deliveries of one endpoint and customer, in event order, each in its own
    transaction; stops at the first that fails (it holds the later ones back until its retry), or after
    ``limit``. Returns how many were delivered. Safe to run twice and side by side: each delivery is sent
    under its row lock."""
    delivered = 0
    while (limit is None or delivered < limit) and _send_head(endpoint_id, customer_code):
        delivered += 1
    return delivered


def deliveries_due() -> list[tuple[int, str]]:
    """The (endpoint, customer) queues of enabled endpoints whose first pending delivery is due now."""
    earlier = Delivery.objects.filter(
        endpoint_id=OuterRef("endpoint_id"),
        customer_code=OuterRef("customer_code"),
        status=DeliveryStatus.PENDING,
        event_id__lt=OuterRef("event_id"),
    )
    return list(
        Delivery.objects.filter(
            status=DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now(), endpoint__enabled=True
        )
        .exclude(Exists(earlier))
        .order_by()
        .values_list("endpoint_id", "customer_code")
        .distinct()
    )


def events_purge(*, before: datetime.datetime) -> int:
    """Deletes the events that occurred before ``before`` and have no delivery left to send (with their
    deliveries and attempts); returns how many. Events with a key stay (their deliveries go): the key is
    what keeps a periodic check from announcing an invoice overdue or a period lapsed a second time, and
    there is one such event per invoice or period at most. The event list shows none of them past the
    retention (events.api)."""
    stale = Event.objects.filter(occurred_at__lt=before).exclude(deliveries__status=DeliveryStatus.PENDING)
    Delivery.objects.filter(event__in=stale.filter(key__isnull=False)).delete()
    stale = stale.filter(key__isnull=True)
    purged = 0
    while ids := list(stale.values_list("id", flat=True)[:1000]):
        purged += Event.objects.filter(id__in=ids).delete()[1].get(Event._meta.label, 0)
    return purged
