"""Webhook deliveries run by Celery: thin wrappers around events.delivery, safe to run twice."""

import datetime

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from billing.dispatch import send_task
from events.delivery import deliveries_due, deliveries_send, events_purge

# Deliveries one task sends before it hands the rest of its queue to a task of its own: a long backlog
# does not keep a worker from the other queues.
DELIVERIES_PER_TASK = 500


@shared_task(acks_late=True)
def send_deliveries(endpoint_id: int, customer_code: str) -> int:
    """Sends one endpoint's due deliveries for one customer, in event order. Acknowledged when done: a
    worker killed mid-delivery leaves the delivery pending and the message to be taken again."""
    delivered = deliveries_send(
        endpoint_id=endpoint_id, customer_code=customer_code, limit=DELIVERIES_PER_TASK
    )
    if delivered == DELIVERIES_PER_TASK:
        send_task(send_deliveries, endpoint_id, customer_code)
    return delivered


@shared_task(acks_late=True)
def send_due_deliveries() -> int:
    """Beat, every minute: one `send_deliveries` per endpoint and customer with a delivery due (a retry
    whose time came, or a task the broker lost)."""
    queues = deliveries_due()
    for endpoint_id, customer_code in queues:
        send_task(send_deliveries, endpoint_id, customer_code)
    return len(queues)


@shared_task(acks_late=True)
def purge_events() -> int:
    """Daily: forgets the events older than EVENTS_RETENTION_DAYS whose deliveries are all done."""
    return events_purge(before=timezone.now() - datetime.timedelta(days=settings.EVENTS_RETENTION_DAYS))
