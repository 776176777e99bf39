"""The entitlement decision: is the customer covered, and what does the vendor owe for this request?

One function, ``decide``, answers the API, the staff pages and quotes alike. It reads a fixed number of
rows whatever the size of the database (a customer's own periods, products and quotas, one rate card),
and computes response and arrival deadlines on the covering period's business calendar.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money

from billing.errors import BillingError
from billing.i18n import Bilingual
from billing.prepared import PreparedQuery, PreparedValues
from catalog.calendar import add_working_days, load_calendar
from catalog.calendar import deadline as working_deadline
from catalog.channels import ChannelOpening, channel_opening
from catalog.models import (
    EMERGENCY_CHANNEL,
    UPGRADE_CONTRACT,
    ArrivalArea,
    Channel,
    DeliveryMode,
    DurationUnit,
    FeeOverduePolicy,
    PricingBasis,
    Role,
    ServiceItem,
    ServiceKind,
    Severity,
)
from catalog.pricing import Priced, price_person_days, price_service, price_upgrade
from catalog.selectors import (
    arrival_commitment,
    business_calendar_by_id,
    emergency_cover_window_at,
    response_target,
    service_by_code,
    tier_benefits,
    tier_by_id,
    version_released_on,
)
from catalog.versions import UpgradeKind, Version, upgrade_kind
from contracts.escalation import Escalation, escalation_at
from contracts.fees import FeeOverdue, fee_overdue
from contracts.models import Contract, Customer, CustomModule, LicensedProduct, PeriodKind, ServicePeriod
from contracts.quotas import Quota, person_day_quota, training_quota

UPGRADE = "upgrade"
TRAINING = "customer-training"
ON_SITE_FAULT_LEVELS = (Severity.LEVEL_1, Severity.LEVEL_2, Severity.LEVEL_3)


class Outcome:
    INCLUDED = "included"
    BILLABLE = "billable"
    NEEDS_APPROVAL = "needs_approval"
    NOT_COVERED = "not_covered"


@dataclass(frozen=True)
class Reason:
    """Why the decision came out as it did: a stable ``code`` and a sentence in each language."""

    code: str
    message: str
    params: dict = field(default_factory=dict)

    def text(self, language: str) -> str:
        with translation.override(language):
            return self._render()

    def _render(self) -> str:
        """The sentence in the active language."""
        return str(self.message) % self.params if self.params else str(self.message)

    def as_dict(self) -> dict:
        return reasons_as_dicts([self])[0]


REASON_LANGUAGES = ("zh-hans", "en")


def reasons_as_dicts(reasons: list[Reason]) -> list[dict]:
    """Each reason's code and its sentence in every language; one switch of language for all of them."""
    rows = [{"code": reason.code} for reason in reasons]
    for language in REASON_LANGUAGES:
        with translation.override(language):
            for row, reason in zip(rows, reasons, strict=True):
                row[language] = reason._render()
    return rows


UNPRICED = ("no_price", "no_rate_card", "no_vat_rate")  # billable, but agree the charge first


@dataclass(frozen=True)
class Price:
    """The price basis of a billable answer: the rate card version in force, the unit and its price,
    and an estimate for the quantity asked. Travel and lodging are always passed through at cost."""

    rate_card: str
    basis: str
    unit_price: Money | None
    quantity: Decimal
    estimate: Money | None
    tax_inclusive: bool
    travel_at_cost: bool
    role: str = ""
    delivery_mode: str = ""
    tiers: tuple = ()
    vat_rate: Decimal | None = None
    net: Money | None = None
    vat: Money | None = None
    gross: Money | None = None


@dataclass(frozen=True)
class ProductCover:
    """How one of the customer's products is covered on the day asked about: the contract whose period
    answers for it and the period's end, or nothing."""

    product: str
    covered: bool
    contract: str | None = None
    until: datetime.date | None = None


@dataclass
class Decision:
    outcome: str
    customer: Customer
    service: ServiceItem
    at: datetime.datetime
    reasons: list[Reason] = field(default_factory=list)
    period: ServicePeriod | None = None
    respond_by: datetime.datetime | None = None
    arrive_by: datetime.datetime | None = None
    provisional: bool = False
    quota: Quota | None = None
    price: Price | None = None
    upgrade: str | None = None
    travel_at_cost: bool = False
    channel: str | None = None
    channel_opening: ChannelOpening | None = None  # the channel's opening hours at ``at``
    emergency: bool = False
    products: list["ProductCover"] = field(default_factory=list)
    escalation: Escalation | None = None
    tier_benefits: tuple = ()
    fee_overdue: FeeOverdue | None = None

    def because(self, code: str, message, **params) -> "Decision":
        self.reasons.append(Reason(code, message, params))
        return self


