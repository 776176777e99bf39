"""Writes to invoices: collecting billable charges, invoice runs, issuing, credit notes, payments."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Prefetch, Sum
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money
from sequences import get_next_value

from billing.dispatch import send_task, send_task_on_commit
from billing.errors import BillingError
from billing.history import CREATED, history_record
from billing.mail import mail_contacts
from billing.money import quantity_text, round_fen
from billing.reminders import remind_once_per_step
from catalog.models import PricingBasis, Role, TaxCategory
from catalog.pricing import Priced, price_agreed, price_at_cost, price_service, travel_cap
from catalog.selectors import rate_card_in_force, service_by_code, travel_vat_rate, vat_rate_on
from contracts.contract_years import bundle_years, contract_year_open_check
from contracts.models import Customer, PersonDayBundle, ServicePeriod
from contracts.ownership import ownership_check
from contracts.quotas import Quota, bundles_with_use, person_day_quota
from contracts.services import charge_request_create, charge_request_price, consume
from events.models import Event
from events.services import event_record
from invoices.models import (
    HOURS_PER_DAY,
    RECEIPT_MAX_BYTES,
    Charge,
    ChargeSource,
    DataVolumeUsage,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceReminder,
    InvoiceRun,
    InvoiceStatus,
    Payment,
    RunStatus,
    SetAside,
    TravelExpense,
    WorkLog,
    WorkLogReview,
)
from invoices.red_letter import red_letter_request_start
from invoices.selectors import (
    BALANCE_PREFETCH,
    billable_not_collected,
    fapiao_numbers,
    invoice_balance,
    invoice_totals,
    overdue_by_age,
)
from invoices.serializers import (
    INVOICE_PREFETCH,
    INVOICE_RELATED,
    CreditNoteOutput,
    PaymentOutput,
    invoice_object,
)
from invoices.service_codes import charge_service_code
from quotes.models import InvoicingPolicy, LineKind, OrderLine, OrderStatus, ServiceOrder
from quotes.selectors import order_line_named, order_line_priced, quote_by_reference
from quotes.services import OrderConflict, line_priced

PAYMENT_TERMS_DAYS = 30
_NO_QUOTA = Quota("person_days", Decimal(0), Decimal(0), datetime.date.min, datetime.date.max)


class InvoiceConflict(BillingError):
    status = 409


def work_log_record(
    *,
    customer: Customer,
    engineer: str,
    work_date: datetime.date,
    ticket_ref: str,
    idempotency_key: str,
    days: Decimal | None = None,
    hours: Decimal | None = None,
    role: str = Role.ENGINEER,
    on_site: bool = False,
    service_code: str = "custom-development",
    description: str = "",
    order_line: OrderLine | None = None,
    bundle: PersonDayBundle | None = None,
    by=None,
) -> tuple[WorkLog, bool]:
    """Records delivered work once per idempotency key; ``hours`` count 8 to the person-day. Returns the log
    and whether it is new (a retry returns the first one).

    The log names what it delivers (``work_log_target`` checks it): an order line, a prepaid bundle, or
    nothing. A log that no rate card or order line can price is refused now, not left to fail every invoice
    run. Work beyond an order line's quantity is refused here when ORDER_OVERRUN is "refuse"; otherwise the
    excess becomes a charge request when the log is billed. ``by``: the user who records it, when one does
    (a ticketing tool or an import records none); he does not approve it himself (``work_log_approve``)."""
    existing = WorkLog.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing, False
    if (days is None) == (hours is None):
        raise BillingError(_("Give the work in days or in hours."), code="work_days_or_hours")
    days = (Decimal(days) if days is not None else Decimal(hours) / HOURS_PER_DAY).quantize(Decimal("0.001"))
    if days <= 0:
        raise BillingError(_("The quantity must be positive."), code="invalid_quantity")
    if order_line is None:
        order_line = order_line_of_ticket(customer=customer, ticket_ref=ticket_ref, service_code=service_code)
    if order_line is not None:
        service_code = order_line.service.code
    log = WorkLog(
        customer=customer,
        engineer=engineer,
        role=role,
        work_date=work_date,
        days=days,
        on_site=on_site,
        ticket_ref=ticket_ref,
        service_code=service_code,
        description=description,
        order_line=order_line,
        bundle=bundle,
        idempotency_key=idempotency_key,
        recorded_by=by,
    )
    try:
        with transaction.atomic():
            work_log_target(log)
            log.save()
            return log, True
    except IntegrityError:
        return WorkLog.objects.get(idempotency_key=idempotency_key), False


def order_line_of_ticket(*, customer: Customer, ticket_ref: str, service_code: str) -> OrderLine | None:
    """Work logged under the reference of one of the customer's accepted quotes delivers that order's line
    of the service (a ticketing tool often has only the ticket field to name the order)."""
    quote = quote_by_reference(ticket_ref)
    if quote is None or quote.customer_id != customer.pk or not hasattr(quote, "order"):
        return None
    return order_line_named(quote_reference=quote.reference, service_code=service_code)


def work_log_target(log: WorkLog, *, pending: Decimal = Decimal(0)) -> None:
    """Checks what an unsaved work log delivers and that it can be priced. Refuses, with a clear error, an
    order line of another customer, of a closed order or not in person-days, a bundle of another customer,
    not valid on the day or in a closed contract year, a service not billed per person-day, work no rate
    card prices on its date, and (when ORDER_OVERRUN is "refuse") work beyond what the order line has left,
    ``pending`` days of it being logged already by earlier rows of the same import. Locks the order line:
    concurrent logs against it are checked one after the other."""
    line = _order_line_open_to(log) if log.order_line is not None else None
    service = service_by_code(log.service_code)
    if service is None or service.pricing_basis != PricingBasis.PER_PERSON_DAY:
        raise BillingError(
            _("“%(code)s” is not a service billed per person-day."),
            code="not_person_days",
            params={"code": log.service_code},
        )
    if log.order_line is not None and log.bundle is not None:
        raise BillingError(
            _("A work log delivers an order line or draws on a prepaid bundle, not both."),
            code="work_log_target",
        )
    if log.bundle is not None:
        if log.bundle.contract.customer_id != log.customer_id:
            raise BillingError(_("The prepaid bundle belongs to another customer."), code="bundle_customer")
        if not log.bundle.valid_from <= log.work_date <= log.bundle.valid_until:
            raise BillingError(
                _("The prepaid bundle is valid from %(start)s to %(end)s, not on %(date)s."),
                code="bundle_not_valid",
                params={"start": log.bundle.valid_from, "end": log.bundle.valid_until, "date": log.work_date},
            )
        # the bundle's contract year of the work date must still be open (contracts.contract_years)
        year = bundle_years([log.bundle], log.work_date)[log.bundle.pk]
        contract_year_open_check(year, today=timezone.localdate())
    if log.order_line is None:
        work_log_priced(log, log.days)  # raises what would make every invoice run fail
        return
    logs = line.work_logs.exclude(review=WorkLogReview.REJECTED)
    logged = (logs.aggregate(total=Sum("days"))["total"] or Decimal(0)) + pending
    left = max(line.quantity - logged, Decimal(0))
    if log.days > left and settings.ORDER_OVERRUN == "refuse":
        raise OrderConflict(
            _(
                "Order line “%(line)s” has %(left)s of %(ordered)s person-days left; %(days)s are more. "
                "Ask for a new order or a charge request for the rest."
            ),
            code="order_overrun",
            params={
                "line": line.description,
                "left": quantity_text(left),
                "ordered": quantity_text(line.quantity),
                "days": quantity_text(log.days),
            },
        )


def _order_line_open_to(log: WorkLog) -> OrderLine:
    """The order line a log names, locked, if it may take the log: the customer's, open, in person-days."""
    line = OrderLine.objects.select_for_update().select_related("order").get(pk=log.order_line.pk)
    if line.order.customer_id != log.customer_id:
        raise BillingError(
            _("The order line belongs to another customer's order."), code="order_line_customer"
        )
    if not line.order.is_open:
        raise OrderConflict(
            _("Order %(order)s is closed: no more work is logged against it."),
            code="order_closed",
            params={"order": str(line.order)},
        )
    if line.kind != LineKind.PERSON_DAYS:
        raise BillingError(
            _("Order line “%(line)s” is not in person-days: work logs deliver person-day lines only."),
            code="order_line_not_person_days",
            params={"line": line.description},
        )
    return line


