"""Finance's red-letter pages (红字, invoices.red_letter): the panel on a credit note's page (its request, the
confirmation form's data, the steps) and on an invoice's page (its fapiao, 已红冲-全额 or 已红冲-部分), the
form's workbook, and the list of requests by status. Each POST calls one service and comes back to the
credit note; a BillingError becomes a message on the page."""

import datetime

import django_filters
import django_tables2 as tables
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Case, CharField, F, Q, Value, When
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from billing.staff import form_errors_message, run_service
from contracts.ownership import acts_for
from invoices.models import Invoice, InvoiceKind, RedLetterReason, RedLetterRequest, RedLetterStatus
from invoices.red_letter import (
    blue_fapiao_of,
    confirm_deadline,
    current_request,
    default_reason,
    live_request,
    red_letter_form_record,
    red_letter_form_rows,
    red_letter_form_xlsx,
    red_letter_red_record,
    red_letter_remark,
    red_letter_request_create,
    red_letter_request_replace,
    red_letter_request_set_reason,
    red_letter_status,
)
from workspace.lists import SearchFilterSet, StaffListView, StaffTable, customer_columns
from workspace.red_letter_forms import RedFapiaoForm, RedLetterFormRecordForm, RedLetterReasonForm

VIEW = "invoices.view_redletterrequest"
CHANGE = "invoices.change_redletterrequest"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def red_letter_context(invoice: Invoice, user) -> dict:
    """What the invoice page shows of a credit note's red letter: its request with the form's data and the
    steps' forms (the fapiao themselves, with their 已红冲 status: invoice_fapiaos in the page's context)."""
    context = {}
    if invoice.kind != InvoiceKind.CREDIT_NOTE or not user.has_perm(VIEW):
        return context
    request = current_request(invoice)
    context["red_letter"] = request
    if request is None:
        if blue_fapiao_of(invoice.credits) is not None:
            context["red_letter_start_form"] = RedLetterReasonForm(
                initial={"reason": default_reason(invoice)}
            )
        return context
    status = red_letter_status(request)
    context |= {
        "red_letter_status": status,
        "red_letter_status_label": RedLetterStatus(status).label,
        "red_letter_deadline": confirm_deadline(request) if status == RedLetterStatus.WAITING else None,
        "red_letter_form": red_letter_form_rows(request),
        "red_letter_remark": red_letter_remark(request) if request.form_number else "",
    }
    if status == RedLetterStatus.DRAFT:
        context["red_letter_reason_form"] = RedLetterReasonForm(initial={"reason": request.reason})
    if status in (RedLetterStatus.DRAFT, RedLetterStatus.WAITING, RedLetterStatus.CONFIRMED):
        context["red_letter_record_form"] = RedLetterFormRecordForm(
            initial={"form_number": request.form_number, "status": RedLetterStatus.CONFIRMED}
        )
    if status == RedLetterStatus.CONFIRMED:
        context["red_fapiao_form"] = RedFapiaoForm()
    return context


def _credit_note(request, pk: int) -> Invoice:
    note = get_object_or_404(Invoice.objects.select_related("customer", "credits"), pk=pk)
    if not acts_for(user=request.user, customer=note.customer):
        raise PermissionDenied
    return note


def _no_request(request, note: Invoice):
    messages.error(request, _("%(note)s has no red-letter request.") % {"note": note})
    return redirect("invoices:invoice", pk=note.pk)


@require_POST
@login_required
@permission_required(CHANGE, raise_exception=True)
def red_letter_start_view(request, pk: int):
    """Starts a request for a credit note issued before its invoice's blue fapiao was recorded."""
    note = _credit_note(request, pk)
    form = RedLetterReasonForm(request.POST)
    if not form.is_valid():
        form_errors_message(request, form)
        return redirect("invoices:invoice", pk=pk)
    done, _started = run_service(
        request,
        lambda: red_letter_request_create(
            credit_note=note, reason=form.cleaned_data["reason"], by=request.user
        ),
    )
    if done:
        messages.success(request, _("Red-letter request started."))
    return redirect("invoices:invoice", pk=pk)


@require_POST
@login_required
@permission_required(CHANGE, raise_exception=True)
def red_letter_reason_view(request, pk: int):
    note = _credit_note(request, pk)
    red_letter = live_request(note)
    if red_letter is None:
        return _no_request(request, note)
    form = RedLetterReasonForm(request.POST)
    if not form.is_valid():
        form_errors_message(request, form)
        return redirect("invoices:invoice", pk=pk)
    done, _changed = run_service(
        request,
        lambda: red_letter_request_set_reason(
            request=red_letter, reason=form.cleaned_data["reason"], by=request.user
        ),
    )
    if done:
        messages.success(request, _("Reason recorded."))
    return redirect("invoices:invoice", pk=pk)


