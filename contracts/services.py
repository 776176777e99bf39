"""Writes to contracts: service periods and renewals, quota consumption, charge requests."""

import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money

from billing.closing import apply_closing_rule
from billing.errors import BillingError
from billing.history import api_key_reason, history_record
from billing.idempotency import IdempotencyConflict
from billing.mail import absolute_url, mail_contacts
from billing.models import ApiKey
from billing.reminders import remind_once_per_step
from billing.signed_answer import SignedAnswer
from catalog.models import (
    BusinessCalendar,
    DeliveryMode,
    PricingBasis,
    Product,
    Role,
    ServiceItem,
    ServiceTier,
    TaxCategory,
)
from catalog.pricing import Priced, price_agreed, price_person_days
from catalog.selectors import vat_rate_on
from catalog.versions import Version
from contracts.contract_years import (
    bundle_years,
    closed_contract_year_error,
    consumption_not_ahead_check,
    contract_year_is_closed,
    contract_year_open_check,
)
from contracts.entitlements import TRAINING, Outcome, decide
from contracts.models import (
    ChargeRequest,
    ChargeRequestEvent,
    ChargeStatus,
    ConsumptionEntry,
    Contract,
    ContractKind,
    Customer,
    LicensedProduct,
    PeriodKind,
    PersonDayBundle,
    QuotaKind,
    RenewalReminder,
    ServicePeriod,
    overlapping_periods,
)
from contracts.outbox import (
    charge_request_event_record,
    keys_recorded,
    period_event_record,
    period_shown,
    period_started_key,
    quota_events_record,
)
from contracts.ownership import acts_for, ownership_refusal
from contracts.quotas import THOUSANDTH, bundles_with_use, person_day_quota, training_quota
from contracts.selectors import consumption_left, periods_renewed
from events.services import event_record

CUSTOMER_LINK_SALT = "contracts.charge-request.customer"
# The terms' closing rule: unanswered for a month, closed; not reopened within a further month, final.


class Conflict(BillingError):
    """A request that clashes with what is recorded (HTTP 409)."""

    status = 409


def contract_customer_check(*, contract: Contract | None, customer: Customer) -> None:
    """A document of ``customer`` names none of another customer's contracts."""
    if contract is not None and contract.customer_id != customer.pk:
        raise BillingError(_("The contract belongs to another customer."), code="contract_customer")


@transaction.atomic
def period_add(
    *,
    contract: Contract,
    kind: str,
    start: datetime.date,
    end: datetime.date,
    tier: ServiceTier,
    fee: Money | None = None,
    calendar: BusinessCalendar | None = None,
    trainings_per_year: int = 2,
    retroactive: bool = False,
    by=None,
) -> ServicePeriod:
    """Adds a service period to a contract; a period overlapping another of the same contract is refused.
    The contract row is locked so two concurrent additions cannot both pass the check. The history names
    ``by`` when a staff user adds it outside a request (an import, a test), else the request's user. A
    period added already running records service_period.started (one that starts later is announced by
    ``periods_announce_started``)."""
    Contract.objects.select_for_update().filter(pk=contract.pk).first()
    if end < start:
        raise BillingError(_("A period ends on or after its start."), code="period_dates")
    clash = overlapping_periods(contract.pk, start, end).first()
    if clash is not None:
        raise Conflict(
            _("The period overlaps %(period)s of the same contract."),
            code="period_overlap",
            params={"period": clash},
        )
    if kind == PeriodKind.FREE and fee and fee.amount:
        raise BillingError(_("A free period has no fee."), code="free_period_fee")
    period = ServicePeriod(
        contract=contract,
        kind=kind,
        start=start,
        end=end,
        tier=tier,
        calendar=calendar or tier.calendar,
        fee=fee if fee is not None else Money(0, "CNY"),
        trainings_per_year=trainings_per_year,
        retroactive=retroactive,
    )
    if isinstance(by, AbstractBaseUser):
        period._history_user = by
    period.save()
    today = timezone.localdate()
    if period.covers(today):
        period_event_record("service_period.started", period, today=today, key=period_started_key(period))
    return period


