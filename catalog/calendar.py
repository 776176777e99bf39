"""The business calendar: the only code that knows working hours.

A calendar has weekly working windows (5x8: Monday-Friday 08:30-12:00 and 13:00-17:30) and, when it
observes them, the State Council's holiday schedule: statutory holidays are off and make-up working days
(调休) on weekends are worked with Monday's windows. A year with no published schedule is *provisional*:
only the weekday pattern is known, and every answer computed in it says so.

Arguments are aware datetimes in any zone; answers are in the calendar's zone (Asia/Shanghai). The
arithmetic runs on UTC instants, so it is exact to the microsecond and right across DST changes of
calendars in zones that have them.
"""

import datetime
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from billing.errors import BillingError
from catalog import snapshot
from catalog.models import MIDNIGHT, BusinessCalendar, DayKind, HolidayScheduleDay

UTC = datetime.UTC
ONE_DAY = datetime.timedelta(days=1)
MAKEUP_DAY_WEEKDAY = 0  # make-up working days are worked like a Monday


@dataclass(frozen=True)
class WorkingCalendar:
    """A calendar loaded into memory: the arithmetic below makes no queries once it has one."""

    code: str
    tz: zoneinfo.ZoneInfo
    windows: tuple[tuple[tuple[datetime.time, datetime.time], ...], ...]  # per weekday, sorted
    holidays: frozenset[datetime.date]
    makeup_workdays: frozenset[datetime.date]
    published_years: frozenset[int]
    observes_public_holidays: bool

    def is_statutory_holiday(self, day: datetime.date) -> bool:
        """Whether ``day`` is a statutory holiday of the published schedule (make-up days are not)."""
        return day in self.holidays

    def windows_on(self, day: datetime.date) -> list[tuple[datetime.datetime, datetime.datetime]]:
        """The working windows of one local day, as UTC instants."""
        if self.observes_public_holidays:
            if day in self.holidays:
                return []
            weekday = MAKEUP_DAY_WEEKDAY if day in self.makeup_workdays else day.weekday()
        else:
            weekday = day.weekday()
        spans = []
        for start, end in self.windows[weekday]:
            begin = datetime.datetime.combine(day, start, tzinfo=self.tz)
            if end == MIDNIGHT:
                finish = datetime.datetime.combine(day + ONE_DAY, MIDNIGHT, tzinfo=self.tz)
            else:
                finish = datetime.datetime.combine(day, end, tzinfo=self.tz)
            spans.append((begin.astimezone(UTC), finish.astimezone(UTC)))
        return spans

    def is_provisional(self, start: datetime.datetime, end: datetime.datetime | None = None) -> bool:
        """True when any local day from ``start`` to ``end`` lies in a year with no published schedule."""
        if not self.observes_public_holidays:
            return False
        first = _local(start, self.tz).year
        last = _local(end, self.tz).year if end is not None else first
        low, high = min(first, last), max(first, last)
        return any(year not in self.published_years for year in range(low, high + 1))


@dataclass(frozen=True)
class Deadline:
    """A moment computed on a calendar; ``provisional`` when a year it spans has no published schedule."""

    at: datetime.datetime
    provisional: bool


CalendarLike = WorkingCalendar | BusinessCalendar | str | None


def load_calendar(calendar: CalendarLike = None) -> WorkingCalendar:
    """A calendar (by instance or code; None: the default), from the catalogue snapshot or read in at
    most three queries."""
    if isinstance(calendar, WorkingCalendar):
        return calendar
    code = (
        calendar.code
        if isinstance(calendar, BusinessCalendar)
        else calendar or settings.BUSINESS_CALENDAR_DEFAULT
    )
    return snapshot.cached(("calendar", code), lambda: _read_calendar(calendar))


def _read_calendar(calendar: BusinessCalendar | str | None) -> WorkingCalendar:
    if not isinstance(calendar, BusinessCalendar):
        code = calendar or settings.BUSINESS_CALENDAR_DEFAULT
        try:
            calendar = BusinessCalendar.objects.get(code=code)
        except BusinessCalendar.DoesNotExist as error:
            raise BillingError(
                _("There is no business calendar “%(code)s”; run manage.py load_catalog."),
                code="unknown_calendar",
                params={"code": code},
            ) from error
    per_weekday: list[list[tuple[datetime.time, datetime.time]]] = [[] for _day in range(7)]
    for weekday, start, end in calendar.windows.values_list("weekday", "start", "end"):
        per_weekday[weekday].append((start, end))
    holidays, makeup_workdays, years = set(), set(), set()
    if calendar.observes_public_holidays:
        for day, kind in HolidayScheduleDay.objects.values_list("date", "kind"):
            (holidays if kind == DayKind.HOLIDAY else makeup_workdays).add(day)
            years.add(day.year)
    return WorkingCalendar(
        code=calendar.code,
        tz=zoneinfo.ZoneInfo(calendar.timezone),
        windows=tuple(tuple(sorted(w)) for w in per_weekday),
        holidays=frozenset(holidays),
        makeup_workdays=frozenset(makeup_workdays),
        published_years=frozenset(years),
        observes_public_holidays=calendar.observes_public_holidays,
    )


