"""The statement of account's staff pages: the statement of a customer for any dates, its PDF, and
sending it to the customer's billing contacts. Finance sees every customer's statement, an account
manager his own customers' only."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from billing.staff import run_service
from contracts.models import Customer
from contracts.selectors import billing_contacts
from invoices.selectors import statement_of_account, statement_period_asked
from invoices.statements import statement_file_name, statement_pdf, statement_send


def may_see_statement(user, customer: Customer) -> bool:
    """Finance (who sees every invoice) and the customer's own account manager."""
    return user.has_perm("invoices.view_invoice") or (
        customer.account_manager_id is not None and customer.account_manager_id == user.pk
    )


def _customer_and_period(request, code: str, params) -> tuple[Customer, datetime.date, datetime.date, str]:
    """The customer, refused unless the user may see its statement, and the ``from`` and ``to`` of the
    query or form (this year until today when neither is given), or this year with the error why not."""
    customer = get_object_or_404(Customer, code=code)
    if not may_see_statement(request.user, customer):
        raise PermissionDenied
    return customer, *statement_period_asked(params)


def _statement_page(view):
    """Staff who see customers; ``may_see_statement`` decides which customers."""
    return login_required(permission_required("contracts.view_customer", raise_exception=True)(view))


@require_GET
@_statement_page
def statement(request, code: str):
    customer, start, end, error = _customer_and_period(request, code, request.GET)
    context = {"customer": customer, "start": start, "end": end, "error": error, "statements": []}
    if error:
        return render(request, "invoices/statement.html", context, status=400)
    context |= {
        "statements": statement_of_account(customer=customer, start=start, end=end),
        "contacts": billing_contacts(customer=customer),
        "query": urlencode({"from": start.isoformat(), "to": end.isoformat()}),
    }
    return render(request, "invoices/statement.html", context)


@require_GET
@_statement_page
def statement_pdf_view(request, code: str):
    customer, start, end, error = _customer_and_period(request, code, request.GET)
    if error:  # the page says what is wrong
        return statement(request, code)
    pdf = statement_pdf(customer=customer, start=start, end=end)
    response = HttpResponse(pdf, content_type="application/pdf")
    name = statement_file_name(customer=customer, start=start, end=end)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_POST
@_statement_page
def statement_send_view(request, code: str):
    customer, start, end, error = _customer_and_period(request, code, request.POST)
    if error:
        messages.error(request, error)
    else:
        done, sent_to = run_service(request, lambda: statement_send(customer=customer, start=start, end=end))
        if done:
            messages.success(request, _("Statement sent to %(emails)s.") % {"emails": ", ".join(sent_to)})
    query = urlencode({key: request.POST[key] for key in ("from", "to") if request.POST.get(key)})
    return redirect(f"{reverse('invoices:statement', args=[customer.code])}?{query}")
