"""Sending Celery tasks for work already recorded in the database.

A task is sent once the transaction that records its work commits. The broker may be away: publishing
retries for a few seconds (CELERY_TASK_PUBLISH_RETRY_POLICY), then the failure is logged and the caller
goes on, because the work is recorded (a run waiting, an issued invoice without its PDF) and the periodic
``dispatch_pending_work`` tasks send it again. The tasks sent this way must be safe to run twice.
"""

import logging

from celery import Task
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerUnavailable

from billing.mail import TASK_HEADER, request_site

logger = logging.getLogger(__name__)


def send_task(task: Task, *args) -> bool:
    """Sends ``task(*args)`` now; False when the broker could not take it (logged). A task sent while a
    request is served carries the address that request reached (billing.mail), for the links it mails."""
    headers = {TASK_HEADER: request_site()} if request_site() else None
    try:
        # No result is kept: nobody waits for it, and asking for one would also need the result backend.
        task.apply_async(args=args, retry=True, ignore_result=True, headers=headers)
    except BrokerUnavailable as error:
        logger.warning("Broker unavailable, %s%r left for the next dispatch: %s", task.name, args, error)
        return False
    return True


def send_task_on_commit(task: Task, *args) -> None:
    """Sends ``task(*args)`` once the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(lambda: send_task(task, *args))
