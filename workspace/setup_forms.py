"""Forms of the customer set-up pages: each feeds one service of contracts.setup. The model forms run their
model's validation (the USCC check, the version format) before the service runs it again on save."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from billing.forms import IsoDateInput
from catalog.models import Product, ServiceTier
from catalog.versions import validate_version
from contracts.models import Contact, ContractKind, Customer
from contracts.ownership import ASSIGN_ACCOUNT_MANAGER
from contracts.setup import CONTACT_FIELDS, CUSTOMER_FIELDS


class CustomerForm(forms.ModelForm):
    """A customer's particulars; its account manager only for who assigns them (as in the admin)."""

    class Meta:
        model = Customer
        fields = [*CUSTOMER_FIELDS, "account_manager"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            del self.fields["code"]  # links and files name the customer by it
        if user.has_perm(ASSIGN_ACCOUNT_MANAGER):
            self.fields["account_manager"].queryset = get_user_model().objects.filter(
                is_staff=True, is_active=True
            )
        else:
            del self.fields["account_manager"]


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = list(CONTACT_FIELDS)


class ContractForm(forms.Form):
    number = forms.CharField(label=_("Contract number"), max_length=60)
    kind = forms.ChoiceField(label=_("Kind"), choices=ContractKind.choices, initial=ContractKind.PURCHASE)
    signed_on = forms.DateField(label=_("Signed on"), widget=IsoDateInput)
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False)


def _products():
    return Product.objects.filter(active=True).order_by("code")


class LicenceForm(forms.Form):
    """One licensed product at the version the customer runs."""

    product = forms.ModelChoiceField(label=_("Product"), queryset=_products(), to_field_name="code")
    version = forms.CharField(
        label=_("Version"), max_length=20, validators=[validate_version], help_text=_("e.g. 8.5.2")
    )


class CustomModuleForm(forms.Form):
    code = forms.SlugField(label=_("Module code"), max_length=60)
    name = forms.CharField(label=_("Module name"), max_length=200)
    product = forms.ModelChoiceField(
        label=_("Product"), queryset=_products(), to_field_name="code", required=False
    )


LicenceFormSet = forms.formset_factory(LicenceForm, extra=2, min_num=1, validate_min=True)
CustomModuleFormSet = forms.formset_factory(CustomModuleForm, extra=2)


class FreePeriodForm(forms.Form):
    start = forms.DateField(label=_("Free period from"), widget=IsoDateInput)
    end = forms.DateField(label=_("Free period until"), widget=IsoDateInput)
    tier = forms.ModelChoiceField(
        label=_("Tier"), queryset=ServiceTier.objects.order_by("position"), to_field_name="code"
    )
    trainings_per_year = forms.IntegerField(
        label=_("Free trainings per contract year"), min_value=0, max_value=12, initial=2
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        standard = ServiceTier.objects.filter(code=ServiceTier.STANDARD).first()
        if standard is not None:
            self.fields["tier"].initial = standard.code

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            self.add_error("end", _("A period ends on or after its start."))
        return cleaned


class ImportForm(forms.Form):
    """A file of customers, contacts or contracts (contracts.imports)."""

    kind = forms.ChoiceField(label=_("What the file holds"))
    file = forms.FileField(label=_("CSV or XLSX file"))

    def __init__(self, *args, kinds, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kinds
