"""Pages for customers, reached through signed links without a login."""

from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.http import require_http_methods

from billing.errors import BillingError
from contracts.entitlements import decide
from contracts.forms import EntitlementLookupForm
from contracts.services import (
    charge_request_answerable,
    charge_request_customer_answer,
    charge_request_from_token,
)


@require_http_methods(["GET", "POST"])
def charge_request_answer(request, token: str):
    """The customer confirms or declines an out-of-scope charge (or reopens a closed one)."""
    try:
        charge = charge_request_from_token(token)
    except BillingError as error:
        return render(request, "contracts/charge_request_answer.html", {"error": error}, status=404)
    error = None
    if request.method == "POST" and request.POST.get("answer") in ("accept", "decline"):
        try:
            charge = charge_request_customer_answer(
                request=charge,
                accept=request.POST["answer"] == "accept",
                name=request.POST.get("name", ""),
                ip=request.META.get("REMOTE_ADDR"),
            )
        except BillingError as failure:
            error = failure
    answerable = charge_request_answerable(charge, now=timezone.now())
    return render(
        request,
        "contracts/charge_request_answer.html",
        {"charge": charge, "error": error, "answerable": answerable},
        status=400 if error else 200,
    )


@login_required
@permission_required("contracts.view_customer", raise_exception=True)
def entitlement_lookup(request):
    """The same decision the API gives, for a support agent or an account manager."""
    form = EntitlementLookupForm(request.GET or None)
    decision = error = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            decision = decide(
                customer=data["customer"],
                service=data["service"],
                severity=data["severity"] or None,
                product=data["product"] or None,
                to_version=data["to_version"] or None,
                on_site=data["on_site"],
                location=data["location"] or None,
                quantity=data["quantity"],
            )
        except BillingError as failure:
            error = failure
    reasons = [reason.text(get_language()) for reason in decision.reasons] if decision else []
    context = {"form": form, "decision": decision, "reasons": reasons, "error": error}
    return render(request, "contracts/entitlement_lookup.html", context)
