"""Staff pages of the contracts: the entitlement lookup, charge requests to decide."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.views.decorators.http import require_GET, require_POST

from billing.errors import BillingError
from billing.staff import form_errors_message, run_service
from contracts.entitlements import decide
from contracts.models import ChargeRequest, ChargeStatus, Customer
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


@login_required
@permission_required("contracts.view_chargerequest", raise_exception=True)
def charge_requests(request):
    """Charge requests waiting for the user's approval (those charge_request_approve would accept from
    them: an account manager's own customers, finance's large ones), with the rest below."""
    waiting = ChargeRequest.objects.filter(
        status__in=[ChargeStatus.PENDING_APPROVAL, ChargeStatus.PENDING_FINANCE]
    ).select_related("customer")
    user = request.user
    mine = [charge for charge in waiting if charge_request_can_approve(charge, user)]
    others = ChargeRequest.objects.exclude(pk__in=[c.pk for c in mine]).select_related("customer")[:50]
    customers = Customer.objects.filter(account_manager=user).select_related("account_manager")
    own_customers = customers.exists()
    if not own_customers:
        customers = Customer.objects.select_related("account_manager")
    context = {"mine": mine, "others": others, "customers": customers[:100], "own_customers": own_customers}
    return render(request, "contracts/charge_requests.html", context)


DECISIONS = {"approve": charge_request_approve, "reject": charge_request_reject}


@require_POST
@login_required
@permission_required("contracts.view_chargerequest", raise_exception=True)
def charge_request_decide(request, pk: int):
    charge = get_object_or_404(ChargeRequest, pk=pk)
    form = ChargeRequestDecisionForm(request.POST)
    if not form.is_valid():
        form_errors_message(request, form)
        return redirect("contracts:charge-requests")
    action = DECISIONS[form.cleaned_data["decision"]]
    done, charge = run_service(
        request, lambda: action(request=charge, by=request.user, note=form.cleaned_data["note"])
    )
    if done:
        messages.success(request, f"#{charge.pk}: {charge.get_status_display()}")
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
