"""A customer's portal access on its staff pages (/staff/customers/<code>/portal): account managers invite
its contacts and set their roles (contracts.portal_access); everyone who sees customers reads the portal's
timeline of what the contacts did."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from contracts.models import Customer, PortalRole
from contracts.portal_access import portal_may_manage
from contracts.portal_forms import contacts_with_access, portal_access_post


@require_http_methods(["GET", "POST"])
@login_required
@permission_required("contracts.view_customer", raise_exception=True)
def portal_access_page(request, code: str):
    customer = get_object_or_404(Customer, code=code)
    may_manage = portal_may_manage(by=request.user, customer=customer)
    if request.method == "POST":
        done, message = portal_access_post(request, customer)
        (messages.success if done else messages.error)(request, message)
        return redirect("contracts:portal-access", code=customer.code)
    context = {
        "customer": customer,
        "contacts": contacts_with_access(customer),
        "role_choices": PortalRole.choices,
        "may_manage": may_manage,
        "activity": customer.portal_activity.select_related("contact")[:100],
        "title": _("Customer portal"),
    }
    return render(request, "workspace/portal_access.html", context)
