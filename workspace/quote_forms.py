"""Forms of the quote builder: each one feeds one service of quotes.services."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from billing.forms import IsoDateInput
from catalog.models import DeliveryMode, PricingBasis, Product, Role, ServiceItem
from contracts.models import Contract, Customer
from quotes.models import InvoicingPolicy

PAID_BASES = [(basis.value, basis.label) for basis in PricingBasis if basis != PricingBasis.INCLUDED]
PERCENT = {"min_value": 0, "max_value": 100, "decimal_places": 2, "max_digits": 5}


class PercentField(forms.DecimalField):
    """A discount typed in percent and kept as a fraction (20 -> 0.20), as the services take it."""

    def __init__(self, **kwargs):
        super().__init__(**{**PERCENT, "required": False, "initial": 0, **kwargs})

    def clean(self, value):
        percent = super().clean(value)
        return (percent or Decimal(0)) / 100


class QuoteNewForm(forms.Form):
    # codes typed, not drop-downs of every customer and contract (thousands at scale)
    customer = forms.ModelChoiceField(
        label=_("Customer"),
        queryset=Customer.objects.order_by("code"),
        to_field_name="code",
        widget=forms.TextInput(attrs={"placeholder": _("customer code"), "autocomplete": "off"}),
    )
    contract = forms.ModelChoiceField(
        label=_("Contract"),
        queryset=Contract.objects.select_related("customer"),
        to_field_name="number",
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("contract number (optional)"), "autocomplete": "off"}),
    )
    valid_until = forms.DateField(label=_("Valid until"), required=False, widget=IsoDateInput)
    discount = PercentField(label=_("Discount on the whole quote (%)"))
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    terms = forms.CharField(label=_("Terms"), widget=forms.Textarea(attrs={"rows": 2}), required=False)


class QuoteLineForm(forms.Form):
    service = forms.ModelChoiceField(
        label=_("Service"),
        queryset=ServiceItem.objects.filter(active=True)
        .exclude(pricing_basis=PricingBasis.INCLUDED)
        .select_related("group")
        .order_by("group__position", "position"),
        to_field_name="code",
    )
    basis = forms.ChoiceField(
        label=_("Priced"), choices=[("", _("as the catalogue says")), *PAID_BASES], required=False
    )
    quantity = forms.DecimalField(label=_("Quantity"), min_value=0.01, decimal_places=2, max_digits=9)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.ENGINEER)
    delivery_mode = forms.ChoiceField(
        label=_("Delivery"), choices=DeliveryMode.choices, initial=DeliveryMode.REMOTE
    )
    product = forms.ModelChoiceField(
        label=_("Product"),
        queryset=Product.objects.filter(active=True),
        to_field_name="code",
        required=False,
        help_text=_("For an upgrade contract: the product upgraded."),
    )
    target_major = forms.IntegerField(
        label=_("Target major version"),
        min_value=1,
        required=False,
        help_text=_("For an upgrade contract: the major version it upgrades to, e.g. 9."),
    )
    discount = PercentField(label=_("Line discount (%)"))
    invoicing_policy = forms.ChoiceField(
        label=_("Invoicing"),
        choices=[("", _("person-days as delivered, the rest when ordered")), *InvoicingPolicy.choices],
        required=False,
    )
    description = forms.CharField(label=_("Description"), max_length=300, required=False)


class QuoteTravelForm(forms.Form):
    description = forms.CharField(label=_("Travel and lodging"), max_length=300)
    amount = forms.DecimalField(label=_("Estimate at cost"), min_value=0.01, decimal_places=2, max_digits=12)


class QuoteDiscountForm(forms.Form):
    discount = PercentField(label=_("Discount on the whole quote (%)"))


class QuoteApprovalForm(forms.Form):
    reason = forms.CharField(label=_("Why the discount is approved"), max_length=500)
    seen = forms.CharField(widget=forms.HiddenInput, max_length=64)


class QuoteLineChangeForm(forms.Form):
    """What a line of the builder may change after it is added (quotes.services.quote_change_line)."""

    quantity = forms.DecimalField(label=_("Quantity"), min_value=0.01, decimal_places=2, max_digits=9)
    discount = PercentField(label=_("Line discount (%)"))
    description = forms.CharField(label=_("Description"), max_length=300)


class QuoteTravelChangeForm(forms.Form):
    description = forms.CharField(label=_("Travel and lodging"), max_length=300)
    amount = forms.DecimalField(label=_("Estimate at cost"), min_value=0.01, decimal_places=2, max_digits=12)
