"""Channels and their opening hours (1.9 服务时间): the answer says whether the channel asked about takes
requests at the moment and when it next opens. A closed channel changes no outcome and no deadline: cover
is cover, and the response clock is the period's (5x8) or, for the holiday emergency line, the emergency
clock. The holiday cases of 2025 and 2026 for every level on every channel, with expectations worked out by
hand from the terms and the State Council's schedules, not by the code under test."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from billing.apikeys import create_api_key
from catalog.models import BusinessCalendar, ChannelHours, EmergencyCoverWindow
from contracts.entitlements import decide
from tests.contracts.conftest import at
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

LEVELS = ("1", "2", "3", "4", "non-fault")
CHANNELS = ("community", "hotline", "email", "im", "remote", "on-site")
HOUR = datetime.timedelta(hours=1)


def from_the_morning_of(*days: datetime.date) -> dict[str, datetime.datetime]:
    """Standard-tier deadlines (1, 8, 12, 16, 24 working hours) of a request made while the 5x8 clock stands
    still, e.g. on a holiday: they count from 8:30 on the next working day (3.5 hours to 12:00, 4.5 from
    13:00 to 17:30, 8 a day)."""
    first, second, third = days
    return {
        "1": at(first.year, first.month, first.day, 9, 30),
        "2": at(first.year, first.month, first.day, 17, 30),
        "3": at(second.year, second.month, second.day, 13, 30),
        "4": at(second.year, second.month, second.day, 17, 30),
        "non-fault": at(third.year, third.month, third.day, 17, 30),
    }


def closed_until(day: datetime.date) -> dict[str, tuple[bool, datetime.datetime | None]]:
    """Every channel but the community is closed until ``day``: the hotline and on site open at 9:00, the
    channels on 5x8 hours at 8:30."""
    y, m, d = day.year, day.month, day.day
    return {
        "community": (True, None),
        "hotline": (False, at(y, m, d, 9)),
        "email": (False, at(y, m, d, 8, 30)),
        "im": (False, at(y, m, d, 8, 30)),
        "remote": (False, at(y, m, d, 8, 30)),
        "on-site": (False, at(y, m, d, 9)),
    }


D = datetime.date
# name: (moment, statutory holiday, respond_by per level, channel -> (open, opens_next))
CASES = {
    # National Day 2025: 1-8 October (with the Mid-autumn Festival); 9 Oct is a Thursday, 11 Oct a make-up
    # Saturday.
    "national-day-2025": (
        at(2025, 10, 1, 10),
        True,
        from_the_morning_of(D(2025, 10, 9), D(2025, 10, 10), D(2025, 10, 11)),
        closed_until(D(2025, 10, 9)),
    ),
    "national-day-2025-last-night": (
        at(2025, 10, 8, 22),
        True,
        from_the_morning_of(D(2025, 10, 9), D(2025, 10, 10), D(2025, 10, 11)),
        closed_until(D(2025, 10, 9)),
    ),
    # National Day 2026: 1-7 October; 10 Oct is a make-up Saturday.
    "national-day-2026": (
        at(2026, 10, 1, 10),
        True,
        from_the_morning_of(D(2026, 10, 8), D(2026, 10, 9), D(2026, 10, 10)),
        closed_until(D(2026, 10, 8)),
    ),
    "national-day-2026-night": (
        at(2026, 10, 3, 22, 15),
        True,
        from_the_morning_of(D(2026, 10, 8), D(2026, 10, 9), D(2026, 10, 10)),
        closed_until(D(2026, 10, 8)),
    ),
    # Spring Festival 2025: 28 January to 4 February; work resumes on Wednesday 5 February.
    "spring-festival-2025": (
        at(2025, 1, 29, 10),
        True,
        from_the_morning_of(D(2025, 2, 5), D(2025, 2, 6), D(2025, 2, 7)),
        closed_until(D(2025, 2, 5)),
    ),
    # Spring Festival 2026: 15 to 23 February; work resumes on Tuesday 24 February.
    "spring-festival-2026": (
        at(2026, 2, 17, 3),
        True,
        from_the_morning_of(D(2026, 2, 24), D(2026, 2, 25), D(2026, 2, 26)),
        closed_until(D(2026, 2, 24)),
    ),
    # The evening of 14 February 2026, a make-up Saturday before the holidays: no statutory holiday, so no
    # emergency line; every channel but the community waits for 24 February.
    "spring-festival-2026-make-up-saturday-evening": (
        at(2026, 2, 14, 18, 30),
        False,
        from_the_morning_of(D(2026, 2, 24), D(2026, 2, 25), D(2026, 2, 26)),
        closed_until(D(2026, 2, 24)),
    ),
    # 26 January 2025, a make-up Sunday (调休) before the Spring Festival: worked with Monday's hours, so
    # every channel is open; 6.5 hours that day, 8 on Monday 27, then the holidays to 4 February.
    "spring-festival-2025-make-up-sunday": (
        at(2025, 1, 26, 10),
        False,
        {
            "1": at(2025, 1, 26, 11),
            "2": at(2025, 1, 27, 10),
            "3": at(2025, 1, 27, 15),
            "4": at(2025, 2, 5, 10),
            "non-fault": at(2025, 2, 6, 10),
        },
        dict.fromkeys(CHANNELS, (True, None)),
    ),
    # 8 February 2025, a make-up Saturday, at lunch: the hotline and the 5x8 channels reopen at 13:00, on
    # site works through; 4.5 hours that afternoon, then Monday 10 February.
    "spring-festival-2025-make-up-saturday-lunch": (
        at(2025, 2, 8, 12, 30),
        False,
        {
            "1": at(2025, 2, 8, 14),
            "2": at(2025, 2, 10, 12),
            "3": at(2025, 2, 10, 17),
            "4": at(2025, 2, 11, 12),
            "non-fault": at(2025, 2, 12, 12),
        },
        {
            "community": (True, None),
            "hotline": (False, at(2025, 2, 8, 13)),
            "email": (False, at(2025, 2, 8, 13)),
            "im": (False, at(2025, 2, 8, 13)),
            "remote": (False, at(2025, 2, 8, 13)),
            "on-site": (True, None),
        },
    ),
    # 30 September 2025, 17:45: the 5x8 day is over but the hotline and on site work to 18:00; deadlines
    # wait for 9 October.
    "eve-of-national-day-2025": (
        at(2025, 9, 30, 17, 45),
        False,
        from_the_morning_of(D(2025, 10, 9), D(2025, 10, 10), D(2025, 10, 11)),
        {
            **closed_until(D(2025, 10, 9)),
            "hotline": (True, None),
            "on-site": (True, None),
        },
    ),
    # 30 September 2026, 8:45: the 5x8 clock runs (7.75 hours that day) but the hotline and on site open
    # at 9:00.
    "eve-of-national-day-2026-early": (
        at(2026, 9, 30, 8, 45),
        False,
        {
            "1": at(2026, 9, 30, 9, 45),
            "2": at(2026, 10, 8, 8, 45),
            "3": at(2026, 10, 8, 13, 45),
            "4": at(2026, 10, 9, 8, 45),
            "non-fault": at(2026, 10, 10, 8, 45),
        },
        {
            **dict.fromkeys(CHANNELS, (True, None)),
            "hotline": (False, at(2026, 9, 30, 9)),
            "on-site": (False, at(2026, 9, 30, 9)),
        },
    ),
}


def expected(case: str, level: str, channel: str | None) -> dict:
    moment, holiday, deadlines, openings = CASES[case]
    emergency = holiday and level == "1" and channel == "hotline"  # the terms' emergency phone line
    opening = None
    if channel is not None:
        is_open, opens_next = openings[channel]
        opening = {"code": channel, "open": is_open, "opens_next": opens_next}
    return {
        "respond_by": moment + HOUR if emergency else deadlines[level],
        "emergency": emergency,
        "channel": opening,
        "channel_closed": opening is not None and not opening["open"],
        "emergency_line": holiday and level == "1" and channel is None,
    }


def answer_of(decision) -> dict:
    opening = decision.channel_opening
    codes = [reason.code for reason in decision.reasons]
    return {
        "respond_by": decision.respond_by,
        "emergency": decision.emergency,
        "channel": opening and {"code": opening.code, "open": opening.open, "opens_next": opening.opens_next},
        "channel_closed": "channel_closed" in codes,
        "emergency_line": "emergency_line" in codes,
    }


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("case", CASES)
def test_holiday_and_make_up_day_answers_for_every_level_on_every_channel(customer, case, level):
    moment = CASES[case][0]
    decisions = {
        channel: decide(
            customer=customer, service="fault-diagnosis", at=moment, severity=level, channel=channel
        )
        for channel in [*CHANNELS, None]
    }
    assert {channel: answer_of(decision) for channel, decision in decisions.items()} == {
        channel: expected(case, level, channel) for channel in decisions
    }
    for decision in decisions.values():
        assert decision.outcome == "included"  # a closed channel is no reason to refuse cover
        assert ("holiday_emergency" in [reason.code for reason in decision.reasons]) is decision.emergency


def iso(moment: datetime.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


@pytest.fixture
def api_client(db):
    _key, raw = create_api_key(name="Zendesk", scopes=["entitlements:read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("level", ["1", "3"])
@pytest.mark.parametrize(
    "case", ["national-day-2026", "spring-festival-2025", "spring-festival-2025-make-up-saturday-lunch"]
)
def test_the_api_answers_the_channel_and_its_deadline_on_holidays_and_make_up_days(
    customer, api_client, case, level, channel
):
    moment = CASES[case][0]
    body = api_client.post(
        "/api/v1/entitlements/check",
        {
            "customer": "ACME",
            "service": "fault-diagnosis",
            "at": moment.isoformat(),
            "severity": level,
            "channel": channel,
        },
        format="json",
    ).json()
    want = expected(case, level, channel)
    assert body["respond_by"] == iso(want["respond_by"])
    assert body["emergency"] is want["emergency"]
    assert body["channel"] == {**want["channel"], "opens_next": iso(want["channel"]["opens_next"])}
    assert ("channel_closed" in [reason["code"] for reason in body["reasons"]]) is want["channel_closed"]


def test_the_api_answers_no_channel_when_none_was_asked_about(customer, api_client):
    body = api_client.post(
        "/api/v1/entitlements/check",
        {"customer": "ACME", "service": "fault-diagnosis", "at": "2026-10-01T10:00:00+08:00", "severity": 1},
        format="json",
    ).json()
    assert body["channel"] is None
    assert "channel_closed" not in [reason["code"] for reason in body["reasons"]]


def test_a_closed_channel_says_when_it_takes_the_request_in_both_languages(customer):
    decision = decide(customer=customer, service="defect-fix", at=at(2026, 3, 4, 12, 30), channel="hotline")
    reason = next(reason for reason in decision.reasons if reason.code == "channel_closed")
    assert "2026-03-04 13:00" in reason.text("en")
    assert "2026-03-04 13:00" in reason.text("zh-hans")
    assert decision.outcome == "included"


def test_the_channel_is_answered_even_without_cover(catalogue):
    decision = decide(customer=CustomerFactory(), service="defect-fix", at=at(2026, 10, 1, 10), channel="im")
    assert decision.outcome == "not_covered"
    assert (decision.channel_opening.open, decision.channel_opening.opens_next) == (
        False,
        at(2026, 10, 8, 8, 30),
    )


@pytest.mark.parametrize(
    ("language", "label", "closed"),
    [("en", "hotline", "closed, opens 2026-10-08 09:00"), ("zh-hans", "服务热线", "2026-10-08 09:00")],
)
def test_the_entitlement_page_shows_whether_the_channel_is_open_and_when_it_opens(
    admin_client, customer, language, label, closed
):
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    question = {
        "customer": "ACME",
        "service": "fault-diagnosis",
        "severity": "1",
        "channel": "hotline",
        "quantity": 1,
    }
    holiday = admin_client.get(
        reverse("contracts:entitlement-lookup"), {**question, "at": "2026-10-01 10:00"}
    ).content.decode()
    assert 'id="channel" data-open="false"' in holiday
    assert label in holiday
    assert closed in holiday
    assert 'id="emergency"' in holiday  # the emergency line answers meanwhile
    weekday = admin_client.get(
        reverse("contracts:entitlement-lookup"), {**question, "at": "2026-03-04 10:00"}
    ).content.decode()
    assert 'id="channel" data-open="true"' in weekday


# --- the catalogue's hours and emergency cover windows ---------------------------------------------------


def test_the_seeded_channel_hours_are_the_terms(catalogue):
    hours = {row.channel: row.calendar for row in ChannelHours.objects.select_related("calendar")}
    assert {channel: calendar.code for channel, calendar in hours.items()} == {
        "community": "7x24",
        "hotline": "hotline",
        "email": "5x8",
        "im": "5x8",
        "remote": "5x8",
        "on-site": "on-site",
    }

    def windows(code: str) -> list:
        return sorted(BusinessCalendar.objects.get(code=code).windows.values_list("weekday", "start", "end"))

    t = datetime.time
    assert windows("hotline") == sorted(
        [(d, t(9), t(12)) for d in range(5)] + [(d, t(13), t(18)) for d in range(5)]
    )
    assert windows("on-site") == [(d, t(9), t(18)) for d in range(5)]
    assert hours["hotline"].observes_public_holidays
    assert hours["on-site"].observes_public_holidays


def test_the_administrator_changes_a_channels_hours_with_history(admin_client, customer):
    hours = ChannelHours.objects.get(channel="email")
    seven_by_24 = BusinessCalendar.objects.get(code="7x24")
    answer = admin_client.post(
        reverse("admin:catalog_channelhours_change", args=[hours.pk]),
        {"channel": "email", "calendar": seven_by_24.pk},
    )
    assert answer.status_code == 302
    assert hours.history.count() == 2
    decision = decide(customer=customer, service="defect-fix", at=at(2026, 10, 1, 10), channel="email")
    assert decision.channel_opening.open is True


@pytest.fixture
def new_years_eve(catalogue):
    return EmergencyCoverWindow.objects.create(
        date=datetime.date(2026, 12, 31),
        start=datetime.time(18),
        end=datetime.time(0),
        name_zh="元旦前夜",
        name_en="New Year's Eve",
    )


@pytest.mark.parametrize("moment", [at(2026, 12, 31, 18), at(2026, 12, 31, 20), at(2026, 12, 31, 23, 59)])
def test_an_emergency_cover_window_of_the_catalogue_answers_level_1_by_phone_on_the_emergency_clock(
    customer, new_years_eve, moment
):
    decision = decide(
        customer=customer, service="fault-diagnosis", at=moment, severity="1", channel="hotline"
    )
    assert (decision.emergency, decision.respond_by) == (True, moment + HOUR)
    reason = next(reason for reason in decision.reasons if reason.code == "holiday_emergency")
    assert "New Year's Eve" in reason.text("en")
    assert "元旦前夜" in reason.text("zh-hans")
    assert decision.channel_opening.open is False  # the hotline's own hours are over


@pytest.mark.parametrize(
    ("moment", "severity", "channel"),
    [
        (at(2026, 12, 31, 17, 59), "1", "hotline"),  # before the window
        (at(2027, 1, 1, 0, 0), "1", "hotline"),  # the window ends at midnight
        (at(2026, 12, 31, 20), "2", "hotline"),  # a level without emergency cover
        (at(2026, 12, 31, 20), "1", "email"),  # not the phone line
    ],
)
def test_outside_the_window_or_for_other_levels_and_channels_no_emergency_clock(
    customer, new_years_eve, moment, severity, channel
):
    decision = decide(
        customer=customer, service="fault-diagnosis", at=moment, severity=severity, channel=channel
    )
    assert decision.emergency is False
    assert decision.respond_by > moment + 4 * HOUR


def test_a_check_naming_no_channel_in_an_emergency_cover_window_says_the_emergency_line_answers_sooner(
    customer, new_years_eve
):
    decision = decide(customer=customer, service="fault-diagnosis", at=at(2026, 12, 31, 20), severity="1")
    reason = next(reason for reason in decision.reasons if reason.code == "emergency_line")
    assert "New Year's Eve" in reason.text("en")
    assert decision.emergency is False


def test_an_emergency_cover_window_ends_after_it_starts(catalogue):
    window = EmergencyCoverWindow(
        date=datetime.date(2026, 12, 31),
        start=datetime.time(18),
        end=datetime.time(9),
        name_zh="x",
        name_en="x",
    )
    with pytest.raises(ValidationError):
        window.full_clean()


def test_channels_and_emergency_windows_cost_the_check_no_query_once_the_catalogue_is_read(
    customer, new_years_eve
):
    def queries(**question) -> int:
        decide(customer="ACME", service="fault-diagnosis", at=at(2026, 12, 31, 20), severity="1", **question)
        with CaptureQueriesContext(connection) as captured:
            decide(
                customer="ACME", service="fault-diagnosis", at=at(2026, 12, 31, 20), severity="1", **question
            )
        return len(captured)

    assert queries(channel="hotline") == queries(channel="community") == queries()


@pytest.mark.parametrize(
    ("moment", "emergency"), [(at(2026, 12, 24, 21, 59), True), (at(2026, 12, 24, 22), False)]
)
def test_an_emergency_cover_window_ends_at_its_end(customer, moment, emergency):
    EmergencyCoverWindow.objects.create(
        date=datetime.date(2026, 12, 24),
        start=datetime.time(18),
        end=datetime.time(22),
        name_zh="平安夜",
        name_en="Eve",
    )
    decision = decide(
        customer=customer, service="fault-diagnosis", at=moment, severity="1", channel="hotline"
    )
    assert decision.emergency is emergency