def _overrun_charge_request(log: WorkLog, line: OrderLine, excess: Decimal) -> None:
    """The person-days beyond an order line's quantity, at the line's agreed price, as an out-of-scope charge
    request: the account manager approves it and the customer confirms it before it is billed."""
    priced = order_line_priced(line, excess)
    charge_request_create(
        customer=log.customer,
        contract=line.order.quote.contract,
        ticket_ref=log.ticket_ref,
        description=gettext(
            "%(days)s person-days beyond order line “%(line)s” of %(order)s (work log %(log)s)"
        )
        % {"days": excess, "line": line.description, "order": line.order, "log": log.pk},
        requested_by=f"work log {log.pk}: {log.engineer}"[:150],
        estimated_amount=priced.gross,
        service_code=line.service.code,
    )


def work_log_priced(
    log: WorkLog, quantity: Decimal, *, rate_card=None, vat_rate: Decimal | None = None
) -> Priced:
    """``quantity`` person-days of the log's service, role and delivery mode at the rate card of its date
    (``rate_card`` and ``vat_rate``: those of its date, when the caller has them already)."""
    return price_service(
        service=service_by_code(log.service_code),
        quantity=quantity,
        on=log.work_date,
        rate_card=rate_card,
        vat_rate=vat_rate,
        basis=PricingBasis.PER_PERSON_DAY,
        role=log.role,
        delivery_mode=log.delivery_mode,
    )


def _charge_work_logs(logs, set_aside: list) -> None:
    """Each unprocessed work log, oldest first, becomes at most one charge, under its own lock: against a
    line billed when ordered, nothing; against a line billed as delivered, its days up to what the line has
    left, at the line's agreed price; days beyond the line's quantity become a charge request. Otherwise
    prepaid person-days (the named bundle's, or any) are drawn first and the rest is billed at the rate of
    its work date. A log that cannot be billed is set aside with its reason; the next run tries it again.
    A log finance rejected is never charged (billing does not wait for an approval)."""
    for log_id, customer_id in logs.order_by("work_date", "pk").values_list("pk", "customer_id"):
        try:
            with transaction.atomic():
                log = WorkLog.objects.select_for_update().select_related("customer").get(pk=log_id)
                if log.processed_at is not None or log.review == WorkLogReview.REJECTED:
                    continue
                charge = _work_log_charge(log)
                if (
                    charge is not None
                    and not Charge.objects.filter(source=charge.source, source_id=log.pk).exists()
                ):
                    charge.save()
                log.processed_at = timezone.now()
                log.save(update_fields=["processed_at"])
        except BillingError as error:
            set_aside.append(
                _set_aside(
                    source=ChargeSource.WORK_LOG, source_id=log_id, customer_id=customer_id, error=error
                )
            )


def _work_log_charge(log: WorkLog) -> Charge | None:
    fields = {
        "customer": log.customer,
        "source": ChargeSource.WORK_LOG,
        "source_id": log.pk,
        "service_date": log.work_date,
    }
    if log.order_line_id is not None:
        line = OrderLine.objects.select_for_update().select_related("order__quote").get(pk=log.order_line_id)
        before = line.work_logs.filter(processed_at__isnull=False).aggregate(total=Sum("days"))["total"]
        quantity = min(log.days, max(line.quantity - (before or Decimal(0)), Decimal(0)))
        if log.days > quantity:
            _overrun_charge_request(log, line, log.days - quantity)
        if quantity <= 0 or line.invoicing_policy == InvoicingPolicy.ORDERED:
            return None  # an ordered line was billed once, when the order was accepted
        return charge_from_priced(
            order_line_priced(line, quantity, before=before or Decimal(0)),
            **fields,
            order_line=line,
            description=f"{line.description} · {log.engineer} · {line.order}",
            service_code=charge_service_code(ChargeSource.WORK_LOG, line.service.code),
        )
    service = service_by_code(log.service_code)
    drawn = min(log.days, (person_day_quota(log.customer, log.work_date) or _NO_QUOTA).left)
    if log.bundle_id is not None:
        drawn = min(log.days, _bundle_left(log))
    if drawn > 0:
        try:
            consume(
                customer=log.customer,
                service=service,
                quantity=drawn,
                ticket_ref=log.ticket_ref,
                idempotency_key=f"worklog:{log.pk}",
                at=_drawn_at(log.work_date),
                recorded_by="work log",
                bundle=log.bundle,
                reported_at=log.created_at,
            )
        except BillingError as error:
            # a log recorded after its contract year closed draws nothing of that year's bundles either
            if error.code not in ("quota_exhausted", "closed_contract_year"):
                raise
            drawn = Decimal(0)
    rest = log.days - drawn
    if rest <= 0:
        return None
    return charge_from_priced(
        work_log_priced(log, rest),
        **fields,
        description=f"{service.name} · {log.engineer} · {log.ticket_ref}",
        service_code=charge_service_code(ChargeSource.WORK_LOG, log.service_code),
    )


def _bundle_left(log: WorkLog) -> Decimal:
    """The person-days the bundle a log names has left on the log's day (its uses less their corrections)."""
    bundle = next((b for b in bundles_with_use(log.customer, log.work_date) if b.pk == log.bundle_id), None)
    return max(bundle.days - bundle.used, Decimal(0)) if bundle else Decimal(0)


def _set_aside(*, source: str, source_id: int, customer_id: int, error: BillingError) -> SetAside:
    """What a run could not bill and why (saved on the run's report by charges_set_aside)."""
    return SetAside(
        source=source, source_id=source_id, customer_id=customer_id, code=error.code, reason=str(error)
    )


def charge_from_priced(priced: Priced, **fields) -> Charge:
    """An unsaved charge billing ``priced``: its quantity, unit price, list amount, discount and amount
    as the pricing path gave them; ``fields`` name the customer, the source and the description."""
    return Charge(
        **priced.line_fields(), discount=priced.discount, amount=priced.amount, gross=priced.gross, **fields
    )


def _drawn_at(day: datetime.date) -> datetime.datetime:
    """When a work log's person-days are drawn: noon of its day, or now for a log of today before noon (a
    draw is never ahead of the clock; a log of a day still to come is refused and waits for the next run)."""
    noon, now = _noon(day), timezone.now()
    return now if day == timezone.localtime(now).date() and now < noon else noon


def _noon(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(12), tzinfo=timezone.get_current_timezone())


