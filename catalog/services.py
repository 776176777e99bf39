"""Writes to the catalogue: loading the vendor's terms, new rate-card versions, holiday schedules."""

import datetime
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

import chinese_calendar
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from simple_history.utils import bulk_create_with_history

from billing.errors import BillingError
from catalog import seed
from catalog.models import (
    ArrivalCommitment,
    BusinessCalendar,
    ChannelHours,
    DataVolumePrice,
    DataVolumeTier,
    DayKind,
    EscalationLevel,
    HolidayScheduleDay,
    PersonDayRate,
    Product,
    ProductVersion,
    RateCard,
    ResponseTarget,
    ServiceGroup,
    ServiceItem,
    ServiceTier,
    TaxCategory,
    TaxCode,
    TaxpayerKind,
    TierBenefit,
    TravelPolicy,
    UnitPrice,
    UpgradePrice,
    VatRate,
    WorkingWindow,
)
from catalog.versions import Version


@dataclass
class LoadReport:
    """What a load created, per model; rows that already existed are left untouched."""

    created: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)

    def record(self, obj, created: bool):
        (self.created if created else self.unchanged)[obj._meta.verbose_name_plural] += 1
        return obj

    @property
    def total_created(self) -> int:
        return sum(self.created.values())


@transaction.atomic
def load_catalog() -> LoadReport:
    """Loads every item of the vendor's terms, tiers, response policy, calendars (with the 2025 and 2026
    holiday schedules), the channels' opening hours and the example rate card. Idempotent: existing rows,
    perhaps edited in the admin, are kept as they are, and a second run creates nothing."""
    report = LoadReport()
    _load_products(report)
    taxes = _load_taxes(report)
    _load_services(report, taxes)
    calendars = _load_calendars(report)
    _load_channel_hours(report, calendars)
    for year in seed.SEEDED_HOLIDAY_YEARS:
        created = load_holiday_schedule(year=year)
        report.created["holiday schedule days"] += created
    _load_tiers(report, calendars)
    _load_rate_card(report)
    return report


def _load_products(report: LoadReport) -> None:
    products = {}
    for code, name_zh, name_en in seed.PRODUCTS:
        products[code] = report.record(
            *Product.objects.get_or_create(code=code, defaults={"name_zh": name_zh, "name_en": name_en})
        )
    for code, text, released_on in seed.PRODUCT_VERSIONS:
        version = Version.parse(text)
        row, created = ProductVersion.objects.get_or_create(
            product=products[code],
            major=version.major,
            medium=version.medium,
            minor=version.minor,
            defaults={"released_on": released_on},
        )
        if row.released_on is None:  # loaded before release dates were seeded; a date set since is kept
            row.released_on = released_on
            row.save(update_fields=["released_on"])
        report.record(row, created)


def _load_taxes(report: LoadReport) -> dict[str, TaxCategory]:
    taxes = {}
    for code, name_zh, name_en in seed.TAX_CATEGORIES:
        taxes[code] = report.record(
            *TaxCategory.objects.get_or_create(code=code, defaults={"name_zh": name_zh, "name_en": name_en})
        )
    for kind, rates in (
        (TaxpayerKind.GENERAL, seed.VAT_RATES),
        (TaxpayerKind.SMALL_SCALE, seed.SMALL_SCALE_VAT_RATES),
    ):
        for code, rate, valid_from in rates:
            report.record(
                *VatRate.objects.get_or_create(
                    category=taxes[code], taxpayer_kind=kind, valid_from=valid_from, defaults={"rate": rate}
                )
            )
    for code, name, leaf in seed.TAX_CODES:
        report.record(*TaxCode.objects.get_or_create(code=code, defaults={"name": name, "leaf": leaf}))
    return taxes


def _load_services(report: LoadReport, taxes: dict[str, TaxCategory]) -> None:
    groups = {}
    for position, (code, name_zh, name_en) in enumerate(seed.GROUPS):
        groups[code] = report.record(
            *ServiceGroup.objects.get_or_create(
                code=code, defaults={"name_zh": name_zh, "name_en": name_en, "position": position}
            )
        )
    for position, row in enumerate(seed.SERVICES):
        code, kind, group, basis, alternative, name_zh, name_en, desc_zh, desc_en, note_zh, note_en = row
        report.record(
            *ServiceItem.objects.get_or_create(
                code=code,
                defaults={
                    "kind": kind,
                    "group": groups[group],
                    "pricing_basis": basis,
                    "alternative_basis": alternative,
                    "tax_category": taxes[TaxCategory.SERVICES],
                    "name_zh": name_zh,
                    "name_en": name_en,
                    "description_zh": desc_zh,
                    "description_en": desc_en,
                    "note_zh": note_zh,
                    "note_en": note_en,
                    "position": position,
                },
            )
        )
    # a service without its fapiao classification gets the seed's (one the administrator set is kept)
    for code, (tax_code, fapiao_name) in (
        (row[0], seed.SERVICE_TAX_CODES.get(row[0], seed.MAINTENANCE)) for row in seed.SERVICES
    ):
        ServiceItem.objects.filter(code=code, tax_code="").update(tax_code=tax_code, fapiao_name=fapiao_name)


