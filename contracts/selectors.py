"""Reads of contracts that are more than a one-line queryset."""

import datetime
from decimal import Decimal

from django.db.models import (
    Case,
    CharField,
    DateField,
    Exists,
    ExpressionWrapper,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils.translation import pgettext_lazy

from catalog.versions import Version
from contracts.models import (
    ConsumptionEntry,
    Contact,
    Contract,
    Customer,
    CustomModule,
    LicensedProduct,
    ServicePeriod,
)
from contracts.quotas import person_day_quota, training_quota


class PeriodStatus:
    UPCOMING = "upcoming"
    ACTIVE = "active"
    RENEWED = "renewed"
    LAPSED = "lapsed"


PERIOD_STATES = [
    (PeriodStatus.ACTIVE, pgettext_lazy("service period", "active")),
    (PeriodStatus.UPCOMING, pgettext_lazy("service period", "upcoming")),
    (PeriodStatus.RENEWED, pgettext_lazy("service period", "renewed")),
    (PeriodStatus.LAPSED, pgettext_lazy("service period", "lapsed")),
]
PERIOD_STATUS_LABELS = dict(PERIOD_STATES)


# Is this period renewed? The terms (服务有效期) promise service only within a period, free or paid, so a
# period is renewed when the service goes on without a day's gap: another period of the same customer (on
# the same contract or on the customer's renewal contract that continues it) starts no later than the day
# after this one ends and ends after it. A renewal that starts later leaves a gap in which the vendor
# promises nothing: the period has lapsed (a retroactive renewal, period_renew, closes the gap and so
# renews it). Lapse marking, renewal reminders, renewal drafts and the renewals page all ask this.
ONE_DAY = datetime.timedelta(days=1)


def continues(later: ServicePeriod, period: ServicePeriod) -> bool:
    """Whether ``later`` renews ``period`` (same customer, no gap, ends later); both loaded."""
    return (
        later.pk != period.pk
        and later.contract.customer_id == period.contract.customer_id
        and later.end > period.end
        and later.start <= period.end + ONE_DAY
    )


def _continuations() -> QuerySet:
    return ServicePeriod.objects.filter(
        contract__customer_id=OuterRef("contract__customer_id"),
        end__gt=OuterRef("end"),
        start__lte=ExpressionWrapper(OuterRef("end") + ONE_DAY, output_field=DateField()),
    )


def periods_renewed(periods: QuerySet, *, renewed: bool = True) -> QuerySet:
    """The periods of ``periods`` that are renewed (or, with ``renewed=False``, that are not)."""
    condition = Exists(_continuations())
    return periods.filter(condition if renewed else ~condition)


def period_renewed(period: ServicePeriod) -> bool:
    """Whether another period of the customer continues ``period`` without a gap (see above)."""
    return periods_renewed(ServicePeriod.objects.filter(pk=period.pk)).exists()


def period_status(period: ServicePeriod, periods: list[ServicePeriod], today: datetime.date) -> str:
    """Upcoming, active, renewed (ended and continued by a later period, see ``continues``) or lapsed
    (ended unrenewed). ``periods`` are the customer's periods, loaded with their contracts."""
    if period.start > today:
        return PeriodStatus.UPCOMING
    if period.end >= today:
        return PeriodStatus.ACTIVE
    renewed = any(continues(other, period) for other in periods)
    return PeriodStatus.RENEWED if renewed else PeriodStatus.LAPSED


def periods_active(*, today: datetime.date) -> QuerySet:
    """The periods running on ``today`` (period_status's ``active``)."""
    return ServicePeriod.objects.filter(start__lte=today, end__gte=today)


def customers_with_current_period(customers: QuerySet, *, today: datetime.date) -> QuerySet:
    """``customers`` annotated for lists with the period in force that ends last: ``current_end`` (None
    when no period runs today, the vendor promises nothing) and ``current_tier_id`` (its tier)."""
    current = periods_active(today=today).filter(contract__customer=OuterRef("pk")).order_by("-end", "-pk")
    return customers.annotate(
        current_end=Subquery(current.values("end")[:1]),
        current_tier_id=Subquery(current.values("tier")[:1]),
    )


def period_status_sql(*, today: datetime.date) -> Case:
    """``period_status`` as an annotation, for lists that filter or sort periods by it (the same rule:
    tests/contracts/test_period_status_sql.py checks the two against each other)."""
    return Case(
        When(start__gt=today, then=Value(PeriodStatus.UPCOMING)),
        When(end__gte=today, then=Value(PeriodStatus.ACTIVE)),
        When(Exists(_continuations()), then=Value(PeriodStatus.RENEWED)),
        default=Value(PeriodStatus.LAPSED),
        output_field=CharField(),
    )


def periods_shown(periods: QuerySet, *, today: datetime.date) -> list[ServicePeriod]:
    """``periods`` as their events show them (contracts.serializers.ServicePeriodEventSerializer): with
    contract, customer, tier and calendar, their ``status`` on ``today`` (period_status_sql) and
    ``products_covered``: the licences of their contract and of the contracts it continues (at any depth;
    every licence of the customer for a contract covering all products), the highest version of each
    product. Two queries however many periods."""
    shown = list(
        periods.select_related("contract__customer", "tier", "calendar").annotate(
            status=period_status_sql(today=today)
        )
    )
    contracts: dict[int, tuple[int | None, bool]] = {}
    licences: dict[int, list[tuple[str, str]]] = {}
    customer_licences: dict[int, list[tuple[str, str]]] = {}
    rows = Contract.objects.filter(customer_id__in={p.contract.customer_id for p in shown}).values_list(
        "pk",
        "customer_id",
        "continues_id",
        "covers_all_products",
        "products__product__code",
        "products__version",
    )
    for pk, customer_id, continued, covers_all, code, version in rows:
        contracts[pk] = (continued, covers_all)
        if code:
            licences.setdefault(pk, []).append((code, version))
            customer_licences.setdefault(customer_id, []).append((code, version))
    for period in shown:
        if contracts[period.contract_id][1]:
            covered = customer_licences.get(period.contract.customer_id, [])
        else:
            covered, lineage, contract = [], set(), period.contract_id
            while contract is not None and contract not in lineage:
                lineage.add(contract)
                covered += licences.get(contract, [])
                contract = contracts[contract][0]
        highest: dict[str, str] = {}
        for code, version in covered:
            if code not in highest or Version.parse(version) > Version.parse(highest[code]):
                highest[code] = version
        period.products_covered = [{"product": code, "version": highest[code]} for code in sorted(highest)]
    return shown


def customer_coverage(*, customer: Customer, today: datetime.date) -> dict:
    """Everything a ticketing tool shows about a customer: periods with their status, the tier in force,
    licensed products (highest version each), custom modules and quotas used and left."""
    periods = list(
        ServicePeriod.objects.filter(contract__customer=customer)
        .select_related("tier", "calendar", "contract")
        .order_by("start")
    )
    running = [p for p in periods if p.covers(today)]
    current = max(running, key=lambda p: (p.tier.position, p.kind == "paid", p.start)) if running else None
    products: dict[str, LicensedProduct] = {}
    for licence in LicensedProduct.objects.filter(contract__customer=customer).select_related(
        "product", "contract"
    ):
        known = products.get(licence.product.code)
        if known is None or licence.parsed_version > known.parsed_version:
            products[licence.product.code] = licence
    quotas = [training_quota(current, today)] if current is not None else []
    bundle = person_day_quota(customer, today)
    if bundle is not None:
        quotas.append(bundle)
    return {
        "customer": customer.code,
        "legal_name": customer.legal_name,
        "covered": current is not None,
        "tier": current.tier.code if current else None,
        "arrival_area": customer.arrival_area,
        "periods": [
            {
                "id": p.pk,
                "contract": p.contract.number,
                "kind": p.kind,
                "start": p.start,
                "end": p.end,
                "tier": p.tier.code,
                "calendar": p.calendar.code,
                "fee": {"amount": f"{p.fee.amount:.2f}", "currency": str(p.fee.currency)},
                "status": period_status(p, periods, today),
            }
            for p in periods
        ],
        "products": [
            {"product": code, "version": lic.version, "contract": lic.contract.number}
            for code, lic in sorted(products.items())
        ],
        "custom_modules": [
            {"code": m.code, "name": m.name, "contract": m.contract.number, "upgrades": False}
            for m in CustomModule.objects.filter(contract__customer=customer).select_related("contract")
        ],
        "quotas": quotas,
    }


def consumption_left(entry: ConsumptionEntry) -> Decimal:
    """What is left of a use after its corrections: the most a further correction may give back."""
    return entry.quantity + sum((c.quantity for c in entry.corrections.all()), Decimal(0))


def consumption_ledger(*, customer: Customer, limit: int = 50) -> list[ConsumptionEntry]:
    """The customer's latest uses of its quotas, latest first, each with its corrections (``corrections``,
    prefetched) and what is left of it (``left``): two queries."""
    uses = list(
        ConsumptionEntry.objects.filter(customer=customer, corrects__isnull=True)
        .prefetch_related("corrections")
        .order_by("-used_on", "-pk")[:limit]
    )
    for use in uses:
        use.left = consumption_left(use)
    return uses


def billing_contacts(*, customer: Customer) -> list[Contact]:
    """Who receives the customer's statements: its primary contacts with an e-mail address (contacts
    have no billing role yet)."""
    return [contact for contact in customer.contacts.all() if contact.is_primary and contact.email]
