from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from billing.errors import BillingError
from quotes import models
from quotes.services import quote_revise, quote_send, quote_submit


class QuoteLineInline(admin.TabularInline):
    model = models.QuoteLine
    extra = 0
    fields = [
        "position",
        "kind",
        "description",
        "quantity",
        "unit",
        "unit_price",
        "discount",
        "vat_rate",
        "net",
        "vat",
        "gross",
    ]
    readonly_fields = fields  # lines are added and priced through the quote builder (catalog pricing)
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(models.Quote)
class QuoteAdmin(admin.ModelAdmin):
    list_display = ["number", "revision", "kind", "customer", "quote_date", "valid_until", "status"]
    list_filter = ["status", "kind"]
    search_fields = ["number", "customer__code", "customer__legal_name"]
    list_select_related = ["customer"]
    inlines = [QuoteLineInline]
    actions = ["submit", "send", "revise"]
    readonly_fields = [
        "number",
        "revision",
        "status",
        "rate_card",
        "approved_by",
        "approved_at",
        "approval_reason",
        "sent_at",
        "answered_at",
        "answer_name",
        "answer_ip",
        "closed_at",
        "pdf",
        "pdf_sha256",
    ]

    def has_add_permission(self, request):
        return False  # quotes are numbered and priced by quotes.services

    def has_delete_permission(self, request, obj=None):
        return False  # numbers are gapless: a quote is declined or closed, never deleted

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.locked:
            return [f.name for f in self.model._meta.fields]
        return self.readonly_fields

    @admin.action(description=_("Submit (a large discount goes to a sales manager)"))
    def submit(self, request, queryset):
        self._apply(request, queryset, lambda q: quote_submit(quote=q))

    @admin.action(description=_("Send to the customer"))
    def send(self, request, queryset):
        self._apply(request, queryset, lambda q: quote_send(quote=q))

    @admin.action(description=_("Make a new revision"))
    def revise(self, request, queryset):
        self._apply(request, queryset, lambda q: quote_revise(quote=q, by=request.user))

    def _apply(self, request, queryset, action):
        for quote in queryset:
            try:
                result = action(quote)
            except BillingError as error:
                self.message_user(request, f"{quote.reference}: {error}", level=messages.ERROR)
            else:
                self.message_user(request, f"{result.reference}: {result.get_status_display()}")


@admin.register(models.ServiceOrder)
class ServiceOrderAdmin(admin.ModelAdmin):
    list_display = ["__str__", "customer", "created_at"]
    list_select_related = ["customer", "quote"]

    def has_add_permission(self, request):
        return False
