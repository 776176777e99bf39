from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from billing.admin import AuditHistoryAdmin
from billing.errors import BillingError
from contracts import models
from contracts.models import ChargeStatus
from contracts.services import charge_request_approve, charge_request_reject


class ContactInline(admin.TabularInline):
    model = models.Contact
    extra = 0


class ContractInline(admin.TabularInline):
    model = models.Contract
    extra = 0
    show_change_link = True
    fields = ["number", "kind", "signed_on"]


@admin.register(models.Customer)
class CustomerAdmin(AuditHistoryAdmin):
    list_display = ["code", "legal_name", "city", "region", "account_manager"]
    list_filter = ["region", "arrival_area", "account_manager"]
    search_fields = ["code", "legal_name", "uscc"]
    inlines = [ContactInline, ContractInline]
    autocomplete_fields = ["account_manager"]


class LicensedProductInline(admin.TabularInline):
    model = models.LicensedProduct
    extra = 0


class CustomModuleInline(admin.TabularInline):
    model = models.CustomModule
    extra = 0


class ServicePeriodInline(admin.TabularInline):
    model = models.ServicePeriod
    extra = 0
    fields = [
        "kind",
        "start",
        "end",
        "tier",
        "calendar",
        "fee",
        "trainings_per_year",
        "retroactive",
        "lapsed_at",
    ]
    readonly_fields = ["lapsed_at"]


class PersonDayBundleInline(admin.TabularInline):
    model = models.PersonDayBundle
    extra = 0


@admin.register(models.Contract)
class ContractAdmin(AuditHistoryAdmin):
    list_display = ["number", "customer", "kind", "signed_on"]
    list_filter = ["kind"]
    search_fields = ["number", "customer__code", "customer__legal_name"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]
    inlines = [LicensedProductInline, CustomModuleInline, ServicePeriodInline, PersonDayBundleInline]


@admin.register(models.ServicePeriod)
class ServicePeriodAdmin(AuditHistoryAdmin):
    list_display = ["contract", "kind", "start", "end", "tier", "fee", "lapsed_at"]
    list_filter = ["kind", "tier", "lapsed_at"]
    search_fields = ["contract__number", "contract__customer__code"]
    list_select_related = ["contract", "tier"]
    date_hierarchy = "end"


@admin.register(models.ConsumptionEntry)
class ConsumptionEntryAdmin(AuditHistoryAdmin):
    """The ledger is append-only: entries are shown, never changed here (a use is given back by a
    correction, on the customer page or through the API)."""

    list_display = [
        "created_at", "customer", "kind", "service_code", "quantity", "used_on", "ticket_ref", "corrects",
        "reason",
    ]  # fmt: skip
    list_filter = ["kind"]
    search_fields = ["customer__code", "ticket_ref", "idempotency_key"]
    list_select_related = ["customer", "corrects"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


class ChargeRequestEventInline(admin.TabularInline):
    model = models.ChargeRequestEvent
    extra = 0
    readonly_fields = ["status", "actor", "note", "at"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(models.ChargeRequest)
class ChargeRequestAdmin(AuditHistoryAdmin):
    list_display = [
        "id",
        "customer",
        "ticket_ref",
        "status",
        "estimated_person_days",
        "estimated_amount",
        "created_at",
    ]
    list_filter = ["status"]
    search_fields = ["customer__code", "ticket_ref", "description"]
    list_select_related = ["customer"]
    readonly_fields = [
        "status",
        "requested_by",
        "approved_by",
        "finance_approved_by",
        "sent_to_customer_at",
        "customer_answer_name",
        "customer_answer_ip",
        "customer_answered_at",
        "closed_at",
    ]
    exclude = ["requested_by_user"]
    inlines = [ChargeRequestEventInline]
    actions = ["approve", "reject"]

    def has_add_permission(self, request):
        return False  # requests come from tickets, through the API, with their requester

    def get_readonly_fields(self, request, obj=None):
        """Nothing that was approved can change: the customer confirms what the approvers saw."""
        if obj is not None and obj.status != ChargeStatus.PENDING_APPROVAL:
            return [f.name for f in self.model._meta.fields]
        return self.readonly_fields

    @admin.action(description=_("Approve the selected charge requests"))
    def approve(self, request, queryset):
        self._apply(request, queryset, charge_request_approve)

    @admin.action(description=_("Reject the selected charge requests"))
    def reject(self, request, queryset):
        self._apply(request, queryset, charge_request_reject)

    def _apply(self, request, queryset, service):
        for charge in queryset:
            try:
                charge = service(request=charge, by=request.user)
            except BillingError as error:
                self.message_user(request, f"#{charge.pk}: {error}", level=messages.ERROR)
            else:
                self.message_user(request, f"#{charge.pk}: {charge.get_status_display()}")
