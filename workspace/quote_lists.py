"""Sales' lists: quotes, service orders and the renewal pipeline; each with search, filters, sorting,
paging and export (workspace.lists). A quote's total is quotes.selectors' annotation (quote_totals' rule,
the sum of its lines' stored gross) and a period's renewal quote one too, so they sort and filter in the
database and a page costs a fixed number of queries whatever the data."""

import datetime

import django_filters
import django_tables2 as tables
from dateutil.relativedelta import relativedelta
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from djmoney.money import Money

from contracts.selectors import PeriodStatus
from quotes.models import OrderStatus, Quote, QuoteKind, QuoteStatus, ServiceOrder
from quotes.selectors import quote_gross_sql, with_renewal_quote
from quotes.services import largest_discount, quote_can_approve
from workspace.contract_lists import PeriodFilter, PeriodTable, periods_listed
from workspace.lists import (
    MoneyColumn,
    SearchFilterSet,
    StaffListView,
    StaffTable,
    account_manager_filter,
    currency_filter,
    customer_columns,
    date_range,
)

CUSTOMER_SEARCH = ("customer__code", "customer__legal_name")


def quote_reference(number: str, revision: int) -> str:
    return Quote(number=number, revision=revision).reference


# Quotes


class QuoteFilter(SearchFilterSet):
    search_fields = (*CUSTOMER_SEARCH, "number", "lines__description")
    search_distinct = True  # a quote with two matching lines once
    status = django_filters.ChoiceFilter(label=_("Status"), choices=QuoteStatus.choices)
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=QuoteKind.choices)
    created = date_range("created_at", _("Created"))
    sent = date_range("sent_at", _("Sent"))
    valid = date_range("valid_until", _("Valid until"))
    account_manager = account_manager_filter("customer__account_manager")
    currency = currency_filter("currency")

    class Meta:
        model = Quote
        fields = []


class QuoteTable(StaffTable):
    reference = tables.Column(verbose_name=_("Quote"), empty_values=(), order_by=("number", "revision"))
    customer, customer_name = customer_columns()
    kind = tables.Column(verbose_name=_("Kind"))
    status = tables.Column(verbose_name=_("Status"))
    created_at = tables.DateColumn(verbose_name=_("Created"), format="Y-m-d")
    sent_at = tables.DateColumn(verbose_name=_("Sent"), format="Y-m-d")
    valid_until = tables.DateColumn(verbose_name=_("Valid until"), format="Y-m-d")
    currency = tables.Column(verbose_name=_("Currency"))
    gross_total = MoneyColumn(verbose_name=_("Total"))

    def render_reference(self, record):
        return format_html(
            '<a href="{}">{}</a>', reverse("quotes:builder", args=[record.pk]), record.reference
        )

    def value_reference(self, record):
        return record.reference


class QuoteList(StaffListView):
    """Every quote with its total; above, the discounts waiting for this user's approval
    (quotes.services.quote_can_approve), however many quotes there are."""

    permission_required = "quotes.view_quote"
    filterset_class = QuoteFilter
    table_class = QuoteTable
    template_name = "quotes/quotes.html"
    title = _("Quotes")
    export_name = "quotes"

    def queryset(self):
        return (
            Quote.objects.select_related("customer")
            .annotate(gross_total=quote_gross_sql())
            .order_by("-created_at", "-revision", "-pk")
        )

    def extra_context(self):
        pending = (
            Quote.objects.filter(status=QuoteStatus.PENDING_APPROVAL)
            .select_related("customer__account_manager")
            .prefetch_related("lines")
            .annotate(gross_total=quote_gross_sql())
            .order_by("created_at")
        )
        user = self.request.user
        waiting = [
            (quote, Money(quote.gross_total, quote.currency), largest_discount(quote))
            for quote in pending
            if quote_can_approve(quote, user)
        ]
        return {"waiting": waiting}


# Service orders


class OrderFilter(SearchFilterSet):
    search_fields = (*CUSTOMER_SEARCH, "quote__number")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=OrderStatus.choices)
    ordered = date_range("created_at", _("Ordered"))
    closed = date_range("closed_at", _("Closed"))
    account_manager = account_manager_filter("customer__account_manager")
    currency = currency_filter("quote__currency")

    class Meta:
        model = ServiceOrder
        fields = []


class OrderTable(StaffTable):
    order = tables.Column(
        verbose_name=_("Order"), empty_values=(), order_by=("quote__number", "quote__revision")
    )
    customer, customer_name = customer_columns()
    status = tables.Column(verbose_name=_("Status"))
    created_at = tables.DateColumn(verbose_name=_("Ordered"), format="Y-m-d")
    closed_at = tables.DateColumn(verbose_name=_("Closed"), format="Y-m-d")
    currency = tables.Column(verbose_name=_("Currency"), accessor="quote__currency")
    gross_total = MoneyColumn(verbose_name=_("Total"), currency="quote__currency")
    account_manager = tables.Column(
        verbose_name=_("Account manager"), accessor="customer__account_manager", default="—"
    )

    def render_order(self, record):
        """The order's page, named by its quote."""
        return format_html(
            '<a href="{}">{}</a>', reverse("invoices:order", args=[record.pk]), record.quote.reference
        )

    def value_order(self, record):
        return record.quote.reference


