"""Form pieces every app's staff pages use."""

from django import forms
from django.utils.translation import gettext_lazy as _


class IsoDateInput(forms.DateInput):
    """The browser's date picker; it only takes ISO dates, whatever the language's date format."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class SecondFactorForm(forms.Form):
    code = forms.CharField(
        label=_("Verification code"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True, "size": 12}),
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)