def _load_calendars(report: LoadReport) -> dict[str, BusinessCalendar]:
    calendars = {}
    for code, name_zh, name_en, observes, windows in seed.CALENDARS:
        calendar, created = BusinessCalendar.objects.get_or_create(
            code=code, defaults={"name_zh": name_zh, "name_en": name_en, "observes_public_holidays": observes}
        )
        calendars[code] = report.record(calendar, created)
        if created:  # the windows of an existing calendar are the admin's to change
            WorkingWindow.objects.bulk_create(
                WorkingWindow(calendar=calendar, weekday=weekday, start=start, end=end)
                for weekday, start, end in windows
            )
            report.created[WorkingWindow._meta.verbose_name_plural] += len(windows)
    return calendars


def _load_channel_hours(report: LoadReport, calendars: dict[str, BusinessCalendar]) -> None:
    for channel, calendar in seed.CHANNEL_HOURS.items():
        report.record(
            *ChannelHours.objects.get_or_create(channel=channel, defaults={"calendar": calendars[calendar]})
        )


def _load_tiers(report: LoadReport, calendars: dict[str, BusinessCalendar]) -> None:
    tiers = {}
    for code, name_zh, name_en, calendar, position, desc_zh, desc_en in seed.TIERS:
        tiers[code] = report.record(
            *ServiceTier.objects.get_or_create(
                code=code,
                defaults={
                    "name_zh": name_zh,
                    "name_en": name_en,
                    "calendar": calendars[calendar],
                    "position": position,
                    "description_zh": desc_zh,
                    "description_en": desc_en,
                    "emergency_calendar": calendars[seed.EMERGENCY_CALENDAR],
                    "fee_overdue_policy": seed.FEE_OVERDUE_POLICIES.get(code, "warn"),
                },
            )
        )
    for tier, severity, hours, on_site, handling_zh, handling_en in seed.RESPONSE_TARGETS:
        report.record(
            *ResponseTarget.objects.get_or_create(
                tier=tiers[tier],
                severity=severity,
                defaults={
                    "response_hours": hours,
                    "on_site_hours": on_site,
                    "handling_zh": handling_zh,
                    "handling_en": handling_en,
                    "emergency_cover": severity in seed.EMERGENCY_LEVELS,
                    "vendor_to_confirm": tier in seed.TIERS_TO_CONFIRM,
                },
            )
        )
    _load_escalation(report, tiers)
    for tier, area, amount, unit in seed.ARRIVAL_COMMITMENTS:
        report.record(
            *ArrivalCommitment.objects.get_or_create(
                tier=tiers[tier], area=area, defaults={"amount": amount, "unit": unit}
            )
        )


def _load_escalation(report: LoadReport, tiers: dict[str, ServiceTier]) -> None:
    """The three-level response per tier and problem level, and the tiers' named services; the terms give
    no figures, so every row is marked as the vendor's to confirm."""
    for tier, severity, *after in seed.ESCALATION_HOURS:
        for (level, name_zh, name_en), hours in zip(seed.ESCALATION_NAMES, [Decimal(0), *after], strict=True):
            report.record(
                *EscalationLevel.objects.get_or_create(
                    tier=tiers[tier],
                    severity=severity,
                    level=level,
                    defaults={"name_zh": name_zh, "name_en": name_en, "after_hours": hours},
                )
            )
    for position, (tier, code, name_zh, name_en, desc_zh, desc_en) in enumerate(seed.TIER_BENEFITS):
        report.record(
            *TierBenefit.objects.get_or_create(
                tier=tiers[tier],
                code=code,
                defaults={
                    "name_zh": name_zh,
                    "name_en": name_en,
                    "description_zh": desc_zh,
                    "description_en": desc_en,
                    "position": position,
                },
            )
        )