@transaction.atomic
def period_renew(
    *,
    contract: Contract,
    start: datetime.date,
    end: datetime.date,
    fee: Money,
    tier: ServiceTier | None = None,
    retroactive: bool = False,
) -> ServicePeriod:
    """A paid renewal period. A late renewal covers from its own ``start`` only; with ``retroactive`` it
    starts the day after the previous period ended, closing the gap as agreed. The previous period is the
    last one of this contract or of the contracts it continues: cover follows the product's contract, so
    another product's contract neither closes this gap nor lends its tier. Records
    service_period.renewed, naming the period it follows under ``renews``."""
    lineage, ancestor = [contract.pk], contract
    while ancestor.continues_id and ancestor.continues_id not in lineage:
        lineage.append(ancestor.continues_id)
        ancestor = ancestor.continues
    previous = (
        ServicePeriod.objects.filter(contract__in=lineage).select_related("contract").order_by("-end").first()
    )
    if retroactive:
        if previous is None:
            raise BillingError(_("There is no earlier period to continue."), code="nothing_to_continue")
        start = previous.end + datetime.timedelta(days=1)
    period = period_add(
        contract=contract,
        kind=PeriodKind.PAID,
        start=start,
        end=end,
        tier=tier or (previous.tier if previous else ServiceTier.objects.get(code=ServiceTier.STANDARD)),
        fee=fee,
        calendar=previous.calendar if previous and not tier else None,
        trainings_per_year=previous.trainings_per_year if previous else 2,
        retroactive=retroactive,
    )
    if previous is not None:
        period_event_record(
            "service_period.renewed",
            period,
            today=timezone.localdate(),
            renews={"id": previous.pk, "contract": previous.contract.number, "end": previous.end.isoformat()},
        )
    return period


@transaction.atomic
def upgrade_contract_record(
    *,
    customer: Customer,
    product: Product,
    major: int,
    number: str,
    signed_on: datetime.date,
    contract: Contract | None = None,
) -> Contract:
    """The upgrade contract (升级服务合同) taking ``product`` to the major version ``major``: a contract of
    kind upgrade licensing the product at ``major``.0.0 and continuing the contract that licenses it now
    (or ``contract``, or the customer's latest), so the periods that cover the product cover the new major
    too. Recording the same ``number`` again returns the contract recorded first."""
    recorded = Contract.objects.filter(number=number).first()
    if recorded is not None:
        return recorded
    licences = LicensedProduct.objects.filter(contract__customer=customer, product=product).select_related(
        "contract"
    )
    current = max(licences, key=lambda licence: licence.parsed_version, default=None)
    continues = (
        current.contract
        if current is not None
        else contract or Contract.objects.filter(customer=customer).order_by("-signed_on", "-pk").first()
    )
    upgrade = Contract.objects.create(
        customer=customer,
        number=number,
        kind=ContractKind.UPGRADE,
        signed_on=signed_on,
        continues=continues,
    )
    LicensedProduct.objects.create(contract=upgrade, product=product, version=str(Version(major, 0, 0)))
    return upgrade


def periods_mark_lapsed(*, today: datetime.date) -> int:
    """Marks periods that ended before ``today`` and are not renewed (contracts.selectors.period_renewed)
    as lapsed."""
    marked = 0
    ended = ServicePeriod.objects.filter(end__lt=today, lapsed_at__isnull=True)
    for period in periods_renewed(ended, renewed=False):
        with transaction.atomic():
            if ServicePeriod.objects.filter(pk=period.pk, lapsed_at__isnull=True).update(
                lapsed_at=timezone.now()
            ):
                history_record(
                    ServicePeriod.objects.filter(pk=period.pk), reason=gettext("lapsed: not renewed")
                )
                period_event_record(
                    "service_period.lapsed", period, today=today, key=f"service_period.lapsed:{period.pk}"
                )
                marked += 1
    return marked


# A period added before it starts is announced on its first day, or on a later one within this margin when
# the daily task did not run (well within EVENTS_RETENTION_DAYS, so a purged event is not recorded again).
STARTED_CATCH_UP = datetime.timedelta(days=7)


