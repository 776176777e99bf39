"""Delivering events to a real HTTP receiver on 127.0.0.1 that verifies every signature with the Standard
Webhooks library: in order per endpoint and customer, once per event id after an outage, nothing for a
rolled-back change, no redirect followed, a slow receiver cut short, an exhausted schedule disabling the
endpoint."""

import datetime
import json
import socket
import time

import pytest
import requests
import time_machine
from django.core import mail
from django.db import transaction
from django.utils import translation
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from events.delivery import (
    _AttemptAdapter,
    delivery_resend,
    events_replay,
    webhook_secret_new,
    webhook_secret_rotate,
)
from events.models import Delivery, DeliveryAttempt, DeliveryStatus, Event, WebhookEndpoint
from events.services import event_record
from events.tasks import purge_events, send_deliveries, send_due_deliveries
from tests.events.receiver import Receiver

pytestmark = pytest.mark.django_db
START = datetime.datetime(2026, 6, 1, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.WEBHOOK_CONNECT_TIMEOUT = 1.0
    settings.WEBHOOK_READ_TIMEOUT = 2.0
    with Receiver() as running:
        yield running


@pytest.fixture(autouse=True)
def english():
    """The attempts' errors are written in the language active when they are sent: English here."""
    with translation.override("en"):
        yield


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def endpoint(receiver) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(url=receiver.url, secret=webhook_secret_new())


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Runs the block's on-commit work (the tasks it sends, eagerly) as if its transaction committed."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def record(committed, *customers: str) -> list[Event]:
    with committed():
        return [
            event_record("quote.sent", customer_code=code, data={"object": {"number": f"Q-{i}"}})
            for i, code in enumerate(customers)
        ]


def verified_ids(receiver: Receiver, secret: str) -> list[str]:
    """The webhook-ids of the accepted requests, each signature checked with ``secret``."""
    for request in receiver.accepted():
        Webhook(secret).verify(request.body, request.headers)
    return [request.webhook_id for request in receiver.accepted()]


def test_every_delivery_is_signed_and_carries_the_event(receiver, endpoint, committed):
    events = record(committed, "ACME", "ACME", "GLOBEX")
    assert sorted(verified_ids(receiver, endpoint.secret)) == sorted(e.webhook_id for e in events)
    request = next(r for r in receiver.received if r.webhook_id == events[0].webhook_id)
    assert json.loads(request.body) == events[0].envelope()
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("billing-webhooks/")
    assert request.headers["webhook-signature"].startswith("v1,")
    assert request.path == "/hooks"
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
    attempt = DeliveryAttempt.objects.get(delivery__event=events[0])
    assert attempt.succeeded
    assert attempt.status_code == 200
    assert attempt.response_excerpt == "answered 200"
    with pytest.raises(WebhookVerificationError):
        Webhook(webhook_secret_new()).verify(request.body, request.headers)


def test_during_a_rotation_both_secrets_sign_and_after_the_overlap_only_the_new(
    receiver, endpoint, committed, clock, settings
):
    settings.WEBHOOK_SECRET_OVERLAP_HOURS = 24
    old = endpoint.secret
    new = webhook_secret_rotate(endpoint)
    assert new != old
    assert new.startswith("whsec_")
    record(committed, "ACME")
    during = receiver.received[-1]
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(during.body, during.headers)
    Webhook(new).verify(during.body, during.headers)

    clock.shift(datetime.timedelta(hours=24, seconds=1))
    record(committed, "ACME")
    after = receiver.received[-1]
    Webhook(new).verify(after.body, after.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(after.body, after.headers)


def test_a_receiver_down_for_a_while_gets_every_event_once_and_in_order(receiver, endpoint, committed, clock):
    receiver.status = 503
    events = record(committed, "ACME", "ACME", "ACME", "GLOBEX", "ACME")
    acme = [e.webhook_id for e in events if e.customer_code == "ACME"]
    # Each customer's first event was tried; the later ones wait behind it.
    assert sorted(r.webhook_id for r in receiver.received) == sorted([acme[0], events[3].webhook_id])
    with committed():
        assert send_due_deliveries() == 0  # the later ones are due, but each queue's first is not
    for _ in range(3):  # hours of outage: the beat finds the retries when they are due
        clock.shift(datetime.timedelta(hours=1))
        with committed():
            send_due_deliveries()
    assert {r.webhook_id for r in receiver.received} == {acme[0], events[3].webhook_id}
    failed = DeliveryAttempt.objects.filter(delivery__event=events[0])
    assert failed.count() == 4
    assert {(a.status_code, a.succeeded, a.response_excerpt) for a in failed} == {
        (503, False, "answered 503")
    }
    assert "503" in failed.first().error

    receiver.status = 200
    clock.shift(datetime.timedelta(hours=3))
    with committed():
        assert send_due_deliveries() == 2
    delivered = verified_ids(receiver, endpoint.secret)
    assert [i for i in delivered if i in acme] == acme
    assert sorted(delivered) == sorted(e.webhook_id for e in events)  # once each
    assert not Delivery.objects.exclude(status=DeliveryStatus.DELIVERED).exists()


def test_a_closed_port_is_a_failed_attempt_retried_on_the_schedule(receiver, committed, clock, settings):
    settings.WEBHOOK_RETRY_SCHEDULE = [60, 600]
    settings.WEBHOOK_RETRY_JITTER = 0.1
    port = receiver.server.server_address[1]
    receiver.__exit__()  # nobody listens there any more
    WebhookEndpoint.objects.create(url=f"http://127.0.0.1:{port}/hooks", secret=webhook_secret_new())
    (event,) = record(committed, "ACME")
    delivery = Delivery.objects.get(event=event)
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.attempts == 1
    assert START + datetime.timedelta(seconds=60) <= delivery.next_attempt_at
    assert delivery.next_attempt_at <= START + datetime.timedelta(seconds=66)
    attempt = delivery.attempt_log.get()
    assert attempt.status_code is None
    assert not attempt.succeeded
    assert attempt.error


def test_a_rolled_back_change_sends_nothing(receiver, endpoint, committed):
    def change():
        with committed(), transaction.atomic():
            event_record("quote.sent", customer_code="ACME", data={})
            raise RuntimeError("the change fails")

    with pytest.raises(RuntimeError):
        change()
    with committed():
        send_due_deliveries()
    assert receiver.received == []
    assert not Delivery.objects.exists()


def test_a_redirect_is_not_followed(receiver, endpoint, committed):
    receiver.status = 302
    receiver.location = receiver.url + "/elsewhere"
    (event,) = record(committed, "ACME")
    assert [r.path for r in receiver.received] == ["/hooks"]
    attempt = DeliveryAttempt.objects.get()
    assert attempt.status_code == 302
    assert not attempt.succeeded
    assert "redirect" in attempt.error
    assert Delivery.objects.get(event=event).status == DeliveryStatus.PENDING


def test_a_slow_receiver_times_out(receiver, endpoint, committed, settings):
    settings.WEBHOOK_READ_TIMEOUT = 0.2
    receiver.delay = 1.0
    (event,) = record(committed, "ACME")
    attempt = DeliveryAttempt.objects.get()
    assert attempt.status_code is None
    assert not attempt.succeeded
    assert "in time" in attempt.error
    assert Delivery.objects.get(event=event).status == DeliveryStatus.PENDING


def test_a_trickling_answer_is_cut_at_the_deadline(receiver, endpoint, committed, settings):
    settings.WEBHOOK_CONNECT_TIMEOUT = 0.1
    settings.WEBHOOK_READ_TIMEOUT = 0.2
    settings.WEBHOOK_RESPONSE_EXCERPT_CHARS = 1000
    receiver.trickle = 0.05  # 2000 bytes, one every 50 ms: far past the attempt's deadline
    record(committed, "ACME")
    attempt = DeliveryAttempt.objects.get()
    assert attempt.succeeded
    assert attempt.status_code == 200
    assert 0 < len(attempt.response_excerpt) < 1000


def test_a_receiver_trickling_its_headers_is_cut_at_the_deadline(receiver, endpoint, committed, settings):
    settings.WEBHOOK_CONNECT_TIMEOUT = 0.1
    settings.WEBHOOK_READ_TIMEOUT = 0.2
    receiver.trickle_headers = 0.05  # a byte every 50 ms: no read ever times out, 20 s in all
    (event,) = record(committed, "ACME")
    attempt = DeliveryAttempt.objects.get()
    assert attempt.status_code is None
    assert not attempt.succeeded
    assert "in time" in attempt.error
    assert Delivery.objects.get(event=event).status == DeliveryStatus.PENDING


def test_an_exhausted_schedule_disables_the_endpoint_and_tells_the_administrators(
    receiver, endpoint, committed, clock, settings
):
    settings.WEBHOOK_RETRY_SCHEDULE = [10, 20]
    settings.ADMINS = [("Ops", "ops@example.com")]
    receiver.status = 500
    first, second = record(committed, "ACME", "ACME")
    for _ in range(2):
        clock.shift(datetime.timedelta(minutes=1))
        with committed():
            send_due_deliveries()
    endpoint.refresh_from_db()
    assert Delivery.objects.get(event=first).status == DeliveryStatus.FAILED
    assert Delivery.objects.get(event=first).attempts == 3
    assert not endpoint.enabled
    assert "500" in endpoint.disabled_reason
    assert Delivery.objects.get(event=second).status == DeliveryStatus.PENDING
    assert [m.to for m in mail.outbox] == [["ops@example.com"]]
    assert endpoint.url in mail.outbox[0].subject
    assert {r.webhook_id for r in receiver.received} == {first.webhook_id}

    receiver.status = 200  # the receiver is mended and the endpoint enabled: the later event goes out
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(enabled=True, disabled_reason="")
    with committed():
        send_due_deliveries()
    assert Delivery.objects.get(event=second).status == DeliveryStatus.DELIVERED
    assert verified_ids(receiver, endpoint.secret) == [second.webhook_id]


def test_an_address_that_turned_private_is_refused_before_sending(receiver, committed, monkeypatch):
    WebhookEndpoint.objects.create(url="https://hooks.example.com/in", secret=webhook_secret_new())
    monkeypatch.setattr(
        "socket.getaddrinfo", lambda *a, **k: [(2, 1, 6, "", ("10.1.2.3", 443))], raising=True
    )
    (event,) = record(committed, "ACME")
    attempt = DeliveryAttempt.objects.get()
    assert "10.1.2.3" in attempt.error
    assert attempt.status_code is None
    assert Delivery.objects.get(event=event).status == DeliveryStatus.PENDING


def test_an_attempt_connects_to_the_address_it_checked_not_to_a_new_resolution(receiver, monkeypatch):
    resolve = socket.getaddrinfo

    def rebinding(host, *args, **kwargs):  # the name resolves nowhere now (or, as well, somewhere private)
        if host == "hooks.test":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    url = f"http://hooks.test:{receiver.server.server_address[1]}/hooks"

    def post(address):
        with requests.Session() as session:
            session.trust_env = False
            session.mount("http://", _AttemptAdapter(time.monotonic() + 5, address))
            return session.post(url, data=b"{}", timeout=(1, 2))

    assert post("127.0.0.1").status_code == 200
    assert receiver.received[0].headers["host"] == url.split("/")[2]
    with pytest.raises(requests.ConnectionError):
        post(None)  # resolving the name again


def test_resend_and_replay_keep_the_webhook_id(receiver, committed):
    early = record(committed, "ACME", "GLOBEX")  # before the endpoint existed: no delivery
    endpoint = WebhookEndpoint.objects.create(url=receiver.url, secret=webhook_secret_new())
    (late,) = record(committed, "ACME")
    assert verified_ids(receiver, endpoint.secret) == [late.webhook_id]

    with committed():
        delivery_resend(Delivery.objects.get(event=late))
    assert verified_ids(receiver, endpoint.secret) == [late.webhook_id] * 2

    with committed():
        assert events_replay(endpoint, after_id=early[0].id, until_id=late.id) == 2
    assert sorted(verified_ids(receiver, endpoint.secret)[2:]) == sorted(
        [early[1].webhook_id, late.webhook_id]
    )
    with committed():
        assert events_replay(endpoint, after_id=0) == 3
    ids = verified_ids(receiver, endpoint.secret)
    assert sorted(ids[4:]) == sorted(e.webhook_id for e in [*early, late])
    assert Delivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.DELIVERED).count() == 3


def test_a_replay_to_an_endpoint_of_some_types_sends_only_those(receiver, committed):
    with committed():
        quote = event_record("quote.sent", customer_code="ACME", data={})
        event_record("invoice.issued", customer_code="ACME", data={})
    endpoint = WebhookEndpoint.objects.create(
        url=receiver.url, secret=webhook_secret_new(), event_types=["quote.sent"]
    )
    with committed():
        assert events_replay(endpoint, after_id=0) == 1
    assert verified_ids(receiver, endpoint.secret) == [quote.webhook_id]


def test_a_second_run_of_the_task_sends_nothing_again(receiver, endpoint, committed):
    (_event,) = record(committed, "ACME")
    assert send_deliveries(endpoint.pk, "ACME") == 0
    assert len(receiver.received) == 1


def test_purge_forgets_old_events_whose_deliveries_are_done(receiver, endpoint, committed, clock, settings):
    settings.EVENTS_RETENTION_DAYS = 90
    delivered, waiting = record(committed, "ACME", "GLOBEX")
    Delivery.objects.filter(event=waiting).update(
        status=DeliveryStatus.PENDING, next_attempt_at=START + datetime.timedelta(days=365)
    )
    clock.shift(datetime.timedelta(days=91))
    (recent,) = record(committed, "ACME")
    assert purge_events() == 1
    assert list(Event.objects.values_list("id", flat=True)) == [waiting.id, recent.id]
    assert not DeliveryAttempt.objects.filter(delivery__event_id=delivered.id).exists()


def test_purge_keeps_the_events_with_a_key_so_they_are_never_announced_twice(
    receiver, endpoint, committed, clock, settings
):
    settings.EVENTS_RETENTION_DAYS = 90
    with committed():
        overdue = event_record("invoice.overdue", customer_code="ACME", data={}, key="invoice.overdue:1")
    clock.shift(datetime.timedelta(days=91))
    assert purge_events() == 0
    assert not Delivery.objects.filter(event=overdue).exists()
    with committed():
        assert event_record("invoice.overdue", customer_code="ACME", data={}, key="invoice.overdue:1") is None


def test_an_endpoint_enabled_again_gets_what_it_missed_in_order(
    receiver, endpoint, committed, clock, settings
):
    from events.endpoints import webhook_endpoint_update

    settings.WEBHOOK_RETRY_SCHEDULE = [10]
    receiver.status = 500
    first, second = record(committed, "ACME", "ACME")
    clock.shift(datetime.timedelta(minutes=1))
    with committed():
        send_due_deliveries()
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    (while_disabled,) = record(committed, "ACME")  # no delivery is queued for a disabled endpoint
    assert not Delivery.objects.filter(event=while_disabled).exists()

    receiver.status = 200
    receiver.received.clear()
    with committed():
        webhook_endpoint_update(endpoint=endpoint, enabled=True)
    assert verified_ids(receiver, endpoint.secret) == [
        first.webhook_id,
        second.webhook_id,
        while_disabled.webhook_id,
    ]
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
