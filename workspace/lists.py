"""Every staff list works one way: a django-filter FilterSet (search, filters, all in the URL, so a view
can be bookmarked and shared), a django-tables2 Table (sorting by its columns, paging with the total count),
and an export of exactly the filtered rows, sorted as shown, as CSV or XLSX with every cell escaped by
billing.spreadsheets' formula rule. A list names its queryset, filters and table; this module does the rest.
"""

import datetime
from decimal import Decimal

import django_filters
import django_tables2 as tables
import tablib
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.paginator import EmptyPage
from django.db.models import Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from django_tables2 import RequestConfig
from django_tables2.tables import DeclarativeColumnsMetaclass
from djmoney.money import Money

from billing.money import round_fen
from billing.spreadsheets import formula_escaped_dataset
from invoices.exports import dataset_bytes

EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
MAX_SEARCH_TERMS = 5


class SearchFilterSet(django_filters.FilterSet):
    """A FilterSet with one search box: every word must match one of ``search_fields`` (case-insensitive,
    contains), so "ACME 2025" finds ACME's documents numbered or dated 2025. ``search_distinct``: a search
    field that goes through a to-many relation (an invoice's lines) would repeat a row per match."""

    q = django_filters.CharFilter(label=_("Search"), method="search", max_length=200)
    search_fields: tuple[str, ...] = ()
    search_distinct = False

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        for term in value.split()[:MAX_SEARCH_TERMS]:
            matches = Q()
            for field in self.search_fields:
                matches |= Q(**{f"{field}__icontains": term})
            queryset = queryset.filter(matches)
        return queryset.distinct() if self.search_distinct else queryset


def date_range(field_name: str, label) -> django_filters.DateFromToRangeFilter:
    """From and to dates (both optional, inclusive), as ``<name>_after`` and ``<name>_before`` in the URL."""
    return django_filters.DateFromToRangeFilter(
        field_name=field_name,
        label=label,
        widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date"}),
    )


def account_managers(request):
    """The staff users who manage at least one customer, for the account-manager filter."""
    return get_user_model().objects.filter(managed_customers__isnull=False).distinct().order_by("username")


def account_manager_filter(field_name: str) -> django_filters.ModelChoiceFilter:
    return django_filters.ModelChoiceFilter(
        field_name=field_name, label=_("Account manager"), queryset=account_managers
    )


def currency_filter(field_name: str) -> django_filters.ChoiceFilter:
    return django_filters.ChoiceFilter(
        field_name=field_name,
        label=_("Currency"),
        choices=[(code, code) for code in settings.CURRENCIES],
    )


class _MetaInherited(DeclarativeColumnsMetaclass):
    """django-tables2 reads only a table's own Meta: a staff table that declares none takes its parent's
    (the paging with the total, the look), as one declaring ``class Meta(Parent.Meta)`` does."""

    def __new__(mcs, name, bases, attrs):
        if "Meta" not in attrs:
            parent = next((base.Meta for base in bases if hasattr(base, "Meta")), None)
            if parent is not None:
                attrs["Meta"] = type("Meta", (parent,), {})
        return super().__new__(mcs, name, bases, attrs)


class StaffTable(tables.Table, metaclass=_MetaInherited):
    """The look every staff list shares; columns with ``exclude_from_export`` (check boxes, buttons) are
    left out of exports."""

    class Meta:
        template_name = "workspace/table.html"
        attrs = {"class": "list"}
        empty_text = _("None.")


def selection_column() -> tables.CheckBoxColumn:
    """The check box of a row for a bulk action: posted as ``selected`` with the row's primary key."""
    return tables.CheckBoxColumn(
        accessor="pk",
        attrs={"input": {"name": "selected"}, "th__input": {"aria-label": _("Select all")}},
        exclude_from_export=True,
        orderable=False,
    )


def customer_link(customer) -> str:
    url = reverse("invoices:customer", args=[customer.code])
    return format_html(
        '<a href="{}">{}</a> <span class="muted">{}</span>', url, customer.legal_name, customer.code
    )


class CustomerColumn(tables.Column):
    """The customer's legal name and code, linking its page; sorted by code, exported as the code (the
    name goes to an export-only column, see customer_columns)."""

    def __init__(self, accessor: str = "customer", **kwargs):
        kwargs.setdefault("verbose_name", _("Customer"))
        kwargs.setdefault("order_by", (f"{accessor}__code",))
        super().__init__(accessor=accessor, **kwargs)

    def render(self, value):
        return customer_link(value)

    def value(self, value):
        return value.code


def customer_columns(accessor: str = "customer") -> tuple[CustomerColumn, tables.Column]:
    """A customer column and, for exports only, its legal name beside the code:
    ``customer, customer_name = customer_columns()`` in a table."""
    column = CustomerColumn(accessor)
    name = tables.Column(accessor=f"{accessor}__legal_name", verbose_name=_("Customer name"), visible=False)
    return column, name


