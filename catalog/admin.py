import datetime

from django import forms
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from billing.admin import AuditHistoryAdmin
from billing.errors import BillingError
from billing.imports import CheckedImportExportAdmin, SignedConfirmImportForm
from catalog import models
from catalog.resources import HolidayScheduleDayResource, PersonDayRateResource, UnitPriceResource
from catalog.services import rate_card_new_version


class ProductVersionInline(admin.TabularInline):
    model = models.ProductVersion
    extra = 0


@admin.register(models.Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "name_en", "active"]
    inlines = [ProductVersionInline]


class VatRateInline(admin.TabularInline):
    model = models.VatRate
    extra = 0
    fields = ["taxpayer_kind", "rate", "valid_from"]


@admin.register(models.VatRate)
class VatRateAdmin(admin.ModelAdmin):
    """The rates per tax category and kind of taxpayer: the vendor's (settings.VENDOR_TAXPAYER_KIND) apply."""

    list_display = ["category", "taxpayer_kind", "rate", "valid_from"]
    list_filter = ["taxpayer_kind", "category"]
    list_select_related = ["category"]


@admin.register(models.TaxCode)
class TaxCodeAdmin(admin.ModelAdmin):
    """The tax bureau's classification codes (商品和服务税收编码) the catalogue knows: a service may carry
    a leaf code only; a parent is kept here so that it is refused."""

    list_display = ["code", "name", "leaf"]
    list_filter = ["leaf"]
    search_fields = ["code", "name"]


@admin.register(models.TaxCategory)
class TaxCategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "name_en"]
    inlines = [VatRateInline]


@admin.register(models.ServiceGroup)
class ServiceGroupAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "name_en", "position"]


@admin.register(models.ServiceItem)
class ServiceItemAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name_zh",
        "name_en",
        "kind",
        "group",
        "pricing_basis",
        "alternative_basis",
        "tax_code",
        "fapiao_name",
        "active",
    ]
    list_filter = ["kind", "group", "pricing_basis", "active"]
    search_fields = ["code", "name_zh", "name_en", "tax_code", "fapiao_name"]
    list_select_related = ["group"]


class WorkingWindowInline(admin.TabularInline):
    model = models.WorkingWindow
    extra = 0


@admin.register(models.BusinessCalendar)
class BusinessCalendarAdmin(AuditHistoryAdmin):
    """Response clocks and the channels' opening hours: its working windows are both."""

    list_display = ["code", "name_zh", "name_en", "timezone", "observes_public_holidays"]
    inlines = [WorkingWindowInline]


@admin.register(models.ChannelHours)
class ChannelHoursAdmin(AuditHistoryAdmin):
    """Which calendar's working windows are a channel's opening hours (edit the hours on the calendar)."""

    list_display = ["channel", "calendar"]
    list_select_related = ["calendar"]


@admin.register(models.EmergencyCoverWindow)
class EmergencyCoverWindowAdmin(AuditHistoryAdmin):
    list_display = ["date", "start", "end", "name_zh", "name_en"]
    date_hierarchy = "date"


class ScheduleConfirmImportForm(SignedConfirmImportForm):
    confirm_changes = forms.BooleanField(
        label=_("Change the existing days listed above"),
        required=False,
        help_text=_("Without it, a file that changes a day already in the schedule imports nothing."),
    )


@admin.register(models.HolidayScheduleDay)
class HolidayScheduleDayAdmin(CheckedImportExportAdmin):
    """A schedule whose file changes days already recorded (a holiday made a working day) lists each change
    in the preview and imports only when the confirmation ticks “change the existing days”."""

    resource_classes = [HolidayScheduleDayResource]
    confirm_form_class = ScheduleConfirmImportForm
    list_display = ["date", "kind", "name_zh", "name_en"]
    list_filter = ["kind", ("date", admin.DateFieldListFilter)]
    date_hierarchy = "date"
    search_fields = ["name_zh", "name_en"]

    def get_import_resource_kwargs(self, request, **kwargs):
        form = kwargs.get("form")
        confirmed = isinstance(form, ScheduleConfirmImportForm) and form.cleaned_data.get("confirm_changes")
        return {**super().get_import_resource_kwargs(request, **kwargs), "changes_confirmed": bool(confirmed)}

    def import_action(self, request, **kwargs):
        response = super().import_action(request, **kwargs)
        context = getattr(response, "context_data", None) or {}
        changed = getattr(context.get("result"), "changed_days", [])
        confirm_form = context.get("confirm_form")
        if confirm_form is not None and not changed:
            del confirm_form.fields["confirm_changes"]
        for change in changed:
            messages.warning(
                request,
                gettext("Changes an existing day: %(date)s from %(before)s to %(after)s.") % change,
            )
        return response


