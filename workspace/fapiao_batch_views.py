"""Finance's fapiao pages (issue 16, issuing): the issued invoices that need a fapiao, by customer and age,
exported as the e-invoice platform's batch workbook (invoices.fapiao_batch); and the batches sent, each
downloadable again. A refused batch shows every problem, invoice by invoice, and writes nothing."""

import datetime

import django_filters
import django_tables2 as tables
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from billing.errors import BillingError
from contracts.models import FapiaoType
from invoices.fapiao_batch import FapiaoBatchFile, FapiaoBatchRefused, fapiao_batch_create, fapiao_batch_file
from invoices.models import FapiaoBatch, Invoice, InvoiceKind, InvoiceStatus
from invoices.selectors import (
    FAPIAO_NONE,
    FAPIAO_REQUESTED,
    FAPIAO_STATES,
    blue_fapiao_sql,
    fapiao_state_sql,
    invoice_gross_sql,
    invoice_uncredited_sql,
)
from workspace.bulk_views import _back, _selected
from workspace.finance_lists import CUSTOMER_SEARCH, InvoiceNumberColumn
from workspace.lists import (
    MoneyColumn,
    SearchFilterSet,
    StaffListView,
    StaffTable,
    customer_columns,
    date_range,
    selection_column,
)

# days since the invoice was issued
AGES = {"0-30": (0, 30), "31-60": (31, 60), "61-90": (61, 90), "90+": (91, None)}


class FapiaoNeededFilter(SearchFilterSet):
    search_fields = (*CUSTOMER_SEARCH, "number", "customer__fapiao_details__title")
    customer = django_filters.CharFilter(
        field_name="customer__code", lookup_expr="iexact", label=gettext_lazy("Customer code")
    )
    age = django_filters.ChoiceFilter(
        label=gettext_lazy("Days since issued"), choices=[(age, age) for age in AGES], method="by_age"
    )
    state = django_filters.ChoiceFilter(
        label=gettext_lazy("Fapiao"),
        choices=[
            (FAPIAO_NONE, FAPIAO_STATES[FAPIAO_NONE]),
            (FAPIAO_REQUESTED, FAPIAO_STATES[FAPIAO_REQUESTED]),
        ],
        field_name="fapiao_state",
        empty_label=gettext_lazy("any"),
    )
    fapiao_type = django_filters.ChoiceFilter(
        field_name="customer__fapiao_details__fapiao_type",
        label=gettext_lazy("Fapiao type"),
        choices=FapiaoType.choices,
        empty_label=gettext_lazy("any"),
    )
    issued = date_range("issue_date", gettext_lazy("Issued"))

    class Meta:
        model = Invoice
        fields = []

    def by_age(self, queryset, name, value):
        today = timezone.localdate()
        first, last = AGES[value]
        queryset = queryset.filter(issue_date__lte=today - datetime.timedelta(days=first))
        if last is not None:
            queryset = queryset.filter(issue_date__gte=today - datetime.timedelta(days=last))
        return queryset


class FapiaoNeededTable(StaffTable):
    selected = selection_column()
    number = InvoiceNumberColumn(
        verbose_name=gettext_lazy("Invoice"), empty_values=(), order_by=("series", "year", "sequence")
    )
    customer, customer_name = customer_columns()
    issue_date = tables.DateColumn(verbose_name=gettext_lazy("Issued"), format="Y-m-d")
    days = tables.Column(
        verbose_name=gettext_lazy("Days since issued"), empty_values=(), order_by=("-issue_date",)
    )
    fapiao_type = tables.Column(
        verbose_name=gettext_lazy("Fapiao type"),
        accessor="customer__fapiao_details__fapiao_type",
        default="–",
    )
    gross_total = MoneyColumn(verbose_name=gettext_lazy("Total"))
    fapiao_state = tables.Column(verbose_name=gettext_lazy("Fapiao"))

    class Meta(StaffTable.Meta):
        attrs = {"class": "list invoices fapiao"}
        row_attrs = {"class": "invoice"}

    def render_days(self, record):
        return (timezone.localdate() - record.issue_date).days

    def value_days(self, record):
        return self.render_days(record)

    def render_fapiao_type(self, value):
        return FapiaoType(value).label if value in FapiaoType.values else value

    def render_fapiao_state(self, value):
        return FAPIAO_STATES.get(value, value)


