"""Reads of the catalogue that are more than a one-line queryset."""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.errors import BillingError
from catalog import snapshot
from catalog.models import (
    MIDNIGHT,
    ArrivalCommitment,
    BusinessCalendar,
    ChannelHours,
    EmergencyCoverWindow,
    EscalationLevel,
    HolidayScheduleDay,
    ProductVersion,
    RateCard,
    ResponseTarget,
    ServiceItem,
    ServiceTier,
    TierBenefit,
    VatRate,
    Weekday,
)
from catalog.versions import Version

# The State Council publishes next year's schedule late in the year: from this month on, a missing
# schedule for next year is worth a warning.
SCHEDULE_EXPECTED_FROM_MONTH = 11


def rate_card_in_force(*, on: datetime.date, code: str = "list") -> RateCard:
    """The version of a rate card in force on a date: the latest that started on or before it."""
    card = RateCard.objects.filter(code=code, effective_from__lte=on).order_by("-effective_from").first()
    if card is None:
        raise BillingError(
            _("No rate card “%(code)s” is in force on %(date)s."),
            code="no_rate_card",
            params={"code": code, "date": on},
        )
    return card


def vat_rate_on(*, category_code: str, on: datetime.date) -> Decimal:
    """The VAT rate of a tax category in force on a date for the vendor's kind of taxpayer
    (settings.VENDOR_TAXPAYER_KIND: a general taxpayer's 6% or 13%, a small-scale one's 3% or 1%), as a
    fraction (0.06), from the catalogue snapshot (every priced line asks)."""
    kind = settings.VENDOR_TAXPAYER_KIND
    rates = snapshot.cached(
        ("vat_rates", kind),
        lambda: list(
            VatRate.objects.filter(taxpayer_kind=kind)
            .order_by("-valid_from")
            .values_list("category__code", "valid_from", "rate")
        ),
    )
    rate = next((r for code, start, r in rates if code == category_code and start <= on), None)
    if rate is None:
        raise BillingError(
            _("No VAT rate for “%(category)s” is in force on %(date)s."),
            code="no_vat_rate",
            params={"category": category_code, "date": on},
        )
    return rate


TRAVEL_VAT_TAXABLE = "taxable"
TRAVEL_VAT_OUTSIDE = "outside"


def travel_vat_rate(*, on: datetime.date) -> Decimal:
    """The VAT rate travel and lodging charged to customers at cost carry on a date (settings.TRAVEL_VAT):
    part of our taxable sale ("taxable"), the rate of the travel service's tax category
    (settings.TRAVEL_SERVICE_CODE); kept outside our fapiao ("outside"), none. Quotes' travel estimates and
    invoiced travel both ask here."""
    treatment = settings.TRAVEL_VAT
    if treatment == TRAVEL_VAT_OUTSIDE:
        return Decimal(0)
    if treatment != TRAVEL_VAT_TAXABLE:
        raise ImproperlyConfigured(
            f"TRAVEL_VAT is “{treatment}”: it is “{TRAVEL_VAT_TAXABLE}” or “{TRAVEL_VAT_OUTSIDE}”."
        )
    service = service_by_code(settings.TRAVEL_SERVICE_CODE)
    if service is None:
        raise BillingError(
            _("Travel is sold under the service “%(code)s”, which the catalogue does not have."),
            code="unknown_travel_service",
            params={"code": settings.TRAVEL_SERVICE_CODE},
        )
    return vat_rate_on(category_code=service.tax_category.code, on=on)


def published_holiday_years() -> set[int]:
    return {day.year for day in HolidayScheduleDay.objects.dates("date", "year")}


def calendar_years_needing_schedule(*, today: datetime.date) -> list[int]:
    """Years whose holiday schedule is missing although deadlines will soon fall in them: this year, and
    next year from November on. Empty when no calendar observes public holidays."""
    if not BusinessCalendar.objects.filter(observes_public_holidays=True).exists():
        return []
    wanted = [today.year]
    if today.month >= SCHEDULE_EXPECTED_FROM_MONTH:
        wanted.append(today.year + 1)
    published = published_holiday_years()
    return [year for year in wanted if year not in published]


def service_by_code(code: str) -> ServiceItem | None:
    """A catalogue service by its code (from the catalogue snapshot)."""
    return snapshot.cached(("services",), lambda: ServiceItem.objects.in_bulk(field_name="code")).get(code)


def tier_by_id(tier_id: int) -> ServiceTier:
    """A service tier (from the catalogue snapshot)."""
    return snapshot.cached_row(("tiers",), ServiceTier.objects.in_bulk, tier_id)


def business_calendar_by_id(calendar_id: int) -> BusinessCalendar:
    """A business calendar's row (from the catalogue snapshot); load_calendar gives its working time."""
    return snapshot.cached_row(("business_calendars",), BusinessCalendar.objects.in_bulk, calendar_id)


