"""Bulk actions posted by the staff lists' checkboxes (``selected``, one pk each): issue drafts, remind of
overdue invoices, approve or reject travel expenses and work logs. Each lets in who may do the action one at
a time, runs invoices.bulk (each item in its own transaction, every rule per item) and answers with a report
of what was done and what was refused and why, linking back to the list it came from (``next``)."""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from billing.errors import BillingError
from invoices import bulk


@dataclass(frozen=True)
class ReportRow:
    label: str
    url: str
    customer: str
    done: bool
    note: str


def _selected(request) -> list[int]:
    return [int(value) for value in request.POST.getlist("selected") if value.isascii() and value.isdigit()]


def _back(request, default: str) -> str:
    """Where the report links back to: the filtered list the selection was made on (``next``, this site's
    only), or the list itself."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    try:
        return reverse(default)
    except NoReverseMatch:  # a list not built yet
        return reverse("staff-home")


def _report(
    request,
    *,
    title: str,
    back: str,
    run: Callable[[list[int]], bulk.BulkReport],
    row: Callable[[bulk.Outcome], tuple[str, str, str]],
    done_note: Callable[[bulk.Outcome], str],
):
    """Runs the action on the selection and renders its report; a selection refused as a whole (empty, too
    large, no reason to reject) is a 400 with the reason."""
    context = {"title": title, "back": _back(request, back)}
    try:
        report = run(_selected(request))
    except BillingError as error:
        return render(request, "invoices/bulk_report.html", context | {"refusal": str(error)}, status=400)
    rows = []
    for outcome in report.outcomes:
        label, url, customer = row(outcome) if outcome.item is not None else (f"#{outcome.pk}", "", "")
        note = done_note(outcome) if outcome.done else str(outcome.error)
        rows.append(ReportRow(label=label, url=url, customer=customer, done=outcome.done, note=note))
    context |= {"rows": rows, "done": len(report.done), "refused": len(report.refused)}
    return render(request, "invoices/bulk_report.html", context)


def _invoice_row(outcome: bulk.Outcome) -> tuple[str, str, str]:
    invoice = outcome.item
    return str(invoice), reverse("invoices:invoice", args=[invoice.pk]), invoice.customer.legal_name


@require_POST
@login_required
@permission_required("invoices.change_invoice", raise_exception=True)
def invoices_issue_view(request):
    return _report(
        request,
        title=_("Issue the selected drafts"),
        back="invoices:invoices",
        run=lambda pks: bulk.invoices_issue(pks=pks, by=request.user),
        row=_invoice_row,
        done_note=lambda outcome: _("Issued as %(number)s.") % {"number": outcome.result.number},
    )


@require_POST
@login_required
@permission_required("invoices.change_invoice", raise_exception=True)
def overdue_remind_view(request):
    """Reminders for the selected overdue invoices; ``again`` sends one to an invoice reminded today."""
    return _report(
        request,
        title=_("Remind of the selected overdue invoices"),
        back="invoices:overdue",
        run=lambda pks: bulk.overdue_remind(
            pks=pks, by=request.user, today=timezone.localdate(), again=bool(request.POST.get("again"))
        ),
        row=_invoice_row,
        done_note=lambda outcome: _("Reminder sent to the customer's contacts."),
    )


DECISIONS = {"approve": gettext_lazy("Approved."), "reject": gettext_lazy("Rejected.")}


def _decision(request) -> bool:
    decision = request.POST.get("decision")
    if decision not in DECISIONS:
        raise BillingError(gettext_lazy("Choose to approve or to reject."), code="invalid_decision")
    return decision == "approve"


def _decide(request, *, decide, title: str, back: str, label: Callable[[object], str]):
    """Approves or rejects the selection (``decision``; ``reason`` for a rejection) through ``decide``, one
    of invoices.bulk's deciders, and reports it."""

    def run(pks):
        approve = _decision(request)
        return decide(pks=pks, by=request.user, approve=approve, reason=request.POST.get("reason", ""))

    return _report(
        request,
        title=title,
        back=back,
        run=run,
        row=lambda outcome: (label(outcome.item), "", outcome.item.customer.legal_name),
        done_note=lambda outcome: str(DECISIONS[request.POST["decision"]]),
    )


@require_POST
@login_required
@permission_required("invoices.change_travelexpense", raise_exception=True)
def travel_expenses_decide_view(request):
    return _decide(
        request,
        decide=bulk.travel_expenses_decide,
        title=_("Approve or reject the selected travel expenses"),
        back="invoices:travel",
        label=lambda expense: f"{expense} · {expense.description}",
    )


@require_POST
@login_required
@permission_required("invoices.change_worklog", raise_exception=True)
def work_logs_decide_view(request):
    return _decide(
        request,
        decide=bulk.work_logs_decide,
        title=_("Approve or reject the selected work logs"),
        back="invoices:work-logs",
        label=lambda log: f"{log} · {log.ticket_ref}",
    )
