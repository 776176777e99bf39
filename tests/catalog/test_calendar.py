"""The business calendar: 5x8 working time with China's holidays and make-up working days (调休)."""

import datetime as dt
import zoneinfo

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.errors import BillingError
from catalog import seed
from catalog.calendar import (
    WorkingCalendar,
    add_working_days,
    add_working_time,
    deadline,
    is_provisional,
    is_working_time,
    load_calendar,
    next_working_time,
    working_time_between,
)
from catalog.models import MIDNIGHT, DayKind
from tests.factories import BusinessCalendarFactory, HolidayScheduleDayFactory

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
H = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


def seeded_5x8() -> WorkingCalendar:
    """The 5x8 calendar as load_catalog seeds it, built in memory (for property tests without a database)."""
    _code, _zh, _en, _observes, windows = seed.CALENDARS[0]
    per_day = [[] for _ in range(7)]
    for weekday, start, end in windows:
        per_day[weekday].append((start, end))
    days = {d: n for d, n in chinese_calendar.holidays.items() if d.year in seed.SEEDED_HOLIDAY_YEARS}
    work = {d: n for d, n in chinese_calendar.workdays.items() if d.year in seed.SEEDED_HOLIDAY_YEARS and n}
    return WorkingCalendar(
        code="5x8",
        tz=SHANGHAI,
        windows=tuple(tuple(sorted(w)) for w in per_day),
        holidays=frozenset(days),
        makeup_workdays=frozenset(work),
        published_years=frozenset(seed.SEEDED_HOLIDAY_YEARS),
        observes_public_holidays=True,
    )


CAL = seeded_5x8()


def is_working_minute(cal: WorkingCalendar, moment: dt.datetime) -> bool:
    """An independent reading of the rules, minute by minute: the oracle for the arithmetic."""
    local = moment.astimezone(cal.tz)
    day = local.date()
    if cal.observes_public_holidays and day in cal.holidays:
        return False
    weekday = 0 if cal.observes_public_holidays and day in cal.makeup_workdays else day.weekday()
    clock = local.time()
    return any(start <= clock and (end == MIDNIGHT or clock < end) for start, end in cal.windows[weekday])


def oracle_add(cal: WorkingCalendar, start: dt.datetime, minutes: int) -> dt.datetime:
    moment, remaining = start, minutes
    while remaining:
        if is_working_minute(cal, moment):
            remaining -= 1
        moment += MINUTE
    return moment


# --- examples around the 2026 Spring Festival (2-15..2-23 off; Sat 2-14 and Sat 2-28 worked) -------------


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        (at(2026, 2, 13, 17), 1, at(2026, 2, 14, 9)),  # Friday evening -> make-up Saturday
        (at(2026, 2, 14, 17), 1, at(2026, 2, 24, 9)),  # make-up Saturday -> after the nine days off
        (at(2026, 2, 14, 10), 8, at(2026, 2, 24, 10)),  # level 2 spans the festival
        (at(2026, 2, 18, 10), 1, at(2026, 2, 24, 9, 30)),  # reported during the festival
        (at(2026, 2, 27, 17), 1, at(2026, 2, 28, 9)),  # Friday -> make-up Saturday 2-28
        (at(2026, 2, 28, 17), 1, at(2026, 3, 2, 9)),  # then Sunday is off again
    ],
)
def test_spring_festival_2026_holidays_are_skipped_and_make_up_days_worked(start, hours, expected):
    assert add_working_time(start, hours * H, calendar=CAL) == expected


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        (at(2026, 9, 30, 17), 1, at(2026, 10, 8, 9)),  # National Day 10-1..10-7 off
        (at(2026, 9, 19, 10), 1, at(2026, 9, 20, 9, 30)),  # Sunday 9-20 is a make-up working day
        (at(2026, 10, 9, 17), 1, at(2026, 10, 10, 9)),  # Saturday 10-10 is a make-up working day
        (at(2026, 10, 1, 9), 24, at(2026, 10, 10, 17, 30)),  # non-fault reported on the holiday
    ],
)
def test_national_day_2026_holidays_are_skipped_and_make_up_days_worked(start, hours, expected):
    assert add_working_time(start, hours * H, calendar=CAL) == expected


def test_working_time_across_the_spring_festival_counts_only_working_days():
    # 2-13, make-up 2-14, 2-24..2-27 and make-up 2-28: seven days of eight hours
    assert working_time_between(at(2026, 2, 13), at(2026, 3, 1), calendar=CAL) == 56 * H


