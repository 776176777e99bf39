"""What every staff page does around a service call: a BillingError or an invalid form becomes an error
message on the page the user comes back to (STYLE.md: the one domain error is a form error in pages)."""

from django.contrib import messages

from billing.errors import BillingError


def run_service(request, action) -> tuple[bool, object]:
    """Runs ``action()``; returns (True, its result), or (False, None) after an error message."""
    try:
        return True, action()
    except BillingError as error:
        messages.error(request, str(error))
        return False, None


def form_errors_message(request, form) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))
