"""Finance's pages: unbilled charges, invoices (drafts to issue, issued invoices, credit notes), one
invoice with its actions (issue, PDF, payment, credit note), payments, overdue ageing and exports. Each
POST calls one service and comes back; a BillingError becomes a message on the page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST
from djmoney.money import Money

from billing.money import capitals
from billing.staff import form_errors_message, run_service
from contracts.portal_access import billing_details_changed_since
from invoices.documents import invoice_pdf_content
from invoices.exports import dataset_bytes, invoices_dataset, issued, lines_dataset
from invoices.models import Invoice, InvoiceKind, InvoiceLine, InvoiceStatus, Payment, TravelExpense
from invoices.selectors import (
    BALANCE_PREFETCH,
    FAPIAO_PREFETCH,
    FAPIAO_STATES,
    fapiao_state,
    invoice_balance,
    invoice_fapiaos,
    invoice_totals,
)
from invoices.services import (
    charges_collect,
    credit_note_issue,
    invoice_delete_draft,
    invoice_draft_remove_line,
    invoice_issue,
    payment_record,
    travel_expense_approve,
)
from workspace.finance_forms import CreditNoteForm, ExportForm, PaymentForm
from workspace.red_letter_views import red_letter_context

TABS = {
    "drafts": {"status": InvoiceStatus.DRAFT},
    "issued": {"status": InvoiceStatus.ISSUED, "kind": InvoiceKind.INVOICE},
    "credit_notes": {"status": InvoiceStatus.ISSUED, "kind": InvoiceKind.CREDIT_NOTE},
}


@require_POST
@login_required
@permission_required("invoices.add_invoicerun", raise_exception=True)
def charges_collect_view(request):
    """Brings into the ledger what is billable up to today (period fees, accepted quotes, confirmed charge
    requests, delivered person-days); idempotent, as every invoice run does it first. What cannot be priced
    is said with its reason (the unbilled list only reads, so this is where it shows)."""
    set_aside = []
    added = charges_collect(up_to=timezone.localdate(), set_aside=set_aside)
    messages.success(
        request, ngettext("%(count)s new charge.", "%(count)s new charges.", added) % {"count": added}
    )
    for row in set_aside:
        where = _("Set aside: %(source)s #%(id)s of %(customer)s") % {
            "source": row.get_source_display(),
            "id": row.source_id,
            "customer": row.customer.code,
        }
        messages.warning(request, f"{where}: {row.reason}")
    return redirect("invoices:charges")


@require_GET
@login_required
@permission_required("invoices.view_invoice", raise_exception=True)
def invoice_detail(request, pk: int):
    invoice = get_object_or_404(
        Invoice.objects.select_related("customer", "credits", "issued_by").prefetch_related(
            *BALANCE_PREFETCH, FAPIAO_PREFETCH
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
        "fapiaos": invoice_fapiaos(invoice),
        "credit_notes": invoice.credit_notes.filter(status=InvoiceStatus.ISSUED).prefetch_related("fapiaos"),
    }
    if invoice.status == InvoiceStatus.ISSUED and invoice.kind == InvoiceKind.INVOICE:
        context["balance"] = invoice_balance(invoice)
        context["payment_form"] = PaymentForm(initial={"amount": context["balance"].amount})
        context["credit_form"] = CreditNoteForm(lines=lines)
        context["fapiao_state"] = state = fapiao_state(
            invoice
        )  # none, requested, issued (invoices.selectors)
        context["fapiao_state_label"] = FAPIAO_STATES[state]
    if (
        invoice.status == InvoiceStatus.DRAFT
    ):  # what the customer changed in its portal since its last invoice
        last = (
            Invoice.objects.filter(customer=invoice.customer, status=InvoiceStatus.ISSUED)
            .order_by("-issued_at")
            .values_list("issued_at", flat=True)
            .first()
        )
        context["billing_details_change"] = billing_details_changed_since(
            customer=invoice.customer, since=last
        )
    context |= red_letter_context(invoice, request.user)
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
    response = HttpResponse(invoice_pdf_content(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{invoice.number}.pdf"'
    return response


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