def periods_announce_started(*, today: datetime.date) -> int:
    """Records service_period.started for the periods added before their start that start on ``today``
    (or started within STARTED_CATCH_UP and were not announced), once each (its key). A period added
    already running was announced by ``period_add``."""
    starting = list(
        ServicePeriod.objects.filter(
            start__range=(today - STARTED_CATCH_UP, today), end__gte=today, created_at__date__lt=F("start")
        )
    )
    recorded = keys_recorded([period_started_key(period) for period in starting])
    announced = 0
    for period in starting:
        if period_started_key(period) not in recorded:
            with transaction.atomic():
                period_event_record(
                    "service_period.started", period, today=today, key=period_started_key(period)
                )
            announced += 1
    return announced


def renewal_reminders_send(*, today: datetime.date) -> list[RenewalReminder]:
    """E-mails the account manager about periods ending within a reminder step (RENEWAL_REMINDER_DAYS) and
    not renewed (contracts.selectors.period_renewed), once per step (billing.reminders)."""
    steps = sorted(settings.RENEWAL_REMINDER_DAYS, reverse=True)
    sent = []
    due = ServicePeriod.objects.filter(end__gte=today, end__lte=today + datetime.timedelta(days=steps[0]))
    for period in (
        periods_renewed(due, renewed=False)
        .select_related("contract__customer__account_manager", "tier")
        .prefetch_related("reminders")
    ):
        days_left = (period.end - today).days
        steps_due = [step for step in steps if days_left <= step]
        _ending_record(period, steps_due, today=today)
        sent += remind_once_per_step(
            model=RenewalReminder,
            document_field="period",
            step_field="days_before",
            document=period,
            steps_due=steps_due,
            send=lambda _new, period=period, days_left=days_left: _mail_renewal_due(period, days_left),
        )
    return sent


def _ending_record(period: ServicePeriod, steps_due: list[int], *, today: datetime.date) -> None:
    """service_period.ending for each step due that no reminder marks done yet, once (its key): recorded
    before the reminder, so a run stopped between the two records it once and loses none."""
    reminded = {reminder.days_before for reminder in period.reminders.all()}
    keys = {step: f"service_period.ending:{period.pk}:{step}" for step in steps_due if step not in reminded}
    recorded = keys_recorded(list(keys.values())) if keys else set()
    new = [step for step, key in keys.items() if key not in recorded]
    if not new:
        return
    customer_code, shown = period_shown(period, today=today)
    for step in new:
        event_record(
            "service_period.ending",
            customer_code=customer_code,
            data={"object": shown, "reminder_days": step, "ends_on": period.end.isoformat()},
            key=keys[step],
        )


def _mail_renewal_due(period: ServicePeriod, days_left: int) -> None:
    customer = period.contract.customer
    manager = customer.account_manager
    if manager is None or not manager.email:
        return
    send_mail(
        gettext("Renewal due: %(customer)s, service ends %(end)s")
        % {"customer": customer.legal_name, "end": period.end},
        gettext(
            "The %(kind)s of %(customer)s (contract %(contract)s, fee %(fee)s) ends on %(end)s, "
            "in %(days)s days. A renewal quote is drafted for it."
        )
        % {
            "kind": period.get_kind_display(),
            "customer": customer.legal_name,
            "contract": period.contract.number,
            "fee": period.fee,
            "end": period.end,
            "days": days_left,
        },
        None,
        [manager.email],
    )


