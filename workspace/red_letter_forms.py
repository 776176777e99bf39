"""Forms of the red-letter steps on a credit note's page (workspace.red_letter_views)."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.forms import IsoDateInput
from invoices.models import FAPIAO_NUMBER_DIGITS, RedLetterReason, RedLetterStatus
from invoices.red_letter import FORM_NUMBER_MAX, PLATFORM_STATUSES


class RedLetterReasonForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=RedLetterReason.choices)


def _status_choices():
    ours = [
        (status, RedLetterStatus(status).label)
        for status in (RedLetterStatus.WAITING, RedLetterStatus.CONFIRMED, RedLetterStatus.VOID)
    ]
    codes = [
        (
            code,
            _("%(code)s on the platform: %(status)s")
            % {"code": code, "status": RedLetterStatus(status).label},
        )
        for code, status in PLATFORM_STATUSES.items()
    ]
    return [(_("Status"), ours), (_("The platform's code"), codes)]


class RedLetterFormRecordForm(forms.Form):
    """The confirmation form's number and its status, ours or the platform's code (01 to 10)."""

    form_number = forms.CharField(label=_("Confirmation form number"), max_length=FORM_NUMBER_MAX)
    status = forms.ChoiceField(label=_("Status on the platform"), choices=_status_choices)


class RedFapiaoForm(forms.Form):
    number = forms.CharField(
        label=_("Red fapiao number"),
        min_length=FAPIAO_NUMBER_DIGITS,
        max_length=FAPIAO_NUMBER_DIGITS,
        help_text=_("20 digits, as the platform shows it."),
    )
    issued_on = forms.DateField(label=_("Issued on"), initial=timezone.localdate, widget=IsoDateInput)