def decide(
    *,
    customer: Customer | str,
    service: ServiceItem | str,
    at: datetime.datetime | None = None,
    severity: str | None = None,
    product: str | None = None,
    from_version: str | None = None,
    to_version: str | None = None,
    on_site: bool = False,
    location: str | None = None,
    quantity: Decimal | int = 1,
    role: str | None = None,
    channel: str | None = None,
    opened_at: datetime.datetime | None = None,
) -> Decision:
    """The decision for one request. Raises BillingError for an unknown customer or service, a bad
    version or severity, or a ticket ``opened_at`` (default ``at``; it dates the escalation level) after
    ``at``; everything else is an outcome with its reasons."""
    service = _service(service)
    at = at or timezone.now()
    if timezone.is_naive(at):
        raise BillingError(_("Times must carry a time zone (an aware datetime)."), code="naive_datetime")
    opened_at = _opened_at(opened_at, at)
    if channel is not None and channel not in Channel.values:
        raise BillingError(
            _("Unknown channel “%(channel)s”: use %(channels)s."),
            code="invalid_channel",
            params={"channel": channel, "channels": ", ".join(Channel.values)},
        )
    quantity = Decimal(quantity)
    if quantity <= 0:
        raise BillingError(_("The quantity must be positive."), code="invalid_quantity")
    if severity is not None and severity not in Severity.values:
        raise BillingError(
            _("Unknown severity “%(severity)s”: use 1, 2, 3, 4 or non-fault."),
            code="invalid_severity",
            params={"severity": severity},
        )
    customer, periods = _customer_periods(customer)
    decision = Decision(Outcome.NOT_COVERED, customer, service, at, channel=channel)
    if channel is not None:
        decision.channel_opening = channel_opening(channel=channel, at=at)
    day = timezone.localtime(at).date()
    licensed, module = None, None
    if product:
        licences, module = _licences(customer, product)
        if not licences and module is None:
            return decision.because(
                "unknown_product",
                _("The customer has no licence for “%(product)s”."),
                product=product,
            )
        licensed = max(licences, key=lambda lic: lic.parsed_version) if licences else None
        # Cover follows the product's contract: only the periods of the contracts that license it (or
        # continue one that does, or cover every product) answer for it, whatever the other contracts say.
        covering = _contracts_covering(
            customer, {lic.contract_id for lic in licences} or {module.contract_id}
        )
        periods = [p for p in periods if p.contract_id in covering]
    elif len({p.contract_id for p in periods}) > 1:
        # Products can only be covered differently when periods come from more than one contract.
        decision.products = _cover_per_product(decision, periods, day)
    period = _covering_period(periods, day)
    if period is None:
        if product:
            decision.because(
                "product_not_covered",
                _("No service period of the contracts covering “%(product)s” runs on this day."),
                product=licensed.product.code if licensed else module.code,
            )
        return _explain_no_cover(decision, periods, day)
    decision.period = period
    decision.tier_benefits = tier_benefits(tier_id=period.tier_id)

    if service.kind == ServiceKind.STANDARD:
        _standard(decision, period, service, day, licensed, module, from_version, to_version, quantity)
        if on_site and decision.outcome == Outcome.INCLUDED and service.code not in (TRAINING, UPGRADE):
            _on_site_for_standard(decision, period, service, severity, location, quantity, day)
    elif not service.active:
        decision.outcome = Outcome.NEEDS_APPROVAL
        decision.because("service_withdrawn", _("This service is no longer offered: agree a charge first."))
    else:
        delivery = (
            DeliveryMode.ON_SITE if (on_site or service.kind == ServiceKind.ON_SITE) else DeliveryMode.REMOTE
        )
        _paid(decision, service, day, quantity, role, delivery)
        if delivery == DeliveryMode.ON_SITE:
            decision.travel_at_cost = True
            _arrive_by(decision, period, severity, location)
    _fee_overdue(decision, period, day)
    if severity is not None:
        _respond_by(decision, period, severity)
        _response_time_to_confirm(decision, period, severity)
        _escalation(decision, period, severity, opened_at)
    _channel_closed(decision)
    return decision


