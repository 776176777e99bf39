"""Finance's lists: invoices (drafts, issued, credit notes), payments, unbilled charges, overdue invoices,
travel expenses, work logs and invoice runs; each with search, filters, sorting, paging and export
(workspace.lists). Amounts that depend on other rows (an invoice's total, what is open) are annotations
from invoices.selectors, so they sort and filter in the database and a page costs a fixed number of
queries whatever the data."""

import datetime
from decimal import Decimal

import django_filters
import django_tables2 as tables
from django.db.models import Count, DecimalField, Sum, Value
from django.db.models.functions import Greatest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money

from billing.errors import BillingError
from billing.money import sums_by_currency
from invoices.models import (
    Charge,
    ChargeSource,
    Invoice,
    InvoiceKind,
    InvoiceRun,
    InvoiceStatus,
    Payment,
    RunStatus,
    TravelExpense,
    WorkLog,
)
from invoices.selectors import (
    FAPIAO_PREFETCH,
    age_bounds,
    age_label,
    billable_not_collected,
    fapiao_numbers,
    invoice_balance_sql,
    invoice_gross_sql,
)
from invoices.services import travel_expense_approval_check
from workspace.lists import (
    MoneyColumn,
    SearchFilterSet,
    StaffListView,
    StaffTable,
    account_manager_filter,
    currency_filter,
    customer_columns,
    date_range,
    selection_column,
)

CUSTOMER_SEARCH = ("customer__code", "customer__legal_name")
AMOUNT = DecimalField(max_digits=14, decimal_places=2)


# Invoices


class InvoiceFilter(SearchFilterSet):
    search_fields = (*CUSTOMER_SEARCH, "number", "credits__number", "lines__description")
    search_distinct = True  # an invoice with two matching lines once
    issued = date_range("issue_date", _("Issued"))
    due = date_range("due_date", _("Due"))
    account_manager = account_manager_filter("customer__account_manager")
    currency = currency_filter("currency")

    class Meta:
        model = Invoice
        fields = []


class InvoiceNumberColumn(tables.Column):
    def render(self, record):
        return format_html('<a href="{}">{}</a>', record.get_absolute_url(), str(record))

    def value(self, record):
        return str(record)


class FapiaoColumn(tables.Column):
    """The fapiao numbers recorded for the invoice (invoices.selectors.fapiao_numbers, prefetched)."""

    def __init__(self, **kwargs):
        super().__init__(verbose_name=_("Fapiao"), empty_values=(), orderable=False, **kwargs)

    def render(self, record):
        return fapiao_numbers(record) or "—"

    def value(self, record):
        return fapiao_numbers(record)


class DraftTable(StaffTable):
    selected = selection_column()
    number = InvoiceNumberColumn(verbose_name=_("Invoice"), empty_values=(), order_by=("pk",))
    customer, customer_name = customer_columns()
    created_at = tables.DateColumn(verbose_name=_("Created"), format="Y-m-d")
    currency = tables.Column(verbose_name=_("Currency"))
    gross_total = MoneyColumn(verbose_name=_("Total"))

    class Meta(StaffTable.Meta):
        attrs = {"class": "list invoices"}
        row_attrs = {"class": "invoice"}


class IssuedTable(StaffTable):
    number = InvoiceNumberColumn(
        verbose_name=_("Invoice"), empty_values=(), order_by=("series", "year", "sequence")
    )
    customer, customer_name = customer_columns()
    issue_date = tables.DateColumn(verbose_name=_("Issued"), format="Y-m-d")
    due_date = tables.DateColumn(verbose_name=_("Due"), format="Y-m-d")
    currency = tables.Column(verbose_name=_("Currency"))
    gross_total = MoneyColumn(verbose_name=_("Total"))
    open_total = MoneyColumn(verbose_name=_("Open"))
    fapiao = FapiaoColumn()

    class Meta(StaffTable.Meta):
        attrs = {"class": "list invoices"}
        row_attrs = {"class": "invoice"}