def receipt_check(receipt) -> None:
    """A receipt is a PDF, JPEG or PNG by its content (not its name), at most RECEIPT_MAX_BYTES."""
    if receipt.size > RECEIPT_MAX_BYTES:
        raise BillingError(
            _("A receipt is at most %(mb)s MB."),
            code="receipt_too_large",
            params={"mb": RECEIPT_MAX_BYTES // 2**20},
        )
    head = receipt.read(8)
    receipt.seek(0)
    if not (
        head.startswith(b"%PDF-") or head.startswith(b"\xff\xd8\xff") or head.startswith(b"\x89PNG\r\n\x1a\n")
    ):
        raise BillingError(_("A receipt is a PDF, JPEG or PNG file."), code="receipt_type")


def travel_expense_cap(
    *, category: str, spent_on: datetime.date, amount: Money, quantity: int = 1
) -> tuple[Money | None, Money]:
    """The cap the travel policy of the rate card in force on ``spent_on`` puts on an expense (lodging
    per night, allowance per day, times ``quantity``) and the part of ``amount`` above it. No rate card
    or no cap: nothing caps it."""
    if quantity < 1:
        raise BillingError(_("An expense covers at least one night or day."), code="invalid_quantity")
    try:
        rate_card = rate_card_in_force(on=spent_on)
    except BillingError:
        rate_card = None
    cap = travel_cap(rate_card=rate_card, category=category, units=quantity)
    currency = str(amount.currency)
    if cap is None:
        return None, Money(0, currency)
    if str(cap.currency) != currency:
        raise BillingError(
            _("The travel policy caps this expense in %(currency)s: record it in %(currency)s."),
            code="travel_currency",
            params={"currency": cap.currency},
        )
    return cap, max(amount - cap, Money(0, currency))


@transaction.atomic
def travel_expense_record(
    *,
    customer: Customer,
    category: str,
    spent_on: datetime.date,
    amount: Money,
    description: str,
    receipt,
    ticket_ref: str = "",
    quantity: int = 1,
    by=None,
) -> TravelExpense:
    """Records an expense with who recorded it; the travel policy's cap and the excess above it are
    kept on it (an expense above its cap needs another person's approval)."""
    cap, excess = travel_expense_cap(category=category, spent_on=spent_on, amount=amount, quantity=quantity)
    receipt_check(receipt)
    return TravelExpense.objects.create(
        customer=customer,
        category=category,
        spent_on=spent_on,
        amount=amount,
        quantity=quantity,
        cap=cap,
        excess=excess,
        description=description,
        receipt=receipt,
        ticket_ref=ticket_ref,
        recorded_by=by,
    )


@transaction.atomic
def data_volume_usage_record(
    *,
    customer: Customer,
    quantity: Decimal,
    measured_on: datetime.date,
    service_code: str = "data-migration",
    description: str = "",
) -> DataVolumeUsage:
    """Data migrated or restructured for ``customer``, billed on the next invoice run at the tiers of the
    rate card in force on ``measured_on``. A service not priced per data volume, or a volume no rate card
    prices on that day, is refused now rather than left to fail every invoice run."""
    service = service_by_code(service_code)
    if (
        service is None or service.pricing_basis != PricingBasis.PER_DATA_VOLUME
    ):  # as charges_collect bills it
        raise BillingError(
            _("“%(code)s” is not a service priced by data volume."),
            code="invalid_basis",
            params={"code": service_code},
        )
    if Decimal(quantity) <= 0:
        raise BillingError(_("The quantity must be positive."), code="invalid_quantity")
    price_service(service=service, quantity=Decimal(quantity), on=measured_on)
    return DataVolumeUsage.objects.create(
        customer=customer,
        service_code=service_code,
        quantity=quantity,
        measured_on=measured_on,
        description=description,
    )


APPROVE_TRAVEL = "invoices.change_travelexpense"


def travel_expense_approval_check(*, expense: TravelExpense, by) -> None:
    """Four eyes above the cap: the approver holds finance's travel permission and is not who recorded
    the expense. Within its caps an expense is approved as before."""
    if not expense.above_cap:
        return
    if by is None or not by.has_perm(APPROVE_TRAVEL):
        raise BillingError(
            _("Travel above the policy's cap is approved by finance."), code="forbidden_approval"
        )
    if expense.recorded_by_id == by.pk:
        raise BillingError(
            _("Travel above the policy's cap needs the approval of someone other than who recorded it."),
            code="own_request",
        )


@transaction.atomic
def travel_expense_approve(*, expense: TravelExpense, by) -> TravelExpense:
    """Approves an expense for re-invoicing (once; approving again changes nothing). A rejected expense
    is never approved."""
    expense = TravelExpense.objects.select_for_update().get(pk=expense.pk)
    if expense.rejected_at is not None:
        raise BillingError(_("This expense was rejected: it is never billed."), code="travel_rejected")
    if expense.approved_at is None:
        travel_expense_approval_check(expense=expense, by=by)
        expense.approved_by, expense.approved_at = by, timezone.now()
        expense.save(update_fields=["approved_by", "approved_at"])
    return expense


@transaction.atomic
def travel_expense_reject(*, expense: TravelExpense, by, reason: str) -> TravelExpense:
    """Rejects an expense, with the reason: it is never billed. One approved already but on no invoice yet
    is rejected too (its unbilled charge is dropped); one an invoice holds is refused (take the line off the
    draft, or credit the invoice). Rejecting again changes nothing."""
    expense = TravelExpense.objects.select_for_update().get(pk=expense.pk)
    if not reason.strip():
        raise BillingError(_("Say why the expense is rejected."), code="reason_required")
    if expense.rejected_at is not None:
        return expense
    charge = Charge.objects.filter(source=ChargeSource.TRAVEL, source_id=expense.pk).first()
    if charge is not None and charge.invoice_line_id is not None:
        raise InvoiceConflict(
            _(
                "This expense is billed on %(invoice)s already: take its line off the draft, or credit the "
                "invoice."
            ),
            code="travel_billed",
            params={"invoice": charge.invoice_line.invoice},
        )
    if charge is not None:
        charge.delete()
    expense.rejected_by, expense.rejected_at = by, timezone.now()
    expense.rejection_reason = reason.strip()[:300]
    expense.save(update_fields=["rejected_by", "rejected_at", "rejection_reason"])
    return expense


REVIEW_WORK_LOGS = "invoices.change_worklog"


@transaction.atomic
def work_log_approve(*, log: WorkLog, by) -> WorkLog:
    """Records finance's approval of a work log (once; approving again changes nothing). Four eyes: who
    recorded the log, when a user did, does not approve it. Billing does not wait for it; a rejected log
    stays rejected."""
    log = WorkLog.objects.select_for_update().get(pk=log.pk)
    if log.review == WorkLogReview.APPROVED:
        return log
    if log.review == WorkLogReview.REJECTED:
        raise BillingError(_("This work log was rejected: it is never charged."), code="work_log_rejected")
    if by is None or not by.has_perm(REVIEW_WORK_LOGS):
        raise BillingError(_("Work logs are approved by finance."), code="forbidden_approval")
    if log.recorded_by_id is not None and log.recorded_by_id == by.pk:
        raise BillingError(
            _("A work log is approved by someone other than who recorded it."), code="own_request"
        )
    log.review, log.reviewed_by, log.reviewed_at = WorkLogReview.APPROVED, by, timezone.now()
    log.save(update_fields=["review", "reviewed_by", "reviewed_at"])
    return log


@transaction.atomic
def work_log_reject(*, log: WorkLog, by, reason: str) -> WorkLog:
    """Rejects a work log, with the reason: it is never charged. A log charged already is refused (credit
    what it billed instead); rejecting again changes nothing."""
    log = WorkLog.objects.select_for_update().get(pk=log.pk)
    if not reason.strip():
        raise BillingError(_("Say why the work log is rejected."), code="reason_required")
    if log.review == WorkLogReview.REJECTED:
        return log
    if by is None or not by.has_perm(REVIEW_WORK_LOGS):
        raise BillingError(_("Work logs are rejected by finance."), code="forbidden_approval")
    if log.processed_at is not None:
        raise InvoiceConflict(
            _("This work log is charged already: credit what it billed instead."), code="work_log_charged"
        )
    log.review, log.reviewed_by, log.reviewed_at = WorkLogReview.REJECTED, by, timezone.now()
    log.review_reason = reason.strip()[:300]
    log.save(update_fields=["review", "reviewed_by", "reviewed_at", "review_reason"])
    return log


def charges_collect(*, up_to: datetime.date, set_aside: list | None = None) -> int:
    """Adds to the ledger every billable thing up to ``up_to`` not charged yet: paid period fees (billed
    from the period start), order lines billed when ordered (from the day the quote was accepted), confirmed
    charge requests, approved travel, data-volume usage and delivered work. The unique (source, source id)
    makes it safe to run any number of times, also concurrently. What cannot be priced is left out and, when
    ``set_aside`` is a list, added to it with its reason (unsaved ``SetAside`` rows): one bad row never
    stops the rest. Rejected travel and work logs are never charged. Returns how many charges were added."""
    set_aside = [] if set_aside is None else set_aside
    services_vat = {}

    def vat(day: datetime.date) -> Decimal:
        if day not in services_vat:
            services_vat[day] = vat_rate_on(category_code=TaxCategory.SERVICES, on=day)
        return services_vat[day]

    charges = []

    def collect(source: str, item, make) -> None:
        try:
            charges.append(make(item))
        except BillingError as error:
            set_aside.append(
                _set_aside(source=source, source_id=item.pk, customer_id=item.customer_id, error=error)
            )

    waiting = billable_not_collected(up_to=up_to)
    periods = waiting[ChargeSource.PERIOD_FEE].select_related("contract", "tier")
    for period in periods.annotate(customer_id=F("contract__customer_id")):
        collect(
            ChargeSource.PERIOD_FEE,
            period,
            lambda period: period_fee_charge(
                period, customer_id=period.customer_id, vat_rate=vat(period.start)
            ),
        )
    ordered = waiting[ChargeSource.QUOTE_LINE].select_related("order__quote", "quote_line__quote", "service")
    for line in ordered.annotate(customer_id=F("order__customer_id")):
        # keyed by the quote line, as before order lines existed, so that no order is billed twice
        charges.append(
            charge_from_priced(
                line_priced(line.quote_line, discount=line.discount),  # its slices too, for a data volume
                customer_id=line.customer_id,
                source=ChargeSource.QUOTE_LINE,
                source_id=line.quote_line_id,
                order_line=line,
                description=f"{line.description} ({line.order.quote.reference})",
                service_date=timezone.localdate(line.order.quote.answered_at),
                service_code=charge_service_code(ChargeSource.QUOTE_LINE, line.service.code),
            )
        )

    def request_charge(request):
        return charge_from_priced(
            charge_request_price(request),
            customer_id=request.customer_id,
            source=ChargeSource.CHARGE_REQUEST,
            source_id=request.pk,
            description=f"{request.description[:250]} ({request.ticket_ref})",
            service_date=timezone.localdate(request.customer_answered_at),
            service_code=charge_service_code(ChargeSource.CHARGE_REQUEST, request.service_code),
        )

    for request in waiting[ChargeSource.CHARGE_REQUEST]:
        collect(ChargeSource.CHARGE_REQUEST, request, request_charge)
    for expense in waiting[ChargeSource.TRAVEL]:
        collect(ChargeSource.TRAVEL, expense, travel_charge)

    def usage_charge(usage):
        service = service_by_code(usage.service_code)
        if service is None:
            raise BillingError(
                _("Unknown service “%(code)s”."), code="unknown_service", params={"code": usage.service_code}
            )
        priced = price_service(service=service, quantity=usage.quantity, on=usage.measured_on)
        return charge_from_priced(
            priced,
            customer_id=usage.customer_id,
            source=ChargeSource.DATA_VOLUME,
            source_id=usage.pk,
            description=f"{service.name} · {usage.quantity} {priced.unit}",
            service_date=usage.measured_on,
            service_code=charge_service_code(ChargeSource.DATA_VOLUME, usage.service_code),
        )

    for usage in waiting[ChargeSource.DATA_VOLUME]:
        collect(ChargeSource.DATA_VOLUME, usage, usage_charge)
    before, started = Charge.objects.count(), timezone.now()
    Charge.objects.bulk_create(charges, ignore_conflicts=True)
    # With ignore_conflicts the new rows come back without keys: they are the ones just added that have no
    # history yet.
    history_record(
        Charge.objects.filter(created_at__gte=started).exclude(
            Exists(Charge.history.filter(id=OuterRef("pk")))
        ),
        history_type=CREATED,
    )
    _charge_work_logs(waiting[ChargeSource.WORK_LOG], set_aside)
    return Charge.objects.count() - before


def charges_set_aside(*, run: InvoiceRun, set_aside: list) -> None:
    """Records on the run's report what it could not bill, once per run and thing (a retried run adds
    nothing twice)."""
    for row in set_aside:
        row.run = run
    SetAside.objects.bulk_create(set_aside, ignore_conflicts=True)


def invoice_run_start(
    *, up_to: datetime.date, by=None, account_manager=None, customer: Customer | None = None
) -> InvoiceRun:
    """Records a run and starts its task once the run is committed."""
    from invoices.tasks import execute_invoice_run  # tasks call services; imported here to keep one direction

    run = InvoiceRun.objects.create(
        up_to=up_to, account_manager=account_manager, customer=customer, created_by=by
    )
    send_task_on_commit(execute_invoice_run, run.pk)
    return run


def pending_work_dispatch(
    *, older_than: datetime.timedelta, within: datetime.timedelta | None = None
) -> dict[str, int]:
    """Sends again the work whose task may never have reached the broker: runs still waiting and issued
    invoices (and credit notes) still without a PDF, recorded more than ``older_than`` ago. Both tasks are
    safe to run twice (charges are billed under locks, a PDF is stored once), so a task that was only slow
    to start costs a little work and bills nothing twice. Returns how many of each were sent.

    Invoices are looked for only ``within`` (DISPATCH_PENDING_WITHIN_SECONDS) of now: a lost task is found
    by the next sweep, minutes later. An older invoice without a PDF (history loaded in bulk, or one whose
    task failed for good) gets it when first downloaded (the invoice_pdf page renders a missing one), so the
    sweep never queues a backlog the size of the archive, and its query stays on recent rows."""
    from invoices.tasks import execute_invoice_run, render_invoice_pdf

    if within is None:
        within = datetime.timedelta(seconds=settings.DISPATCH_PENDING_WITHIN_SECONDS)
    now = timezone.now()
    before = now - older_than
    sent = {"runs": 0, "pdfs": 0}
    for run_id in InvoiceRun.objects.filter(status=RunStatus.PENDING, created_at__lte=before).values_list(
        "pk", flat=True
    ):
        sent["runs"] += send_task(execute_invoice_run, run_id)
    for invoice_id in Invoice.objects.filter(
        status=InvoiceStatus.ISSUED, pdf_sha256="", issued_at__lte=before, issued_at__gte=now - within
    ).values_list("pk", flat=True):
        sent["pdfs"] += send_task(render_invoice_pdf, invoice_id)
    return sent


def invoice_run_execute(*, run: InvoiceRun) -> InvoiceRun:
    """Bills every unbilled charge up to the run's date into draft invoices, one per customer and currency,
    in this process (the task shares the same work out in chunks: invoice_run_prepare, invoice_run_bill).
    Each customer is billed in its own transaction with its charges locked, so a run that dies half-way
    and is retried goes on where it stopped and bills nothing twice."""
    customer_ids = invoice_run_prepare(run=run)
    invoice_run_bill(run=run, customer_ids=customer_ids)
    run.refresh_from_db()
    return run


# Customers billed by one task of a run: small enough that workers share a run evenly and a retried task
# does little again, large enough that the broker is not the work.
INVOICE_RUN_CHUNK = 25


def invoice_run_prepare(*, run: InvoiceRun) -> list[int]:
    """Starts (or starts again) a run: adds to the ledger what is billable up to its date, records what was
    set aside, and returns the customers with something to bill, whose number is the run's total."""
    InvoiceRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, error="")
    history_record(InvoiceRun.objects.filter(pk=run.pk))
    set_aside: list[SetAside] = []
    charges_collect(up_to=run.up_to, set_aside=set_aside)
    charges_set_aside(run=run, set_aside=set_aside)
    unbilled = Charge.objects.filter(invoice_line__isnull=True, service_date__lte=run.up_to)
    if run.customer_id:
        unbilled = unbilled.filter(customer_id=run.customer_id)
    if run.account_manager_id:
        unbilled = unbilled.filter(customer__account_manager_id=run.account_manager_id)
    customer_ids = sorted(set(unbilled.values_list("customer_id", flat=True)))
    InvoiceRun.objects.filter(pk=run.pk).update(customers_total=len(customer_ids), customers_done=0)
    if not customer_ids:
        _invoice_run_finish(run)
    return customer_ids


