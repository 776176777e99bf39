"""The account managers' lists: charge requests (with each row's decision), contracts and service periods;
each with search, filters, sorting, paging and export (workspace.lists). A period's state (active,
upcoming, renewed, lapsed) is contracts.selectors' rule as an annotation, so it filters and sorts in the
database and a page costs a fixed number of queries whatever the data."""

import django_filters
import django_tables2 as tables
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from catalog.models import Product, ServiceTier
from contracts.models import (
    ChargeRequest,
    ChargeStatus,
    Contract,
    ContractKind,
    Customer,
    LicensedProduct,
    PeriodKind,
    ServicePeriod,
)
from contracts.selectors import PERIOD_STATES, PERIOD_STATUS_LABELS, period_status_sql
from contracts.services import charge_request_approval_refusal, charge_request_can_approve
from workspace.lists import (
    MoneyColumn,
    SearchFilterSet,
    StaffListView,
    StaffTable,
    account_manager_filter,
    customer_columns,
    date_range,
)

CUSTOMER_SEARCH = ("customer__code", "customer__legal_name")
WAITING = (ChargeStatus.PENDING_APPROVAL, ChargeStatus.PENDING_FINANCE)


# Charge requests


class ChargeRequestFilter(SearchFilterSet):
    search_fields = (*CUSTOMER_SEARCH, "ticket_ref", "description")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=ChargeStatus.choices)
    raised = date_range("created_at", _("Raised"))
    account_manager = account_manager_filter("customer__account_manager")

    class Meta:
        model = ChargeRequest
        fields = []


class ChargeRequestTable(StaffTable):
    id = tables.Column(verbose_name="#", linkify=("contracts:charge-request", {"pk": tables.A("pk")}))
    customer, customer_name = customer_columns()
    ticket_ref = tables.Column(verbose_name=_("Ticket"))
    description = tables.Column(verbose_name=_("Description"))
    estimate = tables.Column(
        verbose_name=_("Estimate"),
        empty_values=(),
        order_by=("estimated_amount", "estimated_person_days"),
        attrs={"td": {"class": "num"}},
    )
    status = tables.Column(verbose_name=_("Status"))
    created_at = tables.DateTimeColumn(verbose_name=_("Raised"), format="Y-m-d")
    account_manager = tables.Column(
        verbose_name=_("Account manager"), accessor="customer__account_manager", default="—"
    )
    decision = tables.Column(verbose_name="", empty_values=(), orderable=False, exclude_from_export=True)

    class Meta(StaffTable.Meta):
        # a row's id marks a request waiting for this user's decision (its form is in the row)
        row_attrs = {
            "id": lambda record, table: f"charge-{record.pk}" if table.decides(record) else None,
            "class": "charge-request",
        }

    def decides(self, record) -> bool:
        return record.status in WAITING and charge_request_can_approve(record, self.request.user)

    def render_estimate(self, record):
        parts = []
        if record.estimated_amount is not None:
            parts.append(str(record.estimated_amount))
        if record.estimated_person_days:
            parts.append(f"{record.estimated_person_days} {_('person-days')}")
        return " · ".join(parts)

    def value_estimate(self, record):
        return self.render_estimate(record)

    def render_decision(self, record):
        """The approve and reject form where the service would accept this user's approval; where it would
        refuse a request still waiting, its reason."""
        if record.status not in WAITING:
            return ""
        refusal = charge_request_approval_refusal(record, self.request.user)
        if refusal is not None:
            return format_html('<span class="muted refusal">{}</span>', refusal)
        return format_html(
            '<form method="post" action="{}" class="decide">'
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
            '<input type="hidden" name="next" value="{}">'
            '<input name="note" placeholder="{}">'
            '<button class="button" name="decision" value="approve">{}</button>'
            '<button class="button secondary" name="decision" value="reject">{}</button></form>',
            reverse("contracts:charge-request-decide", args=[record.pk]),
            get_token(self.request),
            self.request.get_full_path(),
            _("Note"),
            _("Approve"),
            _("Reject"),
        )


class ChargeRequestList(StaffListView):
    """Charge requests; first those waiting for this user's decision (those charge_request_approve would
    accept from them: an account manager's own customers, finance's large ones), each with its form."""

    permission_required = "contracts.view_chargerequest"
    filterset_class = ChargeRequestFilter
    table_class = ChargeRequestTable
    template_name = "contracts/charge_requests.html"
    title = _("Charge requests")
    export_name = "charge-requests"

    @cached_property
    def tabs(self):
        return {
            "waiting": (_("Waiting for you"), {"pk__in": self.waiting_for_user()}),
            "open": (
                pgettext_lazy("charge requests", "Open"),
                {"status__in": [*WAITING, ChargeStatus.AWAITING_CUSTOMER]},
            ),
            "all": (_("All"), {}),
        }

    def waiting_for_user(self) -> list[int]:
        """The requests the user may approve now: the service's own check over those waiting (one query)."""
        user = self.request.user
        waiting = ChargeRequest.objects.filter(status__in=WAITING).select_related("customer__account_manager")
        return [charge.pk for charge in waiting if charge_request_can_approve(charge, user)]

    def queryset(self):
        return ChargeRequest.objects.select_related("customer__account_manager").order_by(
            "-created_at", "-pk"
        )

    def table_kwargs(self):
        if self.current_tab() == "waiting":
            return {"empty_text": _("Nothing waits for your approval.")}
        return {}

    def extra_context(self):
        user = self.request.user
        customers = Customer.objects.filter(account_manager=user).select_related("account_manager")
        own_customers = customers.exists()
        if not own_customers:
            customers = Customer.objects.select_related("account_manager")
        return {"customers": customers.order_by("code")[:100], "own_customers": own_customers}


