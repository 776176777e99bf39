"""Staff pages: invoice runs with their progress, the customer page with its orders and corrections, and
the charts."""

import datetime
import uuid

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_GET, require_POST

from billing.staff import form_errors_message, run_service
from catalog.models import ServiceTier
from contracts.models import ConsumptionEntry, Customer, PeriodKind, QuotaKind
from contracts.ownership import acts_for
from contracts.selectors import PERIOD_STATUS_LABELS, consumption_ledger, customer_coverage
from contracts.services import consumption_correct, consumption_may_correct
from invoices.models import ChargeSource, Invoice, InvoiceKind, InvoiceRun, InvoiceStatus
from invoices.selectors import (
    BALANCE_PREFETCH,
    invoice_balance,
    invoice_totals,
    order_lines_progress,
    order_progress,
    overdue_sums_by_age,
    revenue_by_group,
    revenue_by_month,
)
from invoices.services import invoice_run_start, order_cancel
from quotes.models import OrderLine, Quote, ServiceOrder
from quotes.selectors import periods_ending_by_month
from quotes.services import order_close, quote_totals
from workspace.contract_forms import CorrectionForm
from workspace.statement_views import may_see_statement


@require_POST
@login_required
@permission_required("invoices.add_invoicerun", raise_exception=True)
def start_run(request):
    try:
        up_to = datetime.date.fromisoformat(request.POST.get("up_to", ""))
    except ValueError:
        up_to = timezone.localdate()
    invoice_run_start(up_to=up_to, by=request.user)
    return redirect("invoices:runs")


@require_GET
@login_required
@permission_required("invoices.view_invoicerun", raise_exception=True)
def run_progress(request, pk: int):
    """The progress of a run, polled by its page."""
    run = get_object_or_404(InvoiceRun, pk=pk)
    return JsonResponse(
        {
            "status": run.status,
            "customers_total": run.customers_total,
            "customers_done": run.customers_done,
            "invoices_created": run.invoices_created,
            "error": run.error,
            "set_aside": [
                {"source": row.source, "source_id": row.source_id, "code": row.code, "reason": row.reason}
                for row in run.set_aside.all()
            ],
        }
    )


_credited = pgettext_lazy("revenue", "credited")
_renewal_fees = pgettext_lazy("chart", "fees of the periods ending (%(currency)s)")
_renewal_periods = pgettext_lazy("chart", "periods ending")


OPEN_CAN_BE = (InvoiceStatus.ISSUED, InvoiceKind.INVOICE)  # a credit note is never open itself


@login_required
@permission_required("contracts.view_customer", raise_exception=True)
def customer_page(request, code: str):
    """Everything about one customer: contracts, the timeline of service periods, quotas, quotes, invoices
    and charge requests. It lives in invoices, the last app of the chain, because it reads all of them."""
    customer = get_object_or_404(Customer, code=code)
    today = timezone.localdate()
    coverage = customer_coverage(customer=customer, today=today)
    quotes = Quote.objects.filter(customer=customer).prefetch_related("lines").order_by("-created_at")[:20]
    # invoices, their totals and open balances only for who may see the customer's statement
    sees_invoices = may_see_statement(request.user, customer)
    invoices = [
        (
            invoice,
            invoice_totals(invoice)["gross"],
            # a credit note counts once: in the balance of the invoice it credits
            invoice_balance(invoice) if (invoice.status, invoice.kind) == OPEN_CAN_BE else None,
        )
        for invoice in Invoice.objects.filter(customer=customer).prefetch_related(*BALANCE_PREFETCH)[:20]
        if sees_invoices
    ]
    tiers = {tier.code: tier.name for tier in ServiceTier.objects.all()}
    for period in coverage["periods"]:
        period["kind_label"] = PeriodKind(period["kind"]).label
        period["tier_label"] = tiers.get(period["tier"], period["tier"])
        period["status_label"] = PERIOD_STATUS_LABELS[period["status"]]
    quotas = [(quota, QuotaKind(quota.kind).label) for quota in coverage["quotas"]]
    context = {
        "customer": customer,
        "coverage": coverage,
        "quotas": quotas,
        "consumption": consumption_ledger(customer=customer),
        "may_correct": consumption_may_correct(by=request.user, customer=customer),
        "correction_key": uuid.uuid4(),
        "quotes": [(quote, quote_totals(quote)["gross"]) for quote in quotes],
        "invoices": invoices,
        "charge_requests": customer.charge_requests.all()[:20],
        "contracts": customer.contracts.prefetch_related("products__product", "custom_modules"),
        "order_lines": order_lines_progress(
            OrderLine.objects.filter(order__customer=customer)
            .select_related("order__quote", "service")
            .order_by("-order__created_at", "quote_line__position")[:100]
        ),
        "may_see_statement": sees_invoices,
        "activity": customer.portal_activity.select_related("contact")[:10],
    }
    return render(request, "invoices/customer.html", context)