def invoice_run_bill(*, run: InvoiceRun, customer_ids: list[int], again: bool = False) -> None:
    """Bills these customers of a prepared run, each in its own transaction, counting each as done in
    it; the part that bills the run's last customer marks the run done. ``again`` (a retried or redelivered
    part): customers with nothing left to bill were billed by the earlier attempt and are not counted
    twice."""
    for customer_id in customer_ids:
        _bill_customer(run, customer_id, again=again)
    _invoice_run_finish(run)


def _invoice_run_finish(run: InvoiceRun) -> None:
    finished = InvoiceRun.objects.filter(
        pk=run.pk, status=RunStatus.RUNNING, customers_done__gte=F("customers_total")
    ).update(status=RunStatus.DONE, finished_at=timezone.now())
    if finished:  # one part finishes it; the progress counters in between are not history
        history_record(InvoiceRun.objects.filter(pk=run.pk))


def invoice_run_fail(*, run_id: int, error: str) -> None:
    """Marks a run failed with its error; a retry of the run goes on where it stopped."""
    InvoiceRun.objects.filter(pk=run_id).update(status=RunStatus.FAILED, error=error[:2000])
    history_record(InvoiceRun.objects.filter(pk=run_id))


@transaction.atomic
def _bill_customer(run: InvoiceRun, customer_id: int, *, again: bool = False) -> int:
    Customer.objects.select_for_update().filter(pk=customer_id).first()
    charges = list(
        Charge.objects.select_for_update()
        .filter(customer_id=customer_id, invoice_line__isnull=True, service_date__lte=run.up_to)
        .order_by("service_date", "pk")
    )
    if again:
        kept = set(
            SetAside.objects.filter(run=run, customer_id=customer_id).values_list("source", "source_id")
        )
        if not [charge for charge in charges if (charge.source, charge.source_id) not in kept]:
            return 0  # billed (or set aside) by the attempt before, and counted then
    created = 0
    invoices: dict[str, Invoice] = {}
    set_aside: list[SetAside] = []
    for charge in charges:
        currency = str(charge.amount.currency)
        try:
            line = invoice_line_of_charge(charge)
        except BillingError as error:
            set_aside.append(
                _set_aside(
                    source=charge.source, source_id=charge.source_id, customer_id=customer_id, error=error
                )
            )
            continue
        if currency not in invoices:
            invoice, is_new = Invoice.objects.get_or_create(
                customer_id=customer_id,
                currency=currency,
                status=InvoiceStatus.DRAFT,
                kind=InvoiceKind.INVOICE,
                run=run,
            )
            invoices[currency] = invoice
            created += is_new
        invoice = invoices[currency]
        line.invoice, line.position = invoice, invoice.lines.count() + 1
        line.save()
        Charge.objects.filter(pk=charge.pk).update(invoice_line=line)
    history_record(Charge.objects.filter(invoice_line__invoice__in=list(invoices.values())))
    charges_set_aside(run=run, set_aside=set_aside)
    InvoiceRun.objects.filter(pk=run.pk).update(
        customers_done=F("customers_done") + 1, invoices_created=F("invoices_created") + created
    )
    return created


