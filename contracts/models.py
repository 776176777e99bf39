"""Customers, contracts, service periods (服务有效期), quotas and the consumption ledger.

A customer is covered while one of its service periods runs; outside every period the vendor promises
nothing. Quota balances are never stored: they are derived from the consumption ledger.
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField
from djmoney.models.validators import MinMoneyValidator
from stdnum.cn import uscc
from stdnum.exceptions import ValidationError as StdnumValidationError

from billing.history import audit_history
from catalog.models import ArrivalArea, BusinessCalendar, Product, ServiceTier
from catalog.versions import Version, validate_version

MONEY = {"max_digits": 14, "decimal_places": 2, "default_currency": "CNY"}


def validate_uscc(value: str) -> None:
    """统一社会信用代码: 18 characters with a check character (GB 32100-2015)."""
    try:
        uscc.validate(value)
    except StdnumValidationError as error:
        raise ValidationError(
            _("“%(value)s” is not a valid unified social credit code."), params={"value": value}, code="uscc"
        ) from error


class Customer(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True, allow_unicode=False)
    legal_name = models.CharField(_("legal name"), max_length=200)
    uscc = models.CharField(
        _("unified social credit code"), max_length=18, blank=True, validators=[validate_uscc]
    )
    city = models.CharField(_("city"), max_length=60, blank=True)
    region = models.CharField(_("province or region"), max_length=60, blank=True)
    arrival_area = models.CharField(
        _("on-site arrival area"),
        max_length=20,
        choices=ArrivalArea.choices,
        default=ArrivalArea.SAME_CITY,
        help_text=_("Whether the customer's site is in a city with a local service team."),
    )
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="managed_customers",
        verbose_name=_("account manager"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    history = audit_history()

    class Meta:
        ordering = ["code"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        permissions = [
            ("act_for_every_customer", _("Can act for every customer, not only those one manages")),
            ("assign_account_manager", _("Can assign a customer's account manager")),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.legal_name}"

    def clean(self) -> None:
        if self.uscc:
            self.uscc = uscc.compact(self.uscc)


class FapiaoType(models.TextChoices):
    """The two kinds of fully digital e-invoice (数电发票) a service vendor issues."""

    SPECIAL = "special", _("VAT special invoice (专票)")
    ORDINARY = "ordinary", _("ordinary invoice (普票)")


class FapiaoDetails(models.Model):
    """What a customer's fapiao carries (its taxpayer number is the customer's USCC), kept by finance and
    by the customer's billing contact, with history."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="fapiao_details")
    title = models.CharField(
        _("invoice title"), max_length=100, help_text=_("发票抬头: the buyer's name as the fapiao prints it.")
    )
    address = models.CharField(_("address"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    bank = models.CharField(_("bank"), max_length=100, blank=True)
    bank_account = models.CharField(_("bank account"), max_length=100, blank=True)
    email = models.EmailField(_("e-mail for delivery"), max_length=72, blank=True)
    fapiao_type = models.CharField(
        _("fapiao type"), max_length=20, choices=FapiaoType.choices, default=FapiaoType.SPECIAL
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    history = audit_history()

    class Meta:
        verbose_name = _("fapiao details")
        verbose_name_plural = _("fapiao details")

    def __str__(self) -> str:
        return self.title


class Contact(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("title"), max_length=100, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)

    history = audit_history()  # account managers edit contacts on the staff pages (contracts.setup)

    class Meta:
        ordering = ["customer", "-is_primary", "name"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self) -> str:
        return self.name


class ContractKind(models.TextChoices):
    PURCHASE = "purchase", _("purchase")
    RENEWAL = "renewal", _("renewal")
    UPGRADE = "upgrade", _("upgrade")
    STRATEGIC = "strategic", _("strategic partnership")


class Contract(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="contracts")
    number = models.CharField(_("contract number"), max_length=60, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=ContractKind.choices)
    signed_on = models.DateField(_("signed on"))
    continues = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="continuations",
        verbose_name=_("continues"),
        help_text=_(
            "The contract this renewal or upgrade contract continues: its periods then cover that contract's "
            "products as well as its own."
        ),
    )
    covers_all_products = models.BooleanField(
        _("covers every product"),
        default=False,
        help_text=_("A strategic contract whose terms cover every product the customer licenses."),
    )
    note = models.TextField(_("note"), blank=True)

    history = audit_history()

    class Meta:
        ordering = ["customer", "signed_on"]
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")

    def __str__(self) -> str:
        return self.number

    def clean(self) -> None:
        if self.continues_id is None:
            return
        if self.continues_id == self.pk:
            raise ValidationError({"continues": _("A contract cannot continue itself.")})
        if self.continues.customer_id != self.customer_id:
            raise ValidationError({"continues": _("A contract continues a contract of the same customer.")})


class LicensedProduct(models.Model):
    """A product licensed by a contract, at the version the customer runs (an upgrade contract licenses
    the new major version)."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="products")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    version = models.CharField(_("version"), max_length=20, validators=[validate_version])

    class Meta:
        ordering = ["contract", "product"]
        verbose_name = _("licensed product")
        verbose_name_plural = _("licensed products")
        constraints = [models.UniqueConstraint(fields=["contract", "product"], name="uniq_licensed_product")]

    def __str__(self) -> str:
        return f"{self.product.code} {self.version}"

    @property
    def parsed_version(self) -> Version:
        return Version.parse(self.version)


class CustomModule(models.Model):
    """A module built for this customer: supported as the contract says, but never upgraded."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="custom_modules")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    code = models.SlugField(_("code"), max_length=60)
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        ordering = ["contract", "code"]
        verbose_name = _("custom module")
        verbose_name_plural = _("custom modules")
        constraints = [models.UniqueConstraint(fields=["contract", "code"], name="uniq_custom_module")]

    def __str__(self) -> str:
        return self.name


class PeriodKind(models.TextChoices):
    FREE = "free", _("free period")
    PAID = "paid", _("paid period")


class ServicePeriod(models.Model):
    """服务有效期: from ``start`` to ``end``, both days included, local time of the period's calendar.
    The free period comes with the purchase contract; renewals add paid periods. Periods of one contract
    never overlap (contracts.services.period_add checks under a lock; ``clean`` checks for the admin)."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="periods")
    kind = models.CharField(_("kind"), max_length=10, choices=PeriodKind.choices)
    start = models.DateField(_("start"))
    end = models.DateField(_("end"))
    tier = models.ForeignKey(ServiceTier, on_delete=models.PROTECT, related_name="+", verbose_name=_("tier"))
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.PROTECT, related_name="+", verbose_name=_("calendar")
    )
    fee = MoneyField(_("fee"), default=0, validators=[MinMoneyValidator(0)], **MONEY)
    trainings_per_year = models.PositiveSmallIntegerField(
        _("free trainings per contract year"),
        default=2,
        help_text=_("The terms promise one or two a year; each contract year from the period start."),
    )
    retroactive = models.BooleanField(
        _("retroactive"),
        default=False,
        help_text=_("A late renewal that covers the gap since the previous period ended, as agreed."),
    )
    lapsed_at = models.DateTimeField(_("lapsed"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    history = audit_history()

    class Meta:
        ordering = ["contract", "start"]
        verbose_name = _("service period")
        verbose_name_plural = _("service periods")
        constraints = [
            models.CheckConstraint(condition=Q(end__gte=F("start")), name="service_period_ends_after_start"),
            models.CheckConstraint(
                condition=Q(kind=PeriodKind.PAID) | Q(fee=0), name="service_period_free_has_no_fee"
            ),
        ]
        indexes = [models.Index(fields=["start", "end"])]

    def __str__(self) -> str:
        return f"{self.contract.number} {self.get_kind_display()} {self.start} to {self.end}"

    def clean(self) -> None:
        if self.start and self.end and self.end < self.start:
            raise ValidationError({"end": _("A period ends on or after its start.")})
        if self.kind == PeriodKind.FREE and self.fee and self.fee.amount:
            raise ValidationError({"fee": _("A free period has no fee.")})
        if self.contract_id and self.start and self.end:
            clash = overlapping_periods(self.contract_id, self.start, self.end).exclude(pk=self.pk).first()
            if clash:
                raise ValidationError(_("This period overlaps %(period)s.") % {"period": clash})

    def covers(self, day: datetime.date) -> bool:
        return self.start <= day <= self.end

    def contract_year(self, day: datetime.date) -> tuple[datetime.date, datetime.date]:
        """The contract year containing ``day``: years run from the period start, anniversary to
        anniversary (a 29 February start falls back to 28 February), the last one cut at the end."""
        years = day.year - self.start.year
        year_start = _anniversary(self.start, years)
        if year_start > day:
            years -= 1
            year_start = _anniversary(self.start, years)
        year_end = _anniversary(self.start, years + 1) - datetime.timedelta(days=1)
        return year_start, min(year_end, self.end)


def _anniversary(start: datetime.date, years: int) -> datetime.date:
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February
        return start.replace(year=start.year + years, day=28)


def overlapping_periods(contract_id: int, start: datetime.date, end: datetime.date) -> models.QuerySet:
    return ServicePeriod.objects.filter(contract_id=contract_id, start__lte=end, end__gte=start)


class PersonDayBundle(models.Model):
    """Prepaid person-days (人天) a customer bought, drawn on before anything is billed."""

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="bundles")
    days = models.DecimalField(
        _("person-days"), max_digits=8, decimal_places=2, validators=[MinValueValidator(Decimal("0.5"))]
    )
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    price = MoneyField(_("price paid"), default=0, validators=[MinMoneyValidator(0)], **MONEY)
    note = models.CharField(_("note"), max_length=200, blank=True)

    history = audit_history()

    class Meta:
        ordering = ["contract", "valid_from"]
        verbose_name = _("prepaid person-day bundle")
        verbose_name_plural = _("prepaid person-day bundles")
        constraints = [
            models.CheckConstraint(condition=Q(valid_until__gte=F("valid_from")), name="bundle_valid_range"),
            models.CheckConstraint(condition=Q(days__gt=0), name="bundle_days_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.contract.number}: {self.days} ({self.valid_from} to {self.valid_until})"


class QuotaKind(models.TextChoices):
    TRAINING = "training", _("free training")
    PERSON_DAYS = "person_days", _("prepaid person-days")


class ConsumptionEntry(models.Model):
    """One use of a counted quota (a training, person-days of a bundle). Entries are only ever added, never
    changed or deleted; ``idempotency_key`` makes a retried record a no-op.

    A use recorded by mistake is given back, in whole or in part, by a **correction**: a new entry that
    names the use it corrects (``corrects``), with a negative quantity and a ``reason``. It copies the use's
    quota source (period or bundle), service, ticket and ``used_on`` (the day of the use, so that it falls in
    the same contract year); ``created_at`` is when the correction was made. A quota's used amount is the
    plain sum of its entries, corrections included, and never goes below zero since
    ``contracts.services.consumption_correct`` gives back at most what is left of a use (under its lock)
    and never corrects a correction."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="consumption")
    kind = models.CharField(_("quota"), max_length=20, choices=QuotaKind.choices)
    period = models.ForeignKey(
        ServicePeriod, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    bundle = models.ForeignKey(
        PersonDayBundle, on_delete=models.PROTECT, null=True, blank=True, related_name="consumption"
    )
    service_code = models.CharField(_("service"), max_length=60)
    # thousandths, as work logs count person-days (an hour is 0.125 day)
    quantity = models.DecimalField(_("quantity"), max_digits=9, decimal_places=3)
    used_on = models.DateField(_("used on"))
    ticket_ref = models.CharField(_("ticket"), max_length=100)
    idempotency_key = models.CharField(_("idempotency key"), max_length=200)
    part = models.PositiveSmallIntegerField(
        _("part"), default=1, help_text=_("A use spread over several bundles is recorded in parts 1, 2, ...")
    )
    recorded_by = models.CharField(_("recorded by"), max_length=100, blank=True)
    corrects = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="corrections",
        verbose_name=_("corrects"),
        help_text=_("The use this entry gives back, in whole or in part."),
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    history = audit_history()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("consumption entry")
        verbose_name_plural = _("consumption ledger")
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind=QuotaKind.TRAINING, period__isnull=False, bundle__isnull=True))
                | (Q(kind=QuotaKind.PERSON_DAYS, bundle__isnull=False, period__isnull=True)),
                name="consumption_entry_quota_source",
            ),
            models.CheckConstraint(condition=~Q(quantity=0), name="consumption_entry_nonzero"),
            models.CheckConstraint(
                condition=Q(corrects__isnull=True, quantity__gt=0)
                | (Q(corrects__isnull=False, quantity__lt=0) & ~Q(reason="")),
                name="consumption_correction_negative_with_reason",
            ),
            models.UniqueConstraint(fields=["idempotency_key", "part"], name="uniq_consumption_key_part"),
        ]
        indexes = [models.Index(fields=["period", "used_on"]), models.Index(fields=["bundle"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.quantity} ({self.ticket_ref})"

    @property
    def is_correction(self) -> bool:
        return self.corrects_id is not None


class ChargeStatus(models.TextChoices):
    PENDING_APPROVAL = "pending_approval", _("waiting for the account manager")
    PENDING_FINANCE = "pending_finance", _("waiting for finance")
    AWAITING_CUSTOMER = "awaiting_customer", _("waiting for the customer")
    CONFIRMED = "confirmed", _("confirmed: billable")
    REJECTED = "rejected", _("rejected")
    DECLINED = "declined", _("declined by the customer")
    CLOSED = "closed", _("closed unanswered (may be reopened)")
    FINAL = "final", _("closed for good")


class ChargeRequest(models.Model):
    """An out-of-scope charge request (超出标准服务范围的收费): raised from a ticket, approved by the account
    manager (and finance above a threshold), then confirmed by the customer through a signed link. A
    confirmed request is a billable charge."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="charge_requests")
    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, null=True, blank=True, related_name="charge_requests"
    )
    ticket_ref = models.CharField(_("ticket"), max_length=100)
    service_code = models.CharField(_("service"), max_length=60, blank=True)
    description = models.TextField(_("description"))
    estimated_person_days = models.DecimalField(
        _("estimated person-days"),
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    estimated_amount = MoneyField(
        _("estimated amount"), null=True, blank=True, validators=[MinMoneyValidator(0)], **MONEY
    )
    status = models.CharField(
        _("status"), max_length=20, choices=ChargeStatus.choices, default=ChargeStatus.PENDING_APPROVAL
    )
    requested_by = models.CharField(_("requested by"), max_length=150)
    requested_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    finance_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sent_to_customer_at = models.DateTimeField(_("sent to the customer"), null=True, blank=True)
    customer_answer_name = models.CharField(_("answered by"), max_length=100, blank=True)
    customer_answer_ip = models.GenericIPAddressField(_("answered from"), null=True, blank=True)
    customer_answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    history = audit_history()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("charge request")
        verbose_name_plural = _("charge requests")
        permissions = [
            ("approve_chargerequest", _("Can approve charge requests (account manager)")),
            ("finance_approve_chargerequest", _("Can approve large charge requests (finance)")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(estimated_person_days__isnull=False) | Q(estimated_amount__isnull=False),
                name="charge_request_has_estimate",
            )
        ]
        indexes = [models.Index(fields=["status", "sent_to_customer_at"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.customer.code} {self.ticket_ref}"


class ChargeRequestEvent(models.Model):
    """The history of a charge request: every change of status, who made it and when."""

    request = models.ForeignKey(ChargeRequest, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(_("status"), max_length=20, choices=ChargeStatus.choices)
    actor = models.CharField(_("by"), max_length=150)
    note = models.TextField(_("note"), blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("charge request event")
        verbose_name_plural = _("charge request events")

    def __str__(self) -> str:
        return f"{self.get_status_display()} ({self.actor})"


class RenewalReminder(models.Model):
    """A renewal reminder sent to the account manager for one step (90, 60, 30 days) of one period; the
    unique constraint sends each step once, however often the task runs."""

    period = models.ForeignKey(ServicePeriod, on_delete=models.CASCADE, related_name="reminders")
    days_before = models.PositiveSmallIntegerField(_("days before the end"))
    sent_at = models.DateTimeField(_("sent"), auto_now_add=True)

    class Meta:
        ordering = ["period", "-days_before"]
        verbose_name = _("renewal reminder")
        verbose_name_plural = _("renewal reminders")
        constraints = [
            models.UniqueConstraint(fields=["period", "days_before"], name="uniq_renewal_reminder")
        ]

    def __str__(self) -> str:
        return f"{self.period} -{self.days_before}d"


class PortalRole(models.TextChoices):
    BILLING = "billing", _("billing: invoices, statement, payments, billing details")
    TECHNICAL = "technical", _("technical: coverage, quotas, charge requests")
    ADMIN = "admin", _("admin: everything, and the other contacts' access")


class PortalAccess(models.Model):
    """A contact's account in the customer portal (客户社区服务账号, terms 1.8): the contact signs in with a
    one-time link mailed to its address (contracts.portal_access) as the user it is given here, and sees its
    own customer's data only, as far as its roles allow. Revoked access keeps its row (and history)."""

    contact = models.OneToOneField(
        Contact, on_delete=models.CASCADE, related_name="portal_access", verbose_name=_("contact")
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portal_access", editable=False
    )
    roles = models.JSONField(_("portal roles"), default=list)
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    invited_at = models.DateTimeField(_("invited at"), default=timezone.now, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("invited by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)

    history = audit_history()

    class Meta:
        verbose_name = _("portal access")
        verbose_name_plural = _("portal accesses")

    def __str__(self) -> str:
        return f"{self.contact} ({', '.join(self.roles)})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def has_role(self, role: str) -> bool:
        """Whether the contact may see what ``role`` covers; the portal admin sees everything."""
        return PortalRole.ADMIN in self.roles or role in self.roles


class PortalAction(models.TextChoices):
    INVITED = "invited", _("was given portal access")
    ROLES_CHANGED = "roles_changed", _("had its portal roles changed")
    REVOKED = "revoked", _("lost its portal access")
    SIGNED_IN = "signed_in", _("signed in")
    SIGNED_OUT_EVERYWHERE = "signed_out_everywhere", _("signed out everywhere")
    PASSWORD_SET = "password_set", _("set a password")
    QUOTE_ACCEPTED = "quote_accepted", _("accepted a quote")
    QUOTE_DECLINED = "quote_declined", _("declined a quote")
    QUOTE_REQUESTED = "quote_requested", _("asked for a quote")
    CHARGE_CONFIRMED = "charge_confirmed", _("confirmed a charge request")
    CHARGE_DECLINED = "charge_declined", _("declined a charge request")
    BILLING_DETAILS_CHANGED = "billing_details_changed", _("changed the billing details")


class PortalActivity(models.Model):
    """What a contact did in the customer portal, or what was done to its access, for the staff's timeline
    on the customer page (contracts.portal_access.portal_activity_record)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="portal_activity")
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="+", verbose_name=_("contact")
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    action = models.CharField(_("action"), max_length=30, choices=PortalAction.choices)
    subject = models.CharField(_("subject"), max_length=200, blank=True)  # the document's number, roles...
    by = models.CharField(_("by"), max_length=150, blank=True)  # who acted, when not the contact itself

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["customer", "-at"], name="portal_activity_latest")]
        verbose_name = _("portal activity")
        verbose_name_plural = _("portal activity")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.contact}: {self.get_action_display()} {self.subject}"