def consume(
    *,
    customer: Customer,
    service: ServiceItem,
    quantity: Decimal,
    ticket_ref: str,
    idempotency_key: str,
    at: datetime.datetime | None = None,
    recorded_by: str = "",
    bundle: PersonDayBundle | None = None,
    reported_at: datetime.datetime | None = None,
) -> list[ConsumptionEntry]:
    """Records a use of a counted quota: a free training, or person-days of prepaid bundles (earliest
    expiry first, or only ``bundle`` when one is named). Refused when the quota cannot hold it, so
    concurrent uses never take it below zero: the quota's rows are locked and the balance read again inside
    the transaction. A retry with the same idempotency key returns the entries first recorded and records
    nothing more.

    The use counts in the contract year of ``at`` (contracts.contract_years): refused when that year closed
    before the day the use was reported (``reported_at``, default now: the invoice run draws a work log's
    person-days after the fact, as of the day the log was recorded), or when ``at`` is ahead of now by more
    than CONSUMPTION_FUTURE_MARGIN_SECONDS."""
    quantity = Decimal(quantity)
    if quantity <= 0:
        raise BillingError(_("The quantity must be positive."), code="invalid_quantity")
    existing = _entries(idempotency_key)
    if existing:
        return existing
    now = timezone.now()
    at = at or now
    consumption_not_ahead_check(at, now=now)
    day = timezone.localtime(at).date()
    today = timezone.localtime(reported_at or now).date()
    try:
        with transaction.atomic():
            if service.code == TRAINING:
                entry = _consume_training(
                    customer, service, quantity, ticket_ref, idempotency_key, at, day, recorded_by, today
                )
                quota = training_quota(entry.period, day)
                quota_events_record(customer=customer, quota=quota, period=entry.period, drawn=quantity)
                return [entry]
            if service.pricing_basis == PricingBasis.PER_PERSON_DAY:
                entries = _consume_person_days(
                    customer, service, quantity, ticket_ref, idempotency_key, day, recorded_by, today, bundle
                )
                quota = person_day_quota(customer, day)
                quota_events_record(customer=customer, quota=quota, day=day, drawn=quantity)
                return entries
    except IntegrityError:
        existing = _entries(idempotency_key)  # a concurrent retry with the same key won the race
        if existing:
            return existing
        raise
    raise BillingError(
        _("“%(service)s” has no counted quota: only trainings and person-days are consumed."),
        code="not_a_quota",
        params={"service": service.code},
    )


def _entries(idempotency_key: str) -> list[ConsumptionEntry]:
    return list(ConsumptionEntry.objects.filter(idempotency_key=idempotency_key).order_by("part"))


def _consume_training(
    customer, service, quantity, ticket_ref, key, at, day, recorded_by, today
) -> ConsumptionEntry:
    decision = decide(customer=customer, service=service, at=at, quantity=quantity)
    if decision.period is None:
        raise BillingError(_("The customer has no service period on this day."), code="not_covered")
    contract_year_open_check(decision.period.contract_year(day), today=today)
    ServicePeriod.objects.select_for_update().filter(pk=decision.period.pk).first()
    decision = decide(
        customer=customer, service=service, at=at, quantity=quantity
    )  # read again under the lock
    if decision.outcome != Outcome.INCLUDED:
        raise Conflict(
            _("The free trainings of this contract year are used up (%(used)s of %(allowance)s)."),
            code="quota_exhausted",
            params={"used": decision.quota.used, "allowance": decision.quota.allowance},
        )
    return ConsumptionEntry.objects.create(
        customer=customer,
        kind=QuotaKind.TRAINING,
        period=decision.period,
        service_code=service.code,
        quantity=quantity,
        used_on=day,
        ticket_ref=ticket_ref,
        idempotency_key=key,
        recorded_by=recorded_by,
    )


def _consume_person_days(
    customer, service, quantity, ticket_ref, key, day, recorded_by, today, named=None
) -> list[ConsumptionEntry]:
    # Lock the bundles first, then read their use: the balance cannot change under us.
    list(
        PersonDayBundle.objects.select_for_update().filter(
            contract__customer=customer, valid_from__lte=day, valid_until__gte=day
        )
    )
    bundles = [b for b in bundles_with_use(customer, day) if named is None or b.pk == named.pk]
    years = bundle_years(bundles, day)
    closed = [b for b in bundles if contract_year_is_closed(years[b.pk], today=today)]
    if closed and len(closed) == len(bundles):
        raise closed_contract_year_error(years[closed[0].pk])
    bundles = [b for b in bundles if b not in closed]
    left = {b.pk: b.days - b.used for b in bundles}
    if sum(left.values(), Decimal(0)) < quantity:
        raise Conflict(
            _("Prepaid person-days left: %(left)s; asked: %(asked)s."),
            code="quota_exhausted",
            params={"left": sum(left.values(), Decimal(0)), "asked": quantity},
        )
    entries, remaining = [], quantity
    for bundle in bundles:
        take = min(left[bundle.pk], remaining)
        if take <= 0:
            continue
        entries.append(
            ConsumptionEntry.objects.create(
                customer=customer,
                kind=QuotaKind.PERSON_DAYS,
                bundle=bundle,
                service_code=service.code,
                quantity=take,
                used_on=day,
                ticket_ref=ticket_ref,
                idempotency_key=key,
                part=len(entries) + 1,
                recorded_by=recorded_by,
            )
        )
        remaining -= take
        if remaining == 0:
            break
    return entries