class CreditNoteTable(StaffTable):
    number = InvoiceNumberColumn(
        verbose_name=_("Credit note"), empty_values=(), order_by=("series", "year", "sequence")
    )
    customer, customer_name = customer_columns()
    issue_date = tables.DateColumn(verbose_name=_("Issued"), format="Y-m-d")
    credits = tables.Column(verbose_name=_("Credits"), linkify=True, order_by=("credits__number",))
    currency = tables.Column(verbose_name=_("Currency"))
    gross_total = MoneyColumn(verbose_name=_("Total"))
    fapiao = FapiaoColumn()

    class Meta(StaffTable.Meta):
        attrs = {"class": "list invoices"}
        row_attrs = {"class": "invoice"}


class InvoiceList(StaffListView):
    permission_required = "invoices.view_invoice"
    filterset_class = InvoiceFilter
    title = _("Invoices")
    section = "invoices"
    export_name = "invoices"
    tabs = {
        "drafts": (_("Drafts to issue"), {"status": InvoiceStatus.DRAFT}),
        "issued": (_("Issued invoices"), {"status": InvoiceStatus.ISSUED, "kind": InvoiceKind.INVOICE}),
        "credit_notes": (
            _("Credit notes"),
            {"status": InvoiceStatus.ISSUED, "kind": InvoiceKind.CREDIT_NOTE},
        ),
    }
    tables_by_tab = {"drafts": DraftTable, "issued": IssuedTable, "credit_notes": CreditNoteTable}

    def queryset(self):
        invoices = Invoice.objects.select_related("customer", "credits").annotate(
            gross_total=invoice_gross_sql()
        )
        if self.current_tab() != "drafts":
            invoices = invoices.prefetch_related(FAPIAO_PREFETCH)
        if self.current_tab() == "issued":
            invoices = invoices.annotate(open_total=invoice_balance_sql())
        return invoices.order_by("-issue_date", "-sequence", "-created_at", "-pk")

    @property
    def table_class(self):
        return self.tables_by_tab[self.current_tab()]

    @property
    def bulk_url(self):
        return "invoices:bulk-issue" if self.current_tab() == "drafts" else ""

    bulk_actions = (("issue", _("Issue")),)


# Payments


class PaymentFilter(SearchFilterSet):
    search_fields = (
        "invoice__customer__code",
        "invoice__customer__legal_name",
        "invoice__number",
        "reference",
    )
    received = date_range("received_on", _("Received"))
    account_manager = account_manager_filter("invoice__customer__account_manager")
    currency = currency_filter("amount_currency")

    class Meta:
        model = Payment
        fields = []


class PaymentTable(StaffTable):
    received_on = tables.DateColumn(verbose_name=_("Received"), format="Y-m-d")
    customer, customer_name = customer_columns("invoice__customer")
    invoice = tables.Column(verbose_name=_("Invoice"), linkify=True, order_by=("invoice__number",))
    reference = tables.Column(verbose_name=_("Reference"))
    amount = MoneyColumn(verbose_name=_("Amount"))


class PaymentList(StaffListView):
    permission_required = "invoices.view_payment"
    filterset_class = PaymentFilter
    table_class = PaymentTable
    title = _("Payments")
    section = "payments"
    export_name = "payments"

    def queryset(self):
        return Payment.objects.select_related("invoice__customer").order_by("-received_on", "-pk")


# Unbilled charges


class ChargeFilter(SearchFilterSet):
    search_fields = (*CUSTOMER_SEARCH, "description")
    source = django_filters.ChoiceFilter(label=_("Source"), choices=ChargeSource.choices)
    service_date = date_range("service_date", _("Service date"))
    account_manager = account_manager_filter("customer__account_manager")
    currency = currency_filter("amount_currency")

    class Meta:
        model = Charge
        fields = []


class ChargeTable(StaffTable):
    customer, customer_name = customer_columns()
    service_date = tables.DateColumn(verbose_name=_("Date"), format="Y-m-d")
    source = tables.Column(verbose_name=_("Source"))
    description = tables.Column(verbose_name=_("Description"))
    quantity = tables.Column(verbose_name=_("Quantity"), attrs={"td": {"class": "num"}})
    unit_price = MoneyColumn(verbose_name=_("Unit price"))
    list_amount = MoneyColumn(verbose_name=_("List amount"))
    discount = tables.Column(verbose_name=_("Discount"), attrs={"td": {"class": "num"}})
    amount = MoneyColumn(verbose_name=_("Net"))
    gross = MoneyColumn(verbose_name=_("Gross"))