def _load_rate_card(report: LoadReport) -> None:
    code, version, effective_from, note = seed.RATE_CARD
    card, created = RateCard.objects.get_or_create(
        code=code, version=version, defaults={"effective_from": effective_from, "note": note}
    )
    report.record(card, created)
    services = ServiceItem.objects.in_bulk(field_name="code")
    for role, (remote, on_site) in seed.PERSON_DAY_RATES.items():
        for mode, amount in (("remote", remote), ("on_site", on_site)):
            report.record(
                *PersonDayRate.objects.get_or_create(
                    rate_card=card, role=role, delivery_mode=mode, defaults={"price": amount}
                )
            )
    for service, basis, amount in seed.UNIT_PRICES:
        report.record(
            *UnitPrice.objects.get_or_create(
                rate_card=card, service=services[service], basis=basis, defaults={"price": amount}
            )
        )
    for service, model, unit, package_size, tiers in seed.DATA_VOLUME_PRICES:
        pricing, created = DataVolumePrice.objects.get_or_create(
            rate_card=card,
            service=services[service],
            defaults={"model": model, "unit": unit, "package_size": package_size},
        )
        report.record(pricing, created)
        if created:
            for up_to, unit_price, flat_fee in tiers:
                DataVolumeTier.objects.create(
                    pricing=pricing, up_to=up_to, unit_price=unit_price, flat_fee=flat_fee
                )
            report.created[DataVolumeTier._meta.verbose_name_plural] += len(tiers)
    products = Product.objects.in_bulk(field_name="code")
    taxes = TaxCategory.objects.in_bulk(field_name="code")
    for product, major, amount, tax_category in seed.UPGRADE_PRICES:
        report.record(
            *UpgradePrice.objects.get_or_create(
                rate_card=card,
                product=products[product],
                major=major,
                defaults={"price": amount, "tax_category": taxes[tax_category]},
            )
        )
    lodging, allowance, note_zh, note_en = seed.TRAVEL_POLICY
    report.record(
        *TravelPolicy.objects.get_or_create(
            rate_card=card,
            defaults={
                "lodging_cap_per_night": lodging,
                "allowance_per_day": allowance,
                "note_zh": note_zh,
                "note_en": note_en,
            },
        )
    )


def load_holiday_schedule(*, year: int) -> int:
    """Loads one year's statutory holidays and make-up working days from chinese-calendar (which knows
    2004-2026) unless the year already has a schedule. Returns how many days it created."""
    if HolidayScheduleDay.objects.filter(date__year=year).exists():
        return 0
    days = []
    for kind, source in (
        (DayKind.HOLIDAY, chinese_calendar.holidays),
        (DayKind.WORKDAY, chinese_calendar.workdays),
    ):
        for day, name in source.items():
            if day.year == year and name is not None:
                days.append(
                    HolidayScheduleDay(
                        date=day, kind=kind, name_en=name, name_zh=seed.HOLIDAY_NAMES_ZH.get(name, name)
                    )
                )
    if not days:
        raise BillingError(
            _("No holiday schedule for %(year)s is known; import the State Council's schedule as CSV."),
            code="holiday_schedule_unknown",
            params={"year": year},
        )
    HolidayScheduleDay.objects.bulk_create(days)
    return len(days)


@transaction.atomic
def rate_card_new_version(*, rate_card: RateCard, effective_from: datetime.date, note: str = "") -> RateCard:
    """A new version of ``rate_card``'s series from ``effective_from``, a copy of every price of
    ``rate_card`` to edit. Earlier versions stay as they are for what was quoted with them."""
    latest = RateCard.objects.select_for_update().filter(code=rate_card.code).order_by("-version").first()
    if effective_from <= latest.effective_from:
        raise BillingError(
            _("A new version must start after the latest one (%(date)s)."),
            code="rate_card_effective_from",
            params={"date": latest.effective_from},
        )
    card = RateCard.objects.create(
        code=rate_card.code,
        version=latest.version + 1,
        effective_from=effective_from,
        currency=rate_card.currency,
        note=note,
    )
    for model in (PersonDayRate, UnitPrice, UpgradePrice):
        copies = list(model.objects.filter(rate_card=rate_card))
        for copy in copies:
            copy.pk, copy.rate_card = None, card
        bulk_create_with_history(copies, model)
    for pricing in DataVolumePrice.objects.filter(rate_card=rate_card).prefetch_related("tiers"):
        tiers = list(pricing.tiers.all())
        pricing.pk, pricing.rate_card = None, card
        pricing.save()
        for tier in tiers:
            tier.pk, tier.pricing = None, pricing
        bulk_create_with_history(tiers, DataVolumeTier)
    policy = TravelPolicy.objects.filter(rate_card=rate_card).first()
    if policy:
        policy.pk, policy.rate_card = None, card
        policy.save()
    return card