class FapiaoNeededList(StaffListView):
    """Issued invoices in yuan with no fapiao standing and not fully credited (requested ones included,
    marked), by customer and oldest first; the selected ones exported as one batch."""

    permission_required = "invoices.add_fapiaobatch"
    filterset_class = FapiaoNeededFilter
    table_class = FapiaoNeededTable
    title = gettext_lazy("Invoices needing a fapiao")
    section = "fapiao"
    export_name = "fapiao-needed"
    bulk_url = "invoices:fapiao-export"
    bulk_actions = (("export", gettext_lazy("Export batch workbook")),)

    def queryset(self):
        return (
            Invoice.objects.filter(kind=InvoiceKind.INVOICE, status=InvoiceStatus.ISSUED, currency="CNY")
            .annotate(has_blue_fapiao=blue_fapiao_sql())
            .filter(has_blue_fapiao=False)
            .select_related("customer", "customer__fapiao_details")
            .annotate(gross_total=invoice_gross_sql(), fapiao_state=fapiao_state_sql())
            .annotate(uncredited=invoice_uncredited_sql())
            .filter(uncredited__gt=0)  # a fully credited invoice needs no fapiao
            .order_by("customer__code", "issue_date", "sequence", "pk")
        )


class FapiaoBatchFilter(SearchFilterSet):
    search_fields = ("invoices__number", "invoices__customer__code", "created_by__username")
    created = date_range("created_at__date", gettext_lazy("Created"))

    class Meta:
        model = FapiaoBatch
        fields = []

    def search(self, queryset, name, value):
        return super().search(queryset, name, value).distinct()


class FapiaoBatchTable(StaffTable):
    pk = tables.Column(verbose_name=gettext_lazy("Batch"))
    created_at = tables.DateTimeColumn(verbose_name=gettext_lazy("Created"), format="Y-m-d H:i")
    created_by = tables.Column(verbose_name=gettext_lazy("By"), default="–")
    invoice_count = tables.Column(verbose_name=gettext_lazy("Invoices"), attrs={"td": {"class": "num"}})
    lines = tables.Column(verbose_name=gettext_lazy("Lines"), attrs={"td": {"class": "num"}})
    workbooks = tables.Column(verbose_name=gettext_lazy("Workbooks"), attrs={"td": {"class": "num"}})
    download = tables.Column(
        verbose_name=gettext_lazy("File"), empty_values=(), orderable=False, exclude_from_export=True
    )

    class Meta(StaffTable.Meta):
        attrs = {"class": "list fapiao-batches"}

    def render_pk(self, value):
        return f"#{value}"

    def render_download(self, record):
        return format_html(
            '<a href="{}" download>{}</a>',
            reverse("invoices:fapiao-batch-download", args=[record.pk]),
            _("Download again"),
        )


class FapiaoBatchList(StaffListView):
    permission_required = "invoices.view_fapiaobatch"
    filterset_class = FapiaoBatchFilter
    table_class = FapiaoBatchTable
    title = gettext_lazy("Fapiao batches")
    section = "fapiao_batches"
    export_name = "fapiao-batches"

    def queryset(self):
        return (
            FapiaoBatch.objects.select_related("created_by")
            .annotate(invoice_count=Count("invoices", distinct=True))
            .order_by("-created_at", "-pk")
        )


def _download(file: FapiaoBatchFile) -> HttpResponse:
    response = HttpResponse(file.content, content_type=file.content_type)
    response["Content-Disposition"] = f'attachment; filename="{file.name}"'
    return response


def _refused(request, error: BillingError, *, back: str, status: int):
    return render(
        request,
        "workspace/fapiao_batch_refused.html",
        {
            "title": _("The batch is refused"),
            "section": "fapiao",
            "refusal": str(error),
            "problems": getattr(error, "problems", []),
            "back": back,
        },
        status=status,
    )


@require_POST
@login_required
@permission_required("invoices.add_fapiaobatch", raise_exception=True)
def fapiao_export_view(request):
    """The selected invoices as one batch: its workbook (or zip of workbooks) downloaded, or every problem."""
    back = _back(request, "invoices:fapiao")
    try:
        _batch, file = fapiao_batch_create(invoices=_selected(request), by=request.user)
    except BillingError as error:  # FapiaoBatchRefused lists every problem
        return _refused(request, error, back=back, status=400)
    return _download(file)


@require_GET
@login_required
@permission_required("invoices.view_fapiaobatch", raise_exception=True)
def fapiao_batch_download(request, pk: int):
    """A batch's file again; refused when one of its invoices has had its fapiao since."""
    batch = get_object_or_404(FapiaoBatch, pk=pk)
    try:
        file = fapiao_batch_file(batch)
    except FapiaoBatchRefused as error:
        return _refused(request, error, back=reverse("invoices:fapiao-batches"), status=409)
    return _download(file)
