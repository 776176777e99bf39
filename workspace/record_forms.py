"""Forms of finance's recording pages: a travel expense with its receipt, data-volume usage, a work log,
a work-log file. Each feeds one service of invoices."""

import uuid

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.forms import IsoDateInput
from catalog.models import PricingBasis, Role, ServiceItem
from contracts.models import Customer
from invoices.models import RECEIPT_MAX_BYTES, RECEIPT_TYPES, ExpenseCategory

DATE = {"widget": IsoDateInput, "initial": timezone.localdate}


class CustomerCodeField(forms.CharField):
    """A customer by its code (a text box: a vendor has thousands of customers)."""

    def __init__(self, **kwargs):
        super().__init__(label=_("Customer code"), max_length=50, **kwargs)

    def clean(self, value):
        code = super().clean(value).strip()
        customer = Customer.objects.filter(code__iexact=code).first()
        if customer is None:
            raise forms.ValidationError(_("There is no customer %(code)s."), params={"code": code})
        return customer


def _services(basis: str):
    return (
        ServiceItem.objects.filter(active=True, pricing_basis=basis)
        .select_related("group")
        .order_by("group__position", "position")
    )


class TravelExpenseForm(forms.Form):
    customer = CustomerCodeField()
    category = forms.ChoiceField(label=_("Category"), choices=ExpenseCategory.choices)
    spent_on = forms.DateField(label=_("Date"), **DATE)
    amount = forms.DecimalField(label=_("Amount"), min_value=0.01, decimal_places=2, max_digits=12)
    currency = forms.ChoiceField(
        label=_("Currency"), choices=[(code, code) for code in settings.CURRENCIES], initial="CNY"
    )
    quantity = forms.IntegerField(
        label=_("Nights or days"),
        min_value=1,
        initial=1,
        help_text=_("Nights of lodging or days of allowance the amount covers."),
    )
    description = forms.CharField(label=_("Description"), max_length=200)
    ticket_ref = forms.CharField(label=_("Ticket or order"), max_length=100, required=False)
    receipt = forms.FileField(
        label=_("Receipt"),
        help_text=_("A PDF, JPEG or PNG file of at most %(mb)s MB.") % {"mb": RECEIPT_MAX_BYTES // 2**20},
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(RECEIPT_TYPES)}),
    )


class DataVolumeUsageForm(forms.Form):
    customer = CustomerCodeField()
    service = forms.ModelChoiceField(
        label=_("Service"), queryset=_services(PricingBasis.PER_DATA_VOLUME), to_field_name="code"
    )
    quantity = forms.DecimalField(label=_("Quantity"), min_value=0.01, decimal_places=2, max_digits=12)
    measured_on = forms.DateField(label=_("Date"), **DATE)
    description = forms.CharField(label=_("Description"), max_length=200, required=False)


class WorkLogForm(forms.Form):
    """One work log. ``key`` is made when the form is shown, so that sending it twice records one log."""

    customer = CustomerCodeField()
    engineer = forms.CharField(label=_("Engineer"), max_length=100)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.ENGINEER)
    work_date = forms.DateField(label=_("Date"), **DATE)
    days = forms.DecimalField(
        label=_("Person-days"), min_value=0.001, decimal_places=3, max_digits=6, required=False
    )
    hours = forms.DecimalField(
        label=_("or hours"),
        min_value=0.01,
        decimal_places=2,
        max_digits=6,
        required=False,
        help_text=_("8 hours make a person-day."),
    )
    on_site = forms.BooleanField(label=_("On site"), required=False)
    ticket_ref = forms.CharField(label=_("Ticket or order"), max_length=100)
    service = forms.ModelChoiceField(
        label=_("Service"),
        queryset=_services(PricingBasis.PER_PERSON_DAY),
        to_field_name="code",
        initial="custom-development",
    )
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    key = forms.CharField(widget=forms.HiddenInput, max_length=100, initial=lambda: f"staff:{uuid.uuid4()}")

    def clean(self):
        data = super().clean()
        if (data.get("days") is None) == (data.get("hours") is None) and not self.errors:
            raise forms.ValidationError(_("Give the work in days or in hours."))
        return data


class WorkLogFileForm(forms.Form):
    file = forms.FileField(
        label=_("CSV or XLSX file"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
        help_text=_(
            "Columns customer, engineer, date, ticket and days or hours; optional role, on_site, service, "
            "description, order, order_line, bundle, key."
        ),
    )
