"""The README's receiver (docs/webhook_receiver.py) runs as written: started as its own process, it verifies
the deliveries our sender signs, with the published Standard Webhooks library, and refuses a tampered body
or another endpoint's signature."""

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
from django.utils import timezone

from events.delivery import deliveries_send, webhook_request, webhook_secret_rotate
from events.endpoints import webhook_endpoint_create
from events.models import Delivery, DeliveryStatus
from events.services import event_record

pytestmark = pytest.mark.django_db

RECEIVER = Path(__file__).resolve().parents[2] / "docs" / "webhook_receiver.py"
WAIT = 20  # seconds, for the receiver to start and to print a line; never reached when it works


class Receiver:
    def __init__(self, secret: str):
        self.process = subprocess.Popen(
            [sys.executable, str(RECEIVER), "0"],
            env={**os.environ, "WEBHOOK_SECRET": secret},
            stdout=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.url = self.line().removeprefix("listening on ")

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def line(self) -> str:
        return self.lines.get(timeout=WAIT)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=WAIT)


@pytest.fixture
def endpoint(settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    return webhook_endpoint_create(url="http://127.0.0.1:9/")  # its URL is set to the receiver's below


@pytest.fixture
def receiver(endpoint):
    started = Receiver(endpoint.secret)
    endpoint.url = started.url
    endpoint.save()
    yield started
    started.stop()


def test_the_receiver_verifies_what_our_sender_signs_and_handles_each_event_once(endpoint, receiver):
    event = event_record("invoice.issued", customer_code="ACME", data={"object": {"number": "INV2026-00007"}})
    assert deliveries_send(endpoint_id=endpoint.pk, customer_code="ACME") == 1
    assert Delivery.objects.get().status == DeliveryStatus.DELIVERED
    identifier, event_type, customer, data = receiver.line().split(" ", 3)
    assert (identifier, event_type, customer) == (event.webhook_id, "invoice.issued", "ACME")
    assert json.loads(data) == {"object": {"number": "INV2026-00007"}}
    # sent again (a retry after a lost answer): accepted, and handled once
    body, headers = webhook_request(endpoint, event, timezone.now())
    assert requests.post(receiver.url, data=body, headers=headers, timeout=WAIT).status_code == 204
    second = event_record("payment.recorded", customer_code="ACME", data={})
    deliveries_send(endpoint_id=endpoint.pk, customer_code="ACME")
    assert receiver.line().startswith(f"{second.webhook_id} payment.recorded")


def test_the_receiver_refuses_a_tampered_body_and_a_foreign_signature(endpoint, receiver):
    event = event_record("invoice.issued", customer_code="ACME", data={"object": {"number": "INV2026-00007"}})
    body, headers = webhook_request(endpoint, event, timezone.now())
    tampered = body.replace(b"INV2026-00007", b"INV2026-00008")
    answer = requests.post(receiver.url, data=tampered, headers=headers, timeout=WAIT)
    assert answer.status_code == 400
    assert receiver.line().startswith("refused")
    other = webhook_endpoint_create(url="http://127.0.0.1:9/other")
    body, headers = webhook_request(other, event, timezone.now())
    assert requests.post(receiver.url, data=body, headers=headers, timeout=WAIT).status_code == 400
    assert receiver.line().startswith("refused")


def test_during_a_rotation_the_receiver_with_the_old_secret_still_verifies(endpoint, receiver):
    webhook_secret_rotate(endpoint)  # the receiver still has the secret it started with
    event = event_record("quote.sent", customer_code="ACME", data={})
    deliveries_send(endpoint_id=endpoint.pk, customer_code="ACME")
    assert receiver.line().startswith(f"{event.webhook_id} quote.sent")
