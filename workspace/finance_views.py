"""Finance's pages: unbilled charges, invoices (drafts to issue, issued invoices, credit notes), one
invoice with its actions (issue, PDF, payment, credit note), payments, overdue ageing and exports. Each
POST calls one service and comes back; a BillingError becomes a message on the page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Count, Sum
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST
from djmoney.money import Money

from billing.errors import BillingError
from billing.money import capitals, sums_by_currency
from billing.staff import form_errors_message, run_service
from contracts.models import Customer
from invoices.exports import dataset_bytes, invoices_dataset, issued, lines_dataset
from invoices.models import Charge, Invoice, InvoiceKind, InvoiceLine, InvoiceStatus, Payment, TravelExpense
from invoices.selectors import BALANCE_PREFETCH, invoice_balance, invoice_totals, overdue_by_age
from invoices.services import (
    charges_collect,
    credit_note_issue,
    invoice_delete_draft,
    invoice_draft_remove_line,
    invoice_issue,
    payment_record,
    travel_expense_approval_check,
    travel_expense_approve,
)
from invoices.tasks import render_invoice_pdf
from workspace.finance_forms import CreditNoteForm, ExportForm, PaymentForm

TABS = {
    "drafts": {"status": InvoiceStatus.DRAFT},
    "issued": {"status": InvoiceStatus.ISSUED, "kind": InvoiceKind.INVOICE},
    "credit_notes": {"status": InvoiceStatus.ISSUED, "kind": InvoiceKind.CREDIT_NOTE},
}


@require_GET
@login_required
@permission_required("invoices.view_charge", raise_exception=True)
def unbilled_charges(request):
    """Charges no invoice holds yet, by customer; the next invoice run bills them. What is billable now
    (period fees, accepted orders, approved travel, delivered work...) is collected first (idempotent, as
    every run does it), so the list and its total never leave out what waits to be collected; what cannot be
    priced is listed apart with its reason."""
    set_aside = []
    charges_collect(up_to=timezone.localdate(), set_aside=set_aside)
    unbilled = Charge.objects.filter(invoice_line__isnull=True)
    by_customer = (  # per customer and currency: two currencies are never added
        unbilled.values("customer", "amount_currency")
        .annotate(count=Count("pk"), total=Sum("gross"))  # with VAT, whatever the price's terms
        .order_by("customer", "amount_currency")
    )
    customers = Customer.objects.in_bulk([row["customer"] for row in by_customer])
    summary = [
        (customers[row["customer"]], row["count"], Money(row["total"], row["amount_currency"]))
        for row in by_customer
    ]
    charges = unbilled.select_related("customer").order_by("customer__code", "service_date", "pk")[:300]
    totals = sums_by_currency(amount for _customer, _count, amount in summary) or {"": Money(0, "CNY")}
    total = " · ".join(str(amount) for amount in totals.values())
    count = sum(number for _customer, number, _amount in summary)
    context = {"summary": summary, "charges": charges, "total": total, "count": count, "set_aside": set_aside}
    return render(request, "invoices/charges.html", context)


@require_POST
@login_required
@permission_required("invoices.add_invoicerun", raise_exception=True)
def charges_collect_view(request):
    """Brings into the ledger what is billable up to today (period fees, accepted quotes, confirmed charge
    requests, delivered person-days); idempotent, as every invoice run does it first."""
    added = charges_collect(up_to=timezone.localdate())
    messages.success(
        request, ngettext("%(count)s new charge.", "%(count)s new charges.", added) % {"count": added}
    )
    return redirect("invoices:charges")


@require_GET
@login_required
@permission_required("invoices.view_invoice", raise_exception=True)
def invoice_list(request):
    tab = request.GET.get("tab", "drafts")
    if tab not in TABS:
        tab = "drafts"
    invoices = (
        Invoice.objects.filter(**TABS[tab])
        .select_related("customer", "credits")
        .prefetch_related(*BALANCE_PREFETCH)
        .order_by("-issue_date", "-sequence", "-created_at")[:200]
    )
    rows = [
        (invoice, invoice_totals(invoice)["gross"], invoice_balance(invoice) if tab == "issued" else None)
        for invoice in invoices
    ]
    counts = {name: Invoice.objects.filter(**filters).count() for name, filters in TABS.items()}
    return render(request, "invoices/invoices.html", {"rows": rows, "tab": tab, "counts": counts})


@require_GET
@login_required
@permission_required("invoices.view_invoice", raise_exception=True)
def invoice_detail(request, pk: int):
    invoice = get_object_or_404(
        Invoice.objects.select_related("customer", "credits", "issued_by").prefetch_related(
            *BALANCE_PREFETCH
        ),
        pk=pk,
    )
    lines = list(invoice.lines.all())
    totals = invoice_totals(invoice)
    context = {
        "invoice": invoice,
        "lines": lines,
        "totals": totals,
        "capitals": capitals(totals["gross"]),
        "payments": invoice.payments.all(),
        "credit_notes": invoice.credit_notes.filter(status=InvoiceStatus.ISSUED),
    }
    if invoice.status == InvoiceStatus.ISSUED and invoice.kind == InvoiceKind.INVOICE:
        context["balance"] = invoice_balance(invoice)
        context["payment_form"] = PaymentForm(initial={"amount": context["balance"].amount})
        context["credit_form"] = CreditNoteForm(lines=lines)
    return render(request, "invoices/invoice.html", context)


@require_POST
@login_required
@permission_required("invoices.change_invoice", raise_exception=True)
def invoice_issue_view(request, pk: int):
    invoice = get_object_or_404(Invoice, pk=pk)
    done, issued_invoice = run_service(request, lambda: invoice_issue(invoice=invoice, by=request.user))
    if done:
        messages.success(request, _("Issued as %(number)s.") % {"number": issued_invoice.number})
    return redirect("invoices:invoice", pk=pk)


@require_POST
@login_required
@permission_required("invoices.delete_invoice", raise_exception=True)
def invoice_delete_view(request, pk: int):
    invoice = get_object_or_404(Invoice, pk=pk)
    done, _result = run_service(request, lambda: invoice_delete_draft(invoice=invoice))
    if not done:
        return redirect("invoices:invoice", pk=pk)
    messages.success(request, _("The draft is deleted; its charges go on the next run."))
    return redirect(f"{reverse('invoices:invoices')}?tab=drafts")


@require_POST
@login_required
@permission_required("invoices.change_invoice", raise_exception=True)
def invoice_remove_line_view(request, pk: int, line_pk: int):
    line = get_object_or_404(InvoiceLine, pk=line_pk, invoice_id=pk)
    done, _result = run_service(request, lambda: invoice_draft_remove_line(line=line))
    if done:
        messages.success(request, _("Line removed; its charge goes on the next run."))
    return redirect("invoices:invoice", pk=pk)


@require_POST
@login_required
@permission_required("invoices.add_payment", raise_exception=True)
def payment_record_view(request, pk: int):
    invoice = get_object_or_404(Invoice, pk=pk)
    form = PaymentForm(request.POST)
    if not form.is_valid():
        form_errors_message(request, form)
        return redirect("invoices:invoice", pk=pk)
    data = form.cleaned_data
    again = Payment.objects.filter(invoice=invoice, reference=data["reference"]).exists()
    done, payment = run_service(
        request,
        lambda: payment_record(
            invoice=invoice,
            amount=Money(data["amount"], invoice.currency),
            received_on=data["received_on"],
            reference=data["reference"],
        ),
    )
    if done and again:
        messages.warning(
            request, _("Payment %(reference)s was recorded already.") % {"reference": payment.reference}
        )
    elif done:
        messages.success(request, _("Payment %(reference)s recorded.") % {"reference": payment.reference})
    return redirect("invoices:invoice", pk=pk)


@require_POST
@login_required
@permission_required("invoices.change_invoice", raise_exception=True)
def credit_note_view(request, pk: int):
    invoice = get_object_or_404(Invoice, pk=pk)
    form = CreditNoteForm(request.POST, lines=invoice.lines.all())
    if not form.is_valid():
        form_errors_message(request, form)
        return redirect("invoices:invoice", pk=pk)
    done, note = run_service(
        request,
        lambda: credit_note_issue(
            invoice=invoice,
            reason=form.cleaned_data["reason"],
            lines=form.cleaned_data["lines"],
            by=request.user,
        ),
    )
    if not done:
        return redirect("invoices:invoice", pk=pk)
    messages.success(request, _("Credit note %(number)s issued.") % {"number": note.number})
    return redirect("invoices:invoice", pk=note.pk)


@require_GET
@login_required
@permission_required("invoices.view_invoice", raise_exception=True)
def invoice_pdf(request, pk: int):
    """The issued document, rendered once (at issue, by a task); rendered now if that has not run yet."""
    invoice = get_object_or_404(Invoice, pk=pk)
    if invoice.status != InvoiceStatus.ISSUED:
        raise Http404
    if not invoice.pdf_sha256:
        render_invoice_pdf(invoice.pk)
        invoice.refresh_from_db()
    response = HttpResponse(invoice.pdf.read(), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{invoice.number}.pdf"'
    return response


@require_GET
@login_required
@permission_required("invoices.view_travelexpense", raise_exception=True)
def travel_expenses(request):
    """Travel waiting for approval and recently approved, each with the amount claimed, the policy's cap,
    the excess and what is billed; the approve button shows only where the service would approve, else
    the service's reason why not."""
    waiting = TravelExpense.objects.filter(approved_at__isnull=True).select_related("customer", "recorded_by")
    approved = TravelExpense.objects.filter(approved_at__isnull=False).select_related(
        "customer", "recorded_by", "approved_by"
    )
    rows = []
    for expense in waiting.order_by("spent_on", "pk")[:200]:
        try:
            travel_expense_approval_check(expense=expense, by=request.user)
        except BillingError as refused:
            rows.append((expense, str(refused)))
        else:
            rows.append((expense, ""))
    context = {"rows": rows, "approved": approved.order_by("-approved_at")[:50]}
    return render(request, "invoices/travel.html", context)


