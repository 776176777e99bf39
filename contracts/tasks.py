"""Periodic contract work (Celery beat): thin wrappers around services."""

from celery import shared_task
from django.utils import timezone

from contracts.services import charge_requests_apply_closing_rule, periods_mark_lapsed, renewal_reminders_send


@shared_task
def apply_closing_rule() -> dict:
    closed, final = charge_requests_apply_closing_rule()
    return {"closed": closed, "final": final}


@shared_task
def mark_lapsed_periods() -> int:
    return periods_mark_lapsed(today=timezone.localdate())


@shared_task
def send_renewal_reminders() -> int:
    return len(renewal_reminders_send(today=timezone.localdate()))