@pytest.mark.parametrize(
    ("start", "duration", "expected"),
    [
        (at(2026, 3, 6, 17), H, at(2026, 3, 9, 9)),  # ordinary weekend
        (at(2026, 3, 4, 11, 30), H, at(2026, 3, 4, 13, 30)),  # across lunch
        (at(2026, 3, 4, 11), H, at(2026, 3, 4, 12)),  # a deadline that fills a window ends at its end
        (at(2026, 3, 4, 12, 30), H, at(2026, 3, 4, 14)),  # reported during lunch
        (at(2026, 3, 4, 7), H, at(2026, 3, 4, 9, 30)),  # reported before opening
        (at(2026, 3, 4, 20), 16 * H, at(2026, 3, 6, 17, 30)),  # level 4 from the evening
        (at(2026, 3, 4, 10), dt.timedelta(0), at(2026, 3, 4, 10)),
    ],
)
def test_working_windows_of_an_ordinary_week(start, duration, expected):
    assert add_working_time(start, duration, calendar=CAL) == expected


def test_answers_are_in_shanghai_time_whatever_the_zone_of_the_question():
    start = dt.datetime(2026, 3, 6, 9, tzinfo=dt.UTC)  # 17:00 in Shanghai
    result = add_working_time(start, H, calendar=CAL)
    assert result == at(2026, 3, 9, 9)
    assert result.tzinfo == SHANGHAI
    assert result.utcoffset() == 8 * H


def test_make_up_working_day_uses_the_weekday_windows():
    assert working_time_between(at(2026, 2, 14), at(2026, 2, 15), calendar=CAL) == 8 * H


def test_naive_datetimes_are_refused():
    with pytest.raises(BillingError) as error:
        add_working_time(dt.datetime(2026, 3, 4, 10), H, calendar=CAL)
    assert error.value.code == "naive_datetime"


def test_negative_durations_are_refused():
    with pytest.raises(BillingError):
        add_working_time(at(2026, 3, 4, 10), -H, calendar=CAL)


@pytest.mark.django_db
def test_a_calendar_without_windows_is_refused_rather_than_looping():
    calendar = BusinessCalendarFactory(five_by_eight=False)
    with pytest.raises(BillingError) as error:
        add_working_time(at(2026, 3, 4, 10), H, calendar=calendar)
    assert error.value.code == "empty_calendar"


def test_working_time_between_is_negative_when_the_end_comes_first():
    assert working_time_between(at(2026, 3, 4, 12), at(2026, 3, 4, 10), calendar=CAL) == -2 * H


# --- on-site arrival in working days -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (at(2026, 9, 30, 10), 3, at(2026, 10, 10, 10)),  # 10-8, 10-9, make-up Saturday 10-10
        (at(2026, 3, 6, 18), 1, at(2026, 3, 9, 17, 30)),  # after hours: the end of that day's last window
        (at(2026, 3, 7, 3), 1, at(2026, 3, 9, 8, 30)),  # before opening: its first window
        (at(2026, 3, 4, 10), 0, at(2026, 3, 4, 10)),
    ],
)
def test_add_working_days(start, days, expected):
    assert add_working_days(start, days, calendar=CAL) == expected


# --- provisional years -------------------------------------------------------------------------------


def test_a_year_with_no_published_schedule_is_provisional():
    assert deadline(at(2026, 3, 4, 10), H, calendar=CAL).provisional is False
    assert deadline(at(2027, 3, 4, 10), H, calendar=CAL).provisional is True
    answer = deadline(at(2026, 12, 31, 17), 8 * H, calendar=CAL)  # ends in 2027
    assert answer.at.year == 2027
    assert answer.provisional is True
    assert is_provisional(at(2026, 3, 4), at(2026, 4, 1), calendar=CAL) is False


def test_a_provisional_year_still_follows_the_weekday_pattern():
    # 2027-01-01 is a Friday; with no schedule, it counts as an ordinary working day
    assert add_working_time(at(2026, 12, 31, 17), H, calendar=CAL) == at(2027, 1, 1, 9)


@pytest.mark.django_db
def test_the_round_the_clock_calendar_ignores_holidays_and_is_never_provisional(catalogue):
    assert add_working_time(at(2026, 2, 17, 23), 3 * H, calendar="7x24") == at(2026, 2, 18, 2)
    assert is_provisional(at(2030, 1, 1), calendar="7x24") is False


