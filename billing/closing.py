"""The closing rule of the service terms (关闭规则), which quotes and charge requests both follow: sent to
the customer and left unanswered for a month, a document is closed and the customer told; the customer may
reopen it within a further month, after which it is final.

Each step moves a document with a conditional UPDATE in its own transaction, so the rule is safe to run
twice or concurrently (a periodic Celery task runs it); the UPDATE's history is recorded with it.
"""

import datetime
from collections.abc import Callable

from dateutil.relativedelta import relativedelta
from django.db import models, transaction
from django.utils.translation import gettext

from billing.history import history_record

CLOSING_DELAY = relativedelta(months=1)


def reopenable(document: models.Model, *, closed: str, now: datetime.datetime) -> bool:
    """Closed unanswered less than a month ago, so the customer may still answer."""
    return (
        document.status == closed
        and document.closed_at is not None
        and now < document.closed_at + CLOSING_DELAY
    )


def closing_dates(
    document: models.Model, *, waiting: str, sent_field: str, closed: str
) -> tuple[datetime.datetime | None, datetime.datetime | None]:
    """When the rule closes a document still waiting for the customer, and until when a closed one may be
    reopened (each None when it does not apply): what the customer is told beside the document."""
    sent_at = getattr(document, sent_field, None)
    closes_at = sent_at + CLOSING_DELAY if document.status == waiting and sent_at else None
    closed_at = getattr(document, "closed_at", None)
    reopenable_until = closed_at + CLOSING_DELAY if document.status == closed and closed_at else None
    return closes_at, reopenable_until


def apply_closing_rule(
    model: type[models.Model],
    *,
    waiting: str,
    sent_field: str,
    closed: str,
    final: str,
    now: datetime.datetime,
    on_closed: Callable[[models.Model], None],
    on_final: Callable[[models.Model], None] = lambda document: None,
) -> tuple[int, int]:
    """Closes the ``model`` documents ``waiting`` since ``sent_field`` a month or more ago (``on_closed``
    runs for each, in its transaction) and makes final those closed a month or more ago. Returns how many
    were closed and how many made final."""
    steps = (
        (
            waiting,
            {f"{sent_field}__lte": now - CLOSING_DELAY},
            {"status": closed, "closed_at": now},
            on_closed,
        ),
        (closed, {"closed_at__lte": now - CLOSING_DELAY}, {"status": final}, on_final),
    )
    counts = []
    for status, due, change, after in steps:
        moved = 0
        for document in model.objects.filter(status=status, **due):
            with transaction.atomic():
                if model.objects.filter(pk=document.pk, status=status, **due).update(**change):
                    for field, value in change.items():
                        setattr(document, field, value)
                    history_record(model.objects.filter(pk=document.pk), reason=gettext("closing rule"))
                    after(document)
                    moved += 1
        counts.append(moved)
    return counts[0], counts[1]