class OrderList(StaffListView):
    permission_required = "quotes.view_serviceorder"
    filterset_class = OrderFilter
    table_class = OrderTable
    title = _("Service orders")
    export_name = "service-orders"

    def queryset(self):
        return (
            ServiceOrder.objects.select_related("quote", "customer__account_manager")
            .annotate(gross_total=quote_gross_sql(quote="quote"))
            .order_by("-created_at", "-pk")
        )


# The renewal pipeline

RENEWAL_STATES = {
    "none": (_("no renewal quote"), Q(renewal_quote_status__isnull=True)),
    "drafted": (
        pgettext_lazy("renewal quote", "drafted"),
        Q(
            renewal_quote_status__in=[
                QuoteStatus.DRAFT,
                QuoteStatus.PENDING_APPROVAL,
                QuoteStatus.APPROVED,
            ]
        ),
    ),
    "sent": (pgettext_lazy("renewal quote", "sent"), Q(renewal_quote_status=QuoteStatus.SENT)),
    "accepted": (pgettext_lazy("renewal quote", "accepted"), Q(renewal_quote_status=QuoteStatus.ACCEPTED)),
    "declined": (
        pgettext_lazy("renewal quote", "declined or closed"),
        Q(renewal_quote_status__in=[QuoteStatus.DECLINED, QuoteStatus.CLOSED, QuoteStatus.FINAL]),
    ),
}


class PipelineFilter(PeriodFilter):
    renewal = django_filters.ChoiceFilter(
        label=_("Renewal quote"),
        choices=[(name, label) for name, (label, _condition) in RENEWAL_STATES.items()],
        method="by_renewal",
    )

    def by_renewal(self, queryset, name, value):
        return queryset.filter(RENEWAL_STATES[value][1])


class PipelineTable(PeriodTable):
    renewal_quote = tables.Column(
        verbose_name=_("Renewal quote"),
        accessor="renewal_quote_status",
        order_by=("renewal_quote_status", "renewal_quote_number"),
        default="–",
    )
    actions = tables.Column(verbose_name="", empty_values=(), orderable=False, exclude_from_export=True)

    class Meta(PeriodTable.Meta):
        sequence = (
            *("customer", "customer_name", "contract", "products", "tier", "kind"),
            *("start", "end", "fee", "state", "..."),
        )
        empty_text = _("No service period ends in these months.")

    def render_renewal_quote(self, record):
        return format_html(
            '<a href="{}">{}</a> · {}',
            reverse("quotes:builder", args=[record.renewal_quote_id]),
            quote_reference(record.renewal_quote_number, record.renewal_quote_revision),
            QuoteStatus(record.renewal_quote_status).label,
        )

    def value_renewal_quote(self, record):
        return (
            f"{quote_reference(record.renewal_quote_number, record.renewal_quote_revision)} "
            f"{QuoteStatus(record.renewal_quote_status).label}"
        )

    def render_actions(self, record):
        """What may be done for the period from here: its customer's page, and (when it has one) its
        renewal quote; the steps of the renewal go here."""
        links = [
            format_html(
                '<a class="button small secondary" href="{}">{}</a>',
                reverse("invoices:customer", args=[record.contract.customer.code]),
                _("Customer"),
            )
        ]
        if record.renewal_quote_id:
            links.append(
                format_html(
                    '<a class="button small" href="{}">{}</a>',
                    reverse("quotes:builder", args=[record.renewal_quote_id]),
                    _("Open the renewal quote"),
                )
            )
        elif record.state != PeriodStatus.RENEWED and self.request.user.has_perm("quotes.add_quote"):
            links.append(
                format_html(
                    '<form method="post" action="{}" class="inline">'
                    '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
                    '<button class="button small secondary" type="submit" name="draft-renewal">{}</button>'
                    "</form>",
                    reverse("quotes:draft-renewal", args=[record.pk]),
                    get_token(self.request),
                    _("Draft the renewal quote"),
                )
            )
        return format_html(" ".join(["{}"] * len(links)), *links)


class PipelineList(StaffListView):
    """Periods by their end, with their fee, state and renewal quote; above, the ending periods and their
    fees by month (per currency: two currencies are never added). The first tab is the pipeline's window,
    three months back to twelve ahead."""

    permission_required = "quotes.view_quote"
    filterset_class = PipelineFilter
    table_class = PipelineTable
    template_name = "quotes/pipeline.html"
    title = _("Renewal pipeline")
    export_name = "renewals"

    @cached_property
    def tabs(self):
        first = timezone.localdate().replace(day=1) - relativedelta(months=3)
        last = first + relativedelta(months=16) - datetime.timedelta(days=1)
        return {
            "window": (
                _("Ending %(first)s to %(last)s") % {"first": f"{first:%Y-%m}", "last": f"{last:%Y-%m}"},
                {"end__range": (first, last)},
            ),
            "all": (_("All periods"), {}),
        }

    def queryset(self):
        return with_renewal_quote(periods_listed()).order_by("end", "contract__customer__code", "pk")

    def extra_context(self):
        rows = (
            self.filterset.qs.order_by()
            .prefetch_related(None)
            .annotate(month=TruncMonth("end"))
            .values("month", "fee_currency")
            .annotate(periods=Count("pk"), fees=Sum("fee"))
            .order_by("month", "fee_currency")
        )
        months: dict[datetime.date, dict] = {}
        for row in rows:
            month = months.setdefault(row["month"], {"month": row["month"], "periods": 0, "fees": []})
            month["periods"] += row["periods"]
            month["fees"].append(Money(row["fees"], row["fee_currency"]))
        return {"months": list(months.values())}