# --- corrections of the consumption ledger -----------------------------------------------------------


REASON_MAX_LENGTH = ConsumptionEntry._meta.get_field("reason").max_length


class CorrectionForbidden(BillingError):
    """A staff user who may not correct this customer's ledger (HTTP 403)."""

    status = 403


def consumption_may_correct(*, by: AbstractBaseUser, customer: Customer) -> bool:
    """Whether a staff user may correct the customer's consumption: one who may record consumption
    (``contracts.add_consumptionentry``) and acts for the customer (contracts.ownership)."""
    return by.has_perm("contracts.add_consumptionentry") and acts_for(user=by, customer=customer)


def consumption_correct(
    *,
    entry: ConsumptionEntry,
    quantity: Decimal,
    reason: str,
    idempotency_key: str,
    by: AbstractBaseUser | ApiKey,
) -> ConsumptionEntry:
    """Gives back ``quantity`` of a use (a training, person-days of a bundle) by a correction entry (see
    ``ConsumptionEntry``). ``by`` is the staff user or the API key (billing.models.ApiKey) that corrects;
    both are in the audit history. The use's row is locked and what is left of it read again under the
    lock, so concurrent corrections never give back more than was used. A retry with the same key and
    the same correction returns the first one; the same key for anything else is a conflict. Invoices
    are not touched: person-days a work log drew are given back to the bundle only. A use in a closed
    contract year may be corrected: what it gives back stays in that year (the correction carries the use's
    day), where ``consume`` draws nothing more (contracts.contract_years)."""
    quantity = Decimal(quantity)
    if quantity <= 0 or quantity != quantity.quantize(THOUSANDTH):
        raise BillingError(
            _("The quantity must be positive, in thousandths at most."), code="invalid_quantity"
        )
    reason = (reason or "").strip()
    if not reason:
        raise BillingError(_("Give the reason for the correction."), code="reason_required")
    if len(reason) > REASON_MAX_LENGTH:
        raise BillingError(
            _("A reason has at most %(max)s characters."),
            code="reason_too_long",
            params={"max": REASON_MAX_LENGTH},
        )
    is_user = isinstance(by, AbstractBaseUser)
    if is_user and not consumption_may_correct(by=by, customer=entry.customer):
        raise CorrectionForbidden(
            _("Only the customer's account manager corrects its consumption."), code="correction_forbidden"
        )
    try:
        with transaction.atomic():
            entry = ConsumptionEntry.objects.select_for_update().get(pk=entry.pk)
            replayed = _replayed_correction(idempotency_key, entry, quantity, reason)
            if replayed is not None:
                return replayed
            if entry.is_correction:
                raise BillingError(
                    _("A correction cannot be corrected; correct the use it gives back instead."),
                    code="correction_of_correction",
                )
            left = consumption_left(entry)
            if quantity > left:
                raise Conflict(
                    _("Only %(left)s of this use is left to give back; asked: %(asked)s."),
                    code="correction_exceeds_entry",
                    params={"left": left, "asked": quantity},
                )
            correction = ConsumptionEntry(
                customer_id=entry.customer_id,
                kind=entry.kind,
                period_id=entry.period_id,
                bundle_id=entry.bundle_id,
                service_code=entry.service_code,
                quantity=-quantity,
                used_on=entry.used_on,
                ticket_ref=entry.ticket_ref,
                idempotency_key=idempotency_key,
                recorded_by=(by.get_username() if is_user else by.name)[:100],
                corrects=entry,
                reason=reason,
            )
            if is_user:
                correction._history_user = by
            else:
                correction._change_reason = api_key_reason(by)
            correction.save()
            return correction
    except IntegrityError:
        # a concurrent request with the same key won the race: answer as its retry
        replayed = _replayed_correction(idempotency_key, entry, quantity, reason)
        if replayed is None:
            raise
        return replayed