def _opened_at(opened_at: datetime.datetime | None, at: datetime.datetime) -> datetime.datetime:
    """When the ticket was opened: ``at`` unless given; never after ``at``."""
    if opened_at is None:
        return at
    if timezone.is_naive(opened_at):
        raise BillingError(_("Times must carry a time zone (an aware datetime)."), code="naive_datetime")
    if opened_at > at:
        raise BillingError(
            _("The ticket cannot be opened (%(opened_at)s) after the moment asked about (%(at)s)."),
            code="opened_after_at",
            params={"opened_at": opened_at.isoformat(), "at": at.isoformat()},
        )
    return opened_at


def _response_time_to_confirm(decision: Decision, period: ServicePeriod, severity: str) -> None:
    """The terms name the strategic partnership's services but give no figures: a response time the
    catalogue marks as the vendor's to confirm says so."""
    target = response_target(tier_id=period.tier_id, severity=severity)
    if target is None or not target.vendor_to_confirm or decision.respond_by is None:
        return
    decision.because(
        "response_time_to_confirm",
        _(
            "The response time of %(tier)s for level %(level)s (%(hours)s working hours) is the vendor's to "
            "confirm: the terms give no figure."
        ),
        tier=Bilingual(period.tier.name_zh, period.tier.name_en),
        level=severity,
        hours=target.response_hours.normalize(),
    )


def _escalation(decision: Decision, period: ServicePeriod, severity: str, opened_at: datetime.datetime):
    """Who owns the ticket now in the three-level response, and when the next level takes it over."""
    calendar = load_calendar(period.calendar)
    escalation = escalation_at(
        tier_id=period.tier_id, severity=severity, calendar=calendar, opened_at=opened_at, at=decision.at
    )
    decision.escalation = escalation
    if escalation is None:
        return
    if escalation.vendor_to_confirm:
        decision.because(
            "escalation_to_confirm",
            _(
                "The escalation times are the vendor's to confirm: the terms say only that a ticket passes "
                "to the next level within a set time."
            ),
        )
    if escalation.calendar_provisional:
        decision.provisional = True
        if not any(reason.code == "provisional_calendar" for reason in decision.reasons):
            decision.because(
                "provisional_calendar",
                _(
                    "The holiday schedule of %(year)s is not published yet: "
                    "the deadline counts weekdays only."
                ),
                year=(escalation.escalate_by or opened_at).year,
            )


# The check's one query, compiled once per process (compiling it cost more than running it). Unordered:
# _with_catalogue sorts the periods in Python.
_PERIODS_OF_CODE = PreparedQuery(
    lambda code: (
        ServicePeriod.objects.filter(contract__customer__code=code)
        .select_related("contract__customer")
        .order_by()
    )
)


def _customer_periods(customer: Customer | str) -> tuple[Customer, list[ServicePeriod]]:
    """The customer and its service periods, oldest first. Given a code, one query reads both (the
    customer comes with its periods); a second one only tells an unknown customer from one without any
    period."""
    if isinstance(customer, Customer):
        periods = ServicePeriod.objects.select_related("contract").order_by()  # sorted in Python
        return customer, _with_catalogue(periods.filter(contract__customer=customer))
    periods = _with_catalogue(_PERIODS_OF_CODE(customer))
    if periods:
        found = periods[0].contract.customer
        for period in periods:  # one instance, as the caller may annotate it
            period.contract.customer = found
        return found, periods
    try:
        return Customer.objects.get(code=customer), []
    except Customer.DoesNotExist as error:
        raise BillingError(
            _("Unknown customer “%(code)s”."), code="unknown_customer", params={"code": customer}
        ) from error


def _with_catalogue(periods) -> list[ServicePeriod]:
    """The periods oldest first, their tier and calendar taken from the catalogue snapshot (no joins:
    a check's one query stays small)."""
    periods = sorted(periods, key=lambda period: (period.start, period.pk))
    for period in periods:
        period.tier = tier_by_id(period.tier_id)
        period.calendar = business_calendar_by_id(period.calendar_id)
    return periods


def _service(service: ServiceItem | str) -> ServiceItem:
    if isinstance(service, ServiceItem):
        return service
    item = service_by_code(service)
    if item is None:
        raise BillingError(_("Unknown service “%(code)s”."), code="unknown_service", params={"code": service})
    return item


