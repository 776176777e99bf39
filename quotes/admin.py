"""Quotes in the admin: build one from the catalogue, submit, approve a large discount, send, revise.

Every change goes through quotes.services, as on the staff pages: a quote is created by quote_create (the
contract of another customer refused), new lines are priced by quote_add_line from the quote's rate card
version, the discount by quote_set_discount, the approval by quote_approve_discount. The customer, the
contract, the date, the status and the prices of a stored quote are read-only. The customer answers
through the signed link shown on the quote.
"""

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from billing.admin import ServiceAdmin, as_form_error, frozen
from billing.errors import BillingError
from billing.mail import absolute_url
from catalog.models import PricingBasis
from contracts.ownership import acts_for
from contracts.services import contract_customer_check
from quotes import models
from quotes.services import (
    customer_link_token,
    quote_add_line,
    quote_add_travel,
    quote_approve_discount,
    quote_can_approve,
    quote_create,
    quote_fingerprint,
    quote_may_send,
    quote_revise,
    quote_send,
    quote_set_discount,
    quote_set_terms,
    quote_submit,
    quote_totals,
)

PAID_BASES = [(b.value, b.label) for b in PricingBasis if b != PricingBasis.INCLUDED]


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
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class NewLineForm(forms.ModelForm):
    basis = forms.ChoiceField(label=_("priced"), choices=[("", "—"), *PAID_BASES], required=False)
    travel_amount = forms.DecimalField(
        label=_("travel at cost"), required=False, min_value=0, decimal_places=2, max_digits=12
    )

    class Meta:
        model = models.QuoteLine
        fields = [
            "service",
            "basis",
            "quantity",
            "role",
            "delivery_mode",
            "discount",
            "description",
            "product",
            "target_major",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("quantity", "description", "role", "delivery_mode", "discount"):
            self.fields[name].required = False

    def clean(self):
        data = super().clean()
        if not data.get("service") and data.get("travel_amount") is None:
            raise forms.ValidationError(_("Pick a service, or give a travel amount."))
        if data.get("service") and not data.get("quantity"):
            self.add_error("quantity", _("How many?"))
        if data.get("travel_amount") is not None and not data.get("description"):
            self.add_error("description", _("Describe the travel."))
        return data


class NewLineInline(admin.TabularInline):
    """Lines to add, picked from the catalogue and priced on save."""

    model = models.QuoteLine
    form = NewLineForm
    extra = 1
    verbose_name = _("new line")
    verbose_name_plural = _("add lines")
    autocomplete_fields = ["service"]
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).none()

    def has_add_permission(self, request, obj=None):
        return obj is None or not obj.locked