class ChargeList(StaffListView):
    """Charges no invoice holds yet; the next invoice run bills them. The page only reads: what is billable
    but not collected yet (invoices.selectors.billable_not_collected) is counted above the list, and
    collecting it is a service run by the invoice run, the dispatch task every ten minutes and the "collect"
    button, which also says what could not be priced and why."""

    permission_required = "invoices.view_charge"
    filterset_class = ChargeFilter
    table_class = ChargeTable
    template_name = "invoices/charges.html"
    title = _("Unbilled charges")
    section = "charges"
    export_name = "unbilled-charges"

    def queryset(self):
        return (
            Charge.objects.filter(invoice_line__isnull=True)
            .select_related("customer")
            .order_by("customer__code", "service_date", "pk")
        )

    def extra_context(self):
        unbilled = Charge.objects.filter(invoice_line__isnull=True)
        by_currency = unbilled.values("amount_currency").annotate(count=Count("pk"), total=Sum("gross"))
        totals = sums_by_currency(Money(row["total"], row["amount_currency"]) for row in by_currency)
        waiting = billable_not_collected(up_to=timezone.localdate())
        return {
            "total": " · ".join(str(amount) for amount in totals.values()) or str(Money(0, "CNY")),
            "count": sum(row["count"] for row in by_currency),
            "customers": unbilled.values("customer").distinct().count(),
            "not_collected": sum(rows.count() for rows in waiting.values()),
        }


# Overdue


class OverdueFilter(InvoiceFilter):
    age = django_filters.ChoiceFilter(
        label=_("Days overdue"),
        choices=[(label, label) for label in age_bounds()],
        method="by_age",
    )

    def by_age(self, queryset, name, value):
        today = timezone.localdate()
        first, last = age_bounds()[value]
        queryset = queryset.filter(due_date__lte=today - datetime.timedelta(days=first))
        if last is not None:
            queryset = queryset.filter(due_date__gte=today - datetime.timedelta(days=last))
        return queryset


class OverdueTable(IssuedTable):
    selected = selection_column()
    days_overdue = tables.Column(verbose_name=_("Days overdue"), empty_values=(), order_by=("due_date",))
    age = tables.Column(verbose_name=_("Age"), empty_values=(), orderable=False)

    class Meta(StaffTable.Meta):
        sequence = ("selected", "...")

    def render_days_overdue(self, record):
        return (timezone.localdate() - record.due_date).days

    def value_days_overdue(self, record):
        return self.render_days_overdue(record)

    def render_age(self, record):
        return age_label(self.render_days_overdue(record))


class OverdueList(StaffListView):
    """Issued invoices past their due date with money open (invoice_balance's rule, in SQL), oldest first;
    reminders for the selected ones. Settled invoices are left out by their mark first (an index), so the
    balances summed are only those of the few invoices still open."""

    permission_required = "invoices.view_invoice"
    filterset_class = OverdueFilter
    table_class = OverdueTable
    title = _("Overdue invoices")
    section = "overdue"
    export_name = "overdue"
    template_name = "invoices/overdue.html"
    bulk_url = "invoices:bulk-remind"
    bulk_actions = (("remind", _("Send a reminder")),)

    def overdue(self):
        """Issued invoices past their due date not marked settled, with their total and what is open."""
        return Invoice.objects.filter(
            kind=InvoiceKind.INVOICE,
            status=InvoiceStatus.ISSUED,
            settled=False,
            due_date__lt=timezone.localdate(),
        ).annotate(gross_total=invoice_gross_sql(), open_total=invoice_balance_sql())

    def queryset(self):
        return (
            self.overdue()
            .select_related("customer", "credits")
            .prefetch_related(FAPIAO_PREFETCH)
            .filter(open_total__gt=0)
            .order_by("due_date", "pk")
        )

    def extra_context(self):
        rows = self.filterset_class(self.request.GET or None, queryset=self.overdue()).qs
        # the sum of what is open over the open invoices is the sum of max(open, 0) over them all: each
        # balance is computed once, not once to filter and again to add up
        open_part = Greatest("open_total", Value(Decimal(0)), output_field=AMOUNT)
        sums = rows.values("currency").annotate(open=Sum(open_part)).order_by("currency")
        return {"open_sums": [Money(row["open"], row["currency"]) for row in sums if row["open"] > 0]}


