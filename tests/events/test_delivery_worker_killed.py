"""A Celery worker SIGKILLed while it posts an event: the delivery's row lock and its unfinished attempt go
with the worker's transaction, the message (acknowledged only at the end) comes back to a new worker, and
the receiver gets the event again with the same ``webhook-id``: delivered at least once, never lost.

The receiver holds the first request until the worker is dead, so the kill lands mid-delivery without any
timing guessed. The workers get a visibility timeout of two seconds, so the new one takes the message back
at once instead of after an hour."""

import os
import signal
import threading

import pytest
from django.conf import settings

from events.delivery import webhook_secret_new
from events.models import Delivery, DeliveryAttempt, DeliveryStatus, WebhookEndpoint
from events.services import event_record
from tests.events.receiver import Receiver
from tests.faults.conftest import pg_db, queue, wait_for, workers  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.postgresql, pytest.mark.celery]
WORKER_ENV = {
    "CELERY_VISIBILITY_TIMEOUT": "2",
    "CELERY_UNACKED_RESTORE_SECONDS": "1",
    "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
    "WEBHOOK_READ_TIMEOUT": "60",  # the held request outlives no timeout: the kill ends it
}


def test_a_worker_killed_mid_delivery_leaves_the_event_delivered_again_with_the_same_id(
    pg_db,  # noqa: F811
    queue,  # noqa: F811
    workers,  # noqa: F811
):
    with Receiver() as receiver:
        receiver.hold = threading.Event()
        WebhookEndpoint.objects.create(url=receiver.url, secret=webhook_secret_new())
        first = workers.start(broker_url=settings.CELERY_BROKER_URL, **WORKER_ENV)

        event = event_record("quote.sent", customer_code="ACME", data={"object": {"number": "Q-1"}})
        wait_for(receiver.got_request.is_set, what="the worker to post the event")
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        held, receiver.hold = receiver.hold, None
        held.set()

        delivery = Delivery.objects.get(event=event)
        assert delivery.status == DeliveryStatus.PENDING
        assert delivery.attempts == 0  # the killed attempt rolled back with its worker
        assert not DeliveryAttempt.objects.exists()

        workers.start(broker_url=settings.CELERY_BROKER_URL, **WORKER_ENV)
        wait_for(
            lambda: Delivery.objects.filter(event=event, status=DeliveryStatus.DELIVERED).exists(),
            what="the event to be delivered again",
        )
        assert [r.webhook_id for r in receiver.received] == [event.webhook_id] * 2
        assert receiver.received[0].body == receiver.received[1].body
        attempt = DeliveryAttempt.objects.get()
        assert attempt.succeeded
