import datetime

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.admin import AuditHistoryAdmin, ImportExportAdmin
from billing.errors import BillingError
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
        "active",
    ]
    list_filter = ["kind", "group", "pricing_basis", "active"]
    search_fields = ["code", "name_zh", "name_en"]
    list_select_related = ["group"]


class WorkingWindowInline(admin.TabularInline):
    model = models.WorkingWindow
    extra = 0


@admin.register(models.BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "name_en", "timezone", "observes_public_holidays"]
    inlines = [WorkingWindowInline]


@admin.register(models.HolidayScheduleDay)
class HolidayScheduleDayAdmin(ImportExportAdmin):
    resource_classes = [HolidayScheduleDayResource]
    list_display = ["date", "kind", "name_zh", "name_en"]
    list_filter = ["kind", ("date", admin.DateFieldListFilter)]
    date_hierarchy = "date"
    search_fields = ["name_zh", "name_en"]


class ResponseTargetInline(admin.TabularInline):
    model = models.ResponseTarget
    extra = 0


class ArrivalCommitmentInline(admin.TabularInline):
    model = models.ArrivalCommitment
    extra = 0


@admin.register(models.ServiceTier)
class ServiceTierAdmin(admin.ModelAdmin):
    list_display = ["code", "name_zh", "name_en", "calendar"]
    inlines = [ResponseTargetInline, ArrivalCommitmentInline]


class PersonDayRateInline(admin.TabularInline):
    model = models.PersonDayRate
    extra = 0


class UnitPriceInline(admin.TabularInline):
    model = models.UnitPrice
    extra = 0
    autocomplete_fields = ["service"]


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
    inlines = [PersonDayRateInline, UnitPriceInline, DataVolumePriceInline, TravelPolicyInline]
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
class PersonDayRateAdmin(AuditHistoryAdmin, ImportExportAdmin):
    resource_classes = [PersonDayRateResource]
    list_display = ["rate_card", "role", "delivery_mode", "price", "tax_inclusive"]
    list_filter = ["rate_card", "role", "delivery_mode"]
    list_select_related = ["rate_card"]


@admin.register(models.UnitPrice)
class UnitPriceAdmin(AuditHistoryAdmin, ImportExportAdmin):
    resource_classes = [UnitPriceResource]
    list_display = ["rate_card", "service", "basis", "price", "tax_inclusive"]
    list_filter = ["rate_card", "basis"]
    list_select_related = ["rate_card", "service"]


class DataVolumeTierInline(admin.TabularInline):
    model = models.DataVolumeTier
    extra = 0


@admin.register(models.DataVolumePrice)
class DataVolumePriceAdmin(AuditHistoryAdmin):
    list_display = ["rate_card", "service", "model", "unit", "package_size", "tax_inclusive"]
    list_select_related = ["rate_card", "service"]
    inlines = [DataVolumeTierInline]
