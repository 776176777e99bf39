import uuid

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from billing.admin import (
    AuditHistoryAdmin,
    RecordedAdmin,
    ServiceAdmin,
    as_form_error,
    frozen,
)
from billing.errors import BillingError
from billing.imports import CheckedImportExportAdmin
from invoices import models
from invoices.resources import WorkLogCSV, WorkLogResource, WorkLogXLSX
from invoices.selectors import invoice_balance, invoice_totals
from invoices.services import (
    invoice_delete_draft,
    invoice_issue,
    invoice_run_start,
    receipt_check,
    travel_expense_approve,
    travel_expense_cap,
    travel_expense_record,
    work_log_record,
)


@admin.register(models.Charge)
class ChargeAdmin(AuditHistoryAdmin):
    list_display = ["service_date", "customer", "source", "description", "amount", "invoice_line"]
    list_filter = ["source", ("invoice_line", admin.EmptyFieldListFilter)]
    search_fields = ["customer__code", "description"]
    list_select_related = ["customer", "invoice_line__invoice"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class InvoiceLineInline(admin.TabularInline):
    model = models.InvoiceLine
    extra = 0
    fields = ["position", "description", "quantity", "unit", "unit_price", "vat_rate", "net", "vat", "gross"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class PaymentInline(admin.TabularInline):
    model = models.Payment
    extra = 0
    readonly_fields = ["amount", "received_on", "reference", "created_at"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(models.Invoice)
class InvoiceAdmin(ServiceAdmin):
    """Invoices and credit notes, their lines and payments are read here; they change only through
    invoices.services, as on the finance pages: a draft is issued (the action) or deleted (its charges
    unbilled again), an issued one is only ever credited."""

    list_display = ["__str__", "kind", "customer", "status", "issue_date", "due_date", "gross", "balance"]
    list_filter = ["kind", "status", "series"]
    search_fields = ["number", "customer__code", "customer__legal_name"]
    list_select_related = ["customer"]
    inlines = [InvoiceLineInline, PaymentInline]
    actions = ["issue"]

    def get_readonly_fields(self, request, obj=None):
        return frozen(self.model)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        """A draft, by who may delete invoices (billing.roles); an issued one is credited, never deleted."""
        return (
            super().has_delete_permission(request, obj)
            and obj is not None
            and obj.status == models.InvoiceStatus.DRAFT
        )

    def delete_model(self, request, obj):
        invoice_delete_draft(invoice=obj)

    def delete_queryset(self, request, queryset):
        for invoice in queryset:
            invoice_delete_draft(invoice=invoice)

    @admin.display(description=_("gross"))
    def gross(self, obj):
        return invoice_totals(obj)["gross"]

    @admin.display(description=_("still open"))
    def balance(self, obj):
        return invoice_balance(obj) if obj.status == models.InvoiceStatus.ISSUED else "—"

    @admin.action(description=_("Issue the selected drafts"), permissions=["change"])
    def issue(self, request, queryset):
        self.apply_service(request, queryset, lambda invoice: invoice_issue(invoice=invoice, by=request.user))


RUN_PROGRESS = ["status", "customers_total", "customers_done", "invoices_created", "error", "finished_at"]


@admin.register(models.InvoiceRun)
class InvoiceRunAdmin(RecordedAdmin):
    """A run added here is started by invoice_run_start, as from the finance pages (its task is sent once
    the run is committed); a recorded run is read-only and never deleted."""

    list_display = ["created_at", "up_to", "status", "customers_done", "customers_total", "invoices_created"]
    fields = ["up_to", "account_manager", "customer", *RUN_PROGRESS]
    readonly_fields = RUN_PROGRESS

    def record(self, request, data):
        return invoice_run_start(
            up_to=data["up_to"],
            by=request.user,
            account_manager=data.get("account_manager"),
            customer=data.get("customer"),
        )


WORK_LOG_FIELDS = ["customer", "engineer", "role", "work_date", "days", "on_site", "ticket_ref",
                   "service_code", "description"]  # fmt: skip


# finance's review, made on the staff pages (invoices.services.work_log_approve, work_log_reject)
WORK_LOG_REVIEW = ["recorded_by", "review", "reviewed_by", "reviewed_at", "review_reason"]


@admin.register(models.WorkLog)
class WorkLogAdmin(RecordedAdmin, CheckedImportExportAdmin):
    """Work logs import from CSV/XLSX here: the preview lists every bad row and nothing is imported
    until the whole file is valid. One added here is recorded by work_log_record, as through the API;
    a recorded log is read-only (what it bills was priced when it was charged), and one not charged yet
    may be deleted and recorded again."""

    resource_classes = [WorkLogResource]
    import_formats = [WorkLogCSV, WorkLogXLSX]
    list_display = [
        "work_date",
        "customer",
        "engineer",
        "role",
        "days",
        "on_site",
        "ticket_ref",
        "processed_at",
    ]
    list_filter = ["role", "on_site", ("processed_at", admin.EmptyFieldListFilter), "review"]
    search_fields = ["customer__code", "engineer", "ticket_ref"]
    list_select_related = ["customer"]
    fields = [*WORK_LOG_FIELDS, "order_line", "bundle", "processed_at", "idempotency_key", *WORK_LOG_REVIEW]
    # what a log delivers is checked by invoices.services.work_log_target (the API and the import)
    readonly_fields = ["processed_at", "idempotency_key", "order_line", "bundle", *WORK_LOG_REVIEW]
    settled_field = "processed_at"

    def record(self, request, data):
        work_log, _new = work_log_record(
            **{name: data[name] for name in WORK_LOG_FIELDS},
            idempotency_key=f"admin:{uuid.uuid4()}",
            by=request.user,
        )
        return work_log


class TravelExpenseForm(forms.ModelForm):
    class Meta:
        model = models.TravelExpense
        fields = [
            "customer",
            "category",
            "spent_on",
            "amount",
            "quantity",
            "description",
            "ticket_ref",
            "receipt",
        ]

    def clean_receipt(self):
        receipt = self.cleaned_data["receipt"]
        if receipt and "receipt" in self.changed_data:
            as_form_error(receipt_check, receipt)
        return receipt

    def clean(self):
        data = super().clean()
        if not self.errors and self.instance.pk is None:  # a stored expense is read-only
            try:
                travel_expense_cap(
                    category=data["category"],
                    spent_on=data["spent_on"],
                    amount=data["amount"],
                    quantity=data["quantity"],
                )
            except BillingError as error:
                raise forms.ValidationError(str(error), code=error.code) from error
        return data


@admin.register(models.TravelExpense)
class TravelExpenseAdmin(RecordedAdmin):
    """An expense added here is recorded by travel_expense_record and approved by travel_expense_approve
    (the action), as on the pages; a recorded expense is read-only (delete one not approved yet and record
    it again), and the page shows the amount claimed beside what is billed (up to the policy's cap)."""

    form = TravelExpenseForm
    list_display = [
        "spent_on",
        "customer",
        "category",
        "quantity",
        "amount",
        "cap",
        "excess",
        "billed_amount",
        "description",
        "recorded_by",
        "approved_at",
    ]
    list_filter = ["category", ("approved_at", admin.EmptyFieldListFilter)]
    search_fields = ["customer__code", "description", "ticket_ref"]
    list_select_related = ["customer", "recorded_by"]
    autocomplete_fields = ["customer"]
    actions = ["approve"]
    settled_field = "approved_at"

    readonly_fields = [
        "cap",
        "excess",
        "recorded_by",
        "approved_by",
        "approved_at",
        "rejected_by",
        "rejected_at",
        "rejection_reason",
    ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        return [*super().get_readonly_fields(request, obj), "billed_amount"]

    @admin.display(description=_("billed"))
    def billed_amount(self, obj):
        return obj.billed_amount

    def record(self, request, data):
        return travel_expense_record(
            **{name: data[name] for name in TravelExpenseForm.Meta.fields}, by=request.user
        )

    @admin.action(
        description=_("Approve the selected expenses (re-invoiced at cost)"), permissions=["change"]
    )
    def approve(self, request, queryset):
        self.apply_service(
            request, queryset, lambda expense: travel_expense_approve(expense=expense, by=request.user)
        )


@admin.register(models.DataVolumeUsage)
class DataVolumeUsageAdmin(AuditHistoryAdmin):
    list_display = ["measured_on", "customer", "service_code", "quantity"]
    search_fields = ["customer__code"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]
