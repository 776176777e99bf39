"""Reads of the outbox: the event list clients poll, and an endpoint's deliveries."""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from events.models import Delivery, DeliveryAttempt, Event, WebhookEndpoint


@dataclass(frozen=True)
class EventPage:
    events: list[Event]
    next: int  # the cursor of the next page: the last event's id, or ``after`` when the page is empty
    has_more: bool


def events_after(
    *, after: int, types: list[str] | None = None, customer_code: str | None = None, limit: int
) -> EventPage:
    """The events after the cursor ``after`` in id order, at most ``limit`` of them, of these types (any
    when none) and this customer (any when none), in one query: one row more than the page tells whether
    there are more. Events older than EVENTS_RETENTION_DAYS are not listed (those kept for their key:
    events.delivery.events_purge)."""
    kept_from = timezone.now() - datetime.timedelta(days=settings.EVENTS_RETENTION_DAYS)
    events = Event.objects.filter(id__gt=after, occurred_at__gte=kept_from)
    if types:
        events = events.filter(type__in=types)
    if customer_code:
        events = events.filter(customer_code=customer_code)
    rows = list(events.order_by("id")[: limit + 1])
    page = rows[:limit]
    return EventPage(events=page, next=page[-1].id if page else after, has_more=len(rows) > limit)


def endpoint_deliveries(*, endpoint: WebhookEndpoint, status: str | None = None) -> QuerySet[Delivery]:
    """An endpoint's deliveries, the latest event first, each with its event and its attempts (two queries
    per page whatever its size)."""
    deliveries = endpoint.deliveries.select_related("event").prefetch_related(
        Prefetch("attempt_log", queryset=DeliveryAttempt.objects.order_by("started_at", "id"))
    )
    if status:
        deliveries = deliveries.filter(status=status)
    return deliveries.order_by("-event_id")
