"""Form pieces every app's staff pages use."""

from django import forms


class IsoDateInput(forms.DateInput):
    """The browser's date picker; it only takes ISO dates, whatever the language's date format."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")