def invoice_line_of_charge(charge: Charge) -> InvoiceLine:
    """The unsaved invoice line (no invoice, no position yet) that bills ``charge``: its list amount less its
    discount gives its amount again; a pass-through charge is billed at cost with the charge's VAT rate
    (travel_vat_rate when it was charged). It sells the charge's service."""
    priced = (
        price_agreed(
            unit_price=charge.unit_price,
            quantity=charge.quantity,
            vat_rate=charge.vat_rate,
            tax_inclusive=charge.tax_inclusive,
            discount=charge.discount,
            list_amount=charge.list_amount,
            slices=charge.slices,
        )
        if not charge.pass_through
        else price_at_cost(amount=charge.amount, vat_rate=charge.vat_rate)
    )
    return InvoiceLine(
        description=charge.description,
        service_code=charge.service_code,
        **{**priced.line_fields(), "unit": charge.unit},
        discount=priced.discount,
        net=priced.net,
        vat=priced.vat,
        gross=priced.gross,
    )


def period_fee_charge(period: ServicePeriod, *, customer_id: int, vat_rate: Decimal) -> Charge:
    """The unsaved charge of a paid period's fee, billed from the period's start."""
    return charge_from_priced(
        price_agreed(unit_price=period.fee, quantity=Decimal(1), vat_rate=vat_rate),
        customer_id=customer_id,
        source=ChargeSource.PERIOD_FEE,
        source_id=period.pk,
        description=f"{period.tier.name} {period.start}–{period.end} ({period.contract.number})",
        service_date=period.start,
        service_code=charge_service_code(ChargeSource.PERIOD_FEE),
    )


def travel_charge(expense: TravelExpense) -> Charge:
    """The unsaved charge of an approved travel expense: passed through at cost, up to its cap, VAT
    included at the travel VAT rate of the day it was spent (travel_vat_rate: none when travel is kept
    outside our fapiao)."""
    return charge_from_priced(
        price_at_cost(amount=expense.billed_amount, vat_rate=travel_vat_rate(on=expense.spent_on)),
        customer_id=expense.customer_id,
        source=ChargeSource.TRAVEL,
        source_id=expense.pk,
        description=f"{expense.get_category_display()} · {expense.description}",
        service_date=expense.spent_on,
        service_code=charge_service_code(ChargeSource.TRAVEL),
    )