class MoneyColumn(tables.Column):
    """An amount in its currency (read from ``currency`` on the row, or from a Money value); exported as
    the bare amount, with the currency in a column of its own where a list needs it."""

    def __init__(self, *args, currency: str = "currency", **kwargs):
        self.currency = currency
        kwargs.setdefault("attrs", {"td": {"class": "num"}, "th": {"class": "num"}})
        super().__init__(*args, **kwargs)

    def render(self, value, record):
        if isinstance(value, Money):
            return value
        return Money(value, tables.A(self.currency).resolve(record))

    def value(self, value, record):
        amount = value.amount if isinstance(value, Money) else value
        return None if amount is None else round_fen(Decimal(amount))


class StaffListView(LoginRequiredMixin, PermissionRequiredMixin, View):
    """A staff list: ``queryset()`` narrowed by ``filterset_class`` from the URL, shown by ``table_class``
    ``per_page`` rows a page, sorted by the column in ``?sort=``; ``?export=csv`` or ``xlsx`` answers the
    same rows, every page, as a file. ``bulk_actions`` (url name, [(decision, label)]) wraps the table in a
    form posting the selected rows."""

    # a visitor who is not signed in goes to the sign-in page; a signed-in user without the permission
    # gets the 403 page (AccessMixin.handle_no_permission)
    raise_exception = False
    filterset_class: type[SearchFilterSet]
    table_class: type[StaffTable]
    template_name = "workspace/list.html"
    title = ""
    section = ""  # the finance menu's current item, when the list is one of finance's
    export_name = "list"
    per_page = 50
    bulk_url = ""
    bulk_actions: tuple = ()
    bulk_reason = False  # the bulk form asks a reason (to reject)
    # tabs: name -> (label, filters of the queryset); the first is the default, ``?tab=`` picks one
    tabs: dict = {}

    def current_tab(self) -> str:
        tab = self.request.GET.get("tab", "")
        return tab if tab in self.tabs else next(iter(self.tabs), "")

    def tabbed(self, queryset: QuerySet) -> QuerySet:
        if not self.tabs:
            return queryset
        return queryset.filter(**self.tabs[self.current_tab()][1])

    def tab_links(self, queryset: QuerySet) -> list[dict]:
        current = self.current_tab()
        return [
            {
                "name": name,
                "label": label,
                "count": queryset.filter(**filters).count(),
                "current": name == current,
            }
            for name, (label, filters) in self.tabs.items()
        ]

    def queryset(self) -> QuerySet:
        raise NotImplementedError

    def table_kwargs(self) -> dict:
        return {}

    def extra_context(self) -> dict:
        return {}

    def get(self, request, *args, **kwargs):
        everything = self.queryset()
        self.filterset = filterset = self.filterset_class(
            request.GET or None, queryset=self.tabbed(everything), request=request
        )
        rows = filterset.qs
        table = self.table_class(rows, request=request, **self.table_kwargs())
        export = request.GET.get("export")
        if export in EXPORT_TYPES:
            RequestConfig(request, paginate=False).configure(table)
            return self.export(request, table, rows, export)
        RequestConfig(request, paginate=False).configure(table)
        self.paginate(request, table)
        context = {
            "title": self.title,
            "section": self.section,
            "filter": filterset,
            "table": table,
            "bulk_url": reverse(self.bulk_url) if self.bulk_url else "",
            "bulk_actions": self.bulk_actions,
            "bulk_reason": self.bulk_reason,
            "tabs": self.tab_links(everything),
            "current_tab": self.current_tab() if self.tabs else "",
            **self.extra_context(),
        }
        return TemplateResponse(request, self.template_name, context)

    def paginate(self, request, table: StaffTable) -> None:
        """``?page=`` and ``?per_page=`` (at most LIST_MAX_PER_PAGE); a page past the end shows the last."""
        per_page = _number(request.GET.get("per_page"), self.per_page)
        per_page = min(max(per_page, 1), settings.LIST_MAX_PER_PAGE)
        try:
            table.paginate(page=_number(request.GET.get("page"), 1), per_page=per_page)
        except EmptyPage:
            table.page = table.paginator.page(table.paginator.num_pages)

    def export(self, request, table: StaffTable, rows: QuerySet, format: str) -> HttpResponse:
        limit = settings.LIST_EXPORT_MAX_ROWS
        if rows.count() > limit:
            messages.error(
                request,
                gettext("More than %(limit)s rows: narrow the filters to export them.") % {"limit": limit},
            )
            query = request.GET.copy()
            query.pop("export", None)
            return redirect(f"{request.path}?{query.urlencode()}")
        values = table.as_values()
        dataset = formula_escaped_dataset(_dataset(next(values), values))
        name = f"{self.export_name}-{datetime.date.today():%Y%m%d}.{format}"
        response = HttpResponse(dataset_bytes(dataset, format), content_type=EXPORT_TYPES[format])
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


def _number(text: str | None, default: int) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        return default


def _dataset(headers, rows) -> tablib.Dataset:
    dataset = tablib.Dataset(headers=[str(header) for header in headers])
    for row in rows:
        dataset.append([_cell(value) for value in row])
    return dataset


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, Money):
        return value.amount
    if isinstance(value, (int, float, datetime.date)) or hasattr(value, "as_tuple"):
        return value
    return str(value)