@pytest.mark.django_db
def test_importing_a_years_schedule_makes_it_final(catalogue):
    assert is_provisional(at(2027, 3, 4)) is True
    HolidayScheduleDayFactory(date=dt.date(2027, 1, 1), name_en="New Year's Day")
    assert is_provisional(at(2027, 3, 4)) is False
    assert add_working_time(at(2026, 12, 31, 17), H) == at(2027, 1, 4, 9)


# --- the calendar in the database --------------------------------------------------------------------


@pytest.mark.django_db
def test_the_seeded_calendar_in_the_database_equals_the_terms(catalogue):
    assert load_calendar("5x8") == CAL


@pytest.mark.django_db
def test_the_default_calendar_is_5x8(catalogue):
    assert load_calendar().code == "5x8"


@pytest.mark.django_db
def test_an_unknown_calendar_is_a_clear_error():
    with pytest.raises(BillingError) as error:
        load_calendar("nope")
    assert error.value.code == "unknown_calendar"


@pytest.mark.django_db
def test_loading_a_calendar_takes_a_fixed_number_of_queries(catalogue, django_assert_num_queries):
    for year in range(2000, 2025):
        HolidayScheduleDayFactory(date=dt.date(year, 10, 1), kind=DayKind.HOLIDAY)
    with django_assert_num_queries(3):
        cal = load_calendar("5x8")
    with django_assert_num_queries(0):
        deadline(at(2026, 2, 13, 17), 100 * H, calendar=cal)
        working_time_between(at(2025, 1, 1), at(2026, 12, 31), calendar=cal)


@pytest.mark.django_db
def test_a_calendar_in_a_zone_with_daylight_saving_counts_real_hours():
    berlin = BusinessCalendarFactory(
        code="berlin", timezone="Europe/Berlin", observes_public_holidays=False, five_by_eight=False
    )
    for weekday in range(7):
        berlin.windows.create(weekday=weekday, start=MIDNIGHT, end=MIDNIGHT)
    tz = zoneinfo.ZoneInfo("Europe/Berlin")
    start, end = dt.datetime(2026, 3, 29, tzinfo=tz), dt.datetime(2026, 3, 30, tzinfo=tz)
    assert working_time_between(start, end, calendar=berlin) == 23 * H  # clocks go forward that night
    assert add_working_time(start, 23 * H, calendar=berlin) == end


# --- properties --------------------------------------------------------------------------------------

moments = st.datetimes(min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2026, 12, 20)).map(
    lambda d: d.replace(tzinfo=SHANGHAI)
)
minute_moments = moments.map(lambda d: d.replace(second=0, microsecond=0))
durations = st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(hours=80))


@given(start=moments, duration=durations)
def test_round_trip_between_adding_and_measuring(start, duration):
    end = add_working_time(start, duration, calendar=CAL)
    assert working_time_between(start, end, calendar=CAL) == duration


@given(start=moments, first=durations, second=durations)
def test_adding_working_time_is_additive(start, first, second):
    stepwise = add_working_time(add_working_time(start, first, calendar=CAL), second, calendar=CAL)
    assert stepwise == add_working_time(start, first + second, calendar=CAL)


@given(start=moments, shorter=durations, longer=durations)
def test_a_longer_duration_never_ends_earlier(start, shorter, longer):
    shorter, longer = sorted((shorter, longer))
    assert add_working_time(start, shorter, calendar=CAL) <= add_working_time(start, longer, calendar=CAL)


@given(earlier=moments, later=moments, duration=durations)
def test_a_later_start_never_ends_earlier(earlier, later, duration):
    earlier, later = sorted((earlier, later))
    assert add_working_time(earlier, duration, calendar=CAL) <= add_working_time(
        later, duration, calendar=CAL
    )


@given(a=moments, b=moments, c=moments)
def test_measured_working_time_adds_up_over_consecutive_spans(a, b, c):
    a, b, c = sorted((a, b, c))
    total = working_time_between(a, b, calendar=CAL) + working_time_between(b, c, calendar=CAL)
    assert total == working_time_between(a, c, calendar=CAL)
    assert working_time_between(a, c, calendar=CAL) <= c - a


