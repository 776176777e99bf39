"""What is billable, and the invoices and credit notes that bill it.

Every billable thing becomes one ``Charge`` in a single ledger of unbilled charges, keyed by its source so
the same period fee, accepted quote line or confirmed charge request is never charged twice. An invoice run
turns a customer's unbilled charges into a draft invoice; issuing gives it the next number of a gapless
series per series and year and fixes it for good. An issued invoice is corrected only by a credit note (红字).
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField
from djmoney.models.validators import MinMoneyValidator

from billing.documents import PricedLine
from billing.history import audit_history
from catalog.models import DeliveryMode, Role
from contracts.models import Customer, FapiaoType, PersonDayBundle
from quotes.models import OrderLine

MONEY = {"max_digits": 14, "decimal_places": 2, "default_currency": "CNY"}


class ChargeSource(models.TextChoices):
    PERIOD_FEE = "period_fee", _("service period fee")
    QUOTE_LINE = "quote_line", _("accepted quote line")
    CHARGE_REQUEST = "charge_request", _("confirmed charge request")
    WORK_LOG = "work_log", _("delivered person-days")
    DATA_VOLUME = "data_volume", _("data-volume usage")
    TRAVEL = "travel", _("travel and lodging at cost")


class Charge(models.Model):
    """One unbilled (or billed) charge. ``source``/``source_id`` name what it bills, once."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="charges")
    source = models.CharField(_("source"), max_length=20, choices=ChargeSource.choices)
    source_id = models.PositiveBigIntegerField(_("source id"))
    description = models.CharField(_("description"), max_length=300)
    service_date = models.DateField(_("service date"))
    # three decimals, as work logs count person-days (0.125 is an hour)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3, default=Decimal(1))
    unit = models.CharField(_("unit"), max_length=30, blank=True)
    unit_price = MoneyField(_("unit price"), **MONEY)
    list_amount = MoneyField(_("list amount"), **MONEY, default=0, help_text=_("Quantity x unit price."))
    discount = models.DecimalField(_("discount"), max_digits=5, decimal_places=4, default=Decimal(0))
    slices = models.JSONField(_("tier slices"), default=list, blank=True)  # catalog.pricing.Slice.as_dict
    amount = MoneyField(_("amount"), **MONEY, help_text=_("Quantity x unit price after discounts."))
    gross = MoneyField(
        _("gross"), **MONEY, default=0, help_text=_("The amount with VAT: what the invoice bills.")
    )
    tax_inclusive = models.BooleanField(_("amount includes VAT"), default=True)
    vat_rate = models.DecimalField(_("VAT rate"), max_digits=5, decimal_places=4)
    pass_through = models.BooleanField(_("passed through at cost"), default=False)
    service_code = models.CharField(
        _("service"),
        max_length=60,
        blank=True,
        help_text=_("The catalogue service this charge sells: its tax classification code is the fapiao's."),
    )
    order_line = models.ForeignKey(
        OrderLine,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="charges",
        verbose_name=_("order line"),
        help_text=_("The order line this charge bills, ordered or delivered."),
    )
    invoice_line = models.OneToOneField(
        "InvoiceLine", on_delete=models.SET_NULL, null=True, blank=True, related_name="charge"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    history = audit_history()

    class Meta:
        ordering = ["customer", "service_date", "pk"]
        verbose_name = _("charge")
        verbose_name_plural = _("charges")
        constraints = [models.UniqueConstraint(fields=["source", "source_id"], name="uniq_charge_source")]
        indexes = [models.Index(fields=["customer", "invoice_line"])]

    def __str__(self) -> str:
        return self.description


HOURS_PER_DAY = Decimal(8)


class WorkLogReview(models.TextChoices):
    """Finance's review of a work log. Billing does not wait for it: a recorded log is charged as before,
    a rejected one never is."""

    RECORDED = "recorded", _("not reviewed")
    APPROVED = "approved", _("approved")
    REJECTED = "rejected", _("rejected")


class WorkLog(models.Model):
    """Delivered work in person-days (人天), from a ticketing tool or an import. It names what it delivers:
    an order line (billed at the line's agreed price up to its quantity, or not at all when the line was
    billed when ordered), a prepaid bundle (drawn on, the rest billed at the rate card), or nothing
    (prepaid person-days drawn first, the rest billed at the rate card's rate of the work date)."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="work_logs")
    engineer = models.CharField(_("engineer"), max_length=100)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.ENGINEER)
    work_date = models.DateField(_("date"))
    days = models.DecimalField(
        _("person-days"), max_digits=6, decimal_places=3, validators=[MinValueValidator(Decimal("0.001"))]
    )
    on_site = models.BooleanField(_("on site"), default=False)
    ticket_ref = models.CharField(_("ticket or order"), max_length=100)
    service_code = models.CharField(_("service"), max_length=60, default="custom-development")
    description = models.CharField(_("description"), max_length=300, blank=True)
    order_line = models.ForeignKey(
        OrderLine,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="work_logs",
        verbose_name=_("order line"),
    )
    bundle = models.ForeignKey(
        PersonDayBundle,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="work_logs",
        verbose_name=_("prepaid bundle"),
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    processed_at = models.DateTimeField(_("charged"), null=True, blank=True)
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
        help_text=_("Empty when a ticketing tool or an import recorded it."),
    )
    review = models.CharField(
        _("review"), max_length=10, choices=WorkLogReview.choices, default=WorkLogReview.RECORDED
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    review_reason = models.CharField(_("reason"), max_length=300, blank=True)

    history = audit_history()

    class Meta:
        ordering = ["-work_date", "pk"]
        verbose_name = _("work log")
        verbose_name_plural = _("work logs")
        indexes = [
            models.Index(fields=["processed_at", "work_date"]),
            # the work-log list's sort (latest first): a page reads fifty rows, not the whole table sorted
            models.Index(fields=["work_date", "id"], name="worklog_by_work_date"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(order_line__isnull=True) | Q(bundle__isnull=True), name="work_log_delivers_one"
            )
        ]

    def __str__(self) -> str:
        return f"{self.work_date} {self.engineer} {self.days}"

    @property
    def delivery_mode(self) -> str:
        return DeliveryMode.ON_SITE if self.on_site else DeliveryMode.REMOTE


class ExpenseCategory(models.TextChoices):
    TRANSPORT = "transport", _("transport")
    LODGING = "lodging", _("lodging")
    ALLOWANCE = "allowance", _("allowance")


RECEIPT_TYPES = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
RECEIPT_MAX_BYTES = 10 * 1024 * 1024


class TravelExpense(models.Model):
    """Travel and lodging for on-site work, re-invoiced at cost once approved: no discount, no markup, and
    no VAT beyond what the receipt carries.

    The travel policy of the rate card in force on its date caps lodging per night and the allowance per
    day. An expense above its cap keeps the cap and the excess, and needs a second person's approval (four
    eyes). Once approved it is billed up to the cap only: the terms make the customer pay travel and
    lodging as incurred but name no standard of their own, so the standard the customer is shown is the
    policy's ("住宿每晚不超过上限"); the excess is the vendor's cost."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="travel_expenses")
    category = models.CharField(_("category"), max_length=20, choices=ExpenseCategory.choices)
    spent_on = models.DateField(_("date"))
    amount = MoneyField(_("amount"), validators=[MinMoneyValidator(Decimal("0.01"))], **MONEY)
    description = models.CharField(_("description"), max_length=200)
    ticket_ref = models.CharField(_("ticket or order"), max_length=100, blank=True)
    receipt = models.FileField(_("receipt"), upload_to="receipts/%Y/%m/")
    quantity = models.PositiveSmallIntegerField(
        _("nights or days"),
        default=1,
        validators=[MinValueValidator(1)],
        help_text=_("Nights of lodging or days of allowance the amount covers."),
    )
    cap = MoneyField(
        _("policy cap"),
        null=True,
        blank=True,
        help_text=_("What the travel policy allows for this expense; empty when nothing caps it."),
        **MONEY,
    )
    excess = MoneyField(_("above the cap"), default=0, **MONEY)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("rejected by"),
    )
    rejected_at = models.DateTimeField(_("rejected"), null=True, blank=True)
    rejection_reason = models.CharField(_("reason for rejection"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    history = audit_history()

    class Meta:
        ordering = ["-spent_on"]
        verbose_name = _("travel expense")
        verbose_name_plural = _("travel expenses")

    def __str__(self) -> str:
        return f"{self.spent_on} {self.get_category_display()} {self.amount}"

    @property
    def above_cap(self) -> bool:
        return self.excess.amount > 0

    @property
    def billed_amount(self):
        """What the customer is billed: the amount up to the cap."""
        return self.amount - self.excess


class DataVolumeUsage(models.Model):
    """Data migrated or restructured for a customer, billed on the rate card's tiers of its date."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="data_volume_usage")
    service_code = models.CharField(_("service"), max_length=60, default="data-migration")
    quantity = models.DecimalField(
        _("quantity"), max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    measured_on = models.DateField(_("date"))
    description = models.CharField(_("description"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    history = audit_history()

    class Meta:
        ordering = ["-measured_on"]
        verbose_name = _("data-volume usage")
        verbose_name_plural = _("data-volume usage")

    def __str__(self) -> str:
        return f"{self.measured_on} {self.service_code} {self.quantity}"


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", _("invoice")
    CREDIT_NOTE = "credit_note", _("credit note")


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    ISSUED = "issued", _("issued")


class Invoice(models.Model):
    kind = models.CharField(
        _("kind"), max_length=20, choices=InvoiceKind.choices, default=InvoiceKind.INVOICE
    )
    series = models.CharField(_("series"), max_length=10, default="INV")
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    sequence = models.PositiveIntegerField(_("sequence number"), null=True, blank=True)
    number = models.CharField(_("number"), max_length=30, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT
    )
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="invoices")
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    issue_date = models.DateField(_("issue date"), null=True, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    credits = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="credit_notes",
        verbose_name=_("credits"),
    )
    run = models.ForeignKey(
        "InvoiceRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="invoices"
    )
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    issued_at = models.DateTimeField(_("issued"), null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    pdf = models.FileField(_("PDF"), upload_to="invoices/%Y/", blank=True)
    pdf_sha256 = models.CharField(_("PDF SHA-256"), max_length=64, blank=True)
    # invoice_balance's answer kept on the row (invoices.services.invoices_settled_mark, wherever a balance
    # changes), so that lists of open invoices read an index instead of summing every invoice's rows.
    settled = models.BooleanField(
        _("settled"), default=False, help_text=_("Issued, and nothing is left to pay on it.")
    )

    history = audit_history()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        indexes = [  # the overdue list and ageing: issued invoices not settled, by due date
            models.Index(
                fields=["due_date", "id"],
                condition=Q(kind=InvoiceKind.INVOICE, status=InvoiceStatus.ISSUED, settled=False),
                name="invoice_open_by_due_date",
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["series", "year", "sequence"],
                condition=Q(sequence__isnull=False),
                name="uniq_invoice_number",
            ),
            models.CheckConstraint(
                condition=Q(status=InvoiceStatus.DRAFT, sequence__isnull=True)
                | Q(status=InvoiceStatus.ISSUED, sequence__isnull=False, issue_date__isnull=False),
                name="issued_invoice_has_number",
            ),
            models.CheckConstraint(
                condition=Q(kind=InvoiceKind.INVOICE, credits__isnull=True)
                | Q(kind=InvoiceKind.CREDIT_NOTE, credits__isnull=False),
                name="credit_note_credits_an_invoice",
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"{self.get_kind_display()} #{self.pk} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        return reverse("invoices:invoice", args=[self.pk])


class InvoiceLine(PricedLine, models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    description = models.CharField(_("description"), max_length=300)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3)
    unit = models.CharField(_("unit"), max_length=30, blank=True)
    unit_price = MoneyField(_("unit price"), **MONEY)
    list_amount = MoneyField(_("list amount"), **MONEY, default=0, help_text=_("Quantity x unit price."))
    discount = models.DecimalField(_("discount"), max_digits=5, decimal_places=4, default=Decimal(0))
    slices = models.JSONField(_("tier slices"), default=list, blank=True)  # catalog.pricing.Slice.as_dict
    tax_inclusive = models.BooleanField(_("price includes VAT"), default=True)
    vat_rate = models.DecimalField(_("VAT rate"), max_digits=5, decimal_places=4)
    pass_through = models.BooleanField(_("passed through at cost"), default=False)
    net = MoneyField(_("net"), **MONEY)
    vat = MoneyField(_("VAT"), **MONEY)
    gross = MoneyField(_("gross"), **MONEY)
    service_code = models.CharField(
        _("service"),
        max_length=60,
        blank=True,
        help_text=_("The catalogue service this line sells: its tax classification code is the fapiao's."),
    )
    credits_line = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="credited_by"
    )
    credited_quantity = models.DecimalField(
        _("quantity credited"),
        max_digits=12,
        decimal_places=3,
        null=True,
        blank=True,
        help_text=_("On a credit note: how much of the credited line's quantity it takes back; empty for a "
                    "credit of an agreed amount."),
    )  # fmt: skip

    history = audit_history()

    class Meta:
        ordering = ["invoice", "position", "pk"]
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")

    def __str__(self) -> str:
        return self.description

    def save(self, *args, **kwargs):
        """Lines of an issued invoice are fixed for good (a credit note corrects them)."""
        if Invoice.objects.filter(pk=self.invoice_id, status=InvoiceStatus.ISSUED).exists():
            raise IssuedInvoiceError(f"invoice {self.invoice_id} is issued: its lines cannot change")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if Invoice.objects.filter(pk=self.invoice_id, status=InvoiceStatus.ISSUED).exists():
            raise IssuedInvoiceError(f"invoice {self.invoice_id} is issued: its lines cannot change")
        return super().delete(*args, **kwargs)

    @property
    def effective_discount(self) -> Decimal:
        return self.discount


class IssuedInvoiceError(Exception):
    """A programming error: something tried to change an issued invoice."""


FAPIAO_NUMBER_DIGITS = 20


class FapiaoBatch(models.Model):
    """Issued invoices sent to the tax bureau's e-invoice platform for fapiao in one batch workbook (or
    several, 2,000 lines each at most): who asked, when, which invoices."""

    invoices = models.ManyToManyField(Invoice, related_name="fapiao_batches", verbose_name=_("invoices"))
    workbooks = models.PositiveSmallIntegerField(_("workbooks"), default=1)
    lines = models.PositiveIntegerField(_("lines"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("fapiao batch")
        verbose_name_plural = _("fapiao batches")

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} #{self.pk}"


class FapiaoStatus(models.TextChoices):
    NORMAL = "normal", _("normal")
    REVERSED_FULL = "reversed_full", _("fully reversed (已红冲-全额)")
    REVERSED_PART = "reversed_part", _("partly reversed (已红冲-部分)")
    VOID = "void", _("void")


class Fapiao(models.Model):
    """A fully digital e-invoice (数电发票) the platform issued, recorded back: blue for an invoice, red for a
    credit note. Its 20-digit number is text (leading zeros are part of it)."""

    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="fapiaos", verbose_name=_("invoice or credit note")
    )
    number = models.CharField(_("fapiao number"), max_length=FAPIAO_NUMBER_DIGITS, unique=True)
    fapiao_type = models.CharField(_("fapiao type"), max_length=20, choices=FapiaoType.choices)
    red = models.BooleanField(_("red-letter"), default=False)
    issued_on = models.DateField(_("issued on"))
    gross = MoneyField(_("total with VAT"), **MONEY)
    status = models.CharField(
        _("status"), max_length=20, choices=FapiaoStatus.choices, default=FapiaoStatus.NORMAL
    )
    platform_status = models.CharField(_("status on the platform"), max_length=40, blank=True)
    source = models.CharField(_("recorded from"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("by")
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    history = audit_history()

    class Meta:
        ordering = ["issued_on", "number"]
        verbose_name = _("fapiao")
        verbose_name_plural = _("fapiao")
        constraints = [
            models.CheckConstraint(
                condition=Q(number__regex=r"^[0-9]{20}$"), name="fapiao_number_twenty_digits"
            ),
        ]

    def __str__(self) -> str:
        return self.number


class RedLetterReason(models.TextChoices):
    ERROR = "01", _("01 invoiced in error (开票有误; full reversal only)")
    RETURN = "02", _("02 goods returned (销货退回)")
    STOPPED = "03", _("03 service stopped (服务中止)")
    ALLOWANCE = "04", _("04 sales allowance (销售折让)")


class RedLetterStatus(models.TextChoices):
    DRAFT = "draft", _("to submit")
    WAITING = "waiting", _("waiting for confirmation")
    CONFIRMED = "confirmed", _("confirmed")
    VOID = "void", _("void")
    ISSUED = "issued", _("red fapiao issued")


class RedLetterRequest(models.Model):
    """A red-letter confirmation form (红字发票信息确认单) for a credit note against an invoice with a
    fapiao: the blue fapiao, the reason, the form's number and status on the platform, then the red fapiao.
    Its lines are the credit note's (each reverses the blue line it credits). A void form is replaced by a
    new request (``replaces``)."""

    credit_note = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="red_letter_requests", verbose_name=_("credit note")
    )
    blue = models.ForeignKey(
        Fapiao, on_delete=models.PROTECT, related_name="red_letter_requests", verbose_name=_("blue fapiao")
    )
    reason = models.CharField(_("reason"), max_length=2, choices=RedLetterReason.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=RedLetterStatus.choices, default=RedLetterStatus.DRAFT
    )
    form_number = models.CharField(_("confirmation form number"), max_length=40, blank=True)
    submitted_at = models.DateTimeField(_("form submitted"), null=True, blank=True)
    red = models.OneToOneField(
        Fapiao,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="red_letter_request",
        verbose_name=_("red fapiao"),
    )
    replaces = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaced_by"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    history = audit_history()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("red-letter request")
        verbose_name_plural = _("red-letter requests")

    def __str__(self) -> str:
        return self.form_number or f"{self._meta.verbose_name} #{self.pk}"


class Payment(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    amount = MoneyField(_("amount"), validators=[MinMoneyValidator(Decimal("0.01"))], **MONEY)
    received_on = models.DateField(_("received on"))
    reference = models.CharField(_("bank reference"), max_length=100)
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    history = audit_history()

    class Meta:
        ordering = ["invoice", "received_on"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.UniqueConstraint(fields=["invoice", "reference"], name="uniq_payment_reference")
        ]

    def __str__(self) -> str:
        return f"{self.amount} ({self.reference})"


class RunStatus(models.TextChoices):
    PENDING = "pending", _("waiting")
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")


class InvoiceRun(models.Model):
    """Turning unbilled charges up to ``up_to`` into draft invoices, for all customers, one account
    manager's, or one customer; progress is kept so the page can show it and a retry can go on."""

    up_to = models.DateField(_("charges up to"))
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    status = models.CharField(
        _("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.PENDING
    )
    customers_total = models.PositiveIntegerField(_("customers"), default=0)
    customers_done = models.PositiveIntegerField(_("customers done"), default=0)
    invoices_created = models.PositiveIntegerField(_("invoices created"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    history = audit_history()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("invoice run")
        verbose_name_plural = _("invoice runs")

    def __str__(self) -> str:
        return f"{self.up_to} ({self.get_status_display()})"


class SetAside(models.Model):
    """Something an invoice run could not bill (a work log no rate card prices, a usage of an unknown
    service), with the reason; the run bills everything else. A later run tries it again."""

    run = models.ForeignKey(InvoiceRun, on_delete=models.CASCADE, related_name="set_aside")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(_("source"), max_length=20, choices=ChargeSource.choices)
    source_id = models.PositiveBigIntegerField(_("source id"))
    code = models.CharField(_("code"), max_length=60)
    reason = models.TextField(_("reason"))
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        ordering = ["run", "source", "source_id"]
        verbose_name = _("charge set aside")
        verbose_name_plural = _("charges set aside")
        constraints = [
            models.UniqueConstraint(fields=["run", "source", "source_id"], name="uniq_set_aside_per_run")
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} #{self.source_id}: {self.reason}"


class InvoiceReminder(models.Model):
    """A payment reminder for an overdue invoice: one of the daily task's steps (1, 30, 60, 90 days; each
    once), or one that someone asked for (``sent_by``) on the day it was ``days_overdue``."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="reminders")
    days_overdue = models.PositiveSmallIntegerField(_("days overdue"))
    sent_at = models.DateTimeField(_("sent"), auto_now_add=True)
    sent_on = models.DateField(
        _("sent on"), null=True, blank=True, help_text=_("The business day it went out.")
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sent by"),
        help_text=_("Who asked for it; empty for the daily reminders."),
    )

    class Meta:
        ordering = ["invoice", "days_overdue"]
        verbose_name = _("payment reminder")
        verbose_name_plural = _("payment reminders")
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "days_overdue"],
                condition=Q(sent_by__isnull=True),
                name="uniq_invoice_reminder",
            )
        ]

    def __str__(self) -> str:
        return f"{self.invoice} +{self.days_overdue}d"