def _covering_period(periods: list[ServicePeriod], day: datetime.date) -> ServicePeriod | None:
    """Of the periods running on ``day``, the best: the higher tier, then paid before free."""
    running = [p for p in periods if p.covers(day)]
    if not running:
        return None
    return max(running, key=lambda p: (p.tier.position, p.kind == "paid", p.start))


def _explain_no_cover(decision: Decision, periods: list[ServicePeriod], day: datetime.date) -> Decision:
    if not periods:
        return decision.because("no_service_period", _("The customer has no service period."))
    if day < periods[0].start:
        return decision.because(
            "before_first_period",
            _("Service starts on %(start)s; before that the vendor makes no commitment."),
            start=periods[0].start.isoformat(),
        )
    later = [p for p in periods if p.start > day]
    ended = max((p for p in periods if p.end < day), key=lambda p: p.end)
    if later:
        return decision.because(
            "in_gap",
            _(
                "No service period runs on this day: the last one ended on %(end)s and the next starts on "
                "%(start)s."
            ),
            end=ended.end.isoformat(),
            start=later[0].start.isoformat(),
        )
    return decision.because(
        "lapsed",
        _("The service period ended on %(end)s and was not renewed."),
        end=ended.end.isoformat(),
    )


def _licences(customer: Customer, product: str) -> tuple[list[LicensedProduct], CustomModule | None]:
    """The customer's licences of a product (one per contract licensing it), or else the custom module
    with that code."""
    licences = list(
        LicensedProduct.objects.filter(
            contract__customer=customer, product__code__iexact=product
        ).select_related("product")
    )
    if licences:
        return licences, None
    module = CustomModule.objects.filter(contract__customer=customer, code__iexact=product).first()
    return [], module


def _contracts_covering(customer: Customer, licensing: set[int]) -> set[int]:
    """The customer's contracts whose periods cover a product licensed by the contracts ``licensing``:
    those, the renewal and upgrade contracts continuing them (at any depth), and the contracts that
    cover every product (a strategic contract that says so)."""
    contracts = list(
        Contract.objects.filter(customer=customer).values_list("pk", "continues_id", "covers_all_products")
    )
    return _covering(contracts, licensing)


def _covering(contracts: list[tuple[int, int | None, bool]], licensing: set[int]) -> set[int]:
    """Of ``contracts`` (pk, the contract it continues, covers every product), those whose periods cover
    what the contracts ``licensing`` license."""
    covering = set(licensing) | {pk for pk, _continues, covers_all in contracts if covers_all}
    grown = True
    while grown:
        before = len(covering)
        covering |= {pk for pk, continues, _all in contracts if continues in covering}
        grown = len(covering) > before
    return covering


# The customer's contracts with their licensed products, compiled once per process (the check asks it
# whenever no product is named).
_CONTRACT_PRODUCTS = PreparedValues(
    lambda customer_id: (
        Contract.objects.filter(customer_id=customer_id)
        .order_by()
        .values("pk", "continues", "covers_all_products", "products__product__code")
    ),
    770_000_001,
)


def _cover_per_product(decision: Decision, periods: list[ServicePeriod], day: datetime.date) -> list:
    """A check naming no product answers from the best period of any contract, and lists each licensed
    product's own cover beside it; when the products are covered differently, a reason asks for the
    product (the answer for it may differ). One query: the contracts with their licensed products."""
    rows = [
        (row["pk"], row["continues"], row["covers_all_products"], row["products__product__code"])
        for row in _CONTRACT_PRODUCTS(decision.customer.pk)
    ]
    contracts = {(pk, continues, covers_all) for pk, continues, covers_all, _code in rows}
    licensing: dict[str, set[int]] = {}
    for pk, _continues, _all, code in rows:
        if code:
            licensing.setdefault(code, set()).add(pk)
    covers = []
    for code in sorted(licensing):
        covering = _covering(list(contracts), licensing[code])
        period = _covering_period([p for p in periods if p.contract_id in covering], day)
        covers.append(
            ProductCover(code, True, period.contract.number, period.end)
            if period
            else ProductCover(code, False)
        )
    if len({cover.covered for cover in covers}) > 1:
        decision.because(
            "name_the_product",
            _(
                "The customer's products are covered differently on this day (covered: %(covered)s; not "
                "covered: %(uncovered)s): name the product for its own answer."
            ),
            covered=", ".join(c.product for c in covers if c.covered),
            uncovered=", ".join(c.product for c in covers if not c.covered),
        )
    return covers


