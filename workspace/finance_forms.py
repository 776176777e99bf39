"""Forms of finance's pages."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.forms import IsoDateInput
from invoices.services import LineCredit

DATE = {"widget": IsoDateInput}


class PaymentForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount received"), min_value=0.01, decimal_places=2, max_digits=14)
    received_on = forms.DateField(label=_("Received on"), initial=timezone.localdate, **DATE)
    reference = forms.CharField(label=_("Bank reference"), max_length=100)


class CreditNoteForm(forms.Form):
    """A reason, and per line either the quantity or an agreed amount (VAT included) to credit; lines left
    empty are not credited. What may be credited is the service's to say."""

    reason = forms.CharField(label=_("Why the invoice is credited"), max_length=500)

    def __init__(self, *args, lines=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = list(lines)
        for line in self.lines:
            self.fields[f"line_{line.pk}"] = forms.DecimalField(
                label=line.description, required=False, min_value=0, decimal_places=3, max_digits=12
            )
            self.fields[f"amount_{line.pk}"] = forms.DecimalField(
                label=_("%(line)s: or an agreed amount (VAT included)") % {"line": line.description},
                required=False,
                min_value=0,
                decimal_places=2,
                max_digits=14,
                help_text=_("of %(gross)s") % {"gross": line.gross},
            )

    def clean(self):
        data = super().clean()
        wanted = {}
        for line in self.lines:
            quantity, amount = data.get(f"line_{line.pk}"), data.get(f"amount_{line.pk}")
            if quantity is not None or amount is not None:
                wanted[line.pk] = LineCredit(quantity=quantity, amount=amount)
        if not wanted and not self.errors:
            raise forms.ValidationError(_("Give the quantity or the amount to credit on at least one line."))
        data["lines"] = wanted
        return data


class ExportForm(forms.Form):
    start = forms.DateField(label=_("Issued from"), **DATE)
    end = forms.DateField(label=_("Issued to"), **DATE)
    what = forms.ChoiceField(
        label=_("File"), choices=[("invoices", _("Invoices and credit notes")), ("lines", _("Their lines"))]
    )
    format = forms.ChoiceField(label=_("Format"), choices=[("xlsx", "Excel (XLSX)"), ("csv", "CSV")])

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError(_("The first date comes after the last."))
        return data

    @staticmethod
    def this_month() -> dict:
        today = timezone.localdate()
        return {"start": today.replace(day=1), "end": today}