@require_POST
@login_required
@permission_required("invoices.change_travelexpense", raise_exception=True)
def travel_expense_approve_view(request, pk: int):
    expense = get_object_or_404(TravelExpense, pk=pk)
    done, _result = run_service(request, lambda: travel_expense_approve(expense=expense, by=request.user))
    if done:
        messages.success(request, _("Approved: %(expense)s.") % {"expense": expense})
    return redirect("invoices:travel")


@require_GET
@login_required
@permission_required("invoices.view_payment", raise_exception=True)
def payments(request):
    recent = Payment.objects.select_related("invoice__customer").order_by("-received_on", "-pk")[:200]
    return render(request, "invoices/payments.html", {"payments": recent})


@require_GET
@login_required
@permission_required("invoices.view_invoice", raise_exception=True)
def overdue(request):
    buckets = overdue_by_age(today=timezone.localdate())
    sums = {
        label: list(sums_by_currency(open_amount for _invoice, open_amount, _days in rows).values())
        for label, rows in buckets.items()
    }
    return render(request, "invoices/overdue.html", {"buckets": buckets, "sums": sums})


@require_GET
@login_required
@permission_required("invoices.view_invoice", raise_exception=True)
def exports(request):
    """Issued invoices and credit notes (or their lines) between two dates, for the accounting system."""
    form = ExportForm(request.GET or None, initial=ExportForm.this_month())
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        selected = issued(data["start"], data["end"])
        dataset = invoices_dataset(selected) if data["what"] == "invoices" else lines_dataset(selected)
        name = f"{data['what']}-{data['start']:%Y%m%d}-{data['end']:%Y%m%d}.{data['format']}"
        content_type = {
            "csv": "text/csv; charset=utf-8",
            "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }[data["format"]]
        response = HttpResponse(dataset_bytes(dataset, data["format"]), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return render(request, "invoices/exports.html", {"form": form})