# Contracts


def licensed(product, contract: str = "pk"):
    """Whether the contract at ``contract`` (an OuterRef path) licenses ``product``."""
    return Exists(LicensedProduct.objects.filter(contract=OuterRef(contract), product=product))


class ContractFilter(SearchFilterSet):
    search_fields = (*CUSTOMER_SEARCH, "number")
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=ContractKind.choices)
    signed = date_range("signed_on", _("Signed"))
    product = django_filters.ModelChoiceFilter(
        label=_("Product"), queryset=Product.objects.order_by("code"), method="by_product"
    )
    account_manager = account_manager_filter("customer__account_manager")

    class Meta:
        model = Contract
        fields = []

    def by_product(self, queryset, name, value):
        return queryset.filter(licensed(value) | licensed(value, "continues"))


def products_text(contract: Contract) -> str:
    """The products a contract licenses, with those of the contract it continues (its periods cover both)."""
    if contract.covers_all_products:
        return str(_("every product"))
    licences = list(contract.products.all())
    if contract.continues is not None:
        licences += contract.continues.products.all()
    return ", ".join(sorted({str(licence) for licence in licences}))


def products_prefetch(contract: str = ""):
    """The prefetches ``products_text`` reads, from rows that reach the contract through ``contract``."""
    licences = LicensedProduct.objects.select_related("product").order_by("product__code")
    return (
        Prefetch(f"{contract}products", queryset=licences),
        Prefetch(f"{contract}continues__products", queryset=licences),
    )


class ContractTable(StaffTable):
    number = tables.Column(verbose_name=_("Contract"))
    customer, customer_name = customer_columns()
    kind = tables.Column(verbose_name=_("Kind"))
    products = tables.Column(verbose_name=_("Products"), empty_values=(), orderable=False)
    signed_on = tables.DateColumn(verbose_name=_("Signed"), format="Y-m-d")
    continues = tables.Column(verbose_name=_("Continues"), order_by=("continues__number",))
    account_manager = tables.Column(
        verbose_name=_("Account manager"), accessor="customer__account_manager", default="—"
    )

    def render_products(self, record):
        return products_text(record)

    def value_products(self, record):
        return products_text(record)


class ContractList(StaffListView):
    permission_required = "contracts.view_contract"
    filterset_class = ContractFilter
    table_class = ContractTable
    title = _("Contracts")
    export_name = "contracts"

    def queryset(self):
        return (
            Contract.objects.select_related("customer__account_manager", "continues")
            .prefetch_related(*products_prefetch())
            .order_by("-signed_on", "number")
        )


# Service periods

PERIOD_STATE_LABELS = PERIOD_STATUS_LABELS


class PeriodFilter(SearchFilterSet):
    search_fields = ("contract__customer__code", "contract__customer__legal_name", "contract__number")
    state = django_filters.ChoiceFilter(label=_("State"), choices=PERIOD_STATES)
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=PeriodKind.choices)
    ends = date_range("end", _("Ends"))
    tier = django_filters.ModelChoiceFilter(
        label=_("Tier"), queryset=ServiceTier.objects.order_by("position")
    )
    product = django_filters.ModelChoiceFilter(
        label=_("Product"), queryset=Product.objects.order_by("code"), method="by_product"
    )
    account_manager = account_manager_filter("contract__customer__account_manager")

    class Meta:
        model = ServicePeriod
        fields = []

    def by_product(self, queryset, name, value):
        return queryset.filter(
            Q(contract__covers_all_products=True)
            | licensed(value, "contract")
            | licensed(value, "contract__continues")
        )


class PeriodTable(StaffTable):
    customer, customer_name = customer_columns("contract__customer")
    contract = tables.Column(verbose_name=_("Contract"), order_by=("contract__number",))
    products = tables.Column(verbose_name=_("Products"), empty_values=(), orderable=False)
    kind = tables.Column(verbose_name=_("Kind"))
    start = tables.DateColumn(verbose_name=_("Starts"), format="Y-m-d")
    end = tables.DateColumn(verbose_name=_("Ends"), format="Y-m-d")
    state = tables.Column(verbose_name=_("State"))
    tier = tables.Column(verbose_name=_("Tier"), order_by=("tier__position",))
    fee = MoneyColumn(verbose_name=_("Fee"))

    class Meta(StaffTable.Meta):
        row_attrs = {"class": lambda record: f"period status-{record.state}"}

    def render_products(self, record):
        return products_text(record.contract)

    def value_products(self, record):
        return products_text(record.contract)

    def render_state(self, value):
        return PERIOD_STATE_LABELS[value]

    def value_state(self, value):
        return str(PERIOD_STATE_LABELS[value])


def periods_listed():
    """Service periods with what the period lists show: customer, contract and its products, tier, and
    the state as of today (contracts.selectors' rule, as ``state``)."""
    return (
        ServicePeriod.objects.select_related(
            "contract__customer__account_manager", "contract__continues", "tier"
        )
        .prefetch_related(*products_prefetch("contract__"))
        .annotate(state=period_status_sql(today=timezone.localdate()))
    )


class PeriodList(StaffListView):
    permission_required = "contracts.view_serviceperiod"
    filterset_class = PeriodFilter
    table_class = PeriodTable
    title = _("Service periods")
    export_name = "service-periods"

    def queryset(self):
        return periods_listed().order_by("contract__customer__code", "start", "pk")