def _fee_overdue(decision: Decision, period: ServicePeriod, day: datetime.date) -> None:
    """The tier's policy on the covering period's fee overdue past grace (contracts.fees): ``warn`` keeps the
    outcome and names the invoice; ``suspend`` turns an included or billable answer into needs_approval."""
    overdue = decision.fee_overdue = fee_overdue(period, day)
    if overdue is None:
        return
    params = {
        "invoice": overdue.invoice,
        "amount": overdue.open_amount,
        "due": overdue.due_date.isoformat(),
        "days": overdue.days_overdue,
    }
    if overdue.policy != FeeOverduePolicy.SUSPEND:
        decision.because(
            "fee_overdue",
            _(
                "Invoice %(invoice)s for this period's fee is %(days)s days overdue (due %(due)s): "
                "%(amount)s open. Ask the customer to pay."
            ),
            **params,
        )
        return
    if decision.outcome in (Outcome.INCLUDED, Outcome.BILLABLE):
        decision.outcome = Outcome.NEEDS_APPROVAL
    decision.because(
        "fee_overdue",
        _(
            "Cover is suspended: invoice %(invoice)s for this period's fee is %(days)s days overdue (due "
            "%(due)s), %(amount)s open. Approve the work first, or record the payment."
        ),
        suspended=True,
        **params,
    )


def _respond_by(decision: Decision, period: ServicePeriod, severity: str) -> None:
    target = response_target(tier_id=period.tier_id, severity=severity)
    if target is None:
        return
    calendar = load_calendar(period.calendar)
    hours = datetime.timedelta(seconds=int(target.response_hours * 3600))
    emergency_clock = _holiday_emergency_clock(decision, period, target, calendar)
    if emergency_clock is not None and decision.channel == EMERGENCY_CHANNEL:
        # The terms' emergency phone support on statutory holidays (and the catalogue's emergency cover
        # windows): the level's hours on the emergency clock.
        decision.emergency = True
        answer = working_deadline(decision.at, hours, calendar=emergency_clock)
        decision.respond_by = answer.at
        _because_emergency(
            decision,
            calendar,
            "holiday_emergency",
            holiday=_(
                "A statutory holiday: the emergency phone line answers level %(level)s within %(hours)s "
                "hours on the %(clock)s clock."
            ),
            window=_(
                "%(window)s (emergency cover): the emergency phone line answers level %(level)s within "
                "%(hours)s hours on the %(clock)s clock."
            ),
            level=severity,
            hours=target.response_hours.normalize(),
            clock=emergency_clock.code,
        )
        return
    if emergency_clock is not None and decision.channel is None:
        _because_emergency(
            decision,
            calendar,
            "emergency_line",
            holiday=_(
                "A statutory holiday: reported by phone on the emergency line, level %(level)s is answered "
                "within %(hours)s hours around the clock; otherwise at the next working time."
            ),
            window=_(
                "%(window)s (emergency cover): reported by phone on the emergency line, level %(level)s "
                "is answered within %(hours)s hours around the clock; otherwise at the next working time."
            ),
            level=severity,
            hours=target.response_hours.normalize(),
        )
    answer = working_deadline(decision.at, hours, calendar=calendar)
    decision.respond_by = answer.at
    decision.provisional = decision.provisional or answer.provisional
    if answer.provisional:
        decision.because(
            "provisional_calendar",
            _("The holiday schedule of %(year)s is not published yet: the deadline counts weekdays only."),
            year=answer.at.year,
        )


def _holiday_emergency_clock(decision: Decision, period: ServicePeriod, target, calendar):
    """The emergency calendar when ``decision.at`` falls on a statutory holiday of the period's calendar (or
    in an emergency cover window of the catalogue) and the tier gives the level emergency cover; None
    otherwise."""
    clock = period.tier.emergency_calendar_id
    if not target.emergency_cover or clock is None:
        return None
    holiday = calendar.is_statutory_holiday(timezone.localtime(decision.at, calendar.tz).date())
    if not holiday and emergency_cover_window_at(decision.at) is None:
        return None
    return load_calendar(business_calendar_by_id(clock))


