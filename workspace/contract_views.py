"""Staff pages of the contracts: the entitlement lookup, a charge request's decision (the list is in
workspace.contract_lists)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.views.decorators.http import require_GET, require_POST

from billing.errors import BillingError
from billing.staff import form_errors_message, run_service
from contracts.entitlements import decide
from contracts.models import ChargeRequest
from contracts.services import (
    charge_request_approve,
    charge_request_can_approve,
    charge_request_can_reject,
    charge_request_price,
    charge_request_reject,
)
from workspace.contract_forms import ChargeRequestDecisionForm, EntitlementLookupForm


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
                channel=data["channel"] or None,
                at=data["at"],
                opened_at=data["opened_at"],
            )
        except BillingError as failure:
            error = failure
    reasons = [reason.text(get_language()) for reason in decision.reasons] if decision else []
    context = {"form": form, "decision": decision, "reasons": reasons, "error": error}
    return render(request, "contracts/entitlement_lookup.html", context)


DECISIONS = {"approve": charge_request_approve, "reject": charge_request_reject}


@require_POST
@login_required
@permission_required("contracts.view_chargerequest", raise_exception=True)
def charge_request_decide(request, pk: int):
    charge = get_object_or_404(ChargeRequest, pk=pk)
    form = ChargeRequestDecisionForm(request.POST)
    if not form.is_valid():
        form_errors_message(request, form)
        return _back_to_the_list(request)
    action = DECISIONS[form.cleaned_data["decision"]]
    done, charge = run_service(
        request, lambda: action(request=charge, by=request.user, note=form.cleaned_data["note"])
    )
    if done:
        messages.success(request, f"#{charge.pk}: {charge.get_status_display()}")
    return _back_to_the_list(request)


def _back_to_the_list(request):
    """Back to the list as it was (its tab, filters and page), or to its first page."""
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        return redirect(back)
    return redirect("contracts:charge-requests")


@require_GET
@login_required
@permission_required("contracts.view_chargerequest", raise_exception=True)
def charge_request_page(request, pk: int):
    """One charge request: what it is for, its price, its history, and the decision buttons the services
    would accept from the user."""
    charge = get_object_or_404(
        ChargeRequest.objects.select_related("customer", "approved_by", "finance_approved_by"), pk=pk
    )
    try:
        price = charge_request_price(charge)
    except BillingError:
        price = None
    context = {
        "charge": charge,
        "price": price,
        "events": charge.events.all(),
        "can_approve": charge_request_can_approve(charge, request.user),
        "can_reject": charge_request_can_reject(charge, request.user),
    }
    return render(request, "contracts/charge_request.html", context)
