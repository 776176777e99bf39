"""Recording events: the one write path of the outbox (events.models). Callers are the business services,
inside their own transaction, so that the event commits or rolls back with the change it describes."""

import datetime

from django.db import connection, transaction
from django.utils import timezone

from billing.dispatch import send_task_on_commit
from events.models import Delivery, Event, WebhookEndpoint
from events.tasks import send_deliveries
from events.types import EVENT_TYPES

# PostgreSQL: the transaction-scoped advisory lock every event's insert takes first (any constant of ours).
EVENTS_IN_ORDER_LOCK = 7_146_917_001


def _in_id_order() -> None:
    """Makes events commit in the order of their ids. An id is taken at the insert, not at the commit: on
    PostgreSQL a slower transaction could otherwise commit event 102 after event 103 is listed and sent, so
    a client polling ``after=103`` or a receiver waiting for 102 first would miss it. The lock is held until
    the transaction ends, so the transactions that record events commit one after the other from this
    point (the recording is the last step of a service). SQLite writes one transaction at a time anyway."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [EVENTS_IN_ORDER_LOCK])


def event_record(
    event_type: str,
    *,
    customer_code: str,
    data: dict,
    key: str | None = None,
    occurred_at: datetime.datetime | None = None,
) -> Event | None:
    """Records ``event_type`` about ``data`` (the object as the API shows it) for ``customer_code``, and a
    pending delivery for each enabled endpoint listening to it: five queries whatever the change and however
    many endpoints listen (six with a ``key``, one more on PostgreSQL for the lock; bench/RESULTS.md). With
    ``key``, an event already recorded under it is not recorded again (returns None): periodic checks use
    this to announce a lapse or an overdue invoice once. Each endpoint's deliveries are sent by a task once
    the caller's transaction commits."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r} (events.types.EVENT_TYPES)")
    with transaction.atomic():
        _in_id_order()  # first: a concurrent check recording the same key waits, then sees it
        if key is not None and Event.objects.filter(key=key).exists():
            return None
        event = Event.objects.create(
            type=event_type,
            version=EVENT_TYPES[event_type][0],
            occurred_at=occurred_at or timezone.now(),
            customer_code=customer_code or "",
            data=data,
            key=key,
        )
        endpoints = [e for e in WebhookEndpoint.objects.filter(enabled=True) if e.listens_to(event_type)]
        if endpoints:
            Delivery.objects.bulk_create(
                Delivery(endpoint=endpoint, event=event, customer_code=event.customer_code)
                for endpoint in endpoints
            )
            for endpoint in endpoints:  # sent once the change commits; nothing if it rolls back
                send_task_on_commit(send_deliveries, endpoint.pk, event.customer_code)
    return event