def _replayed_correction(
    key: str, entry: ConsumptionEntry, quantity: Decimal, reason: str
) -> ConsumptionEntry | None:
    """The correction first recorded under ``key`` when this is its retry; None for a new key."""
    first = ConsumptionEntry.objects.filter(idempotency_key=key).order_by("part").first()
    if first is None:
        return None
    if first.corrects_id != entry.pk or first.quantity != -quantity or first.reason != reason:
        raise IdempotencyConflict(
            _("This idempotency key was used for another record of the ledger."),
            code="idempotency_key_reused",
        )
    return first


# --- charge requests --------------------------------------------------------------------------------


def charge_request_create(
    *,
    customer: Customer,
    ticket_ref: str,
    description: str,
    requested_by: str,
    estimated_person_days: Decimal | None = None,
    estimated_amount: Money | None = None,
    contract: Contract | None = None,
    service_code: str = "",
    requested_by_user=None,
) -> ChargeRequest:
    if estimated_person_days is None and estimated_amount is None:
        raise BillingError(
            _("Give estimated person-days or an estimated amount."), code="charge_needs_estimate"
        )
    contract_customer_check(contract=contract, customer=customer)
    with transaction.atomic():
        request = ChargeRequest.objects.create(
            customer=customer,
            contract=contract,
            ticket_ref=ticket_ref,
            description=description,
            service_code=service_code,
            estimated_person_days=estimated_person_days,
            estimated_amount=estimated_amount,
            requested_by=requested_by,
            requested_by_user=requested_by_user,
        )
        _event(request, requested_by)
    return request


def charge_request_price(request: ChargeRequest) -> Priced:
    """What the request is worth, as the customer confirms it and the invoice bills it: the larger of its
    estimated amount (VAT included) and its person-days at the rate in force when it was made, the
    engineer's remote rate unless its service is priced per person-day otherwise (so a token amount
    beside many person-days cannot dodge finance's approval). Travel and lodging come on top at cost."""
    day = timezone.localdate(request.created_at)
    prices = []
    if request.estimated_amount is not None:
        prices.append(
            price_agreed(
                unit_price=request.estimated_amount,
                quantity=Decimal(1),
                vat_rate=vat_rate_on(category_code=TaxCategory.SERVICES, on=day),
            )
        )
    if request.estimated_person_days is not None:
        prices.append(
            price_person_days(
                quantity=request.estimated_person_days,
                on=day,
                role=Role.ENGINEER,
                delivery_mode=DeliveryMode.REMOTE,
            )
        )
    return max(prices, key=lambda priced: priced.gross.amount)


def charge_request_value(request: ChargeRequest) -> Money:
    """The gross of ``charge_request_price``: what the approval thresholds compare."""
    return charge_request_price(request).gross


def _approval_refusal(request: ChargeRequest, user) -> BillingError | None:
    """Why ``user`` may not approve ``request`` now, or None when they may. Nobody approves their own
    request; an account manager acting for the customer (contracts.ownership) gives the first approval,
    finance the second (above CHARGE_FINANCE_APPROVAL_ABOVE), and one person never gives both (four
    eyes)."""
    if request.requested_by_user_id is not None and request.requested_by_user_id == user.pk:
        return BillingError(_("The requester cannot approve their own request."), code="own_request")
    if request.status == ChargeStatus.PENDING_APPROVAL:
        if not user.has_perm("contracts.approve_chargerequest"):
            return BillingError(
                _("Only an account manager approves charge requests."), code="forbidden_approval"
            )
        return ownership_refusal(user=user, customer=request.customer)
    if request.status == ChargeStatus.PENDING_FINANCE:
        if not user.has_perm("contracts.finance_approve_chargerequest"):
            return BillingError(
                _("Finance approves charge requests of this size."), code="forbidden_approval"
            )
        if request.approved_by_id == user.pk:
            return BillingError(_("A second approval needs a second person."), code="same_approver")
        return ownership_refusal(user=user, customer=request.customer)
    return Conflict(
        _("A request that is %(status)s cannot be approved."),
        code="charge_status",
        params={"status": request.get_status_display()},
    )


