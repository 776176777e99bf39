"""Quotes for value-added services and renewals, their lines, and the service orders they become.

A quote has a number from a gapless series per year (django-sequences, taken in the creating
transaction); a revision keeps the number and adds one to ``revision``. Once sent a quote is locked: a
change is a new revision and the old one stays readable.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField

from billing.documents import PricedLine
from billing.history import audit_history
from catalog.models import DeliveryMode, PricingBasis, Product, RateCard, Role, ServiceItem, ServiceTier
from catalog.pricing import combined_discount
from contracts.models import Contract, Customer, ServicePeriod

MONEY = {"max_digits": 14, "decimal_places": 2, "default_currency": "CNY"}
FRACTION = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(1))]


class QuoteKind(models.TextChoices):
    SERVICES = "services", _("value-added services")
    RENEWAL = "renewal", _("renewal of a service period")


class QuoteStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    PENDING_APPROVAL = "pending_approval", _("waiting for discount approval")
    APPROVED = "approved", _("approved, ready to send")
    SENT = "sent", _("sent")
    ACCEPTED = "accepted", _("accepted")
    DECLINED = "declined", _("declined")
    CLOSED = "closed", _("closed unanswered (may be reopened)")
    FINAL = "final", _("closed for good")
    SUPERSEDED = "superseded", _("replaced by a revision")
    CANCELLED = "cancelled", _("cancelled before it was sent")


LOCKED = (
    QuoteStatus.SENT,
    QuoteStatus.ACCEPTED,
    QuoteStatus.DECLINED,
    QuoteStatus.CLOSED,
    QuoteStatus.FINAL,
    QuoteStatus.SUPERSEDED,
    QuoteStatus.CANCELLED,
)


class Quote(models.Model):
    number = models.CharField(_("number"), max_length=30, editable=False)
    revision = models.PositiveSmallIntegerField(_("revision"), default=1, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=QuoteKind.choices, default=QuoteKind.SERVICES)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="quotes")
    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, null=True, blank=True, related_name="quotes"
    )
    rate_card = models.ForeignKey(
        RateCard, on_delete=models.PROTECT, related_name="+", verbose_name=_("rate card")
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    quote_date = models.DateField(_("quote date"))
    valid_until = models.DateField(_("valid until"))
    discount = models.DecimalField(
        _("quote discount"), max_digits=5, decimal_places=4, default=Decimal(0), validators=FRACTION
    )
    notes = models.TextField(_("notes"), blank=True)
    terms = models.TextField(_("terms"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=QuoteStatus.choices, default=QuoteStatus.DRAFT
    )
    # A renewal quote proposes this period; accepting it creates the period.
    renewal_of = models.ForeignKey(
        ServicePeriod,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("renews"),
    )
    renewal_start = models.DateField(_("renewal start"), null=True, blank=True)
    renewal_end = models.DateField(_("renewal end"), null=True, blank=True)
    renewal_tier = models.ForeignKey(
        ServiceTier, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # who last set a discount (the quote's or a line's) and who submitted it: with the author, none of
    # them approves the discount (four eyes)
    discount_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    approval_reason = models.TextField(_("reason for the approval"), blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    answer_name = models.CharField(_("answered by"), max_length=100, blank=True)
    answer_ip = models.GenericIPAddressField(_("answered from"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    pdf = models.FileField(_("PDF"), upload_to="quotes/%Y/", blank=True)
    pdf_sha256 = models.CharField(_("PDF SHA-256"), max_length=64, blank=True)

    history = audit_history()

    class Meta:
        ordering = ["-created_at", "-revision"]
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        permissions = [("approve_discount", _("Can approve large discounts (sales manager)"))]
        constraints = [
            models.UniqueConstraint(fields=["number", "revision"], name="uniq_quote_revision"),
            # One renewal quote per period, whatever runs the drafting task and however often.
            models.UniqueConstraint(
                fields=["renewal_of"], condition=Q(revision=1), name="one_renewal_quote_per_period"
            ),
            models.CheckConstraint(
                condition=Q(kind=QuoteKind.SERVICES)
                | Q(renewal_start__isnull=False, renewal_end__isnull=False, renewal_tier__isnull=False),
                name="renewal_quote_has_period",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return self.number if self.revision == 1 else f"{self.number}-R{self.revision}"

    @property
    def locked(self) -> bool:
        return self.status in LOCKED


class LineKind(models.TextChoices):
    PERSON_DAYS = "person_days", _("person-days")
    DATA_VOLUME = "data_volume", _("data volume")
    UNIT = "unit", _("per course, person or unit")
    FIXED = "fixed", _("fixed price")
    TRAVEL = "travel", _("travel and lodging at cost")
    PERIOD_FEE = "period_fee", _("service period fee")


class InvoicingPolicy(models.TextChoices):
    """When an order line is billed: all at once when the order is accepted, or as the work is logged."""

    ORDERED = "ordered", _("billed when ordered")
    DELIVERED = "delivered", _("billed as delivered")


class QuoteLine(PricedLine, models.Model):
    """One priced line; amounts are computed by catalog.pricing and stored with the line."""

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    kind = models.CharField(_("kind"), max_length=20, choices=LineKind.choices)
    service = models.ForeignKey(
        ServiceItem, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    description = models.CharField(_("description"), max_length=300)
    # An upgrade contract line (catalog UPGRADE_CONTRACT) names the product and the major it upgrades to.
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("product")
    )
    target_major = models.PositiveIntegerField(
        _("target major version"),
        null=True,
        blank=True,
        help_text=_("An upgrade contract line: the major version the product is upgraded to."),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, blank=True)
    delivery_mode = models.CharField(
        _("delivery mode"), max_length=10, choices=DeliveryMode.choices, blank=True
    )
    quantity = models.DecimalField(
        _("quantity"), max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    unit = models.CharField(_("unit"), max_length=30, blank=True)
    unit_price = MoneyField(_("unit price"), **MONEY)
    tax_inclusive = models.BooleanField(_("price includes VAT"), default=True)
    vat_rate = models.DecimalField(_("VAT rate"), max_digits=5, decimal_places=4)
    discount = models.DecimalField(
        _("line discount"), max_digits=5, decimal_places=4, default=Decimal(0), validators=FRACTION
    )
    pass_through = models.BooleanField(_("passed through at cost"), default=False)
    invoicing_policy = models.CharField(
        _("invoicing"), max_length=10, choices=InvoicingPolicy.choices, default=InvoicingPolicy.ORDERED
    )
    basis = models.CharField(_("pricing basis"), max_length=20, choices=PricingBasis.choices, blank=True)
    list_amount = MoneyField(
        _("list amount"), **MONEY, default=0, help_text=_("Quantity x unit price (a data volume: its tiers).")
    )
    slices = models.JSONField(_("tier slices"), default=list, blank=True)  # catalog.pricing.Slice.as_dict
    net = MoneyField(_("net"), **MONEY)
    vat = MoneyField(_("VAT"), **MONEY)
    gross = MoneyField(_("gross"), **MONEY)

    history = audit_history()

    class Meta:
        ordering = ["quote", "position", "pk"]
        verbose_name = _("quote line")
        verbose_name_plural = _("quote lines")
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind=LineKind.TRAVEL) | Q(pass_through=True), name="travel_at_cost"
            ),
            models.CheckConstraint(
                condition=Q(pass_through=False) | Q(discount=0), name="pass_through_undiscounted"
            ),
            models.CheckConstraint(
                condition=Q(invoicing_policy=InvoicingPolicy.ORDERED) | Q(kind=LineKind.PERSON_DAYS),
                name="only_person_days_billed_as_delivered",
            ),
            models.CheckConstraint(
                condition=Q(product__isnull=True, target_major__isnull=True)
                | Q(product__isnull=False, target_major__isnull=False),
                name="upgrade_line_names_product_and_major",
            ),
        ]

    def __str__(self) -> str:
        return self.description

    @property
    def effective_discount(self) -> Decimal:
        """The line's own discount with the quote's on top (catalog.pricing.combined_discount)."""
        return Decimal(0) if self.pass_through else combined_discount(self.discount, self.quote.discount)


class OrderStatus(models.TextChoices):
    OPEN = "open", _("open")
    CLOSED = "closed", _("closed")
    CANCELLED = "cancelled", _("cancelled")


class ServiceOrder(models.Model):
    """What an accepted services quote becomes: its lines are billable work ordered by the customer.
    Closing it releases what is left undelivered: nothing more is logged or billed against it."""

    quote = models.OneToOneField(Quote, on_delete=models.PROTECT, related_name="order")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="service_orders")
    status = models.CharField(
        _("status"), max_length=10, choices=OrderStatus.choices, default=OrderStatus.OPEN
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    close_reason = models.TextField(_("reason for closing"), blank=True)

    history = audit_history()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("service order")
        verbose_name_plural = _("service orders")

    def __str__(self) -> str:
        return f"SO-{self.quote.reference}"

    @property
    def is_open(self) -> bool:
        return self.status == OrderStatus.OPEN


class OrderLine(models.Model):
    """One ordered service of a service order, at the agreed price of its quote line (unit price, the line's
    and the quote's discounts combined, VAT): an ``ordered`` line is billed once when the order is accepted,
    a ``delivered`` one as work logged against it, at this price, up to its quantity."""

    order = models.ForeignKey(ServiceOrder, on_delete=models.PROTECT, related_name="lines")
    quote_line = models.OneToOneField(QuoteLine, on_delete=models.PROTECT, related_name="order_line")
    service = models.ForeignKey(ServiceItem, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=LineKind.choices)
    invoicing_policy = models.CharField(_("invoicing"), max_length=10, choices=InvoicingPolicy.choices)
    description = models.CharField(_("description"), max_length=300)
    quantity = models.DecimalField(_("ordered quantity"), max_digits=12, decimal_places=2)
    unit = models.CharField(_("unit"), max_length=30, blank=True)
    unit_price = MoneyField(_("unit price"), **MONEY)
    discount = models.DecimalField(
        _("discount"), max_digits=10, decimal_places=8, default=Decimal(0), validators=FRACTION
    )
    vat_rate = models.DecimalField(_("VAT rate"), max_digits=5, decimal_places=4)
    tax_inclusive = models.BooleanField(_("price includes VAT"), default=True)
    basis = models.CharField(_("pricing basis"), max_length=20, choices=PricingBasis.choices, blank=True)
    list_amount = MoneyField(
        _("list amount"), **MONEY, help_text=_("Quantity x unit price (a data volume: its tiers).")
    )
    amount = MoneyField(
        _("agreed amount"), **MONEY, help_text=_("The quote line's gross, or its net when priced before VAT.")
    )

    history = audit_history()

    class Meta:
        ordering = ["order", "quote_line__position", "pk"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.CheckConstraint(
                condition=Q(invoicing_policy=InvoicingPolicy.ORDERED) | Q(kind=LineKind.PERSON_DAYS),
                name="order_line_delivered_in_person_days",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order} · {self.description}"