def work_log_rate_charge(log: WorkLog, *, priced: Priced | None = None) -> Charge:
    """The unsaved charge of a work log that names no order line and draws on no bundle: all its days at the
    rate card in force on its date (what ``_work_log_charge`` writes for a customer without prepaid days).
    ``priced``: ``work_log_priced(log, log.days)`` when the caller has it already (a bulk load)."""
    service = service_by_code(log.service_code)
    return charge_from_priced(
        priced or work_log_priced(log, log.days),
        customer_id=log.customer_id,
        source=ChargeSource.WORK_LOG,
        source_id=log.pk,
        service_date=log.work_date,
        description=f"{service.name} · {log.engineer} · {log.ticket_ref}",
        service_code=charge_service_code(ChargeSource.WORK_LOG, log.service_code),
    )


@transaction.atomic
def invoice_issue(*, invoice: Invoice, by=None, issue_date: datetime.date | None = None) -> Invoice:
    """Gives a draft the next number of its series and year, in this transaction (a rollback returns the
    number, so there is never a hole), and fixes it for good."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status != InvoiceStatus.DRAFT:
        raise InvoiceConflict(
            _("Invoice %(invoice)s is issued already."), code="invoice_issued", params={"invoice": invoice}
        )
    if not invoice.lines.exists():
        raise BillingError(_("An invoice needs at least one line."), code="invoice_empty")
    issue_date = issue_date or timezone.localdate()
    invoice.year = issue_date.year
    invoice.sequence = get_next_value(f"invoice-{invoice.series}-{invoice.year}")
    invoice.number = f"{invoice.series}{invoice.year}-{invoice.sequence:06d}"
    invoice.status = InvoiceStatus.ISSUED
    invoice.issue_date = issue_date
    if invoice.kind == InvoiceKind.INVOICE:  # a credit note is paid by nobody: it has no due date
        invoice.due_date = issue_date + datetime.timedelta(days=PAYMENT_TERMS_DAYS)
    invoice.issued_at, invoice.issued_by = timezone.now(), by
    invoice.save()
    invoices_settled_mark(invoice_ids=[invoice.pk, invoice.credits_id])  # a credit note: what it credits too
    if invoice.kind == InvoiceKind.INVOICE:  # a credit note is announced by credit_note_issue, whole
        _invoice_event("invoice.issued", _invoice_shown(invoice.pk))
    from invoices.tasks import render_invoice_pdf  # tasks call services; imported here to keep one direction

    send_task_on_commit(render_invoice_pdf, invoice.pk)
    return invoice


@transaction.atomic
def invoice_delete_draft(*, invoice: Invoice) -> None:
    """Deletes a draft; its charges are unbilled again. Issued invoices are only ever credited."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status != InvoiceStatus.DRAFT:
        raise InvoiceConflict(
            _("An issued invoice is never deleted: credit it."),
            code="invoice_issued",
            params={"invoice": invoice},
        )
    invoice.delete()


@transaction.atomic
def invoice_draft_remove_line(*, line: InvoiceLine) -> None:
    """Takes a line off a draft; its charge is unbilled again and goes on the next run."""
    invoice = Invoice.objects.select_for_update().get(pk=line.invoice_id)
    if invoice.status != InvoiceStatus.DRAFT:
        raise InvoiceConflict(_("An issued invoice is never changed: credit it."), code="invoice_issued")
    line.delete()


@dataclass(frozen=True)
class LineCredit:
    """What a credit note takes back of one line: a ``quantity`` of it, or an agreed ``amount`` (VAT
    included, in the invoice's currency)."""

    quantity: Decimal | None = None
    amount: Decimal | None = None


@dataclass(frozen=True)
class _Credited:
    quantity: Decimal
    net: Decimal
    gross: Decimal


def _credited_so_far(line: InvoiceLine) -> _Credited:
    credits = list(line.credited_by.all())
    return _Credited(
        quantity=sum((c.credited_quantity or Decimal(0) for c in credits), Decimal(0)),
        net=-sum((c.net.amount for c in credits), Decimal(0)),
        gross=-sum((c.gross.amount for c in credits), Decimal(0)),
    )


def _credit_line_amounts(
    original: InvoiceLine, wanted: LineCredit
) -> tuple[Decimal | None, Decimal, Decimal]:
    """The quantity, net and gross a credit takes back of ``original``, never drifting: a quantity is
    priced as the difference of the cumulative rounded shares of the line's gross (so the last credit
    takes exactly what is left), and each credit's net is the difference of the cumulative rounded shares
    of the line's net, so that what is credited in any number of steps adds up to the line to the fen and
    net + VAT = gross on every credit line."""
    before = _credited_so_far(original)
    line_gross, left = original.gross.amount, original.gross.amount - before.gross
    if (wanted.quantity is None) == (wanted.amount is None):
        raise BillingError(
            _("Line %(line)s: give a quantity or an amount to credit, not both."),
            code="credit_quantity_or_amount",
            params={"line": original.description},
        )
    if (wanted.quantity or 0) < 0 or (wanted.amount or 0) < 0:
        raise BillingError(_("What is credited is positive."), code="invalid_quantity")
    if wanted.amount is not None:
        quantity, gross = None, Decimal(wanted.amount)
        if gross != round_fen(gross):
            raise BillingError(
                _("An amount to credit is in fen at most (two decimals)."), code="invalid_amount"
            )
        if gross > left:
            raise BillingError(
                _("Line %(line)s has %(left)s left to credit."),
                code="credit_too_much",
                params={"line": original.description, "left": Money(left, original.gross.currency)},
            )
    else:
        quantity, total = Decimal(wanted.quantity), original.quantity
        if before.quantity + quantity > total:
            raise BillingError(
                _("Line %(line)s can be credited for %(left)s at most."),
                code="credit_too_much",
                params={"line": original.description, "left": total - before.quantity},
            )
        if before.quantity + quantity == total:
            gross = left
        else:
            gross = round_fen(line_gross * (before.quantity + quantity) / total) - round_fen(
                line_gross * before.quantity / total
            )
            if gross > left:
                raise BillingError(
                    _("Line %(line)s has %(left)s left to credit."),
                    code="credit_too_much",
                    params={"line": original.description, "left": Money(left, original.gross.currency)},
                )
    if gross <= 0:
        raise BillingError(
            _("Line %(line)s: a credit of 0.00 is refused."),
            code="credit_zero",
            params={"line": original.description},
        )
    after = before.gross + gross
    if after == line_gross:
        net_after = original.net.amount
    else:
        net_after = round_fen(original.net.amount * after / line_gross)
    return quantity, net_after - before.net, gross


def _printed_credit(original: InvoiceLine, quantity: Decimal | None, net: Decimal, gross: Decimal):
    """Quantity, unit and unit price a credit line prints so that quantity x unit price is its amount
    (the gross of a line priced VAT included, else the net), with no discount: the quantity taken back at
    the line's unit price when that is the amount, or at the amount divided by it when that is exact to
    the fen (a discounted line); otherwise one unit at the amount (an agreed amount, an average price)."""
    amount = gross if original.tax_inclusive or original.pass_through else net
    if quantity:
        if round_fen(quantity * original.unit_price.amount) == amount:
            return -quantity, original.unit, original.unit_price.amount
        if round_fen(amount / quantity) * quantity == amount:
            return -quantity, original.unit, round_fen(amount / quantity)
    return Decimal(-1), "", amount


