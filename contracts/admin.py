from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from billing.admin import AuditHistoryAdmin, RecordedAdmin, ServiceAdmin, frozen
from contracts import models
from contracts.fapiao_details import (
    FAPIAO_FIELDS,
    FapiaoDetailsInvalid,
    fapiao_details_check,
    fapiao_details_save,
)
from contracts.ownership import ASSIGN_ACCOUNT_MANAGER, acts_for, ownership_check
from contracts.services import charge_request_approve, charge_request_reject, period_add


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
    """An account manager changes the customers he acts for (contracts.ownership) and reads the others;
    who manages a customer is set only by those who assign account managers (administrators)."""

    list_display = ["code", "legal_name", "city", "region", "account_manager"]
    list_filter = ["region", "arrival_area", "account_manager"]
    search_fields = ["code", "legal_name", "uscc"]
    inlines = [ContactInline, ContractInline]
    autocomplete_fields = ["account_manager"]

    def get_readonly_fields(self, request, obj=None):
        if request.user.has_perm(ASSIGN_ACCOUNT_MANAGER):
            return self.readonly_fields
        return [*self.readonly_fields, "account_manager"]

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (
            obj is None or acts_for(user=request.user, customer=obj)
        )


class LicensedProductInline(admin.TabularInline):
    model = models.LicensedProduct
    extra = 0


class CustomModuleInline(admin.TabularInline):
    model = models.CustomModule
    extra = 0


class ServicePeriodInline(admin.TabularInline):
    """Shown here; a period is added on its own page (through period_add) and never changed after."""

    model = models.ServicePeriod
    extra = 0
    can_delete = False
    show_change_link = True
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
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class PersonDayBundleInline(admin.TabularInline):
    model = models.PersonDayBundle
    extra = 0


class ContractAdminForm(forms.ModelForm):
    """A contract is added or changed only for a customer the user acts for (contracts.ownership), as on
    the set-up pages (contracts.setup)."""

    user = None  # set by ContractAdmin.get_form

    def clean_customer(self):
        customer = self.cleaned_data["customer"]
        if self.user is not None and not acts_for(user=self.user, customer=customer):
            raise forms.ValidationError(
                _("%(customer)s is managed by another account manager.") % {"customer": customer.code}
            )
        return customer


@admin.register(models.Contract)
class ContractAdmin(AuditHistoryAdmin):
    list_display = ["number", "customer", "kind", "signed_on"]
    list_filter = ["kind"]
    search_fields = ["number", "customer__code", "customer__legal_name"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer", "continues"]
    inlines = [LicensedProductInline, CustomModuleInline, ServicePeriodInline, PersonDayBundleInline]
    form = ContractAdminForm

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"user": request.user})

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (
            obj is None or acts_for(user=request.user, customer=obj.customer)
        )


PERIOD_TERMS = ["contract", "kind", "start", "end", "tier", "calendar", "fee", "trainings_per_year",
                "retroactive"]  # fmt: skip


@admin.register(models.ServicePeriod)
class ServicePeriodAdmin(RecordedAdmin):
    """A period is added through period_add (no overlap within a contract, no fee for a free period) and
    never changed after: its dates and fee are what was charged, renewed or let lapse."""

    list_display = ["contract", "kind", "start", "end", "tier", "fee", "lapsed_at"]
    list_filter = ["kind", "tier", "lapsed_at"]
    search_fields = ["contract__number", "contract__customer__code"]
    list_select_related = ["contract", "tier"]
    date_hierarchy = "end"
    fields = [*PERIOD_TERMS, "lapsed_at"]
    readonly_fields = ["lapsed_at"]

    def record(self, request, data):
        ownership_check(user=request.user, customer=data["contract"].customer)
        return period_add(**{name: data[name] for name in PERIOD_TERMS}, by=request.user)


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
class ChargeRequestAdmin(ServiceAdmin):
    """Charge requests are read here and move only through charge_request_approve and _reject (the
    actions): their scope and estimate are what the approvers and the customer see, never edited."""

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
    exclude = ["requested_by_user"]
    inlines = [ChargeRequestEventInline]
    actions = ["approve", "reject"]

    def has_add_permission(self, request):
        return False  # requests come from tickets, through the API, with their requester

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [name for name in frozen(self.model) if name != "requested_by_user"]

    def has_approve_permission(self, request):
        """Approvers only: the account managers' and finance's approval permissions."""
        return request.user.has_perm("contracts.approve_chargerequest") or request.user.has_perm(
            "contracts.finance_approve_chargerequest"
        )

    @admin.action(description=_("Approve the selected charge requests"), permissions=["approve"])
    def approve(self, request, queryset):
        self._decide(request, queryset, charge_request_approve)

    @admin.action(description=_("Reject the selected charge requests"), permissions=["approve"])
    def reject(self, request, queryset):
        self._decide(request, queryset, charge_request_reject)

    def _decide(self, request, queryset, service):
        self.apply_service(request, queryset, lambda charge: service(request=charge, by=request.user))


class FapiaoDetailsForm(forms.ModelForm):
    """The model's validation, then the rules of fapiao_details_save (a 专票 needs the customer's USCC),
    shown on the form's fields."""

    class Meta:
        model = models.FapiaoDetails
        fields = ["customer", *FAPIAO_FIELDS]

    def clean(self):
        cleaned = super().clean()
        customer = cleaned.get("customer") or getattr(self.instance, "customer", None)
        if customer is not None:
            details = models.FapiaoDetails(
                customer=customer, **{name: cleaned.get(name) or "" for name in FAPIAO_FIELDS}
            )
            try:
                fapiao_details_check(customer=customer, details=details)
            except FapiaoDetailsInvalid as error:
                for name, texts in error.errors.items():
                    if name in self.fields and name not in self.errors:
                        self.add_error(name, texts)
                    elif name not in self.fields:
                        self.add_error(None, texts)
        return cleaned


@admin.register(models.FapiaoDetails)
class FapiaoDetailsAdmin(ServiceAdmin):
    """Customers' fapiao details (kept by finance, also on the customer's staff page), saved through
    fapiao_details_save; the taxpayer number is the customer's USCC."""

    form = FapiaoDetailsForm
    list_display = ["customer", "title", "fapiao_type", "email", "updated_at"]
    list_filter = ["fapiao_type"]
    search_fields = ["customer__code", "customer__legal_name", "title"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]

    @admin.display(description=_("taxpayer number (the customer's USCC)"))
    def taxpayer_number(self, obj):
        return obj.customer.uscc if obj.pk else ""

    def get_readonly_fields(self, request, obj=None):
        return ["customer", "taxpayer_number"] if obj is not None else ["taxpayer_number"]

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data.get(name) for name in FAPIAO_FIELDS}
        saved = fapiao_details_save(customer=obj.customer, data=data, by=request.user)
        obj.pk = saved.pk
        obj.refresh_from_db()
