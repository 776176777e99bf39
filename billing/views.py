from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render

# A staff member's start page by what they do, most specific first (names of URL patterns, so this
# module imports no app).
HOME_BY_PERMISSION = [
    ("invoices.view_invoicerun", "invoices:runs"),
    ("contracts.approve_chargerequest", "contracts:charge-requests"),
    ("quotes.add_quote", "invoices:quotes"),
    ("contracts.view_customer", "contracts:entitlement-lookup"),
]


def home(request):
    """What the product is, with the way in for staff."""
    return render(request, "home.html")


@login_required
def staff_home(request):
    """Sends each role to the page its work starts on: finance to invoice runs, account managers to the
    charge requests waiting for them, sales to their quotes, others to the entitlement lookup."""
    if request.user.is_superuser:
        return redirect("admin:index")
    for permission, page in HOME_BY_PERMISSION:
        if request.user.has_perm(permission):
            return redirect(page)
    raise PermissionDenied