@transaction.atomic
def credit_note_issue(
    *,
    invoice: Invoice,
    reason: str,
    lines: dict[int, Decimal | LineCredit] | None = None,
    by=None,
) -> Invoice:
    """A credit note (红字发票) reversing an issued invoice in whole (``lines`` None: what is left of every
    line) or in part (line id -> a quantity, or a ``LineCredit`` of a quantity or an agreed amount),
    numbered in its own series. What was credited before cannot be credited again; a credit of 0.00 is
    refused, and nothing is written when any line is refused."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status != InvoiceStatus.ISSUED or invoice.kind != InvoiceKind.INVOICE:
        raise InvoiceConflict(_("Only an issued invoice can be credited."), code="credit_not_allowed")
    if not reason.strip():
        raise BillingError(_("Say why the invoice is credited."), code="reason_required")
    originals = {line.pk: line for line in invoice.lines.prefetch_related("credited_by")}
    if lines is None:
        wanted = {
            pk: LineCredit(quantity=line.quantity - _credited_so_far(line).quantity)
            for pk, line in originals.items()
            if line.gross.amount - _credited_so_far(line).gross > 0
        }
        if not wanted:
            raise InvoiceConflict(_("This invoice is credited in full already."), code="credit_too_much")
    else:
        wanted = {pk: w if isinstance(w, LineCredit) else LineCredit(quantity=w) for pk, w in lines.items()}
    if not wanted:
        raise BillingError(_("Give the quantity to credit on at least one line."), code="credit_line")
    note = Invoice.objects.create(
        kind=InvoiceKind.CREDIT_NOTE,
        series="CN",
        customer=invoice.customer,
        currency=invoice.currency,
        credits=invoice,
        note=reason.strip(),
    )
    currency = invoice.currency
    for position, (line_id, credit) in enumerate(sorted(wanted.items()), start=1):
        original = originals.get(line_id)
        if original is None:
            raise BillingError(
                _("Line %(line)s is not on this invoice."), code="credit_line", params={"line": line_id}
            )
        quantity, net, gross = _credit_line_amounts(original, credit)
        printed_quantity, unit, unit_price = _printed_credit(original, quantity, net, gross)
        InvoiceLine.objects.create(
            invoice=note,
            position=position,
            description=original.description,
            quantity=printed_quantity,
            unit=unit,
            unit_price=Money(unit_price, currency),
            list_amount=Money(round_fen(printed_quantity * unit_price), currency),
            tax_inclusive=original.tax_inclusive,
            vat_rate=original.vat_rate,
            pass_through=original.pass_through,
            net=Money(-net, currency),
            vat=Money(-(gross - net), currency),
            gross=Money(-gross, currency),
            credits_line=original,
            credited_quantity=quantity,
            service_code=original.service_code,
        )
    note = invoice_issue(invoice=note, by=by)
    red_letter_request_start(credit_note=note, by=by)  # when the invoice has a fapiao: a draft red letter
    _credit_note_issued(note)
    return note


@transaction.atomic
def payment_record(*, invoice: Invoice, amount: Money, received_on: datetime.date, reference: str) -> Payment:
    """A payment received for an issued invoice, partial or whole; the bank reference makes a repeated
    record a no-op. Paying more than is open is refused."""
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status != InvoiceStatus.ISSUED or invoice.kind != InvoiceKind.INVOICE:
        raise InvoiceConflict(_("Payments are recorded against issued invoices."), code="payment_not_allowed")
    existing = Payment.objects.filter(invoice=invoice, reference=reference).first()
    if existing is not None:
        if existing.amount != amount:
            raise InvoiceConflict(
                _("Bank reference %(reference)s is recorded already, for %(amount)s."),
                code="payment_reference_reused",
                params={"reference": reference, "amount": existing.amount},
            )
        return existing  # the same payment recorded again: a retry
    if amount > invoice_balance(invoice):
        raise BillingError(
            _("The payment is more than the %(open)s still open."),
            code="overpayment",
            params={"open": invoice_balance(invoice)},
        )
    payment = Payment.objects.create(
        invoice=invoice, amount=amount, received_on=received_on, reference=reference
    )
    invoices_settled_mark(invoice_ids=[invoice.pk])
    _payment_recorded(payment)
    return payment


def _invoice_shown(pk: int) -> Invoice:
    """An invoice fetched with what invoice_object reads."""
    return Invoice.objects.select_related(*INVOICE_RELATED).prefetch_related(*INVOICE_PREFETCH).get(pk=pk)


def _invoice_event(event_type: str, invoice: Invoice, *, key: str | None = None, **extras) -> None:
    event_record(
        event_type,
        customer_code=invoice.customer.code,
        data={"object": invoice_object(invoice), **extras},
        key=key,
    )


def _invoice_paid(invoice: Invoice, *, settled_by: dict) -> None:
    """invoice.paid, once per invoice, when a payment or a credit note leaves nothing open
    (invoice_balance's rule)."""
    if invoice_balance(invoice).amount <= 0:
        _invoice_event("invoice.paid", invoice, key=f"invoice.paid:{invoice.pk}", settled_by=settled_by)


def _credit_note_issued(note: Invoice) -> None:
    """credit_note.issued, with the invoice it credits as it is now; invoice.paid when that leaves nothing
    open."""
    lines = InvoiceLine.objects.select_related("credits_line")
    note = (
        Invoice.objects.select_related("customer", "credits")
        .prefetch_related(Prefetch("lines", queryset=lines))
        .get(pk=note.pk)
    )
    note.totals = invoice_totals(note)
    invoice = _invoice_shown(note.credits_id)
    event_record(
        "credit_note.issued",
        customer_code=note.customer.code,
        data={"object": CreditNoteOutput(note).data, "invoice": invoice_object(invoice)},
    )
    _invoice_paid(invoice, settled_by={"kind": "credit_note", "number": note.number})


def _payment_recorded(payment: Payment) -> None:
    """payment.recorded, with the invoice it pays as it is now; invoice.paid when nothing is left open."""
    invoice = payment.invoice = _invoice_shown(payment.invoice_id)
    event_record(
        "payment.recorded",
        customer_code=invoice.customer.code,
        data={"object": PaymentOutput(payment).data, "invoice": invoice_object(invoice)},
    )
    _invoice_paid(invoice, settled_by={"kind": "payment", "id": payment.pk, "reference": payment.reference})


def invoices_settled_mark(*, invoice_ids: list[int | None]) -> None:
    """Marks each of these invoices settled when it is issued and nothing is left to pay on it
    (invoice_balance's rule), not settled otherwise. The one place the mark is written: every service that
    changes a balance calls it in its transaction (issuing an invoice or a credit note, recording a
    payment), so that lists of open invoices can skip the settled ones by an index. None is skipped."""
    invoices = Invoice.objects.filter(pk__in=[pk for pk in invoice_ids if pk is not None])
    for invoice in invoices.prefetch_related(*BALANCE_PREFETCH):
        settled = invoice.status == InvoiceStatus.ISSUED and invoice_balance(invoice).amount <= 0
        if settled != invoice.settled:
            Invoice.objects.filter(pk=invoice.pk).update(settled=settled)


REMINDER_STEPS = (1, 30, 60, 90)


def overdue_reminders_send(*, today: datetime.date) -> list[InvoiceReminder]:
    """The daily task: every invoice past due with money open, reminded at each step it reached (1, 30,
    60 and 90 days overdue) by ``overdue_reminder_send``."""
    sent = []
    overdue = overdue_by_age(today=today)
    _overdue_announce(overdue)
    for bucket in overdue.values():
        for invoice, open_amount, days in bucket:
            try:
                sent += _overdue_remind(invoice, today=today, open_amount=open_amount, days=days)
            except BillingError:
                continue  # nobody to write to: the overdue page shows it, and a step is not used up
    return sent


def _overdue_announce(overdue: dict[str, list[tuple[Invoice, Money, int]]]) -> None:
    """invoice.overdue once per invoice: the first day the daily task finds it past due with money open
    (each in its own transaction; the invoices announced before are skipped with one query)."""
    rows = {
        f"invoice.overdue:{invoice.pk}": (invoice, days)
        for bucket in overdue.values()
        for invoice, _open, days in bucket
    }
    announced = set(Event.objects.filter(key__in=list(rows)).values_list("key", flat=True))
    for key, (invoice, days) in rows.items():
        if key not in announced:
            _invoice_event("invoice.overdue", invoice, key=key, days_overdue=days)


def overdue_reminder_send(
    *, invoice: Invoice, today: datetime.date, by=None, again: bool = False
) -> list[InvoiceReminder]:
    """E-mails the customer's contacts about one invoice past due with money open, and records it. Without
    ``by`` (the daily task) it reminds at each step the invoice reached and was not reminded at (billing.
    reminders); asked by someone (``by``) it reminds now, whatever the step. A customer is reminded of an
    invoice at most once a day: a second reminder the same day is refused unless ``again``, and the daily
    steps reached on a day someone reminded already are recorded without a second e-mail. Refused when the
    invoice is not overdue, is paid, or its customer has no contact with an e-mail address. Returns the
    reminders recorded."""
    invoice = Invoice.objects.select_related("customer").get(pk=invoice.pk)
    days = (today - invoice.due_date).days if invoice.due_date else 0
    if invoice.status != InvoiceStatus.ISSUED or invoice.kind != InvoiceKind.INVOICE or days < 1:
        raise BillingError(
            _("Invoice %(invoice)s is not overdue."), code="not_overdue", params={"invoice": invoice}
        )
    open_amount = invoice_balance(invoice)
    if open_amount.amount <= 0:
        raise BillingError(
            _("Invoice %(invoice)s is paid: nothing to remind of."),
            code="not_overdue",
            params={"invoice": invoice},
        )
    return _overdue_remind(invoice, today=today, open_amount=open_amount, days=days, by=by, again=again)


def _overdue_remind(
    invoice: Invoice, *, today: datetime.date, open_amount: Money, days: int, by=None, again: bool = False
) -> list[InvoiceReminder]:
    contacts = [contact for contact in invoice.customer.contacts.all() if contact.email]
    if not contacts:
        raise BillingError(
            _("%(customer)s has no contact with an e-mail address to remind."),
            code="no_contact_email",
            params={"customer": invoice.customer},
        )
    if by is None:
        reminded_today = InvoiceReminder.objects.filter(invoice=invoice, sent_on=today).exists()
        return remind_once_per_step(
            model=InvoiceReminder,
            document_field="invoice",
            step_field="days_overdue",
            document=invoice,
            steps_due=[step for step in REMINDER_STEPS if days >= step],
            send=lambda new: _overdue_sent(new, invoice, open_amount, today, mail=not reminded_today),
        )
    with transaction.atomic():  # recorded only when the e-mail went out
        # under the invoice's lock, so that two people reminding at once send one e-mail
        Invoice.objects.select_for_update().filter(pk=invoice.pk).first()
        reminded_today = InvoiceReminder.objects.filter(invoice=invoice, sent_on=today).exists()
        if reminded_today and not again:
            raise BillingError(
                _("Invoice %(invoice)s was reminded of today already."),
                code="reminded_today",
                params={"invoice": invoice},
            )
        reminder = InvoiceReminder.objects.create(
            invoice=invoice, days_overdue=days, sent_by=by, sent_on=today
        )
        _mail_overdue(invoice, open_amount)
    return [reminder]


def _overdue_sent(
    new: list[InvoiceReminder], invoice: Invoice, open_amount: Money, today: datetime.date, *, mail: bool
) -> None:
    InvoiceReminder.objects.filter(pk__in=[reminder.pk for reminder in new]).update(sent_on=today)
    if mail:
        _mail_overdue(invoice, open_amount)


def _mail_overdue(invoice: Invoice, open_amount: Money) -> None:
    body = gettext(
        "Invoice %(number)s of %(date)s was due on %(due)s; %(open)s is still open. "
        "Please pay to %(bank)s, account %(account)s, quoting the invoice number."
    ) % {
        "number": invoice.number,
        "date": invoice.issue_date,
        "due": invoice.due_date,
        "open": open_amount,
        "bank": settings.VENDOR["bank"],
        "account": settings.VENDOR["bank_account"],
    }
    if numbers := fapiao_numbers(invoice):
        body += "\n\n" + gettext("Fapiao (数电发票号码): %(numbers)s.") % {"numbers": numbers}
    mail_contacts(
        invoice.customer.contacts.all(),
        gettext("Invoice %(number)s is overdue") % {"number": invoice.number},
        body,
    )


@transaction.atomic
def order_cancel(*, order: ServiceOrder, reason: str, by=None) -> list[Invoice]:
    """Cancels an open order (the customer withdrew it): no more work is logged against it, and what its
    ``ordered`` lines were to bill is reversed. A charge no issued invoice holds is dropped (taken off a
    draft first); what issued invoices billed is credited, one credit note per invoice, for what is left to
    credit of each line. Work delivered against its ``delivered`` lines was done and stays billed. Returns
    the credit notes."""
    order = ServiceOrder.objects.select_for_update().select_related("customer").get(pk=order.pk)
    ownership_check(user=by, customer=order.customer)
    if not order.is_open:
        raise OrderConflict(
            _("Order %(order)s is closed already."), code="order_closed", params={"order": str(order)}
        )
    if not reason.strip():
        raise BillingError(_("Say why the order is cancelled."), code="reason_required")
    order.status, order.closed_at, order.closed_by = OrderStatus.CANCELLED, timezone.now(), by
    order.close_reason = reason.strip()
    order.save()
    charges = Charge.objects.select_for_update().filter(
        order_line__order=order, order_line__invoicing_policy=InvoicingPolicy.ORDERED
    )
    for charge in charges.filter(invoice_line__invoice__status=InvoiceStatus.DRAFT).select_related(
        "invoice_line"
    ):
        invoice_draft_remove_line(line=charge.invoice_line)
    charges.filter(invoice_line__isnull=True).delete()
    to_credit: dict[int, dict[int, LineCredit]] = {}
    for charge in charges.filter(invoice_line__invoice__status=InvoiceStatus.ISSUED).select_related(
        "invoice_line"
    ):
        line = charge.invoice_line
        left = line.gross.amount - _credited_so_far(line).gross
        if left > 0:
            to_credit.setdefault(line.invoice_id, {})[line.pk] = LineCredit(amount=left)
    reason = gettext("Order %(order)s cancelled: %(reason)s") % {"order": order, "reason": order.close_reason}
    # every invoice it credits locked now, in id order, before the first credit note records its event (the
    # events' lock is held to the commit: a row locked after it could wait on a payment waiting on it)
    list(Invoice.objects.select_for_update(of=("self",)).filter(pk__in=to_credit).order_by("pk").values("pk"))
    return [
        credit_note_issue(invoice=Invoice.objects.get(pk=invoice_id), reason=reason, lines=lines, by=by)
        for invoice_id, lines in sorted(to_credit.items())
    ]