def response_target(*, tier_id: int, severity: str) -> ResponseTarget | None:
    """How soon a tier answers a level (from the catalogue snapshot)."""
    targets = snapshot.cached(
        ("response_targets",), lambda: {(t.tier_id, t.severity): t for t in ResponseTarget.objects.all()}
    )
    return targets.get((tier_id, severity))


def version_released_on(*, product_code: str, version: Version) -> datetime.date | None:
    """The day a product's version was released, or None for a version the catalogue does not list as
    released (never published, or no release date recorded yet); from the catalogue snapshot."""
    released = snapshot.cached(
        ("released_versions",),
        lambda: {
            (row.product.code.upper(), row.version): row.released_on
            for row in ProductVersion.objects.filter(released_on__isnull=False).select_related("product")
        },
    )
    return released.get((product_code.upper(), version))


def arrival_commitment(*, tier_id: int, area: str) -> ArrivalCommitment | None:
    """How soon a tier is on site in an area (from the catalogue snapshot)."""
    rules = snapshot.cached(
        ("arrival_commitments",), lambda: {(r.tier_id, r.area): r for r in ArrivalCommitment.objects.all()}
    )
    return rules.get((tier_id, area))


def escalation_levels(*, tier_id: int, severity: str) -> tuple[EscalationLevel, ...]:
    """The three-level response of a tier for a problem level, first level first; empty when the catalogue
    has none (from the catalogue snapshot)."""

    def load():
        levels: dict[tuple[int, str], list[EscalationLevel]] = {}
        for row in EscalationLevel.objects.order_by("level"):
            levels.setdefault((row.tier_id, row.severity), []).append(row)
        return {key: tuple(rows) for key, rows in levels.items()}

    return snapshot.cached(("escalation_levels",), load).get((tier_id, severity), ())


def tier_benefits(*, tier_id: int) -> tuple[TierBenefit, ...]:
    """The services a tier brings beyond its response times, in order (from the catalogue snapshot)."""

    def load():
        benefits: dict[int, list[TierBenefit]] = {}
        for row in TierBenefit.objects.order_by("position", "code"):
            benefits.setdefault(row.tier_id, []).append(row)
        return {tier: tuple(rows) for tier, rows in benefits.items()}

    return snapshot.cached(("tier_benefits",), load).get(tier_id, ())


def channel_hours_calendar(*, channel: str) -> BusinessCalendar | None:
    """The calendar of a channel's opening hours (from the catalogue snapshot); None when the catalogue
    gives the channel no hours."""
    calendars = snapshot.cached(
        ("channel_hours",), lambda: dict(ChannelHours.objects.values_list("channel", "calendar_id"))
    )
    calendar_id = calendars.get(channel)
    return business_calendar_by_id(calendar_id) if calendar_id is not None else None


def emergency_cover_window_at(moment: datetime.datetime) -> EmergencyCoverWindow | None:
    """The catalogue's emergency cover window (besides the statutory holidays) that ``moment`` falls in, in
    local time; from the catalogue snapshot."""
    windows = snapshot.cached(("emergency_cover_windows",), lambda: list(EmergencyCoverWindow.objects.all()))
    local = timezone.localtime(moment)
    clock = local.time().replace(tzinfo=None)
    return next(
        (
            window
            for window in windows
            if window.date == local.date()
            and window.start <= clock
            and (window.end == MIDNIGHT or clock < window.end)
        ),
        None,
    )


def opening_hours(calendar: BusinessCalendar) -> list[str]:
    """A calendar's working windows as people read them: weekdays with the same hours run together
    ("Monday–Friday 09:00–12:00, 13:00–18:00"; "every day, all day" for 7x24). Reads ``calendar.windows``
    (prefetch it for a list)."""
    by_day: dict[int, list[str]] = {day: [] for day in Weekday.values}
    for window in calendar.windows.all():
        if window.start == MIDNIGHT and window.end == MIDNIGHT:
            by_day[window.weekday].append(str(_("all day")))
        else:
            by_day[window.weekday].append(f"{window.start:%H:%M}–{window.end:%H:%M}")
    runs: list[tuple[int, int, list[str]]] = []
    for day in Weekday.values:
        if runs and runs[-1][2] == by_day[day] and runs[-1][1] == day - 1:
            runs[-1] = (runs[-1][0], day, by_day[day])
        else:
            runs.append((day, day, by_day[day]))
    lines = []
    for first, last, windows in runs:
        if not windows:
            continue
        if (first, last) == (Weekday.MONDAY, Weekday.SUNDAY):
            days = str(_("every day"))
        elif first == last:
            days = str(Weekday(first).label)
        else:
            days = f"{Weekday(first).label}–{Weekday(last).label}"
        lines.append(f"{days} {', '.join(windows)}")
    return lines