@given(start=moments, duration=st.timedeltas(min_value=MINUTE, max_value=dt.timedelta(hours=80)))
def test_a_deadline_falls_within_working_time(start, duration):
    end = add_working_time(start, duration, calendar=CAL)
    assert is_working_minute(CAL, end - dt.timedelta(microseconds=1))


@settings(max_examples=60, deadline=None)
@given(start=minute_moments, minutes=st.integers(min_value=0, max_value=24 * 60))
def test_adding_agrees_with_counting_minute_by_minute(start, minutes):
    assert add_working_time(start, minutes * MINUTE, calendar=CAL) == oracle_add(CAL, start, minutes)


# --- inside working time, and when it starts next ------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "working", "starts"),
    [
        (at(2026, 3, 4, 10), True, at(2026, 3, 4, 10)),  # an ordinary Wednesday morning
        (at(2026, 3, 4, 8, 30), True, at(2026, 3, 4, 8, 30)),  # a window's start is in it
        (at(2026, 3, 4, 12), False, at(2026, 3, 4, 13)),  # its end is not: lunch
        (at(2026, 3, 4, 17, 30), False, at(2026, 3, 5, 8, 30)),  # the evening
        (at(2026, 3, 6, 18), False, at(2026, 3, 9, 8, 30)),  # Friday evening: Monday
        (at(2026, 10, 1, 10), False, at(2026, 10, 8, 8, 30)),  # National Day 2026 runs to 7 October
        (at(2025, 10, 1, 10), False, at(2025, 10, 9, 8, 30)),  # National Day 2025 runs to 8 October
        (at(2025, 1, 26, 10), True, at(2025, 1, 26, 10)),  # a make-up Sunday (调休) is worked
        (at(2025, 1, 25, 10), False, at(2025, 1, 26, 8, 30)),  # the Saturday before it is not
        (at(2025, 1, 27, 18), False, at(2025, 2, 5, 8, 30)),  # Spring Festival 2025: 28 Jan to 4 Feb
        (at(2026, 2, 14, 18), False, at(2026, 2, 24, 8, 30)),  # Spring Festival 2026: 15 to 23 Feb
        (at(2026, 2, 28, 9), True, at(2026, 2, 28, 9)),  # its make-up Saturday
    ],
)
def test_working_time_and_when_it_starts_next(moment, working, starts):
    assert is_working_time(moment, calendar=CAL) is working
    assert next_working_time(moment, calendar=CAL) == starts


def test_the_next_working_time_is_in_shanghai_time_whatever_the_zone_of_the_question():
    moment = dt.datetime(2026, 3, 4, 12, 0, tzinfo=dt.UTC)  # 20:00 in Shanghai
    assert str(next_working_time(moment, calendar=CAL)) == "2026-03-05 08:30:00+08:00"


def test_the_round_the_clock_calendar_is_always_working_time(catalogue):
    for moment in (at(2026, 10, 1, 0), at(2026, 10, 3, 23, 59), at(2026, 2, 17, 3)):
        assert is_working_time(moment, calendar="7x24")
        assert next_working_time(moment, calendar="7x24") == moment


def test_the_next_working_time_of_a_calendar_without_windows_is_refused():
    empty = WorkingCalendar("none", SHANGHAI, ((),) * 7, frozenset(), frozenset(), frozenset(), False)
    with pytest.raises(BillingError) as error:
        next_working_time(at(2026, 3, 4, 10), calendar=empty)
    assert error.value.code == "empty_calendar"


@given(moment=moments)
def test_working_time_agrees_with_the_minute_by_minute_reading(moment):
    assert is_working_time(moment, calendar=CAL) is is_working_minute(CAL, moment)


@given(moment=moments)
def test_the_next_working_time_is_the_first_working_moment_from_then(moment):
    starts = next_working_time(moment, calendar=CAL)
    assert starts >= moment
    assert is_working_time(starts, calendar=CAL)
    assert working_time_between(moment, starts, calendar=CAL) == dt.timedelta(0)
    assert (starts == moment) is is_working_time(moment, calendar=CAL)
    # a minute of work from then holds a minute of working time; it ends a minute after the start unless
    # the window closes within that minute (17:29:00.000001 on a working day ends 8:30:00.000001 next)
    ends = add_working_time(moment, MINUTE, calendar=CAL)
    assert working_time_between(moment, ends, calendar=CAL) == MINUTE
    assert ends >= starts + MINUTE