@require_GET
@login_required
@permission_required(VIEW, raise_exception=True)
def red_letter_form_download(request, pk: int):
    """The confirmation form's data as a workbook of text cells, to fill the platform's form."""
    note = _credit_note(request, pk)
    red_letter = current_request(note)
    if red_letter is None:
        return _no_request(request, note)
    response = HttpResponse(red_letter_form_xlsx(red_letter), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="red-letter-{note.number or note.pk}.xlsx"'
    return response


def _live_step(request, pk: int, form_class, step, done_message):
    """A step on the credit note's live request from its page: the form checked, then ``step(request,
    cleaned_data)`` through the service, its message on success, back to the page."""
    note = _credit_note(request, pk)
    red_letter = live_request(note)
    if red_letter is None:
        return _no_request(request, note)
    form = form_class(request.POST)
    if not form.is_valid():
        form_errors_message(request, form)
        return redirect("invoices:invoice", pk=pk)
    done, recorded = run_service(request, lambda: step(red_letter, form.cleaned_data))
    if done:
        messages.success(request, done_message(recorded))
    return redirect("invoices:invoice", pk=pk)


@require_POST
@login_required
@permission_required(CHANGE, raise_exception=True)
def red_letter_form_record_view(request, pk: int):
    return _live_step(
        request,
        pk,
        RedLetterFormRecordForm,
        lambda red_letter, data: red_letter_form_record(
            request=red_letter, form_number=data["form_number"], status=data["status"], by=request.user
        ),
        lambda recorded: (
            _("Form %(form)s recorded: %(status)s.")
            % {"form": recorded.form_number, "status": recorded.get_status_display()}
        ),
    )


@require_POST
@login_required
@permission_required(CHANGE, raise_exception=True)
def red_letter_red_record_view(request, pk: int):
    return _live_step(
        request,
        pk,
        RedFapiaoForm,
        lambda red_letter, data: red_letter_red_record(
            request=red_letter, number=data["number"], issued_on=data["issued_on"], by=request.user
        ),
        lambda recorded: _("Red fapiao %(number)s recorded.") % {"number": recorded.red.number},
    )


@require_POST
@login_required
@permission_required(CHANGE, raise_exception=True)
def red_letter_replace_view(request, pk: int):
    note = _credit_note(request, pk)
    red_letter = current_request(note)
    if red_letter is None:
        return _no_request(request, note)
    done, _replacement = run_service(
        request, lambda: red_letter_request_replace(request=red_letter, by=request.user)
    )
    if done:
        messages.success(request, _("A new red-letter request replaces the void one."))
    return redirect("invoices:invoice", pk=pk)


# The list of requests


def effective_status():
    """The status as red_letter_status reads it, in SQL: a form waiting past its deadline is void."""
    deadline = timezone.now() - datetime.timedelta(hours=settings.RED_LETTER_CONFIRM_HOURS)
    return Case(
        When(Q(status=RedLetterStatus.WAITING, submitted_at__lte=deadline), then=Value(RedLetterStatus.VOID)),
        default=F("status"),
        output_field=CharField(),
    )


class RedLetterFilter(SearchFilterSet):
    search_fields = (
        "credit_note__customer__code",
        "credit_note__customer__legal_name",
        "credit_note__number",
        "credit_note__credits__number",
        "blue__number",
        "form_number",
        "red__number",
    )
    reason = django_filters.ChoiceFilter(label=gettext_lazy("Reason"), choices=RedLetterReason.choices)

    class Meta:
        model = RedLetterRequest
        fields = []


class RedLetterTable(StaffTable):
    credit_note = tables.Column(
        verbose_name=gettext_lazy("Credit note"), linkify=True, order_by=("credit_note__number",)
    )
    customer, customer_name = customer_columns("credit_note__customer")
    invoice = tables.Column(
        verbose_name=gettext_lazy("Invoice"),
        accessor="credit_note__credits",
        linkify=True,
        order_by=("credit_note__credits__number",),
    )
    blue = tables.Column(verbose_name=gettext_lazy("Blue fapiao"), order_by=("blue__number",))
    reason = tables.Column(verbose_name=gettext_lazy("Reason"))
    current_status = tables.Column(verbose_name=gettext_lazy("Status"))
    form_number = tables.Column(verbose_name=gettext_lazy("Confirmation form number"))
    submitted_at = tables.DateTimeColumn(verbose_name=gettext_lazy("Form submitted"), format="Y-m-d H:i")
    red = tables.Column(verbose_name=gettext_lazy("Red fapiao"), order_by=("red__number",))
    gross = tables.Column(verbose_name=gettext_lazy("Red total"), accessor="red__gross", orderable=False)

    class Meta(StaffTable.Meta):
        attrs = {"class": "list red-letter"}
        row_attrs = {"class": "red-letter-request"}

    def render_reason(self, record):
        return record.get_reason_display()

    def render_current_status(self, value):
        return format_html('<span class="badge status-{}">{}</span>', value, RedLetterStatus(value).label)

    def value_current_status(self, value):
        return RedLetterStatus(value).label


class RedLetterList(StaffListView):
    permission_required = VIEW
    filterset_class = RedLetterFilter
    table_class = RedLetterTable
    title = gettext_lazy("Red-letter requests")
    section = "red_letter"
    export_name = "red-letter-requests"
    tabs = {
        "open": (
            gettext_lazy("To do"),
            {
                "current_status__in": [
                    RedLetterStatus.DRAFT,
                    RedLetterStatus.WAITING,
                    RedLetterStatus.CONFIRMED,
                ]
            },
        ),
        "waiting": (gettext_lazy("Waiting for the buyer"), {"current_status": RedLetterStatus.WAITING}),
        "void": (
            gettext_lazy("Void, to replace"),
            {"current_status": RedLetterStatus.VOID, "replaced_by__isnull": True},
        ),
        "issued": (gettext_lazy("Red fapiao issued"), {"current_status": RedLetterStatus.ISSUED}),
        "all": (gettext_lazy("All"), {}),
    }

    def queryset(self):
        return (
            RedLetterRequest.objects.select_related(
                "credit_note__customer", "credit_note__credits", "blue", "red"
            )
            .annotate(current_status=effective_status())
            .order_by("-created_at", "-pk")
        )
