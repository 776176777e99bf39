"""Periodic catalogue work, run by Celery beat."""

import datetime

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.selectors import calendar_years_needing_schedule


@shared_task
def warn_unpublished_calendar_years(today: str | None = None) -> list[int]:
    """E-mails CALENDAR_ALERT_EMAILS when a year that deadlines will soon fall in has no holiday schedule
    (its deadlines are provisional until someone imports it). Returns the years found."""
    day = datetime.date.fromisoformat(today) if today else timezone.localdate()
    years = calendar_years_needing_schedule(today=day)
    if years and settings.CALENDAR_ALERT_EMAILS:
        listed = ", ".join(str(year) for year in years)
        send_mail(
            subject=_("Holiday schedule missing for %(years)s") % {"years": listed},
            message=_(
                "The business calendar has no statutory holidays or make-up working days for %(years)s, so "
                "response deadlines in that year are provisional. Import the State Council's schedule "
                "(admin: Holiday schedule days, Import)."
            )
            % {"years": listed},
            from_email=None,
            recipient_list=settings.CALENDAR_ALERT_EMAILS,
        )
    return years
