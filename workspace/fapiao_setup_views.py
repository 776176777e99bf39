"""The customer's fapiao details on its staff pages (/staff/customers/<code>/fapiao): account managers read
those of the customers they act for, finance keeps them (contracts.fapiao_details_save); the taxpayer
number is the customer's USCC, shown here and edited on the customer."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from billing.errors import BillingError
from contracts.fapiao_details import (
    ADD_FAPIAO_DETAILS,
    CHANGE_FAPIAO_DETAILS,
    FAPIAO_FIELDS,
    FapiaoDetailsInvalid,
    fapiao_details_of,
    fapiao_details_save,
)
from contracts.models import Customer, FapiaoDetails
from contracts.ownership import acts_for


class FapiaoDetailsForm(forms.ModelForm):
    class Meta:
        model = FapiaoDetails
        fields = list(FAPIAO_FIELDS)


def _may_change(user, details: FapiaoDetails) -> bool:
    return user.has_perm(CHANGE_FAPIAO_DETAILS if details.pk else ADD_FAPIAO_DETAILS)


@require_http_methods(["GET", "POST"])
@login_required
@permission_required("contracts.view_fapiaodetails", raise_exception=True)
def fapiao_details_page(request, code: str):
    """The customer's fapiao details: a form for who keeps them, a summary for the others."""
    customer = get_object_or_404(Customer, code=code)
    if not acts_for(user=request.user, customer=customer):
        raise PermissionDenied
    details = fapiao_details_of(customer)
    may_change = _may_change(request.user, details)
    if request.method == "POST" and not may_change:
        raise PermissionDenied
    form = FapiaoDetailsForm(request.POST or None, instance=details) if may_change else None
    if request.method == "POST" and form.is_valid():
        try:
            fapiao_details_save(customer=customer, data=form.cleaned_data, by=request.user)
        except FapiaoDetailsInvalid as error:
            for name, texts in error.errors.items():
                form.add_error(name if name in form.fields else None, texts)
        except BillingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The customer's fapiao details are saved."))
            return redirect("invoices:customer", code=customer.code)
    context = {
        "customer": customer,
        "details": details,
        "form": form,
        "title": _("Fapiao details"),
    }
    return render(request, "workspace/fapiao_details.html", context)
