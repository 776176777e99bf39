from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from catalog.models import Channel, ServiceItem, Severity
from contracts.models import Customer


class EntitlementLookupForm(forms.Form):
    # a code typed, not a drop-down of every customer (thousands); the customers list finds a code
    customer = forms.ModelChoiceField(
        label=_("Customer"),
        queryset=Customer.objects.all(),
        to_field_name="code",
        widget=forms.TextInput(attrs={"placeholder": _("customer code"), "autocomplete": "off"}),
    )
    service = forms.ModelChoiceField(
        label=_("Service"), queryset=ServiceItem.objects.filter(active=True), to_field_name="code"
    )
    severity = forms.ChoiceField(label=_("Level"), choices=[("", "—"), *Severity.choices], required=False)
    channel = forms.ChoiceField(label=_("Channel"), choices=[("", "—"), *Channel.choices], required=False)
    at = forms.DateTimeField(
        label=_("At"), required=False, help_text=_("When the request came in (Asia/Shanghai); empty: now.")
    )
    opened_at = forms.DateTimeField(
        label=_("Ticket opened at"),
        required=False,
        help_text=_("When the ticket was opened (Asia/Shanghai), for its escalation level; empty: at."),
    )
    product = forms.CharField(label=_("Product or custom module"), max_length=60, required=False)
    to_version = forms.CharField(label=_("Upgrade to version"), max_length=20, required=False)
    on_site = forms.BooleanField(label=_("On site"), required=False)
    location = forms.CharField(label=_("Location (city)"), max_length=60, required=False)
    quantity = forms.DecimalField(
        label=_("Quantity"), min_value=0.01, initial=1, decimal_places=2, max_digits=10
    )


class CorrectionForm(forms.Form):
    """Gives back part or all of a use (contracts.services.consumption_correct). The key is drawn when
    the page is shown, so a form sent twice corrects once."""

    quantity = forms.DecimalField(
        label=_("Give back"), min_value=Decimal("0.001"), decimal_places=3, max_digits=9
    )
    reason = forms.CharField(label=_("Reason"), max_length=500)
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput)


class ChargeRequestDecisionForm(forms.Form):
    """An approver's decision on a charge request: a missing or unknown decision is refused, never read
    as a rejection."""

    decision = forms.ChoiceField(
        label=_("Decision"), choices=[("approve", _("Approve")), ("reject", _("Reject"))]
    )
    note = forms.CharField(label=_("Note"), max_length=2000, required=False)