def charge_request_can_approve(request: ChargeRequest, user) -> bool:
    """Whether charge_request_approve would accept ``user``'s approval of ``request`` now: what the pages
    ask before they list a request as waiting for the user."""
    return _approval_refusal(request, user) is None


def charge_request_approval_refusal(request: ChargeRequest, user) -> BillingError | None:
    """Why charge_request_approve would refuse ``user``'s approval of ``request`` now, or None: what the
    charge-requests list shows in place of the buttons."""
    return _approval_refusal(request, user)


def _rejection_refusal(request: ChargeRequest, user) -> BillingError | None:
    if request.status not in (ChargeStatus.PENDING_APPROVAL, ChargeStatus.PENDING_FINANCE):
        return Conflict(
            _("A request that is %(status)s cannot be rejected."),
            code="charge_status",
            params={"status": request.get_status_display()},
        )
    if not (
        user.has_perm("contracts.approve_chargerequest")
        or user.has_perm("contracts.finance_approve_chargerequest")
    ):
        return BillingError(_("Only an approver rejects charge requests."), code="forbidden_approval")
    return ownership_refusal(user=user, customer=request.customer)


def charge_request_can_reject(request: ChargeRequest, user) -> bool:
    """Whether charge_request_reject would accept ``user``'s rejection of ``request`` now."""
    return _rejection_refusal(request, user) is None


@transaction.atomic
def charge_request_approve(*, request: ChargeRequest, by, note: str = "") -> ChargeRequest:
    """The account manager approves; above CHARGE_FINANCE_APPROVAL_ABOVE finance approves too. Nobody
    approves their own request, and one person never gives both approvals."""
    request = ChargeRequest.objects.select_for_update().get(pk=request.pk)
    refusal = _approval_refusal(request, by)
    if refusal is not None:
        raise refusal
    if request.status == ChargeStatus.PENDING_APPROVAL:
        request.approved_by = by
        threshold = Money(settings.CHARGE_FINANCE_APPROVAL_ABOVE, "CNY")
        value = charge_request_value(request)
        needs_finance = str(value.currency) != "CNY" or value > threshold
        request.status = ChargeStatus.PENDING_FINANCE if needs_finance else ChargeStatus.AWAITING_CUSTOMER
    else:
        request.finance_approved_by = by
        request.status = ChargeStatus.AWAITING_CUSTOMER
    if request.status == ChargeStatus.AWAITING_CUSTOMER:
        request.sent_to_customer_at = timezone.now()
    request.save()
    _event(request, by.get_username(), note)
    if request.status == ChargeStatus.AWAITING_CUSTOMER:
        charge_request_event_record(
            "charge_request.approved", request, finance_approved=request.finance_approved_by_id is not None
        )
        transaction.on_commit(lambda: _mail_customer(request))
    return request


@transaction.atomic
def charge_request_reject(*, request: ChargeRequest, by, note: str = "") -> ChargeRequest:
    request = ChargeRequest.objects.select_for_update().get(pk=request.pk)
    refusal = _rejection_refusal(request, by)
    if refusal is not None:
        raise refusal
    request.status = ChargeStatus.REJECTED
    request.save(update_fields=["status"])
    _event(request, by.get_username(), note)
    charge_request_event_record("charge_request.rejected", request)
    return request


def _not_answerable(request: ChargeRequest) -> BillingError:
    return Conflict(
        _("This request is %(status)s and cannot be answered any more."),
        code="charge_status",
        params={"status": request.get_status_display()},
    )


# Links expire CHARGE_REQUEST_LINK_MAX_AGE_DAYS after they are made (the closing rule's month to answer
# plus a month to reopen).
CUSTOMER_ANSWER = SignedAnswer(
    model=ChargeRequest,
    salt=CUSTOMER_LINK_SALT,
    key="charge_request",
    max_age_setting="CHARGE_REQUEST_LINK_MAX_AGE_DAYS",
    waiting=ChargeStatus.AWAITING_CUSTOMER,
    closed=ChargeStatus.CLOSED,
    accepted=ChargeStatus.CONFIRMED,
    declined=ChargeStatus.DECLINED,
    name_field="customer_answer_name",
    ip_field="customer_answer_ip",
    at_field="customer_answered_at",
    refusal=_not_answerable,
)


