import datetime

import pytest
from django.core import mail

from catalog.tasks import warn_unpublished_calendar_years
from tests.factories import BusinessCalendarFactory, HolidayScheduleDayFactory


@pytest.mark.django_db
def test_a_missing_schedule_for_next_year_is_reported_from_november(catalogue, settings):
    settings.CALENDAR_ALERT_EMAILS = ["ops@example.com"]
    assert warn_unpublished_calendar_years.delay("2026-10-31").get() == []
    assert mail.outbox == []
    assert warn_unpublished_calendar_years.delay("2026-11-25").get() == [2027]
    assert mail.outbox[0].to == ["ops@example.com"]
    assert "2027" in mail.outbox[0].subject


@pytest.mark.django_db
def test_an_imported_schedule_silences_the_warning(catalogue):
    HolidayScheduleDayFactory(date=datetime.date(2027, 1, 1))
    assert warn_unpublished_calendar_years("2026-12-01") == []


@pytest.mark.django_db
def test_no_warning_when_no_calendar_observes_holidays():
    BusinessCalendarFactory(observes_public_holidays=False)
    assert warn_unpublished_calendar_years("2026-12-01") == []


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_the_calendar_check_runs_on_a_real_worker(real_celery_worker):
    BusinessCalendarFactory(code="5x8")
    HolidayScheduleDayFactory(date=datetime.date(2026, 1, 1))
    result = warn_unpublished_calendar_years.delay("2026-11-25")
    assert result.get(timeout=30, disable_sync_subtasks=False) == [2027]
    HolidayScheduleDayFactory(date=datetime.date(2027, 1, 1))
    assert (
        warn_unpublished_calendar_years.delay("2026-11-25").get(timeout=30, disable_sync_subtasks=False) == []
    )