class ResponseTargetInline(admin.TabularInline):
    model = models.ResponseTarget
    extra = 0


class ArrivalCommitmentInline(admin.TabularInline):
    model = models.ArrivalCommitment
    extra = 0


@admin.register(models.ServiceTier)
class ServiceTierAdmin(AuditHistoryAdmin):
    list_display = ["code", "name_zh", "name_en", "calendar", "fee_overdue_policy"]
    inlines = [ResponseTargetInline, ArrivalCommitmentInline]


class PersonDayRateInline(admin.TabularInline):
    model = models.PersonDayRate
    extra = 0


class UnitPriceInline(admin.TabularInline):
    model = models.UnitPrice
    extra = 0
    autocomplete_fields = ["service"]


class UpgradePriceInline(admin.TabularInline):
    model = models.UpgradePrice
    extra = 0


class DataVolumePriceInline(admin.TabularInline):
    model = models.DataVolumePrice
    extra = 0
    show_change_link = True
    autocomplete_fields = ["service"]


class TravelPolicyInline(admin.StackedInline):
    model = models.TravelPolicy
    extra = 0


@admin.register(models.RateCard)
class RateCardAdmin(AuditHistoryAdmin):
    list_display = ["code", "version", "effective_from", "currency", "note"]
    list_filter = ["code"]
    inlines = [
        PersonDayRateInline,
        UnitPriceInline,
        UpgradePriceInline,
        DataVolumePriceInline,
        TravelPolicyInline,
    ]
    actions = ["new_version"]

    @admin.action(description=_("Copy as a new version from tomorrow"), permissions=["add"])
    def new_version(self, request, queryset):
        for card in queryset:
            try:
                copy = rate_card_new_version(
                    rate_card=card, effective_from=timezone.localdate() + datetime.timedelta(days=1)
                )
            except BillingError as error:
                self.message_user(request, str(error), level="error")
            else:
                self.message_user(request, _("Created %(card)s.") % {"card": copy})


@admin.register(models.PersonDayRate)
class PersonDayRateAdmin(AuditHistoryAdmin, CheckedImportExportAdmin):
    resource_classes = [PersonDayRateResource]
    list_display = ["rate_card", "role", "delivery_mode", "price", "tax_inclusive"]
    list_filter = ["rate_card", "role", "delivery_mode"]
    list_select_related = ["rate_card"]


@admin.register(models.UnitPrice)
class UnitPriceAdmin(AuditHistoryAdmin, CheckedImportExportAdmin):
    resource_classes = [UnitPriceResource]
    list_display = ["rate_card", "service", "basis", "price", "tax_inclusive"]
    list_filter = ["rate_card", "basis"]
    list_select_related = ["rate_card", "service"]


@admin.register(models.UpgradePrice)
class UpgradePriceAdmin(AuditHistoryAdmin):
    """Upgrade contract prices per product and target major; the seeded ones are examples to confirm."""

    list_display = ["rate_card", "product", "major", "price", "tax_inclusive", "tax_category"]
    list_filter = ["rate_card", "product"]
    list_select_related = ["rate_card", "product", "tax_category"]


class DataVolumeTierInline(admin.TabularInline):
    model = models.DataVolumeTier
    extra = 0


@admin.register(models.DataVolumePrice)
class DataVolumePriceAdmin(AuditHistoryAdmin):
    list_display = ["rate_card", "service", "model", "unit", "package_size", "tax_inclusive"]
    list_select_related = ["rate_card", "service"]
    inlines = [DataVolumeTierInline]


@admin.register(models.EscalationLevel)
class EscalationLevelAdmin(AuditHistoryAdmin):
    """The three-level response's times; "vendor to confirm" marks the seeded ones the terms give no
    figure for."""

    list_display = ["tier", "severity", "level", "name_zh", "name_en", "after_hours", "vendor_to_confirm"]
    list_filter = ["vendor_to_confirm", "tier", "severity", "level"]
    list_select_related = ["tier"]


@admin.register(models.TierBenefit)
class TierBenefitAdmin(AuditHistoryAdmin):
    list_display = ["tier", "code", "name_zh", "name_en", "position", "vendor_to_confirm"]
    list_filter = ["vendor_to_confirm", "tier"]
    list_select_related = ["tier"]