def _because_emergency(decision: Decision, calendar, code: str, *, holiday, window, **params) -> None:
    """The emergency reason: naming the statutory holiday, or else the catalogue's emergency cover window
    that ``decision.at`` falls in."""
    if calendar.is_statutory_holiday(timezone.localtime(decision.at, calendar.tz).date()):
        decision.because(code, holiday, **params)
        return
    cover = emergency_cover_window_at(decision.at)
    decision.because(code, window, window=Bilingual(cover.name_zh, cover.name_en), **params)


def _channel_closed(decision: Decision) -> None:
    """A channel closed at ``at`` takes the request when it opens: the cover is the same, and respond_by
    still counts on the period's calendar (or the emergency clock) from ``at``."""
    opening = decision.channel_opening
    if opening is None or opening.open:
        return
    params = {"channel": Channel(opening.code).label, "opens": f"{opening.opens_next:%Y-%m-%d %H:%M}"}
    if decision.emergency:
        decision.because(
            "channel_closed",
            _("The %(channel)s is outside its hours until %(opens)s; meanwhile the emergency line answers."),
            **params,
        )
    else:
        decision.because(
            "channel_closed",
            _("The %(channel)s is closed now: it takes the request when it opens at %(opens)s."),
            **params,
        )


def _standard(decision, period, service, day, licensed, module, from_version, to_version, quantity) -> None:
    if service.code == UPGRADE:
        return _upgrade(decision, licensed, module, from_version, to_version)
    if module is not None:
        decision.outcome = Outcome.NEEDS_APPROVAL
        decision.because(
            "custom_module",
            _(
                "“%(module)s” is a custom module: work on it is outside standard service and needs an agreed "
                "charge."
            ),
            module=module.name,
        )
        return None
    if service.code == TRAINING:
        return _training(decision, period, day, quantity)
    decision.outcome = Outcome.INCLUDED
    decision.because(
        "standard_service",
        _("Standard service, included in the %(kind)s until %(end)s."),
        kind=PeriodKind(period.kind).label,
        end=period.end.isoformat(),
    )
    return None


def _upgrade(decision, licensed, module, from_version, to_version) -> None:
    if module is not None:
        decision.because("custom_module_upgrade", _("Custom modules get no upgrades."))
        return
    if licensed is None or not to_version:
        raise BillingError(
            _("An upgrade check needs the product and the version to upgrade to."),
            code="upgrade_needs_versions",
        )
    # The licence is the baseline: a customer may run a later minor or medium version than recorded, but a
    # "from" version of a major the customer never licensed would turn a major upgrade into a free one.
    current = licensed.parsed_version
    if from_version and Version.parse(from_version).major <= current.major:
        current = Version.parse(from_version)
    target = Version.parse(to_version)
    params = {"product": licensed.product.code, "old": str(current), "new": str(target)}
    released_on = version_released_on(product_code=licensed.product.code, version=target)
    day = timezone.localtime(decision.at).date()
    if released_on is None or released_on > day:
        # The terms count upgrades from the versions the vendor's R&D centre has released; a version not
        # released on the day asked about is nobody's to install.
        decision.because(
            "unreleased_version",
            _("%(product)s %(new)s is not a released version on %(day)s: nothing to upgrade to."),
            day=day.isoformat(),
            **params,
        )
        return
    kind = upgrade_kind(current, target)
    decision.upgrade = kind
    if kind == UpgradeKind.DOWNGRADE:
        decision.outcome = Outcome.NEEDS_APPROVAL
        decision.because(
            "downgrade", _("%(product)s %(old)s to %(new)s is a downgrade: agree it first."), **params
        )
    elif kind.included_in_standard_service:
        decision.outcome = Outcome.INCLUDED
        decision.because(
            f"{kind}_upgrade",
            _("%(product)s %(old)s to %(new)s is a minor or medium upgrade: included."),
            **params,
        )
    elif licensed.parsed_version.major >= target.major:
        decision.outcome = Outcome.INCLUDED
        decision.because(
            "upgrade_contract",
            _("%(product)s %(new)s is licensed by an upgrade contract: included."),
            **params,
        )
    else:
        _major_upgrade(decision, licensed.product.code, target, params)