def add_working_time(
    start: datetime.datetime, duration: datetime.timedelta, *, calendar: CalendarLike = None
) -> datetime.datetime:
    """The moment ``duration`` of working time after ``start``. A zero duration returns ``start``; a
    deadline that uses up a window exactly falls on the window's end (12:00, not 13:00)."""
    cal = load_calendar(calendar)
    _check_aware(start)
    if duration < datetime.timedelta(0):
        raise BillingError(_("A duration of working time cannot be negative."), code="negative_duration")
    if duration == datetime.timedelta(0):
        return start.astimezone(cal.tz)
    _check_has_working_time(cal)
    moment = start.astimezone(UTC)
    remaining = duration
    for day in _days_from(_local(start, cal.tz)):
        for begin, finish in cal.windows_on(day):
            if finish <= moment:
                continue
            begin = max(begin, moment)
            available = finish - begin
            if remaining <= available:
                return (begin + remaining).astimezone(cal.tz)
            remaining -= available
    raise AssertionError("unreachable: _days_from is endless")  # pragma: no cover


def working_time_between(
    start: datetime.datetime, end: datetime.datetime, *, calendar: CalendarLike = None
) -> datetime.timedelta:
    """Working time from ``start`` to ``end``; negative when ``end`` comes first."""
    cal = load_calendar(calendar)
    _check_aware(start)
    _check_aware(end)
    if end < start:
        return -working_time_between(end, start, calendar=cal)
    low, high = start.astimezone(UTC), end.astimezone(UTC)
    total = datetime.timedelta(0)
    last_day = _local(end, cal.tz)
    for day in _days_from(_local(start, cal.tz)):
        if day > last_day:
            break
        for begin, finish in cal.windows_on(day):
            overlap = min(finish, high) - max(begin, low)
            if overlap > datetime.timedelta(0):
                total += overlap
    return total


def add_working_days(
    start: datetime.datetime, days: int, *, calendar: CalendarLike = None
) -> datetime.datetime:
    """The same time of day ``days`` working days after ``start`` (for "on site within 3 working days"),
    or the end of that day's last window when the time lies after it."""
    cal = load_calendar(calendar)
    _check_aware(start)
    if days < 0:
        raise BillingError(_("A number of working days cannot be negative."), code="negative_duration")
    _check_has_working_time(cal)
    local = start.astimezone(cal.tz)
    if days == 0:
        return local
    counted = 0
    for day in _days_from(local.date() + ONE_DAY):
        windows = cal.windows_on(day)
        if not windows:
            continue
        counted += 1
        if counted == days:
            wanted = datetime.datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=cal.tz)
            return min(max(wanted.astimezone(UTC), windows[0][0]), windows[-1][1]).astimezone(cal.tz)
    raise AssertionError("unreachable: _days_from is endless")  # pragma: no cover


def is_working_time(moment: datetime.datetime, *, calendar: CalendarLike = None) -> bool:
    """Whether ``moment`` lies inside a working window (a window's start is in it, its end is not)."""
    cal = load_calendar(calendar)
    _check_aware(moment)
    instant = moment.astimezone(UTC)
    return any(begin <= instant < finish for begin, finish in cal.windows_on(_local(moment, cal.tz)))


def next_working_time(moment: datetime.datetime, *, calendar: CalendarLike = None) -> datetime.datetime:
    """The first moment of working time at or after ``moment``: ``moment`` itself inside a window, else
    the start of the next window (after the evening, the weekend, the holidays)."""
    cal = load_calendar(calendar)
    _check_aware(moment)
    _check_has_working_time(cal)
    instant = moment.astimezone(UTC)
    for day in _days_from(_local(moment, cal.tz)):
        for begin, finish in cal.windows_on(day):
            if instant < finish:
                return max(begin, instant).astimezone(cal.tz)
    raise AssertionError("unreachable: _days_from is endless")  # pragma: no cover


def is_provisional(
    start: datetime.datetime, end: datetime.datetime | None = None, *, calendar: CalendarLike = None
) -> bool:
    """True when an answer computed from ``start`` to ``end`` relies on a year with no published schedule."""
    return load_calendar(calendar).is_provisional(start, end)


def deadline(
    start: datetime.datetime, duration: datetime.timedelta, *, calendar: CalendarLike = None
) -> Deadline:
    """``add_working_time`` with the answer's provisional flag, on one loaded calendar."""
    cal = load_calendar(calendar)
    at = add_working_time(start, duration, calendar=cal)
    return Deadline(at=at, provisional=cal.is_provisional(start, at))


def _local(moment: datetime.datetime, tz: zoneinfo.ZoneInfo) -> datetime.date:
    return moment.astimezone(tz).date()


def _days_from(day: datetime.date) -> Iterator[datetime.date]:
    while True:
        yield day
        day += ONE_DAY


def _check_aware(moment: datetime.datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise BillingError(_("Times must carry a time zone (an aware datetime)."), code="naive_datetime")


def _check_has_working_time(cal: WorkingCalendar) -> None:
    if not any(cal.windows):
        raise BillingError(
            _("The calendar “%(code)s” has no working windows."),
            code="empty_calendar",
            params={"code": cal.code},
        )