@transaction.atomic
def charge_request_customer_answer(
    *, request: ChargeRequest, accept: bool, name: str, ip: str | None
) -> ChargeRequest:
    """The customer confirms or declines through the signed link (billing.signed_answer); a closed request
    may be reopened (and answered) within a month of closing."""
    request, before = CUSTOMER_ANSWER.record(request, accept=accept, name=name, ip=ip)
    if before == ChargeStatus.CLOSED:
        _event(request, name, gettext("reopened by the customer"), status=before)
        charge_request_event_record("charge_request.reopened", request)
    _event(request, f"{name.strip()[:100]} ({ip or '-'})")
    charge_request_event_record(
        "charge_request.confirmed" if request.status == ChargeStatus.CONFIRMED else "charge_request.declined",
        request,
    )
    return request


def charge_request_answerable(request: ChargeRequest, *, now: datetime.datetime) -> bool:
    """Waiting for the customer, or closed unanswered less than a month ago (so it may be reopened)."""
    return CUSTOMER_ANSWER.answerable(request, now=now)


def charge_requests_apply_closing_rule(*, now: datetime.datetime | None = None) -> tuple[int, int]:
    """Closes requests the customer left unanswered for a month (telling them by e-mail) and makes final
    those closed a month ago and not reopened (billing.closing). Safe to run twice."""

    def closed(request: ChargeRequest) -> None:
        _event(request, "system", gettext("closed: no answer within a month"))
        charge_request_event_record("charge_request.closed", request, closed_by="closing_rule")
        transaction.on_commit(lambda: _mail_customer(request, closed=True))

    return apply_closing_rule(
        ChargeRequest,
        waiting=ChargeStatus.AWAITING_CUSTOMER,
        sent_field="sent_to_customer_at",
        closed=ChargeStatus.CLOSED,
        final=ChargeStatus.FINAL,
        now=now or timezone.now(),
        on_closed=closed,
        on_final=lambda request: _event(request, "system", gettext("final: not reopened within a month")),
    )


def customer_link_token(request: ChargeRequest) -> str:
    return CUSTOMER_ANSWER.token(request)


def charge_request_from_token(token: str) -> ChargeRequest:
    """The request a customer link points at (billing.signed_answer)."""
    return CUSTOMER_ANSWER.document(token)


def _event(request: ChargeRequest, actor: str, note: str = "", *, status: str | None = None) -> None:
    ChargeRequestEvent.objects.create(
        request=request, status=status or request.status, actor=actor[:150], note=note
    )


def _mail_customer(request: ChargeRequest, *, closed: bool = False) -> None:
    link = absolute_url(reverse("contracts:charge-request-answer", args=[customer_link_token(request)]))
    if closed:
        subject = gettext("Charge request %(ticket)s closed") % {"ticket": request.ticket_ref}
        body = gettext(
            "You did not answer charge request %(ticket)s within a month, so it is closed. You may reopen it "
            "within a month: %(link)s"
        ) % {"ticket": request.ticket_ref, "link": link}
    else:
        price = charge_request_price(request)
        subject = gettext("Please confirm charge request %(ticket)s") % {"ticket": request.ticket_ref}
        body = gettext(
            "%(description)s\n\nPrice: %(quantity)s %(unit)s x %(unit_price)s = %(list_amount)s; "
            "net %(net)s, VAT %(vat)s, total %(gross)s. Travel and lodging for on-site work are at your "
            "cost, on top, as receipted.\n\nConfirm or decline here: %(link)s"
        ) % {
            "description": request.description,
            "quantity": f"{price.quantity.normalize():f}",
            "unit": price.unit,
            "unit_price": price.unit_price,
            "list_amount": price.list_amount,
            "net": price.net,
            "vat": price.vat,
            "gross": price.gross,
            "link": link,
        }
    mail_contacts(request.customer.contacts.all(), subject, body)
