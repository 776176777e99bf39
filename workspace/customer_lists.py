"""The customers list (/staff/customers/): each customer with its tier and the end of the period in force,
its licensed products, what is open on its issued invoices and its account manager; the signed-in account
manager's own customers first."""

from decimal import Decimal

import django_filters
import django_tables2 as tables
from django.conf import settings
from django.db.models import Case, DecimalField, IntegerField, OuterRef, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money

from catalog.models import Product, ServiceTier
from contracts.models import Customer
from contracts.selectors import customers_with_current_period
from invoices.models import Invoice, InvoiceKind, InvoiceStatus
from invoices.selectors import invoice_balance_sql
from workspace.lists import SearchFilterSet, StaffListView, StaffTable, account_manager_filter, customer_link


def open_on_issued_invoices(customer_ref: OuterRef, currency: str):
    """What is open on a customer's issued invoices in ``currency`` (invoice_balance's rule, summed)."""
    open_invoices = (
        Invoice.objects.filter(
            customer=customer_ref, kind=InvoiceKind.INVOICE, status=InvoiceStatus.ISSUED, currency=currency
        )
        .annotate(open_amount=invoice_balance_sql())
        .order_by()
        .values("customer")
        .annotate(total=Sum("open_amount"))
        .values("total")
    )
    amounts = DecimalField(max_digits=14, decimal_places=2)
    return Coalesce(Subquery(open_invoices, output_field=amounts), Value(Decimal(0)), output_field=amounts)


class CustomerFilter(SearchFilterSet):
    search_fields = ("code", "legal_name", "uscc", "city", "contacts__name", "contacts__email")
    search_distinct = True  # a customer with two matching contacts once
    account_manager = account_manager_filter("account_manager")
    tier = django_filters.ModelChoiceFilter(
        label=_("Tier"), queryset=ServiceTier.objects.all(), method="by_tier"
    )
    product = django_filters.ModelChoiceFilter(
        label=_("Product"),
        queryset=Product.objects.all(),
        field_name="contracts__products__product",
        distinct=True,
    )
    covered = django_filters.BooleanFilter(label=_("In a service period today"), method="by_cover")
    ending = django_filters.DateFromToRangeFilter(
        label=_("Period in force ends"),
        field_name="current_end",
        widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date"}),
    )

    class Meta:
        model = Customer
        fields = ["region"]

    def by_tier(self, queryset, name, value):
        return queryset.filter(current_tier_id=value.pk)

    def by_cover(self, queryset, name, value):
        return queryset.filter(current_end__isnull=not value)


class CustomerTable(StaffTable):
    code = tables.Column(verbose_name=_("Customer"))
    account_manager = tables.Column(
        verbose_name=_("Account manager"), order_by=("account_manager__username",)
    )
    tier = tables.Column(verbose_name=_("Tier"), accessor="current_tier_id", order_by=("current_tier_id",))
    current_end = tables.DateColumn(verbose_name=_("Period in force ends"), format="Y-m-d")
    products = tables.Column(verbose_name=_("Products"), empty_values=(), orderable=False)
    open_default = tables.Column(
        verbose_name=_("Open (%(currency)s)") % {"currency": settings.DEFAULT_CURRENCY},
        attrs={"td": {"class": "num"}, "th": {"class": "num"}},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._tiers = None

    def render_code(self, record):
        return customer_link(record)

    def value_code(self, record):
        return f"{record.code} {record.legal_name}"

    def render_tier(self, value):
        if self._tiers is None:
            self._tiers = ServiceTier.objects.in_bulk()
        return self._tiers[value].name if value in self._tiers else "–"

    def value_tier(self, value):
        return self.render_tier(value) if value else ""

    def render_current_end(self, value):
        return value.isoformat() if value else "–"

    def render_products(self, record):
        codes = sorted(
            {
                licence.product.code
                for contract in record.contracts.all()
                for licence in contract.products.all()
            }
        )
        return ", ".join(codes)

    def value_products(self, record):
        return self.render_products(record)

    def render_open_default(self, value):
        return Money(value, settings.DEFAULT_CURRENCY)

    def value_open_default(self, value):
        return value


class CustomerList(StaffListView):
    permission_required = "contracts.view_customer"
    filterset_class = CustomerFilter
    table_class = CustomerTable
    template_name = "workspace/customers.html"
    title = _("Customers")
    export_name = "customers"

    def queryset(self):
        mine = Case(
            When(account_manager=self.request.user, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
        customers = customers_with_current_period(Customer.objects.all(), today=timezone.localdate())
        return (
            customers.select_related("account_manager")
            .prefetch_related("contracts__products__product")
            .annotate(
                mine=mine, open_default=open_on_issued_invoices(OuterRef("pk"), settings.DEFAULT_CURRENCY)
            )
            .order_by("mine", "code")
        )