def _major_upgrade(decision: Decision, product: str, target: Version, params: dict) -> None:
    """A major upgrade needs the separate upgrade contract (升级服务合同): one, billable at its price for the
    product and the new major on the rate card in force; with no such price, the charge is agreed first."""
    item = service_by_code(UPGRADE_CONTRACT)
    try:
        if item is None:
            raise BillingError(_("The catalogue has no upgrade contract item."), code="no_price")
        priced = price_upgrade(product=product, major=target.major, on=timezone.localtime(decision.at).date())
    except BillingError as error:
        if error.code not in UNPRICED:
            raise
        decision.outcome = Outcome.NEEDS_APPROVAL
        decision.because(
            "major_upgrade",
            _("%(product)s %(old)s to %(new)s is a major upgrade: it needs a separate upgrade contract."),
            **params,
        )
        decision.because("no_price", _("No price on the rate card in force: agree the charge first."))
        return
    decision.outcome = Outcome.BILLABLE
    decision.price = _price_from(priced, "")
    decision.because(
        "major_upgrade",
        _(
            "%(product)s %(old)s to %(new)s is a major upgrade: it needs a separate upgrade contract "
            "(%(item)s), priced on rate card %(card)s."
        ),
        item=Bilingual(item.name_zh, item.name_en),
        card=decision.price.rate_card,
        **params,
    )


def _training(decision: Decision, period: ServicePeriod, day: datetime.date, quantity: Decimal) -> None:
    quota = training_quota(period, day)
    year_start, year_end = quota.valid_from, quota.valid_until
    decision.quota = quota
    decision.travel_at_cost = True
    params = {
        "allowance": period.trainings_per_year,
        "start": year_start.isoformat(),
        "end": year_end.isoformat(),
    }
    if quantity <= quota.left:
        decision.outcome = Outcome.INCLUDED
        decision.because(
            "training_allowance",
            _("Free training: %(left)s of %(allowance)s left in the contract year %(start)s to %(end)s."),
            left=quota.left,
            **params,
        )
    else:
        decision.outcome = Outcome.BILLABLE
        decision.because(
            "training_allowance_used",
            _(
                "The %(allowance)s free trainings of the contract year %(start)s to %(end)s are used: extra "
                "training is billed by workload."
            ),
            **params,
        )
        _bill_person_days(decision, Role.TRAINER, DeliveryMode.ON_SITE, quantity)
    decision.because("travel_at_cost", _("Travel and lodging for trainings are at the customer's cost."))


def _on_site_for_standard(decision, period, service, severity, location, quantity, day) -> None:
    """On site as part of fault handling (levels 1-3) is included; travel and lodging are at cost. Any other
    on-site visit is paid on-site service."""
    decision.travel_at_cost = True
    if severity in ON_SITE_FAULT_LEVELS:
        decision.because(
            "on_site_fault_handling", _("On-site fault handling is included; travel and lodging are at cost.")
        )
    else:
        decision.outcome = Outcome.BILLABLE
        decision.reasons[:] = [r for r in decision.reasons if r.code != "standard_service"]
        decision.because(
            "on_site_on_request",
            _("An on-site visit on request is paid per person-day; travel and lodging are at cost."),
        )
        _bill_person_days(decision, Role.ENGINEER, DeliveryMode.ON_SITE, quantity)
    _arrive_by(decision, period, severity, location)


def _arrive_by(decision: Decision, period: ServicePeriod, severity: str | None, location: str | None) -> None:
    if severity == Severity.LEVEL_1:
        target = response_target(tier_id=period.tier_id, severity=severity)
        if target and target.on_site_hours:
            decision.arrive_by = timezone.localtime(
                decision.at + datetime.timedelta(hours=target.on_site_hours)
            )
            decision.because(
                "level_1_on_site",
                _("Level 1: an engineer is on site within %(hours)s hours when remote work cannot fix it."),
                hours=target.on_site_hours,
            )
            return
    area = _arrival_area(decision.customer, location)
    rule = arrival_commitment(tier_id=period.tier_id, area=area)
    if rule is None:
        return
    if rule.unit == DurationUnit.WORKING_DAYS:
        calendar = load_calendar(period.calendar)
        decision.arrive_by = add_working_days(decision.at, rule.amount, calendar=calendar)
        decision.provisional = decision.provisional or calendar.is_provisional(
            decision.at, decision.arrive_by
        )
    else:
        decision.arrive_by = timezone.localtime(decision.at + datetime.timedelta(hours=rule.amount))
    decision.because(
        "arrival",
        _("On site within %(amount)s %(unit)s (%(area)s)."),
        amount=rule.amount,
        unit=DurationUnit(rule.unit).label,
        area=ArrivalArea(rule.area).label,
    )


