"""Periodic contract work (Celery beat): thin wrappers around services."""

from celery import shared_task
from django.utils import timezone

from contracts.portal_access import portal_sign_in_request
from contracts.services import (
    charge_requests_apply_closing_rule,
    periods_announce_started,
    periods_mark_lapsed,
    renewal_reminders_send,
)


@shared_task
def apply_closing_rule() -> dict:
    closed, final = charge_requests_apply_closing_rule()
    return {"closed": closed, "final": final}


@shared_task
def mark_lapsed_periods() -> int:
    """The daily look at period dates: periods that start today are announced, those that ended unrenewed
    marked lapsed (how many, the result)."""
    today = timezone.localdate()
    periods_announce_started(today=today)
    return periods_mark_lapsed(today=today)


@shared_task
def send_renewal_reminders() -> int:
    return len(renewal_reminders_send(today=timezone.localdate()))


@shared_task
def send_portal_sign_in_link(email: str, next_path: str = "") -> None:
    """The portal's sign-in form hands every address here, known or not, so that its answer takes the same
    time whatever the address (the lookup and the mail happen in the worker)."""
    portal_sign_in_request(email=email, next_path=next_path)
