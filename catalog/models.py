"""The service catalogue: products, services, tiers and response policy, rate cards, VAT, calendars.

Names that people read come in zh-hans and en (``name_zh``/``name_en``); ``name`` picks the one for the
active language.
"""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField
from djmoney.models.validators import MinMoneyValidator

from billing.history import audit_history
from billing.i18n import pick
from catalog.versions import Version

MONEY = {"max_digits": 14, "decimal_places": 2, "default_currency": "CNY"}


class Bilingual(models.Model):
    """A name (and optional description) in Chinese and English."""

    name_zh = models.CharField(_("name (Chinese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return pick(self.name_zh, self.name_en)


class Product(Bilingual):
    """A licensed product line (KMS, EIS, KK)."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self) -> str:
        return self.code


class ProductVersion(models.Model):
    """A released version of a product; the parts follow the terms: major (大), medium (中), minor (小)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="versions")
    major = models.PositiveIntegerField(_("major"))
    medium = models.PositiveIntegerField(_("medium"))
    minor = models.PositiveIntegerField(_("minor"), default=0)
    released_on = models.DateField(_("released on"), null=True, blank=True)

    class Meta:
        ordering = ["product", "major", "medium", "minor"]
        verbose_name = _("product version")
        verbose_name_plural = _("product versions")
        constraints = [
            models.UniqueConstraint(
                fields=["product", "major", "medium", "minor"], name="uniq_product_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.product.code} {self.version}"

    @property
    def version(self) -> Version:
        return Version(self.major, self.medium, self.minor)


class TaxCategory(Bilingual):
    """What VAT applies to: services (6%) or software (13%)."""

    SERVICES = "services"
    SOFTWARE = "software"

    code = models.SlugField(_("code"), max_length=30, unique=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("tax category")
        verbose_name_plural = _("tax categories")


class TaxpayerKind(models.TextChoices):
    """The vendor's VAT status (settings.VENDOR_TAXPAYER_KIND): it sets which rates apply."""

    GENERAL = "general", _("general taxpayer (一般纳税人)")
    SMALL_SCALE = "small_scale", _("small-scale taxpayer (小规模纳税人)")


class VatRate(models.Model):
    """A VAT rate for a category and taxpayer kind from a date on, until the next one of the same."""

    category = models.ForeignKey(TaxCategory, on_delete=models.CASCADE, related_name="rates")
    taxpayer_kind = models.CharField(
        _("taxpayer kind"), max_length=20, choices=TaxpayerKind.choices, default=TaxpayerKind.GENERAL
    )
    rate = models.DecimalField(
        _("rate"),
        max_digits=5,
        decimal_places=4,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(1))],
        help_text=_("As a fraction: 0.0600 is 6%."),
    )
    valid_from = models.DateField(_("valid from"))

    class Meta:
        ordering = ["category", "-valid_from"]
        verbose_name = _("VAT rate")
        verbose_name_plural = _("VAT rates")
        constraints = [
            models.UniqueConstraint(
                fields=["category", "taxpayer_kind", "valid_from"], name="uniq_vat_rate_from"
            ),
            models.CheckConstraint(condition=Q(rate__gte=0, rate__lte=1), name="vat_rate_fraction"),
        ]

    def __str__(self) -> str:
        return f"{self.category.code} {self.rate:.2%} ({self.valid_from}, {self.get_taxpayer_kind_display()})"


TAX_CODE_DIGITS = 19


def validate_tax_code(value: str) -> None:
    """商品和服务税收编码: 19 digits, a leaf of the tax bureau's classification (a parent is refused)."""
    if not (len(value) == TAX_CODE_DIGITS and value.isascii() and value.isdigit()):
        raise ValidationError(
            _("A tax classification code has 19 digits; “%(value)s” does not."),
            params={"value": value},
            code="tax_code_digits",
        )
    if TaxCode.objects.filter(code=value, leaf=False).exists():
        raise ValidationError(
            _("“%(value)s” is a parent code: the e-invoice platform takes leaf codes only."),
            params={"value": value},
            code="tax_code_parent",
        )


class TaxCode(models.Model):
    """A code of the tax bureau's goods and services classification (商品和服务税收编码) that the catalogue
    knows: its leaves may be printed on a fapiao, its parents may not."""

    code = models.CharField(_("code"), max_length=TAX_CODE_DIGITS, unique=True)
    name = models.CharField(_("name (Chinese)"), max_length=100)
    leaf = models.BooleanField(
        _("leaf code"), default=True, help_text=_("Only leaf codes may be printed on a fapiao.")
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("tax classification code")
        verbose_name_plural = _("tax classification codes")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ServiceGroup(Bilingual):
    """A heading of the terms' tables, such as 运维支持服务 or 系统加固服务."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("service group")
        verbose_name_plural = _("service groups")


class ServiceKind(models.TextChoices):
    STANDARD = "standard", _("standard service")
    VALUE_ADDED = "value_added", _("value-added service")
    ON_SITE = "on_site", _("on-site service")


class PricingBasis(models.TextChoices):
    INCLUDED = "included", _("included")
    PER_PERSON_DAY = "per_person_day", _("per person-day")
    PER_DATA_VOLUME = "per_data_volume", _("per data volume")
    PER_COURSE = "per_course", _("per course")
    PER_PERSON = "per_person", _("per person")
    PER_UNIT = "per_unit", _("per unit")
    FIXED = "fixed", _("fixed price")


class ServiceItem(Bilingual):
    """One service of the terms: standard (附表一), value-added (附表二) or on-site; ``code`` is stable."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=ServiceKind.choices)
    group = models.ForeignKey(ServiceGroup, on_delete=models.PROTECT, related_name="items")
    pricing_basis = models.CharField(_("pricing basis"), max_length=20, choices=PricingBasis.choices)
    alternative_basis = models.CharField(
        _("alternative pricing basis"),
        max_length=20,
        choices=PricingBasis.choices,
        blank=True,
        help_text=_("Some services are priced either way, e.g. per data volume or per person-day."),
    )
    tax_category = models.ForeignKey(TaxCategory, on_delete=models.PROTECT, related_name="+")
    tax_code = models.CharField(
        _("tax classification code"),
        max_length=TAX_CODE_DIGITS,
        blank=True,
        validators=[validate_tax_code],
        help_text=_("商品和服务税收编码: 19 digits, a leaf code; what the fapiao's lines are classified as."),
    )
    fapiao_name = models.CharField(
        _("name on the fapiao"),
        max_length=100,
        blank=True,
        help_text=_(
            "项目名称 on the fapiao, e.g. 软件维护费 (the platform adds the short name between asterisks)."
        ),
    )
    description_zh = models.TextField(_("description (Chinese)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    note_zh = models.CharField(_("note (Chinese)"), max_length=200, blank=True)
    note_en = models.CharField(_("note (English)"), max_length=200, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["group__position", "position", "code"]
        verbose_name = _("service item")
        verbose_name_plural = _("service items")
        constraints = [
            # Standard service is included while a period runs; everything else is paid.
            models.CheckConstraint(
                condition=(Q(kind=ServiceKind.STANDARD, pricing_basis=PricingBasis.INCLUDED))
                | (~Q(kind=ServiceKind.STANDARD) & ~Q(pricing_basis=PricingBasis.INCLUDED)),
                name="service_item_standard_is_included",
            ),
            models.CheckConstraint(
                condition=~Q(alternative_basis=PricingBasis.INCLUDED)
                & ~Q(alternative_basis=F("pricing_basis")),
                name="service_item_alternative_basis_differs",
            ),
        ]

    @property
    def description(self) -> str:
        return pick(self.description_zh, self.description_en)

    @property
    def note(self) -> str:
        return pick(self.note_zh, self.note_en)

    @property
    def pricing_bases(self) -> list[str]:
        return [b for b in (self.pricing_basis, self.alternative_basis) if b]

    def clean(self) -> None:
        included = self.pricing_basis == PricingBasis.INCLUDED
        if (self.kind == ServiceKind.STANDARD) != included:
            raise ValidationError(
                {
                    "pricing_basis": _(
                        "Standard services are included; value-added and on-site services are paid."
                    )
                }
            )
        if self.alternative_basis in (PricingBasis.INCLUDED, self.pricing_basis):
            raise ValidationError(
                {"alternative_basis": _("The alternative basis must be another paid basis.")}
            )


class BusinessCalendar(Bilingual):
    """Working time for response deadlines: weekly windows plus, when it observes them, China's
    statutory holidays and make-up working days (调休). See catalog.calendar for the arithmetic."""

    code = models.SlugField(_("code"), max_length=20, unique=True)
    timezone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    observes_public_holidays = models.BooleanField(
        _("observes public holidays"),
        default=True,
        help_text=_("Statutory holidays are off and make-up working days (调休) are on."),
    )
    history = audit_history()  # its windows are the response clock and the channels' opening hours

    class Meta:
        ordering = ["code"]
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")

    def clean(self) -> None:
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
            raise ValidationError({"timezone": _("Unknown time zone.")}) from error


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


MIDNIGHT = datetime.time(0, 0)


def ends_after_start(name: str) -> models.CheckConstraint:
    """A window of local time ends after it starts, or at midnight (00:00) at the end of its day."""
    return models.CheckConstraint(condition=Q(end__gt=F("start")) | Q(end=MIDNIGHT), name=name)


def check_ends_after_start(start: datetime.time, end: datetime.time) -> None:
    """``ends_after_start`` for a form (the admin's)."""
    if end != MIDNIGHT and end <= start:
        raise ValidationError({"end": _("A window ends after it starts.")})


class WorkingWindow(models.Model):
    """A stretch of working time on a weekday; an end of 00:00 means midnight at the end of the day.
    Make-up working days (调休) use Monday's windows."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="windows")
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start = models.TimeField(_("start"))
    end = models.TimeField(_("end"), help_text=_("00:00 means midnight at the end of the day."))
    history = audit_history()

    class Meta:
        ordering = ["calendar", "weekday", "start"]
        verbose_name = _("working window")
        verbose_name_plural = _("working windows")
        constraints = [
            ends_after_start("working_window_ends_after_start"),
            models.UniqueConstraint(
                fields=["calendar", "weekday", "start"], name="uniq_working_window_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M}"

    def clean(self) -> None:
        if self.start is None or self.end is None:
            return
        check_ends_after_start(self.start, self.end)
        if not self.calendar_id:
            return
        siblings = WorkingWindow.objects.filter(calendar_id=self.calendar_id, weekday=self.weekday).exclude(
            pk=self.pk
        )
        for other in siblings:
            if _overlaps(self.start, self.end, other.start, other.end):
                raise ValidationError(_("This window overlaps %(other)s.") % {"other": other})


def _overlaps(start_a, end_a, start_b, end_b) -> bool:
    def upper(t):
        return datetime.time.max if t == MIDNIGHT else t

    return start_a < upper(end_b) and start_b < upper(end_a)


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", _("statutory holiday")
    WORKDAY = "workday", _("make-up working day")


class HolidayScheduleDay(Bilingual):
    """One day of the State Council's holiday schedule (放假安排): a statutory holiday, or a weekend day
    that is worked to make up for one (调休). A year with no rows is not yet published: answers computed
    in it are provisional."""

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=DayKind.choices)

    class Meta:
        ordering = ["date"]
        verbose_name = _("holiday schedule day")
        verbose_name_plural = _("holiday schedule days")

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}"


class Severity(models.TextChoices):
    """Problem levels of the terms' response table (附表三)."""

    LEVEL_1 = "1", _("Level 1: system down")
    LEVEL_2 = "2", _("Level 2: core function damaged")
    LEVEL_3 = "3", _("Level 3: part of a function damaged")
    LEVEL_4 = "4", _("Level 4: information or help request")
    NON_FAULT = "non-fault", _("Non-fault: suggestion or change")


class Channel(models.TextChoices):
    """Where a request comes in (the terms' service channels)."""

    COMMUNITY = "community", _("community / web")
    HOTLINE = "hotline", _("hotline")
    EMAIL = "email", _("e-mail")
    IM = "im", _("instant messaging")
    REMOTE = "remote", _("remote")
    ON_SITE = "on-site", _("on site")


# The terms' emergency service line on statutory holidays is a telephone line.
EMERGENCY_CHANNEL = Channel.HOTLINE


class FeeOverduePolicy(models.TextChoices):
    """What the entitlement decision does when the fee of the covering paid period is overdue past grace."""

    WARN = "warn", _("warn: keep the answer, name the overdue fee")
    SUSPEND = "suspend", _("suspend: included or billable work needs approval")


class ChannelHours(models.Model):
    """When a channel takes requests: its opening hours are the working windows of a business calendar
    (which says too whether statutory holidays close it and make-up days open it). The terms (1.9 服务时间)
    give the hotline's and the on-site hours and keep the community open at any time; for e-mail, IM and
    remote they give none, so those are seeded with the 5x8 working hours. When a request is answered is
    the service period's calendar's business, not the channel's."""

    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, unique=True)
    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("opening hours"),
        help_text=_(
            "The calendar whose working windows are the channel's opening hours. Seeded from the terms: "
            "hotline Mon-Fri 9:00-12:00 and 13:00-18:00, on site Mon-Fri 9:00-18:00, the community at any "
            "time (7x24); the terms give no hours for e-mail, IM and remote, seeded with the 5x8 hours."
        ),
    )
    history = audit_history()

    class Meta:
        ordering = ["channel"]
        verbose_name = _("channel hours")
        verbose_name_plural = _("channel hours")

    def __str__(self) -> str:
        return f"{self.get_channel_display()}: {self.calendar.code}"


class EmergencyCoverWindow(Bilingual):
    """A stretch of local time, besides the statutory holidays, when the emergency phone line answers the
    levels with emergency cover on the tier's emergency calendar (e.g. the evening of Spring Festival's
    eve, 除夕). The terms name none; the vendor adds them here."""

    date = models.DateField(_("date"))
    start = models.TimeField(_("start"))
    end = models.TimeField(_("end"), help_text=_("00:00 means midnight at the end of the day."))
    history = audit_history()

    class Meta:
        ordering = ["date", "start"]
        verbose_name = _("emergency cover window")
        verbose_name_plural = _("emergency cover windows")
        constraints = [ends_after_start("emergency_cover_window_ends_after_start")]

    def __str__(self) -> str:
        return f"{self.date} {self.start:%H:%M}-{self.end:%H:%M} {self.name}"

    def clean(self) -> None:
        if None not in (self.start, self.end):
            check_ends_after_start(self.start, self.end)


class ServiceTier(Bilingual):
    """Standard service, or the strategic partnership (战略合作) with tighter commitments."""

    STANDARD = "standard"
    STRATEGIC = "strategic"

    code = models.SlugField(_("code"), max_length=30, unique=True)
    description_zh = models.TextField(_("description (Chinese)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The calendar new service periods of this tier use for response deadlines."),
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    emergency_calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("emergency calendar"),
        help_text=_(
            "The clock of the emergency phone line on statutory holidays (紧急服务电话): levels with "
            "emergency cover reported by phone on such a day are answered on it."
        ),
    )

    fee_overdue_policy = models.CharField(
        _("when the fee is overdue"),
        max_length=10,
        choices=FeeOverduePolicy.choices,
        default=FeeOverduePolicy.WARN,
        help_text=_(
            "When the invoice of a paid period's fee is overdue past the grace days "
            "(FEE_OVERDUE_GRACE_DAYS): warn keeps the answer and names the fee; suspend makes included and "
            "billable work need approval."
        ),
    )

    history = audit_history()

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("service tier")
        verbose_name_plural = _("service tiers")

    @property
    def description(self) -> str:
        return pick(self.description_zh, self.description_en)


class ResponseTarget(models.Model):
    """How soon a tier answers a problem of one level, in working hours of the period's calendar."""

    tier = models.ForeignKey(ServiceTier, on_delete=models.CASCADE, related_name="response_targets")
    severity = models.CharField(_("level"), max_length=10, choices=Severity.choices)
    response_hours = models.DecimalField(
        _("response within (working hours)"),
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    on_site_hours = models.PositiveIntegerField(
        _("on site within (hours)"),
        null=True,
        blank=True,
        help_text=_("For outages that remote work cannot fix: an engineer on site within this many hours."),
    )
    handling_zh = models.CharField(_("handling (Chinese)"), max_length=300, blank=True)
    handling_en = models.CharField(_("handling (English)"), max_length=300, blank=True)
    emergency_cover = models.BooleanField(
        _("emergency cover"),
        default=False,
        help_text=_(
            "On statutory holidays, this level reported by phone is answered on the tier's emergency "
            "calendar."
        ),
    )
    vendor_to_confirm = models.BooleanField(
        _("vendor to confirm"),
        default=False,
        help_text=_("The terms give no figure: the seeded one stands until the vendor confirms it."),
    )

    history = audit_history()

    class Meta:
        ordering = ["tier", "severity"]
        verbose_name = _("response target")
        verbose_name_plural = _("response targets")
        constraints = [
            models.UniqueConstraint(fields=["tier", "severity"], name="uniq_response_target"),
            models.CheckConstraint(condition=Q(response_hours__gt=0), name="response_hours_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.tier.code} {self.severity}: {self.response_hours} h"

    @property
    def handling(self) -> str:
        return pick(self.handling_zh, self.handling_en)


class EscalationStep(models.IntegerChoices):
    """The terms' three-level response (三级响应机制, 1.7): who owns a ticket."""

    LOCAL_SPECIALIST = 1, _("local service specialist")
    MAINTENANCE_TEAM = 2, _("dedicated maintenance team")
    EXPERTS = 3, _("product and technical experts")


class EscalationLevel(Bilingual):
    """When a ticket of one level passes to the next owner: ``after_hours`` working hours of the period's
    calendar after the ticket was opened (the first owner takes it at once). The terms say "within a set
    time" and give no figure, so seeded rows are marked as the vendor's to confirm."""

    tier = models.ForeignKey(ServiceTier, on_delete=models.CASCADE, related_name="escalation_levels")
    severity = models.CharField(_("problem level"), max_length=10, choices=Severity.choices)
    level = models.PositiveSmallIntegerField(_("escalation level"), choices=EscalationStep.choices)
    after_hours = models.DecimalField(
        _("takes over after (working hours)"),
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(Decimal(0))],
        help_text=_("Working hours after the ticket was opened; 0 for the first level."),
    )
    vendor_to_confirm = models.BooleanField(
        _("vendor to confirm"),
        default=True,
        help_text=_("The terms give no figure: the seeded one stands until the vendor confirms it."),
    )

    history = audit_history()

    class Meta:
        ordering = ["tier", "severity", "level"]
        verbose_name = _("escalation level")
        verbose_name_plural = _("escalation levels")
        constraints = [
            models.UniqueConstraint(fields=["tier", "severity", "level"], name="uniq_escalation_level"),
            models.CheckConstraint(condition=Q(level__gte=1, level__lte=3), name="escalation_level_1_to_3"),
            models.CheckConstraint(
                condition=Q(level=1, after_hours=0) | Q(level__gt=1, after_hours__gt=0),
                name="escalation_first_level_at_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tier.code} {self.severity} L{self.level}: {self.after_hours} h"

    def clean(self) -> None:
        if self.level is None or self.after_hours is None:
            return
        if (self.level == EscalationStep.LOCAL_SPECIALIST) != (self.after_hours == 0):
            raise ValidationError(
                {"after_hours": _("The first level takes the ticket at once (0); later levels after it.")}
            )
        if not self.tier_id:
            return
        siblings = EscalationLevel.objects.filter(tier_id=self.tier_id, severity=self.severity).exclude(
            pk=self.pk
        )
        for other in siblings:
            if (other.level < self.level) != (other.after_hours < self.after_hours):
                raise ValidationError(
                    {
                        "after_hours": _("A higher level takes over later than a lower one (%(other)s).")
                        % {"other": other}
                    }
                )


class TierBenefit(Bilingual):
    """A service a tier brings beyond its response times, such as the strategic partnership's expert
    resources (专家资源), escalated response (升级响应服务) and priority of service resources
    (服务资源优先)."""

    tier = models.ForeignKey(ServiceTier, on_delete=models.CASCADE, related_name="benefits")
    code = models.SlugField(_("code"), max_length=40)
    description_zh = models.TextField(_("description (Chinese)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    vendor_to_confirm = models.BooleanField(
        _("vendor to confirm"),
        default=True,
        help_text=_(
            "The terms name the service but give no figures: what it brings is the vendor's to confirm."
        ),
    )

    history = audit_history()

    class Meta:
        ordering = ["tier", "position", "code"]
        verbose_name = _("tier benefit")
        verbose_name_plural = _("tier benefits")
        constraints = [models.UniqueConstraint(fields=["tier", "code"], name="uniq_tier_benefit")]

    def __str__(self) -> str:
        return f"{self.tier.code}: {self.name}"

    @property
    def description(self) -> str:
        return pick(self.description_zh, self.description_en)


class ArrivalArea(models.TextChoices):
    SAME_CITY = "same_city", _("same city")
    ELSEWHERE = "elsewhere", _("suburbs or another city")


class DurationUnit(models.TextChoices):
    HOURS = "hours", _("hours")
    WORKING_DAYS = "working_days", _("working days")


class ArrivalCommitment(models.Model):
    """How soon an engineer is on site after an on-site request: same city 48 h, elsewhere 3 working days."""

    tier = models.ForeignKey(ServiceTier, on_delete=models.CASCADE, related_name="arrival_commitments")
    area = models.CharField(_("area"), max_length=20, choices=ArrivalArea.choices)
    amount = models.PositiveIntegerField(_("within"), validators=[MinValueValidator(1)])
    unit = models.CharField(_("unit"), max_length=20, choices=DurationUnit.choices)

    class Meta:
        ordering = ["tier", "area"]
        verbose_name = _("on-site arrival commitment")
        verbose_name_plural = _("on-site arrival commitments")
        constraints = [models.UniqueConstraint(fields=["tier", "area"], name="uniq_arrival_commitment")]

    def __str__(self) -> str:
        return f"{self.tier.code} {self.get_area_display()}: {self.amount} {self.get_unit_display()}"


class RateCard(models.Model):
    """One version of a price list, in force from ``effective_from`` until the next version of the same
    code. A price change is a new version (catalog.services.rate_card_new_version); what was quoted or
    contracted keeps pointing at the version it used."""

    code = models.SlugField(_("code"), max_length=30, default="list")
    version = models.PositiveIntegerField(_("version"))
    effective_from = models.DateField(_("effective from"))
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    note = models.CharField(_("note"), max_length=200, blank=True)

    history = audit_history()

    class Meta:
        ordering = ["code", "-effective_from"]
        verbose_name = _("rate card")
        verbose_name_plural = _("rate cards")
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="uniq_rate_card_version"),
            models.UniqueConstraint(fields=["code", "effective_from"], name="uniq_rate_card_effective_from"),
        ]

    def __str__(self) -> str:
        return f"{self.code} v{self.version} ({self.effective_from})"


class Price(models.Model):
    """A price on a rate card, in the card's currency, stored with or without VAT as marked."""

    rate_card = models.ForeignKey(RateCard, on_delete=models.CASCADE, related_name="%(class)ss")
    price = MoneyField(_("price"), validators=[MinMoneyValidator(0)], **MONEY)
    tax_inclusive = models.BooleanField(_("includes VAT"), default=True)

    class Meta:
        abstract = True

    def clean(self) -> None:
        if (
            self.rate_card_id
            and self.price is not None
            and str(self.price.currency) != self.rate_card.currency
        ):
            raise ValidationError({"price": _("Prices are in the rate card's currency.")})


class Role(models.TextChoices):
    ENGINEER = "engineer", _("engineer")
    SENIOR_ENGINEER = "senior_engineer", _("senior engineer")
    ARCHITECT = "architect", _("architect")
    PROJECT_MANAGER = "project_manager", _("project manager")
    TRAINER = "trainer", _("trainer")


class DeliveryMode(models.TextChoices):
    REMOTE = "remote", _("remote")
    ON_SITE = "on_site", _("on site")


class PersonDayRate(Price):
    """The price of one person-day (人天) by role and delivery mode."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    delivery_mode = models.CharField(_("delivery mode"), max_length=10, choices=DeliveryMode.choices)

    history = audit_history()

    class Meta:
        ordering = ["rate_card", "role", "delivery_mode"]
        verbose_name = _("person-day rate")
        verbose_name_plural = _("person-day rates")
        constraints = [
            models.UniqueConstraint(
                fields=["rate_card", "role", "delivery_mode"], name="uniq_person_day_rate"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} / {self.get_delivery_mode_display()}: {self.price}"


UNIT_BASES = [PricingBasis.PER_COURSE, PricingBasis.PER_PERSON, PricingBasis.PER_UNIT, PricingBasis.FIXED]


class UnitPrice(Price):
    """A price per course, per person, per unit or a fixed price for one service."""

    service = models.ForeignKey(ServiceItem, on_delete=models.PROTECT, related_name="+")
    basis = models.CharField(
        _("pricing basis"), max_length=20, choices=[(b.value, b.label) for b in UNIT_BASES]
    )

    history = audit_history()

    class Meta:
        ordering = ["rate_card", "service__position", "basis"]
        verbose_name = _("unit price")
        verbose_name_plural = _("unit prices")
        constraints = [
            models.UniqueConstraint(fields=["rate_card", "service", "basis"], name="uniq_unit_price"),
            models.CheckConstraint(condition=Q(basis__in=UNIT_BASES), name="unit_price_basis"),
        ]

    def __str__(self) -> str:
        return f"{self.service.code} {self.get_basis_display()}: {self.price}"


# The value-added service a major upgrade is sold as: the terms' separate upgrade contract (升级服务合同).
UPGRADE_CONTRACT = "upgrade-contract"


class UpgradePrice(Price):
    """The price of an upgrade contract (升级服务合同) taking one product to one major version. The terms
    leave the figure to a separate negotiation: the seeded prices are examples for the vendor to confirm."""

    price = MoneyField(
        _("price"),
        validators=[MinMoneyValidator(0)],
        help_text=_(
            "The terms leave the upgrade contract's price to negotiation: the seeded prices are examples for "
            "the vendor to confirm."
        ),
        **MONEY,
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("product")
    )
    major = models.PositiveIntegerField(
        _("target major version"),
        validators=[MinValueValidator(1)],
        help_text=_("The major version the upgrade contract licenses, e.g. 9 for KMS 9.x."),
    )
    tax_category = models.ForeignKey(
        TaxCategory, on_delete=models.PROTECT, related_name="+", verbose_name=_("tax category")
    )

    history = audit_history()

    class Meta:
        ordering = ["rate_card", "product__code", "major"]
        verbose_name = _("upgrade contract price")
        verbose_name_plural = _("upgrade contract prices")
        constraints = [
            models.UniqueConstraint(fields=["rate_card", "product", "major"], name="uniq_upgrade_price"),
            models.CheckConstraint(condition=Q(major__gte=1), name="upgrade_price_major_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.product} {self.major}: {self.price}"


class VolumeModel(models.TextChoices):
    """How tiers apply to a quantity, as Lago names them."""

    GRADUATED = "graduated", _("graduated: each tier prices its own slice")
    VOLUME = "volume", _("volume: the tier reached prices the whole quantity")
    PACKAGE = "package", _("package: a price per started package")


class DataUnit(models.TextChoices):
    GB = "GB", _("GB")
    THOUSAND_RECORDS = "k_records", _("thousand records")


class DataVolumePrice(models.Model):
    """Data-volume pricing of one service (data migration, organisation restructuring)."""

    rate_card = models.ForeignKey(RateCard, on_delete=models.CASCADE, related_name="data_volume_prices")
    service = models.ForeignKey(ServiceItem, on_delete=models.PROTECT, related_name="+")
    model = models.CharField(_("pricing model"), max_length=10, choices=VolumeModel.choices)
    unit = models.CharField(_("unit"), max_length=10, choices=DataUnit.choices, default=DataUnit.GB)
    package_size = models.DecimalField(
        _("package size"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_("Units per package, for package pricing."),
    )
    tax_inclusive = models.BooleanField(_("includes VAT"), default=True)

    history = audit_history()

    class Meta:
        ordering = ["rate_card", "service__position"]
        verbose_name = _("data-volume price")
        verbose_name_plural = _("data-volume prices")
        constraints = [
            models.UniqueConstraint(fields=["rate_card", "service"], name="uniq_data_volume_price"),
            models.CheckConstraint(
                condition=Q(model=VolumeModel.PACKAGE, package_size__isnull=False, package_size__gt=0)
                | (~Q(model=VolumeModel.PACKAGE) & Q(package_size__isnull=True)),
                name="data_volume_package_size",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service.code} {self.get_model_display()}"

    def clean(self) -> None:
        if (self.model == VolumeModel.PACKAGE) != (self.package_size is not None):
            raise ValidationError({"package_size": _("Package pricing, and only it, needs a package size.")})


class DataVolumeTier(models.Model):
    """A tier of data-volume pricing: up to ``up_to`` units (empty: no limit), a unit price and a flat fee."""

    pricing = models.ForeignKey(DataVolumePrice, on_delete=models.CASCADE, related_name="tiers")
    up_to = models.DecimalField(
        _("up to"), max_digits=14, decimal_places=2, null=True, blank=True, help_text=_("Empty: no limit.")
    )
    unit_price = MoneyField(_("unit price"), validators=[MinMoneyValidator(0)], **MONEY)
    flat_fee = MoneyField(_("flat fee"), default=0, validators=[MinMoneyValidator(0)], **MONEY)

    history = audit_history()

    class Meta:
        ordering = ["pricing", F("up_to").asc(nulls_last=True)]
        verbose_name = _("data-volume tier")
        verbose_name_plural = _("data-volume tiers")
        constraints = [
            models.UniqueConstraint(fields=["pricing", "up_to"], name="uniq_data_volume_tier"),
            models.UniqueConstraint(
                fields=["pricing"], condition=Q(up_to__isnull=True), name="one_open_data_volume_tier"
            ),
        ]

    def __str__(self) -> str:
        limit = self.up_to if self.up_to is not None else "∞"
        return f"≤ {limit}: {self.unit_price}"


class TravelPolicy(models.Model):
    """Travel and lodging are passed through at cost, never marked up or discounted; optional per-diem
    caps limit what is reimbursed."""

    rate_card = models.OneToOneField(RateCard, on_delete=models.CASCADE, related_name="travel_policy")
    lodging_cap_per_night = MoneyField(_("lodging cap per night"), null=True, blank=True, **MONEY)
    allowance_per_day = MoneyField(_("daily allowance"), null=True, blank=True, **MONEY)
    note_zh = models.CharField(_("note (Chinese)"), max_length=200, blank=True)
    note_en = models.CharField(_("note (English)"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("travel policy")
        verbose_name_plural = _("travel policies")

    def __str__(self) -> str:
        return str(_("Travel at cost"))