def _arrival_area(customer: Customer, location: str | None) -> str:
    """``location`` is an arrival area code, or a city: the customer's own city keeps its area, another
    city is elsewhere."""
    if not location:
        return customer.arrival_area
    if location in ArrivalArea.values:
        return location
    same = customer.city and location.strip().casefold() == customer.city.strip().casefold()
    return customer.arrival_area if same else ArrivalArea.ELSEWHERE


def _paid(decision: Decision, service: ServiceItem, day, quantity: Decimal, role, delivery: str) -> None:
    """Value-added services and on-site work: billable at the rate card in force, or drawn from a prepaid
    person-day bundle while it lasts."""
    try:
        if service.pricing_basis == PricingBasis.PER_PERSON_DAY:
            bundle = person_day_quota(decision.customer, day)
            if bundle is not None:
                decision.quota = bundle
                if quantity <= bundle.left:
                    decision.outcome = Outcome.INCLUDED
                    decision.because(
                        "prepaid_person_days",
                        _("Drawn from prepaid person-days: %(left)s left until %(end)s."),
                        left=bundle.left,
                        end=bundle.valid_until.isoformat(),
                    )
                    return
                if bundle.left:
                    decision.because(
                        "prepaid_person_days_partly",
                        _("%(left)s prepaid person-days are drawn first; the rest is billed."),
                        left=bundle.left,
                    )
                    quantity -= bundle.left
            decision.price = _person_day_price(decision, role or Role.ENGINEER, delivery, quantity)
        else:
            decision.price = _price_from(price_service(service=service, quantity=quantity, on=day), delivery)
    except BillingError as error:
        if error.code not in UNPRICED:
            raise
        decision.outcome = Outcome.NEEDS_APPROVAL
        decision.because("no_price", _("No price on the rate card in force: agree the charge first."))
        return
    decision.outcome = Outcome.BILLABLE
    decision.because(
        "paid_service",
        _("%(service)s is a paid service, priced %(basis)s on rate card %(card)s."),
        service=Bilingual(service.name_zh, service.name_en),
        basis=PricingBasis(service.pricing_basis).label,
        card=decision.price.rate_card,
    )
    if delivery == DeliveryMode.ON_SITE:
        decision.because("travel_at_cost", _("Travel and lodging are at the customer's cost."))


def _person_day_price(decision: Decision, role: str, delivery: str, quantity: Decimal) -> Price:
    priced = price_person_days(
        quantity=quantity,
        on=timezone.localtime(decision.at).date(),
        role=role,
        delivery_mode=delivery,
        tax_category=decision.service.tax_category.code,
    )
    return _price_from(priced, delivery)


def _bill_person_days(decision: Decision, role: str, delivery: str, quantity: Decimal) -> None:
    """Billable at the person-day rate, or, with no price on a rate card in force, an agreed charge."""
    try:
        decision.price = _person_day_price(decision, role, delivery, quantity)
    except BillingError as error:
        if error.code not in UNPRICED:
            raise
        decision.outcome = Outcome.NEEDS_APPROVAL
        decision.because("no_price", _("No price on the rate card in force: agree the charge first."))


def _price_from(priced: Priced, delivery: str) -> Price:
    currency = priced.currency
    tiers = tuple(
        {
            "up_to": t.up_to,
            "unit_price": Money(t.unit_price, currency),
            "flat_fee": Money(t.flat_fee, currency),
        }
        for t in priced.tiers
    )
    return Price(
        rate_card=f"{priced.rate_card.code}:{priced.rate_card.version}",
        basis=f"{priced.basis}:{priced.tier_model}" if tiers else priced.basis,
        unit_price=tiers[0]["unit_price"] if tiers else priced.unit_price,
        quantity=priced.quantity,
        estimate=priced.amount,
        tax_inclusive=priced.tax_inclusive,
        travel_at_cost=delivery == DeliveryMode.ON_SITE,
        role=priced.role,
        delivery_mode=priced.delivery_mode or delivery,
        tiers=tiers,
        vat_rate=priced.vat_rate,
        net=priced.net,
        vat=priced.vat,
        gross=priced.gross,
    )