# Travel expenses


class TravelFilter(SearchFilterSet):
    search_fields = (*CUSTOMER_SEARCH, "ticket_ref", "description", "recorded_by__username")
    state = django_filters.ChoiceFilter(
        label=_("State"),
        choices=[
            ("waiting", _("waiting for approval")),
            ("approved", _("approved")),
            ("rejected", _("rejected")),
        ],
        method="by_state",
        empty_label=_("any"),
    )
    spent = date_range("spent_on", _("Spent"))
    account_manager = account_manager_filter("customer__account_manager")
    currency = currency_filter("amount_currency")

    class Meta:
        model = TravelExpense
        fields = ["category"]

    def by_state(self, queryset, name, value):
        if value == "rejected":
            return queryset.filter(rejected_at__isnull=False)
        return queryset.filter(approved_at__isnull=value == "waiting", rejected_at__isnull=True)


class TravelTable(StaffTable):
    selected = selection_column()
    spent_on = tables.DateColumn(verbose_name=_("Date"), format="Y-m-d")
    customer, customer_name = customer_columns()
    category = tables.Column(verbose_name=_("Category"))
    ticket_ref = tables.Column(verbose_name=_("Ticket"))
    description = tables.Column(verbose_name=_("Description"))
    amount = MoneyColumn(verbose_name=_("Claimed"))
    cap = MoneyColumn(verbose_name=_("Cap"))
    excess = MoneyColumn(verbose_name=_("Above the cap"))
    billed = MoneyColumn(verbose_name=_("Billed"), accessor="billed_amount", orderable=False)
    recorded_by = tables.Column(verbose_name=_("Recorded by"))
    approved_by = tables.Column(verbose_name=_("Approved by"))
    approved_at = tables.DateTimeColumn(verbose_name=_("Approved"), format="Y-m-d H:i")
    approval = tables.Column(verbose_name="", empty_values=(), orderable=False, exclude_from_export=True)

    class Meta(StaffTable.Meta):
        row_attrs = {"class": lambda record: "expense above-cap" if record.above_cap else "expense"}

    def render_approval(self, record):
        """Where the service would refuse this user's approval, its reason; else the approve button."""
        if record.rejected_at:
            return format_html(
                '<span class="muted rejected">{}: {}</span>', _("rejected"), record.rejection_reason
            )
        if record.approved_at:
            return ""
        try:
            travel_expense_approval_check(expense=record, by=self.request.user)
        except BillingError as refused:
            return format_html('<span class="muted refusal">{}</span>', refused)
        if not self.request.user.has_perm("invoices.change_travelexpense"):
            return ""
        return format_html(
            '<button class="button small" formaction="{}">{}</button>',
            reverse("invoices:approve-travel", args=[record.pk]),
            _("Approve"),
        )


class TravelList(StaffListView):
    permission_required = "invoices.view_travelexpense"
    filterset_class = TravelFilter
    table_class = TravelTable
    title = _("Travel expenses")
    section = "travel"
    export_name = "travel"
    template_name = "invoices/travel.html"
    bulk_url = "invoices:bulk-travel"
    bulk_actions = (("approve", _("Approve")), ("reject", _("Reject")))
    bulk_reason = True

    def queryset(self):
        return TravelExpense.objects.select_related("customer", "recorded_by", "approved_by").order_by(
            "approved_at", "spent_on", "pk"
        )


# Work logs


class WorkLogFilter(SearchFilterSet):
    search_fields = (*CUSTOMER_SEARCH, "ticket_ref", "engineer", "description", "service_code")
    worked = date_range("work_date", _("Worked"))
    charged = django_filters.BooleanFilter(
        label=_("Charged"), field_name="processed_at", lookup_expr="isnull", exclude=True
    )
    account_manager = account_manager_filter("customer__account_manager")

    class Meta:
        model = WorkLog
        fields = ["role", "on_site", "review"]


