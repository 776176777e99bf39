"""Recording events: the one write path of the outbox (events.models). Callers are the business services,
inside their own transaction, so that the event commits or rolls back with the change it describes."""

import datetime

from django.db import transaction
from django.utils import timezone

from billing.dispatch import send_task_on_commit
from events.models import Delivery, Event, WebhookEndpoint
from events.tasks import send_deliveries
from events.types import EVENT_TYPES


def event_record(
    event_type: str,
    *,
    customer_code: str,
    data: dict,
    key: str | None = None,
    occurred_at: datetime.datetime | None = None,
) -> Event | None:
    """Records ``event_type`` about ``data`` (the object as the API shows it) for ``customer_code``, and a
    pending delivery for each enabled endpoint listening to it: three queries whatever the change (four
    with a ``key``). With ``key``, an event already recorded under it is not recorded again (returns None):
    periodic checks use this to announce a lapse or an overdue invoice once. Each endpoint's deliveries
    are sent by a task once the caller's transaction commits."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r} (events.types.EVENT_TYPES)")
    with transaction.atomic():
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
