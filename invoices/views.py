"""Finance pages: invoice runs with their progress."""

import datetime

from django.contrib.auth.decorators import login_required, permission_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from invoices.models import InvoiceRun
from invoices.services import invoice_run_start


@login_required
@permission_required("invoices.view_invoicerun", raise_exception=True)
def runs(request):
    return render(
        request, "invoices/runs.html", {"runs": InvoiceRun.objects.all()[:20], "today": timezone.localdate()}
    )


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
        }
    )