class WorkLogTable(StaffTable):
    selected = selection_column()
    work_date = tables.DateColumn(verbose_name=_("Date"), format="Y-m-d")
    customer, customer_name = customer_columns()
    engineer = tables.Column(verbose_name=_("Engineer"))
    role = tables.Column(verbose_name=_("Role"))
    days = tables.Column(verbose_name=_("Person-days"), attrs={"td": {"class": "num"}})
    on_site = tables.BooleanColumn(verbose_name=_("On site"))
    ticket_ref = tables.Column(verbose_name=_("Ticket"))
    service_code = tables.Column(verbose_name=_("Service"))
    processed_at = tables.DateTimeColumn(verbose_name=_("Charged"), format="Y-m-d")
    review = tables.Column(verbose_name=_("Review"))


class WorkLogList(StaffListView):
    permission_required = "invoices.view_worklog"
    filterset_class = WorkLogFilter
    table_class = WorkLogTable
    title = _("Work logs")
    section = "work_logs"
    export_name = "work-logs"
    bulk_url = "invoices:bulk-work-logs"
    bulk_actions = (("approve", _("Approve")), ("reject", _("Reject")))
    bulk_reason = True

    def queryset(self):
        return WorkLog.objects.select_related("customer").order_by("-work_date", "-pk")


# Invoice runs


class RunFilter(SearchFilterSet):
    search_fields = ("customer__code", "customer__legal_name", "account_manager__username", "error")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=RunStatus.choices)
    up_to = date_range("up_to", _("Up to"))

    class Meta:
        model = InvoiceRun
        fields = []


class RunTable(StaffTable):
    id = tables.Column(verbose_name=_("Run"))
    created_at = tables.DateTimeColumn(verbose_name=_("Started"), format="Y-m-d H:i")
    up_to = tables.DateColumn(verbose_name=_("Up to"), format="Y-m-d")
    customer = tables.Column(verbose_name=_("Customer"), order_by=("customer__code",))
    account_manager = tables.Column(verbose_name=_("Account manager"))
    status = tables.Column(verbose_name=_("Status"))
    customers_done = tables.Column(verbose_name=_("Progress"))
    customers_total = tables.Column(verbose_name=_("Customers"), attrs={"td": {"class": "num"}})
    invoices_created = tables.Column(verbose_name=_("Invoices"), attrs={"td": {"class": "num invoices"}})
    created_by = tables.Column(verbose_name=_("By"))
    error = tables.Column(verbose_name=_("Error"))
    set_aside = tables.Column(verbose_name=_("Set aside"), empty_values=(), orderable=False)

    class Meta(StaffTable.Meta):
        # run-progress.js polls the runs still going and updates their rows
        row_attrs = {
            "class": "run",
            "data-progress-url": lambda record: reverse("invoices:run-progress", args=[record.pk]),
            "data-status": lambda record: record.status,
        }

    def render_customers_done(self, record):
        return format_html(
            '<progress max="{}" value="{}"></progress> <span class="count">{} / {}</span> '
            '<span class="status">{}</span>',
            record.customers_total or 1,
            record.customers_done,
            record.customers_done,
            record.customers_total,
            record.get_status_display(),
        )

    def value_customers_done(self, record):
        return record.customers_done

    def render_set_aside(self, record):
        return format_html_join(
            "",
            '<div class="set-aside warning">{} #{} ({}): {}</div>',
            (
                (row.get_source_display(), row.source_id, row.customer.code, row.reason)
                for row in record.set_aside.all()
            ),
        )

    def value_set_aside(self, record):
        return "; ".join(
            f"{row.get_source_display()} #{row.source_id}: {row.reason}" for row in record.set_aside.all()
        )


class RunList(StaffListView):
    permission_required = "invoices.view_invoicerun"
    filterset_class = RunFilter
    table_class = RunTable
    template_name = "invoices/runs.html"
    title = _("Invoice runs")
    section = "runs"
    export_name = "invoice-runs"

    def queryset(self):
        return (
            InvoiceRun.objects.select_related("customer", "account_manager", "created_by")
            .prefetch_related("set_aside__customer")
            .order_by("-created_at", "-pk")
        )

    def extra_context(self):
        return {"today": timezone.localdate()}
