"""The outbox: an event commits or rolls back with its change, and costs a fixed number of queries."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from events.models import Delivery, DeliveryStatus, Event, WebhookEndpoint
from events.services import event_record

pytestmark = pytest.mark.django_db


def _endpoint(**fields) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        url="https://hooks.example.com/in", secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", **fields
    )


def test_an_event_and_a_delivery_per_listening_endpoint():
    every = _endpoint()
    invoices_only = _endpoint(event_types=["invoice.issued"])
    _endpoint(enabled=False)
    event = event_record("quote.sent", customer_code="ACME", data={"number": "Q-1"})
    assert event.envelope()["type"] == "quote.sent"
    assert event.envelope()["id"] == f"evt_{event.id}"
    assert list(Delivery.objects.values_list("endpoint_id", "status", "customer_code")) == [
        (every.id, DeliveryStatus.PENDING, "ACME")
    ]
    event_record("invoice.issued", customer_code="ACME", data={})
    assert Delivery.objects.filter(endpoint=invoices_only).count() == 1


def test_a_rolled_back_change_records_nothing():
    _endpoint()

    def change():
        with transaction.atomic():
            event_record("quote.sent", customer_code="ACME", data={})
            raise RuntimeError("the change fails")

    with pytest.raises(RuntimeError):
        change()
    assert not Event.objects.exists()
    assert not Delivery.objects.exists()


def test_a_key_records_once():
    assert event_record("invoice.overdue", customer_code="ACME", data={}, key="invoice.overdue:7")
    assert event_record("invoice.overdue", customer_code="ACME", data={}, key="invoice.overdue:7") is None
    assert Event.objects.count() == 1


def test_the_query_count_does_not_grow_with_endpoints():
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            event_record("quote.sent", customer_code="ACME", data={})
        return len(captured)

    _endpoint()
    one = queries()
    for _ in range(5):
        _endpoint()
    assert queries() == one


def test_an_unknown_type_is_refused():
    with pytest.raises(ValueError, match="unknown event type"):
        event_record("quote.teleported", customer_code="ACME", data={})


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_events_commit_in_the_order_of_their_ids():
    """A second transaction recording an event waits until the first one, which took its id first, ends:
    so no poller or sender ever sees a later id before an earlier one commits."""
    import threading

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (SQLite writes one transaction at a time)")
    first_inside, second_done = threading.Event(), threading.Event()
    order = []

    def second():
        first_inside.wait(10)
        event_record("quote.sent", customer_code="B", data={})
        order.append("second")
        second_done.set()
        connection.close()

    thread = threading.Thread(target=second)
    thread.start()
    with transaction.atomic():
        event_record("quote.sent", customer_code="A", data={})
        first_inside.set()
        assert not second_done.wait(1.5)  # held back by the first transaction's lock
        order.append("first")
    thread.join(10)
    assert order == ["first", "second"]
    assert list(Event.objects.order_by("id").values_list("customer_code", flat=True)) == ["A", "B"]
