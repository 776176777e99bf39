"""Remind once per step (billing.reminders), the one home of renewal and overdue reminders."""

import datetime

import pytest

from billing.reminders import remind_once_per_step
from contracts.models import RenewalReminder
from tests.factories import ServicePeriodFactory

pytestmark = pytest.mark.django_db


def test_each_step_is_sent_once_and_missed_steps_go_in_one_send(catalogue):
    period = ServicePeriodFactory(start=datetime.date(2026, 1, 1), end=datetime.date(2026, 12, 31))
    sends = []

    def remind(steps):
        return remind_once_per_step(
            model=RenewalReminder,
            document_field="period",
            step_field="days_before",
            document=period,
            steps_due=steps,
            send=lambda new: sends.append(sorted(row.days_before for row in new)),
        )

    assert [row.days_before for row in remind([90, 60])] == [90, 60]
    assert remind([90, 60]) == []
    assert [row.days_before for row in remind([90, 60, 30])] == [30]
    assert sends == [[60, 90], [30]]
    assert RenewalReminder.objects.filter(period=period).count() == 3
