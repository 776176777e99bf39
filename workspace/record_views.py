"""Finance's recording pages: what the admin was needed for before. A travel expense with its receipt,
data-volume usage and a work log are each recorded by their service; a work-log file is previewed (every
bad row with its number, nothing written) and imported on confirmation, all or nothing, by the same
importer as the admin and the command line (invoices.resources), its upload kept between the two steps as
the admin keeps it (billing.imports: a random name, a token signed for the user)."""

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from djmoney.money import Money

from billing.errors import BillingError
from billing.imports import upload_keep, upload_size_check, upload_take
from invoices.resources import read_work_log_file, work_logs_import
from invoices.services import data_volume_usage_record, travel_expense_record, work_log_record
from workspace.record_forms import DataVolumeUsageForm, TravelExpenseForm, WorkLogFileForm, WorkLogForm

PREVIEW_ROWS = 50
FORMATS = {"csv": "upload.csv", "xlsx": "upload.xlsx"}


def _record(request, form, action, *, done: str, then: str, template: str, title: str):
    """Validates ``form``, runs ``action(cleaned_data)``; a refusal comes back as a form error."""
    if request.method == "POST" and form.is_valid():
        try:
            recorded = action(form.cleaned_data)
        except BillingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, done % {"recorded": recorded})
            return redirect(then)
    return render(request, template, {"form": form, "title": title})


@require_http_methods(["GET", "POST"])
@login_required
@permission_required("invoices.add_travelexpense", raise_exception=True)
def travel_expense_new(request):
    form = TravelExpenseForm(request.POST or None, request.FILES or None)

    def record(data):
        return travel_expense_record(
            customer=data["customer"],
            category=data["category"],
            spent_on=data["spent_on"],
            amount=Money(data["amount"], data["currency"]),
            quantity=data["quantity"],
            description=data["description"],
            ticket_ref=data["ticket_ref"],
            receipt=data["receipt"],
            by=request.user,
        )

    return _record(
        request,
        form,
        record,
        done=_("Recorded: %(recorded)s; it waits for approval."),
        then="invoices:travel",
        template="invoices/record_form.html",
        title=_("Record a travel expense"),
    )


@require_http_methods(["GET", "POST"])
@login_required
@permission_required("invoices.add_datavolumeusage", raise_exception=True)
def data_volume_usage_new(request):
    form = DataVolumeUsageForm(request.POST or None)

    def record(data):
        return data_volume_usage_record(
            customer=data["customer"],
            service_code=data["service"].code,
            quantity=data["quantity"],
            measured_on=data["measured_on"],
            description=data["description"],
        )

    return _record(
        request,
        form,
        record,
        done=_("Recorded: %(recorded)s; the next invoice run bills it."),
        then="invoices:charges",
        template="invoices/record_form.html",
        title=_("Record data-volume usage"),
    )


@require_http_methods(["GET", "POST"])
@login_required
@permission_required("invoices.add_worklog", raise_exception=True)
def work_log_new(request):
    form = WorkLogForm(request.POST or None)

    def record(data):
        log, _new = work_log_record(
            customer=data["customer"],
            engineer=data["engineer"],
            role=data["role"],
            work_date=data["work_date"],
            days=data["days"],
            hours=data["hours"],
            on_site=data["on_site"],
            ticket_ref=data["ticket_ref"],
            service_code=data["service"].code,
            description=data["description"],
            idempotency_key=data["key"],
        )
        return log

    return _record(
        request,
        form,
        record,
        done=_("Recorded: %(recorded)s; the next invoice run bills it."),
        then="invoices:work-log-new",
        template="invoices/record_form.html",
        title=_("Record a work log"),
    )


def _import_salt(request) -> str:
    return f"workspace.work-log-import:{request.user.pk}"


@require_http_methods(["GET", "POST"])
@login_required
@permission_required(("invoices.add_worklog", "invoices.change_worklog"), raise_exception=True)
def work_log_import(request):
    """Upload: the preview, with every bad row (nothing is kept), or the rows and a confirm button; the
    confirmation imports the previewed upload named by its signed token, whole or not at all."""
    form = WorkLogFileForm(request.POST or None, request.FILES or None)
    context = {"form": form}
    if request.method == "POST" and "token" in request.POST:
        try:
            data, signed = upload_take(request.POST["token"], salt=_import_salt(request))
            dataset = _read(data, signed.get("format", ""))
        except BillingError as error:
            messages.error(request, str(error))
            return redirect("invoices:work-log-import")
        imported = work_logs_import(dataset, dry_run=False)
        if not imported.problems:
            messages.success(
                request,
                _("Imported: %(new)s new work logs, %(unchanged)s already imported, %(rows)s rows.")
                % {"new": imported.new, "unchanged": imported.unchanged, "rows": imported.rows},
            )
            return redirect("invoices:work-log-import")
        context |= {"imported": imported, "form": WorkLogFileForm()}  # changed since its preview
    elif request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        kind = "xlsx" if upload.name.lower().endswith(".xlsx") else "csv"
        try:
            upload_size_check(upload.size)
            data = upload.read()
            dataset = _read(data, kind)
        except BillingError as error:
            form.add_error("file", str(error))
        else:
            imported = work_logs_import(dataset, dry_run=True)
            context |= {
                "imported": imported,
                "name": upload.name,
                "headers": dataset.headers,
                "rows": dataset[:PREVIEW_ROWS],
                "more": max(len(dataset) - PREVIEW_ROWS, 0),
            }
            if not imported.problems:
                context["token"] = upload_keep(data, salt=_import_salt(request), format=kind)
    return render(request, "invoices/work_log_import.html", context)


def _read(data: bytes, kind: str):
    if kind not in FORMATS:
        raise BillingError(_("A CSV or XLSX file."), code="import_format")
    return read_work_log_file(io.BytesIO(data), name=FORMATS[kind], size=len(data))