def _may_close(user, order: ServiceOrder) -> bool:
    """An account manager closes the orders of the customers he acts for (contracts.ownership)."""
    return user.has_perm("quotes.change_serviceorder") and acts_for(user=user, customer=order.customer)


@require_GET
@login_required
@permission_required("quotes.view_serviceorder", raise_exception=True)
def order_page(request, pk: int):
    """A service order: each line's ordered, delivered, invoiced and remaining quantities and amounts."""
    order = get_object_or_404(ServiceOrder.objects.select_related("quote", "customer", "closed_by"), pk=pk)
    context = {
        "order": order,
        "progress": order_progress(order),
        "can_close": order.is_open and _may_close(request.user, order),
    }
    return render(request, "invoices/order.html", context)


@require_POST
@login_required
@permission_required("quotes.change_serviceorder", raise_exception=True)
def order_close_view(request, pk: int):
    return _order_step(
        request, pk, order_close, _("The order is closed; what was left undelivered is released.")
    )


@require_POST
@login_required
@permission_required("quotes.change_serviceorder", raise_exception=True)
def order_cancel_view(request, pk: int):
    return _order_step(
        request, pk, order_cancel, _("The order is cancelled; what it billed when ordered is credited.")
    )


def _order_step(request, pk: int, service, done_message):
    """Closing or cancelling an order from its page: the customer's account manager, through the service."""
    order = get_object_or_404(ServiceOrder.objects.select_related("customer"), pk=pk)
    if not _may_close(request.user, order):
        raise PermissionDenied
    done, _result = run_service(
        request, lambda: service(order=order, by=request.user, reason=request.POST.get("reason", ""))
    )
    if done:
        messages.success(request, done_message)
    return redirect("invoices:order", pk=pk)


@require_POST
@login_required
@permission_required("contracts.add_consumptionentry", raise_exception=True)
def consumption_correct_view(request, code: str, pk: int):
    """The "correct" form of a use on the customer page: its account manager gives back part or all of it."""
    customer = get_object_or_404(Customer, code=code)
    if not consumption_may_correct(by=request.user, customer=customer):
        raise PermissionDenied
    entry = get_object_or_404(ConsumptionEntry, pk=pk, customer=customer)
    form = CorrectionForm(request.POST)
    if not form.is_valid():
        form_errors_message(request, form)
        return redirect("invoices:customer", code=customer.code)
    done, correction = run_service(
        request,
        lambda: consumption_correct(
            entry=entry,
            quantity=form.cleaned_data["quantity"],
            reason=form.cleaned_data["reason"],
            idempotency_key=f"staff:{request.user.pk}:{entry.pk}:{form.cleaned_data['idempotency_key']}",
            by=request.user,
        ),
    )
    if done:
        messages.success(
            request,
            _("%(quantity)s given back of %(ticket)s.")
            % {"quantity": -correction.quantity, "ticket": correction.ticket_ref},
        )
    return redirect("invoices:customer", code=customer.code)


def _months_as_text(by_currency: dict[str, list[dict]]) -> dict[str, list[dict]]:
    return {
        currency: [{**row, "month": row["month"].strftime("%Y-%m")} for row in rows]
        for currency, rows in by_currency.items()
    }


@login_required
@permission_required("quotes.view_quote", raise_exception=True)
def charts(request):
    """Renewals due by month for everyone with customers; revenue by month and overdue ageing for those
    who may see invoices. Drawn by Chart.js from our own static files."""
    today = timezone.localdate()
    ending = periods_ending_by_month(today=today, months_ahead=11)
    renewals = []
    for offset in range(12):
        month = today.replace(day=1) + relativedelta(months=offset)
        row = ending.get(month, {"periods": 0, "fees": {}})
        renewals.append(
            {
                "month": month.strftime("%Y-%m"),
                "fees": {currency: float(fee.amount) for currency, fee in sorted(row["fees"].items())},
                "periods": row["periods"],
            }
        )
    fee_currencies = sorted({settings.DEFAULT_CURRENCY, *(c for row in renewals for c in row["fees"])})
    data = {
        "renewals": renewals,
        "renewalLabels": {
            "fees": {currency: str(_renewal_fees) % {"currency": currency} for currency in fee_currencies},
            "periods": str(_renewal_periods),
        },
        "labels": {source.value: str(source.label) for source in ChargeSource},
    }
    data["labels"]["credited"] = str(_credited)
    if request.user.has_perm("invoices.view_invoice"):
        # one chart per currency: amounts of two currencies are never added
        data["revenue"] = _months_as_text(revenue_by_month(months=12, today=today))
        groups, data["groupLabels"] = revenue_by_group(months=12, today=today)
        data["groups"] = _months_as_text(groups)
        overdue = overdue_sums_by_age(today=today)
        currencies = sorted({*data["revenue"], *(currency for sums in overdue.values() for currency in sums)})
        data["ageing"] = {
            currency: {
                label: float(sums[currency].amount) if currency in sums else 0.0
                for label, sums in overdue.items()
            }
            for currency in currencies
        }
    return render(request, "invoices/charts.html", {"chart_data": data})