class QuoteForm(forms.ModelForm):
    approval_reason = forms.CharField(
        label=_("reason for the approval"), required=False, widget=forms.Textarea
    )  # read by quote_approve_discount only, never saved as typed

    class Meta:
        model = models.Quote
        fields = ["customer", "contract", "quote_date", "valid_until", "discount", "notes", "terms"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("quote_date", "valid_until"):
            if name in self.fields:
                self.fields[name].required = False

    def clean(self):
        data = super().clean()
        if "customer" in self.fields and data.get("customer"):
            as_form_error(contract_customer_check, contract=data.get("contract"), customer=data["customer"])
        return data


# Set when the quote is created (quote_create) and never changed in place: a revision copies them.
SET_AT_CREATION = ["customer", "contract", "quote_date"]


@admin.register(models.Quote)
class QuoteAdmin(ServiceAdmin):
    form = QuoteForm
    change_form_template = "admin/quotes/quote/change_form.html"
    list_display = ["number", "revision", "kind", "customer", "quote_date", "valid_until", "status"]
    list_filter = ["status", "kind"]
    search_fields = ["number", "customer__code", "customer__legal_name"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]
    inlines = [QuoteLineInline, NewLineInline]
    actions = ["submit", "send", "revise"]
    readonly_fields = [
        "number",
        "revision",
        "kind",
        "status",
        "rate_card",
        "totals",
        "customer_link",
        "approved_by",
        "approved_at",
        "given_reason",
        "sent_at",
        "answered_at",
        "answer_name",
        "answer_ip",
        "closed_at",
        "pdf",
        "pdf_sha256",
    ]

    def has_delete_permission(self, request, obj=None):
        return False  # numbers are gapless: a quote is declined or closed, never deleted

    def has_change_permission(self, request, obj=None):
        """Read only for an account manager when another one manages the customer (contracts.ownership)."""
        return super().has_change_permission(request, obj) and (
            obj is None or acts_for(user=request.user, customer=obj.customer)
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            fields = self.readonly_fields
        elif obj.locked:
            fields = [*frozen(self.model), "totals", "customer_link", "given_reason"]
        else:
            fields = [*SET_AT_CREATION, *self.readonly_fields]
        # the customer's link accepts the quote in the customer's name: only for who may send it
        return fields if quote_may_send(request.user) else [f for f in fields if f != "customer_link"]

    def get_exclude(self, request, obj=None):
        return None if obj is not None else ["approval_reason"]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        quote = self.get_object(request, object_id)
        if quote is not None:
            extra_context = {
                **(extra_context or {}),
                "can_approve": quote_can_approve(quote, request.user),
                "seen": quote_fingerprint(quote),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description=_("totals"))
    def totals(self, obj):
        return quote_totals(obj)["gross"] if obj.pk else "—"

    @admin.display(description=_("reason for the approval"))
    def given_reason(self, obj):
        return obj.approval_reason or "—"

    @admin.display(description=_("customer's link"))
    def customer_link(self, obj):
        if not obj.pk or obj.status not in (models.QuoteStatus.SENT, models.QuoteStatus.CLOSED):
            return "—"
        url = absolute_url(reverse("quotes:answer", args=[customer_link_token(obj)]))
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, _("open"))

    def save_model(self, request, obj, form, change):
        """Through the services only; a refusal rolls the whole save back (ServiceAdmin)."""
        data = form.cleaned_data
        if not change:
            created = quote_create(
                customer=data["customer"],
                contract=data.get("contract"),
                quote_date=data.get("quote_date"),
                valid_until=data.get("valid_until"),
                discount=data.get("discount") or 0,
                notes=data.get("notes", ""),
                terms=data.get("terms", ""),
                created_by=request.user,
            )
            obj.__dict__.update({k: v for k, v in created.__dict__.items() if not k.startswith("_")})
            return
        if {"valid_until", "notes", "terms"} & set(form.changed_data):
            quote_set_terms(
                quote=obj,
                valid_until=data.get("valid_until") or obj.valid_until,
                notes=data.get("notes", ""),
                terms=data.get("terms", ""),
                by=request.user,
            )
        if "discount" in form.changed_data:
            quote_set_discount(quote=obj, discount=data["discount"], by=request.user)
        if "_approve_discount" in request.POST:
            try:
                quote_approve_discount(
                    quote=obj,
                    by=request.user,
                    reason=data.get("approval_reason", ""),
                    seen=request.POST.get("_seen") or None,
                )
            except BillingError as error:
                self.message_user(request, str(error), level=messages.ERROR)

    def save_formset(self, request, form, formset, change):
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []  # for the history
        if not issubclass(formset.form, NewLineForm):
            return None  # stored lines are read-only: they change through the services only
        quote = form.instance
        for line_form in formset.forms:
            data = getattr(line_form, "cleaned_data", None)
            if not data or not line_form.has_changed():
                continue
            try:
                if data.get("service"):
                    quote_add_line(
                        quote=quote,
                        service=data["service"],
                        quantity=data["quantity"],
                        basis=data.get("basis") or None,
                        role=data.get("role") or "engineer",
                        delivery_mode=data.get("delivery_mode") or "remote",
                        discount=data.get("discount") or 0,
                        description=data.get("description") or "",
                        product=data.get("product"),
                        target_major=data.get("target_major"),
                        by=request.user,
                    )
                else:
                    quote_add_travel(
                        quote=quote,
                        description=data["description"],
                        amount=data["travel_amount"],
                        by=request.user,
                    )
            except BillingError as error:
                self.message_user(request, str(error), level=messages.ERROR)
        return None

    @admin.action(description=_("Submit (a large discount goes to a sales manager)"), permissions=["change"])
    def submit(self, request, queryset):
        self.apply_service(request, queryset, lambda quote: quote_submit(quote=quote, by=request.user))

    @admin.action(description=_("Send to the customer"), permissions=["change"])
    def send(self, request, queryset):
        self.apply_service(request, queryset, lambda quote: quote_send(quote=quote, by=request.user))

    @admin.action(description=_("Make a new revision"), permissions=["change"])
    def revise(self, request, queryset):
        self.apply_service(request, queryset, lambda quote: quote_revise(quote=quote, by=request.user))


@admin.register(models.ServiceOrder)
class ServiceOrderAdmin(ServiceAdmin):
    """Orders come from accepted quotes (quote_customer_answer) and are shown here, never changed: closing
    goes through quotes.services.order_close (the staff order page and the API)."""

    list_display = ["__str__", "customer", "status", "created_at"]
    list_select_related = ["customer", "quote"]

    def get_readonly_fields(self, request, obj=None):
        return frozen(self.model)

    def has_add_permission(self, request):
        return False
