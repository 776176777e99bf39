"""Writes to quotes: building and pricing quotes, discount approval, sending, revisions, the customer's
answer (which creates a service order or a renewal period), the closing rule and renewal drafts."""

import datetime
import hashlib
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.mail import EmailMessage
from django.db import IntegrityError, models, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money
from sequences import get_next_value
from simple_history.utils import bulk_create_with_history

from billing.closing import apply_closing_rule
from billing.dispatch import send_task, send_task_on_commit
from billing.errors import BillingError
from billing.mail import absolute_url, mail_contacts
from billing.signed_answer import SignedAnswer
from catalog.models import (
    UPGRADE_CONTRACT,
    DeliveryMode,
    PricingBasis,
    Product,
    Role,
    ServiceItem,
    ServiceKind,
    ServiceTier,
    TaxCategory,
)
from catalog.pricing import (
    Priced,
    combined_discount,
    price_agreed,
    price_at_cost,
    price_service,
    price_upgrade,
)
from catalog.selectors import rate_card_in_force, travel_vat_rate, vat_rate_on
from contracts.models import Contract, Customer, ServicePeriod
from contracts.ownership import ownership_check, ownership_refusal
from contracts.selectors import periods_renewed
from contracts.services import contract_customer_check, period_renew, upgrade_contract_record
from events.services import event_record
from quotes.models import (
    InvoicingPolicy,
    LineKind,
    OrderLine,
    OrderStatus,
    Quote,
    QuoteKind,
    QuoteLine,
    QuoteStatus,
    ServiceOrder,
)
from quotes.serializers import (
    ORDER_PREFETCH,
    ORDER_RELATED,
    QUOTE_PREFETCH,
    QUOTE_RELATED,
    QuoteOutput,
    ServiceOrderOutput,
)

CUSTOMER_LINK_SALT = "quotes.customer"
BASIS_KINDS = {
    PricingBasis.PER_PERSON_DAY: LineKind.PERSON_DAYS,
    PricingBasis.PER_DATA_VOLUME: LineKind.DATA_VOLUME,
    PricingBasis.PER_COURSE: LineKind.UNIT,
    PricingBasis.PER_PERSON: LineKind.UNIT,
    PricingBasis.PER_UNIT: LineKind.UNIT,
    PricingBasis.FIXED: LineKind.FIXED,
}


class QuoteConflict(BillingError):
    status = 409


def _locked_error(quote: Quote) -> BillingError:
    return QuoteConflict(
        _("Quote %(quote)s is %(status)s: make a new revision to change it."),
        code="quote_locked",
        params={"quote": quote.reference, "status": quote.get_status_display()},
    )


@transaction.atomic
def quote_create(
    *,
    customer: Customer,
    contract: Contract | None = None,
    quote_date: datetime.date | None = None,
    valid_until: datetime.date | None = None,
    discount: Decimal = Decimal(0),
    notes: str = "",
    terms: str = "",
    created_by=None,
    kind: str = QuoteKind.SERVICES,
    renewal_of: ServicePeriod | None = None,
    renewal_start: datetime.date | None = None,
    renewal_end: datetime.date | None = None,
    renewal_tier: ServiceTier | None = None,
) -> Quote:
    """A draft quote numbered from the year's gapless series (the number is taken in this transaction,
    so a rolled-back creation leaves no hole). Prices and the currency come from the rate card in force on
    the quote date. A staff user drafts quotes for the customers he acts for (contracts.ownership)."""
    contract_customer_check(contract=contract, customer=customer)
    ownership_check(user=created_by, customer=customer)
    quote_date = quote_date or timezone.localdate()
    rate_card = rate_card_in_force(on=quote_date)
    number = f"Q{quote_date.year}-{get_next_value(f'quotes-{quote_date.year}'):05d}"
    return Quote.objects.create(
        number=number,
        kind=kind,
        customer=customer,
        contract=contract,
        rate_card=rate_card,
        currency=rate_card.currency,  # its prices are in the card's currency
        quote_date=quote_date,
        valid_until=valid_until or quote_date + datetime.timedelta(days=settings.QUOTE_VALID_DAYS),
        discount=discount,
        notes=notes,
        terms=terms,
        created_by=created_by,
        renewal_of=renewal_of,
        renewal_start=renewal_start,
        renewal_end=renewal_end,
        renewal_tier=renewal_tier,
    )


@transaction.atomic
def quote_add_line(
    *,
    quote: Quote,
    service: ServiceItem,
    quantity: Decimal,
    basis: str | None = None,
    role: str = Role.ENGINEER,
    delivery_mode: str = DeliveryMode.REMOTE,
    discount: Decimal = Decimal(0),
    description: str = "",
    invoicing_policy: str | None = None,
    product: Product | str | None = None,
    target_major: int | None = None,
    by=None,
) -> QuoteLine:
    """A line picked from the catalogue: the service's pricing basis (or its alternative) chooses the
    price on the quote's rate card version, and the invoicing policy (invoicing_policy_for). The upgrade
    contract item is one contract for ``product`` and ``target_major`` (catalog.pricing.price_upgrade).
    ``by`` is the staff user adding it: one who gives the line a discount approves no discount of the
    quote."""
    _check_editable(quote, by=by, discount_set=bool(discount))
    if service.code == UPGRADE_CONTRACT:
        return _add_upgrade_line(
            quote,
            service=service,
            product=product,
            target_major=target_major,
            discount=Decimal(discount),
            description=description,
        )
    basis = basis or service.pricing_basis
    priced = _catalogue_priced(
        quote,
        service=service,
        quantity=quantity,
        basis=basis,
        role=role,
        delivery_mode=delivery_mode,
        discount=discount,
    )
    line = QuoteLine(
        quote=quote,
        position=quote.lines.count() + 1,
        kind=BASIS_KINDS[basis],
        service=service,
        description=description or service.name,
        discount=discount,
    )
    line.invoicing_policy = invoicing_policy_for(kind=line.kind, asked=invoicing_policy)
    if basis == PricingBasis.PER_PERSON_DAY:
        line.role, line.delivery_mode = role, delivery_mode
    _apply(line, priced)
    line.save()
    return line


def _catalogue_priced(
    quote: Quote,
    *,
    service: ServiceItem,
    quantity: Decimal,
    basis: str,
    role: str,
    delivery_mode: str,
    discount: Decimal,
) -> Priced:
    """A catalogue service on the quote's date and rate card, with the line's discount and the quote's:
    how a line is priced when it is added and when its quantity changes."""
    return price_service(
        service=service,
        quantity=Decimal(quantity),
        on=quote.quote_date,
        basis=basis,
        role=role,
        delivery_mode=delivery_mode,
        discount=combined_discount(Decimal(discount), quote.discount),
        rate_card=quote.rate_card,
    )


def _add_upgrade_line(
    quote: Quote,
    *,
    service: ServiceItem,
    product: Product | str | None,
    target_major: int | None,
    discount: Decimal,
    description: str,
) -> QuoteLine:
    """One upgrade contract (升级服务合同) taking ``product`` to ``target_major``, at its price on the quote's
    rate card: billed when ordered."""
    if isinstance(product, str):
        product = Product.objects.filter(code__iexact=product).first()
    if product is None or not target_major:
        raise BillingError(
            _("An upgrade contract line needs the product and the major version it upgrades to."),
            code="upgrade_needs_versions",
        )
    priced = price_upgrade(
        product=product.code,
        major=int(target_major),
        on=quote.quote_date,
        discount=combined_discount(discount, quote.discount),
        rate_card=quote.rate_card,
    )
    line = QuoteLine(
        quote=quote,
        position=quote.lines.count() + 1,
        kind=LineKind.FIXED,
        service=service,
        product=product,
        target_major=int(target_major),
        description=description
        or gettext("%(service)s: %(product)s %(major)s")
        % {
            "service": service.name,
            "product": product.code,
            "major": target_major,
        },
        discount=discount,
        invoicing_policy=InvoicingPolicy.ORDERED,
    )
    _apply(line, priced)
    line.save()
    return line


@transaction.atomic
def quote_add_travel(*, quote: Quote, description: str, amount: Decimal, by=None) -> QuoteLine:
    """An estimate of travel and lodging, passed through at cost: never discounted, VAT included as travel
    is invoiced (travel_vat_rate on the quote's date)."""
    _check_editable(quote, by=by)
    line = QuoteLine(
        quote=quote, position=quote.lines.count() + 1, kind=LineKind.TRAVEL, description=description
    )
    _apply(line, _travel_estimate(quote, amount, unit=gettext("estimate")))
    line.save()
    return line


def _travel_estimate(quote: Quote, amount: Decimal, *, unit: str) -> Priced:
    return price_at_cost(
        amount=Money(amount, quote.currency), unit=unit, vat_rate=travel_vat_rate(on=quote.quote_date)
    )


def _add_period_fee(quote: Quote, fee: Money) -> QuoteLine:
    line = QuoteLine(
        quote=quote,
        position=quote.lines.count() + 1,
        kind=LineKind.PERIOD_FEE,
        description=gettext("Service period %(start)s to %(end)s (%(tier)s)")
        % {"start": quote.renewal_start, "end": quote.renewal_end, "tier": quote.renewal_tier.name},
    )
    priced = price_agreed(
        unit_price=fee,
        quantity=Decimal(1),
        vat_rate=vat_rate_on(category_code=TaxCategory.SERVICES, on=quote.quote_date),
        discount=quote.discount,
        unit=gettext("period"),
    )
    _apply(line, priced)
    line.save()
    return line


# Amounts are stored with 12 integer digits (MoneyField max_digits=14, two decimals).
AMOUNT_LIMIT = Decimal(10) ** 12


def _apply(line: QuoteLine, priced: Priced) -> None:
    """Stores a priced line's quantity, unit price, list amount, VAT and amounts on ``line``."""
    if abs(priced.gross.amount) >= AMOUNT_LIMIT or abs(priced.list_amount.amount) >= AMOUNT_LIMIT:
        raise BillingError(
            _("A line of %(amount)s is more than a quote holds."),
            code="amount_too_large",
            params={"amount": priced.list_amount},
        )
    for name, value in priced.line_fields().items():
        setattr(line, name, value)
    line.basis, line.net, line.vat, line.gross = priced.basis, priced.net, priced.vat, priced.gross


def line_priced(line: QuoteLine, *, discount: Decimal | None = None) -> Priced:
    """A stored line priced again at its agreed unit price and list amount, with its own discount and the
    quote's (or ``discount``, the combined discount to apply instead): what an order line bills."""
    if line.pass_through:
        return price_at_cost(amount=line.list_amount, unit=line.unit, vat_rate=line.vat_rate)
    return price_agreed(
        unit_price=line.unit_price,
        quantity=line.quantity,
        vat_rate=line.vat_rate,
        tax_inclusive=line.tax_inclusive,
        discount=combined_discount(line.discount, line.quote.discount) if discount is None else discount,
        unit=line.unit,
        basis=line.basis,
        list_amount=line.list_amount,
        slices=line.slices,
    )


@transaction.atomic
def quote_set_terms(*, quote: Quote, valid_until: datetime.date, notes: str, terms: str, by=None) -> Quote:
    """Changes the validity, notes and terms of a quote not sent yet; its prices and status stay."""
    current = Quote.objects.select_for_update().select_related("customer").get(pk=quote.pk)
    ownership_check(user=by, customer=current.customer)
    if current.locked:
        raise _locked_error(current)
    current.valid_until, current.notes, current.terms = valid_until, notes, terms
    current.save(update_fields=["valid_until", "notes", "terms"])
    quote.valid_until, quote.notes, quote.terms = valid_until, notes, terms
    return current


@transaction.atomic
def quote_set_discount(*, quote: Quote, discount: Decimal, by=None) -> Quote:
    """Sets the quote-wide discount and reprices every line; a discount approval given earlier no longer
    holds, and ``by`` (the staff user setting it) approves none of this quote's discounts."""
    _check_editable(quote, by=by, discount_set=True)
    quote.discount = Decimal(discount)
    quote.save(update_fields=["discount"])
    for line in quote.lines.select_related("quote"):
        _apply(line, line_priced(line))
        line.save()
    return quote


def _line_of(quote: Quote, line: QuoteLine) -> QuoteLine:
    if line.quote_id != quote.pk:
        raise BillingError(
            _("This line is not on quote %(quote)s."), code="wrong_quote", params={"quote": quote}
        )
    return line


@transaction.atomic
def quote_change_line(
    *,
    quote: Quote,
    line: QuoteLine,
    quantity: Decimal | None = None,
    discount: Decimal | None = None,
    description: str | None = None,
    amount: Decimal | None = None,
    by=None,
) -> QuoteLine:
    """Changes a line's quantity, discount or description (a travel estimate: its ``amount`` at cost and
    its description) while the quote is not sent; as adding a line does, this takes the quote back to
    draft and an earlier approval no longer holds. The line is priced again on the quote's rate card
    through the same path as when it was added (quote_add_line)."""
    _check_editable(quote, by=by, discount_set=discount is not None and discount != line.discount)
    line = _line_of(quote, QuoteLine.objects.select_for_update().select_related("quote").get(pk=line.pk))
    if description is not None:
        line.description = description.strip() or line.description
    if line.kind == LineKind.TRAVEL:
        if amount is not None:
            _apply(line, _travel_estimate(quote, amount, unit=line.unit))
        line.save()
        return line
    if discount is not None:
        line.discount = Decimal(discount)
    if quantity is not None and Decimal(quantity) != line.quantity:
        if line.kind == LineKind.PERIOD_FEE or line.service_id is None or line.product_id is not None:
            raise BillingError(
                _("The quantity of this line is fixed: remove it and add another."), code="quantity_fixed"
            )
        priced = _catalogue_priced(
            quote,
            service=line.service,
            quantity=quantity,
            basis=line.basis,
            role=line.role or Role.ENGINEER,
            delivery_mode=line.delivery_mode or DeliveryMode.REMOTE,
            discount=line.discount,
        )
    else:
        priced = line_priced(line)
    _apply(line, priced)
    line.save()
    return line


@transaction.atomic
def quote_remove_line(*, quote: Quote, line: QuoteLine, by=None) -> None:
    """Removes a line of a quote not sent yet (the quote goes back to draft); the others keep their order."""
    _check_editable(quote, by=by)
    line = _line_of(quote, line)
    if line.kind == LineKind.PERIOD_FEE:
        raise BillingError(_("A renewal quote keeps its period fee."), code="period_fee_kept")
    line.delete()
    for position, remaining in enumerate(quote.lines.order_by("position", "pk"), start=1):
        if remaining.position != position:
            remaining.position = position
            remaining.save(update_fields=["position"])


@transaction.atomic
def quote_cancel(*, quote: Quote, by=None) -> Quote:
    """Cancels a quote not sent yet: it stays readable, is never sent, and may be revised into a new draft.
    A sent quote is closed by the customer's answer or the closing rule instead."""
    current = Quote.objects.select_for_update().select_related("customer").get(pk=quote.pk)
    ownership_check(user=by, customer=current.customer)
    if current.locked:
        raise _locked_error(current)
    current.status, current.closed_at = QuoteStatus.CANCELLED, timezone.now()
    current.save(update_fields=["status", "closed_at"])
    return current


def quote_totals(quote: Quote) -> dict:
    """Sums of the lines: services (with travel that is part of our taxable sale) and travel at cost kept
    outside our VAT apart, then together."""
    lines = list(quote.lines.all())
    zero = Money(0, quote.currency)

    def total(selected, field):
        return sum((getattr(line, field) for line in selected), zero)

    services = [line for line in lines if not line.outside_vat]
    travel = [line for line in lines if line.outside_vat]
    return {
        "net": total(services, "net"),
        "vat": total(services, "vat"),
        "services_gross": total(services, "gross"),
        "travel": total(travel, "gross"),
        "gross": total(lines, "gross"),
    }


def largest_discount(quote: Quote) -> Decimal:
    """The largest discount any line gets, its own and the quote's combined."""
    return max(
        (
            combined_discount(line.discount, quote.discount)
            for line in quote.lines.all()
            if not line.pass_through
        ),
        default=quote.discount,
    )


def quote_needs_approval(quote: Quote) -> bool:
    return largest_discount(quote) > Decimal(str(settings.QUOTE_DISCOUNT_APPROVAL_ABOVE))


@transaction.atomic
def quote_submit(*, quote: Quote, by=None) -> Quote:
    """Ready to send: a large discount waits for a sales manager, anything else is approved at once.
    ``by``, the staff user submitting, approves none of this quote's discounts."""
    quote = Quote.objects.select_for_update().select_related("customer").get(pk=quote.pk)
    ownership_check(user=by, customer=quote.customer)
    if quote.status not in (QuoteStatus.DRAFT, QuoteStatus.PENDING_APPROVAL):
        raise _locked_error(quote)
    if not quote.lines.exists():
        raise BillingError(_("A quote needs at least one line."), code="quote_empty")
    quote.status = QuoteStatus.PENDING_APPROVAL if quote_needs_approval(quote) else QuoteStatus.APPROVED
    quote.submitted_by = _staff_user(by) or quote.submitted_by
    quote.save(update_fields=["status", "submitted_by"])
    return quote


def _staff_user(by):
    """``by`` when it is a staff user (not a system step or an API key), else None."""
    return by if isinstance(by, AbstractBaseUser) else None


def _discount_approval_refusal(quote: Quote, user) -> BillingError | None:
    """Why ``user`` may not approve the discount of ``quote`` now, or None when they may: the quote waits
    for an approval, the user is a sales manager acting for the customer, and neither the quote's author
    nor who last set a discount on it nor who submitted it (four eyes: two different people)."""
    if quote.status != QuoteStatus.PENDING_APPROVAL:
        return QuoteConflict(_("This quote is not waiting for a discount approval."), code="quote_status")
    if not user.has_perm("quotes.approve_discount"):
        return BillingError(_("Only a sales manager approves large discounts."), code="forbidden_approval")
    if quote.created_by_id == user.pk:
        return BillingError(_("Nobody approves the discount of their own quote."), code="own_request")
    if user.pk in (quote.discount_set_by_id, quote.submitted_by_id):
        return BillingError(
            _("Whoever set the discount or submitted the quote does not approve it: a second person does."),
            code="own_request",
        )
    return ownership_refusal(user=user, customer=quote.customer)


def quote_can_approve(quote: Quote, user) -> bool:
    """Whether quote_approve_discount would accept ``user``'s approval (a reason given): what the pages ask
    before they show the approval button."""
    return _discount_approval_refusal(quote, user) is None


@transaction.atomic
def quote_approve_discount(*, quote: Quote, by, reason: str, seen: str | None = None) -> Quote:
    """A sales manager approves a large discount; who, when and why are recorded. ``seen`` is the
    fingerprint of the quote as the approver saw it: a quote changed since is refused."""
    quote = Quote.objects.select_for_update().get(pk=quote.pk)
    refusal = _discount_approval_refusal(quote, by)
    if refusal is not None:
        raise refusal
    if seen is not None and seen != quote_fingerprint(quote):
        raise QuoteConflict(
            _("The quote has changed since you opened it: look at it again before approving."),
            code="quote_changed",
        )
    if not reason.strip():
        raise BillingError(_("Say why the discount is approved."), code="reason_required")
    quote.status = QuoteStatus.APPROVED
    quote.approved_by, quote.approved_at, quote.approval_reason = by, timezone.now(), reason.strip()
    quote.save()
    return quote


@transaction.atomic
def quote_send(*, quote: Quote, by=None) -> Quote:
    """Sends an approved quote: it is locked from now on, its PDF is rendered and the customer's contacts
    get a signed link to read it and accept or decline without a login."""
    from quotes.tasks import render_quote_pdf  # tasks call services; imported here to keep one direction

    quote = Quote.objects.select_for_update().select_related("customer").get(pk=quote.pk)
    ownership_check(user=by, customer=quote.customer)
    if quote.status == QuoteStatus.DRAFT:
        quote = quote_submit(quote=quote, by=by)
    if quote.status == QuoteStatus.PENDING_APPROVAL:
        raise BillingError(
            _("A sales manager must approve the discount before the quote is sent."), code="needs_approval"
        )
    if quote.status != QuoteStatus.APPROVED:
        raise _locked_error(quote)
    quote.status, quote.sent_at = QuoteStatus.SENT, timezone.now()
    quote.save(update_fields=["status", "sent_at"])
    _quote_event("quote.sent", quote)
    send_task_on_commit(render_quote_pdf, quote.pk)
    transaction.on_commit(lambda: _mail_customer(quote))
    return quote


def quote_pdfs_dispatch(*, older_than: datetime.timedelta) -> int:
    """Sends again the PDF task of quotes sent more than ``older_than`` ago and still without a PDF (the
    broker was away when they were sent); rendering is safe to run twice. Returns how many were sent."""
    from quotes.tasks import render_quote_pdf

    before = timezone.now() - older_than
    return sum(
        send_task(render_quote_pdf, quote_id)
        for quote_id in Quote.objects.filter(sent_at__lte=before, pdf_sha256="").values_list("pk", flat=True)
    )


@transaction.atomic
def quote_revise(*, quote: Quote, by=None) -> Quote:
    """A new draft revision with the same number and lines; the revised quote stays readable."""
    quote = Quote.objects.select_for_update().select_related("customer").get(pk=quote.pk)
    ownership_check(user=by, customer=quote.customer)
    if quote.status in (QuoteStatus.ACCEPTED, QuoteStatus.SUPERSEDED, QuoteStatus.FINAL):
        raise QuoteConflict(
            _("Quote %(quote)s is %(status)s and cannot be revised."),
            code="quote_status",
            params={"quote": quote.reference, "status": quote.get_status_display()},
        )
    latest = Quote.objects.filter(number=quote.number).order_by("-revision").first()
    lines = list(quote.lines.all())
    new = Quote.objects.get(pk=quote.pk)
    new.pk, new.revision, new.status = None, latest.revision + 1, QuoteStatus.DRAFT
    new.renewal_of = None  # the constraint keeps one first revision per period; later ones point back to it
    new.created_by, new.approved_by, new.approved_at, new.approval_reason = by, None, None, ""
    new.submitted_by = None  # who set its discounts (discount_set_by) still approves none of them
    new.sent_at = new.answered_at = new.closed_at = None
    new.answer_name, new.answer_ip, new.pdf, new.pdf_sha256 = "", None, "", ""
    new.save()
    for line in lines:
        line.pk, line.quote = None, new
    bulk_create_with_history(lines, QuoteLine)
    quote.status = QuoteStatus.SUPERSEDED
    quote.save(update_fields=["status"])
    return new


def _not_answerable(quote: Quote) -> BillingError:
    return QuoteConflict(
        _("Quote %(quote)s is %(status)s and cannot be answered any more."),
        code="quote_status",
        params={"quote": quote.reference, "status": quote.get_status_display()},
    )


# Links expire after QUOTE_LINK_MAX_AGE_DAYS (the validity plus the closing rule's months).
CUSTOMER_ANSWER = SignedAnswer(
    model=Quote,
    salt=CUSTOMER_LINK_SALT,
    key="quote",
    max_age_setting="QUOTE_LINK_MAX_AGE_DAYS",
    waiting=QuoteStatus.SENT,
    closed=QuoteStatus.CLOSED,
    accepted=QuoteStatus.ACCEPTED,
    declined=QuoteStatus.DECLINED,
    name_field="answer_name",
    ip_field="answer_ip",
    at_field="answered_at",
    refusal=_not_answerable,
    valid_until_field="valid_until",
)


def quote_answerable(quote: Quote, *, now: datetime.datetime) -> bool:
    """Sent and still valid, or closed unanswered less than a month ago (the customer may reopen it)."""
    return CUSTOMER_ANSWER.answerable(quote, now=now)


@transaction.atomic
def quote_customer_answer(*, quote: Quote, accept: bool, name: str, ip: str | None) -> Quote:
    """The customer accepts or declines through the signed link (billing.signed_answer). An accepted
    services quote becomes a service order; an accepted renewal quote a new paid period."""
    quote, before = CUSTOMER_ANSWER.record(quote, accept=accept, name=name, ip=ip)
    order = None
    if accept and quote.kind == QuoteKind.RENEWAL:
        first = Quote.objects.get(number=quote.number, revision=1)
        renewed = first.renewal_of
        period_renew(
            contract=quote.contract or renewed.contract,
            start=quote.renewal_start,
            end=quote.renewal_end,
            fee=quote_totals(quote)["gross"],
            tier=quote.renewal_tier,
        )
    elif accept:
        order = order_create(quote=quote)
        _record_upgrade_contracts(quote)
    extras = {"previous_status": before}
    if accept:
        extras["order"] = order.pk if order else None  # a renewal quote makes a period, not an order
    _quote_event("quote.accepted" if accept else "quote.declined", quote, **extras)
    return quote


def _quote_event(event_type: str, quote: Quote, **extras) -> None:
    """Records ``event_type`` about ``quote`` as it is now, in the caller's transaction: a fixed number of
    queries, whatever its lines."""
    quote = Quote.objects.select_related(*QUOTE_RELATED).prefetch_related(*QUOTE_PREFETCH).get(pk=quote.pk)
    quote.totals = quote_totals(quote)
    event_record(
        event_type,
        customer_code=quote.customer.code,
        data={"object": QuoteOutput(quote).data, **extras},
    )


def _record_upgrade_contracts(quote: Quote) -> None:
    """Each upgrade contract line of an accepted quote records its upgrade contract (the terms' separate
    contract for a major upgrade): from then on the decision answers that upgrade included."""
    signed_on = timezone.localdate(quote.answered_at) if quote.answered_at else timezone.localdate()
    for line in quote.lines.filter(product__isnull=False).select_related("product"):
        upgrade_contract_record(
            customer=quote.customer,
            product=line.product,
            major=line.target_major,
            number=f"{quote.number}-{line.product.code}{line.target_major}",
            signed_on=signed_on,
            contract=quote.contract,
        )


def invoicing_policy_for(*, kind: str, asked: str | None = None) -> str:
    """Person-days are billed as delivered unless the quote says they are billed when ordered (a fixed
    number of days at a fixed price); everything else (fixed prices, courses, units, data volumes) is
    billed when ordered."""
    if asked is None or asked == "":
        return InvoicingPolicy.DELIVERED if kind == LineKind.PERSON_DAYS else InvoicingPolicy.ORDERED
    if asked not in InvoicingPolicy.values:
        raise BillingError(
            _("Unknown invoicing policy “%(policy)s”."), code="invalid_policy", params={"policy": asked}
        )
    if asked == InvoicingPolicy.DELIVERED and kind != LineKind.PERSON_DAYS:
        raise BillingError(
            _("Only person-days are billed as delivered; this line is billed when ordered."),
            code="invalid_policy",
        )
    return asked


def order_create(*, quote: Quote) -> ServiceOrder:
    """The service order of an accepted services quote, with one order line per quote line (travel
    estimates excluded: actual travel is billed from expenses) keeping the line's agreed price."""
    order = ServiceOrder.objects.create(quote=quote, customer=quote.customer)
    lines = [
        order_line_from(line, order=order, discount=combined_discount(line.discount, quote.discount))
        for line in quote.lines.exclude(kind=LineKind.TRAVEL)
    ]
    bulk_create_with_history(lines, OrderLine)
    return order


def order_line_from(
    line: QuoteLine, *, order: ServiceOrder, discount: Decimal, policy: str = ""
) -> OrderLine:
    """An order line at the agreed price of ``line``; ``policy`` replaces the line's own (the data migration
    keeps orders accepted before invoicing policies billed when ordered, as they were)."""
    return OrderLine(
        order=order,
        quote_line=line,
        service_id=line.service_id,
        kind=line.kind,
        invoicing_policy=policy or line.invoicing_policy,
        description=line.description,
        quantity=line.quantity,
        unit=line.unit,
        unit_price=line.unit_price,
        discount=discount,
        vat_rate=line.vat_rate,
        tax_inclusive=line.tax_inclusive,
        basis=line.basis,
        list_amount=line.list_amount,
        amount=line.amount,
    )


class OrderConflict(BillingError):
    status = 409


@transaction.atomic
def order_close(*, order: ServiceOrder, by=None, reason: str = "") -> ServiceOrder:
    """Closes an open order: what is left undelivered is released (its remaining quantity becomes 0) and no
    more work is logged against it. What was delivered and not billed yet is still billed."""
    order = ServiceOrder.objects.select_for_update().select_related("customer").get(pk=order.pk)
    ownership_check(user=by, customer=order.customer)
    if order.status != OrderStatus.OPEN:
        raise OrderConflict(
            _("Order %(order)s is closed already."), code="order_closed", params={"order": str(order)}
        )
    order.status, order.closed_at, order.closed_by = OrderStatus.CLOSED, timezone.now(), by
    order.close_reason = reason.strip()
    order.save()
    _order_event("service_order.closed", order)
    return order


def _order_event(event_type: str, order: ServiceOrder) -> None:
    """Records ``event_type`` about ``order`` as it is now, in the caller's transaction."""
    order = (
        ServiceOrder.objects.select_related(*ORDER_RELATED).prefetch_related(*ORDER_PREFETCH).get(pk=order.pk)
    )
    event_record(
        event_type, customer_code=order.customer.code, data={"object": ServiceOrderOutput(order).data}
    )


def quotes_apply_closing_rule(*, now: datetime.datetime | None = None) -> tuple[int, int]:
    """Sent quotes unanswered for a month are closed (the customer is told by e-mail); closed ones not
    reopened within a further month become final (billing.closing). Safe to run twice."""
    return apply_closing_rule(
        Quote,
        waiting=QuoteStatus.SENT,
        sent_field="sent_at",
        closed=QuoteStatus.CLOSED,
        final=QuoteStatus.FINAL,
        now=now or timezone.now(),
        on_closed=_quote_expired,
    )


def _quote_expired(quote: Quote) -> None:
    """A sent quote closed unanswered by the closing rule, in the step's transaction: the customer is told
    once it commits; the event is recorded with it."""
    _quote_event("quote.expired", quote)
    transaction.on_commit(lambda: _mail_customer(quote, closed=True))


def quotes_draft_renewals(*, today: datetime.date) -> list[Quote]:
    """Drafts one renewal quote per period ending within the first reminder window and not renewed yet
    (contracts.selectors.period_renewed):
    the same tier and length, starting the day after, at the same fee. The unique constraint on the
    renewed period keeps it to one even when this runs twice at once."""
    horizon = today + datetime.timedelta(days=max(settings.RENEWAL_REMINDER_DAYS))
    drafted = []
    ending = ServicePeriod.objects.filter(end__gte=today, end__lte=horizon).exclude(
        Exists(Quote.objects.filter(renewal_of=OuterRef("pk")))
    )
    for period in periods_renewed(ending, renewed=False).select_related("contract", "tier"):
        try:
            with transaction.atomic():
                quote = _draft_renewal(period, today=today)
        except IntegrityError:
            continue  # drafted meanwhile by a concurrent run
        drafted.append(quote)
    return drafted


def _draft_renewal(period: ServicePeriod, *, today: datetime.date, by=None) -> Quote:
    start = period.end + datetime.timedelta(days=1)
    months = (period.end.year - period.start.year) * 12 + period.end.month - period.start.month + 1
    quote = quote_create(
        customer=period.contract.customer,
        contract=period.contract,
        kind=QuoteKind.RENEWAL,
        renewal_of=period,
        renewal_start=start,
        renewal_end=start + relativedelta(months=months) - datetime.timedelta(days=1),
        renewal_tier=period.tier,
        quote_date=today,
        # open until the period ends, at least: renewing late still makes sense
        valid_until=max(today + datetime.timedelta(days=settings.QUOTE_VALID_DAYS), period.end),
        created_by=by,
    )
    # a renewal quote bills the period's fee alone: it is in the fee's currency
    quote.currency = str(period.fee.currency)
    quote.save(update_fields=["currency"])
    _add_period_fee(quote, period.fee)
    return quote


def _renewal_quote_of(period: ServicePeriod) -> Quote | None:
    """The latest revision of the period's renewal quote, if it has one."""
    first = Quote.objects.filter(renewal_of=period, revision=1).first()
    if first is None:
        return None
    return Quote.objects.filter(number=first.number).order_by("-revision").first()


def quote_draft_renewal(*, period: ServicePeriod, by=None, today: datetime.date | None = None) -> Quote:
    """The renewal quote of ``period``, drafted now as the renewal task drafts it (quotes_draft_renewals)
    unless it has one already: then that one (its latest revision) is returned, so asking twice gives one
    quote. ``by`` drafts it for a customer he acts for."""
    period = ServicePeriod.objects.select_related("contract__customer", "tier").get(pk=period.pk)
    ownership_check(user=by, customer=period.contract.customer)
    existing = _renewal_quote_of(period)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return _draft_renewal(period, today=today or timezone.localdate(), by=by)
    except IntegrityError:  # drafted meanwhile by the task or another click
        return _renewal_quote_of(period)


def quote_may_send(user) -> bool:
    """Whether ``user`` may send quotes: the change permission of quotes (billing.roles). Only who may send
    a quote sees its customer link, which accepts it in the customer's name; view-only roles never do."""
    return user.has_perm("quotes.change_quote")


def customer_link_token(quote: Quote) -> str:
    return CUSTOMER_ANSWER.token(quote)


def quote_from_token(token: str) -> Quote:
    """The quote a customer link names (billing.signed_answer)."""
    return CUSTOMER_ANSWER.document(token)


def _check_editable(quote: Quote, *, by=None, discount_set: bool = False) -> None:
    """Lines may change until the quote is sent, by a staff user acting for its customer; a change takes
    the quote back to draft, so an approval given earlier never covers lines added after it. With
    ``discount_set``, ``by`` is recorded as who last set a discount (four eyes). The quote's row is locked
    and read again (the caller's copy may be older than a send or a submit made meanwhile); the caller's
    copy is updated."""
    current = Quote.objects.select_for_update().select_related("customer").get(pk=quote.pk)
    ownership_check(user=by, customer=current.customer)
    if current.locked:
        raise _locked_error(current)
    changed = []
    if current.status != QuoteStatus.DRAFT:
        current.status = QuoteStatus.DRAFT
        current.approved_by, current.approved_at, current.approval_reason = None, None, ""
        changed += ["status", "approved_by", "approved_at", "approval_reason"]
    if discount_set and _staff_user(by) is not None:
        current.discount_set_by = by
        changed.append("discount_set_by")
    if changed:
        current.save(update_fields=changed)
    quote.discount_set_by_id = current.discount_set_by_id
    quote.status, quote.discount = current.status, current.discount
    quote.approved_by, quote.approved_at, quote.approval_reason = None, None, ""


def quote_fingerprint(quote: Quote) -> str:
    """What an approver looked at: the discounts and every line's price; an approval given on a page
    showing another fingerprint is refused."""
    lines = quote.lines.order_by("pk").values_list("pk", "quantity", "unit_price", "discount", "gross")
    discount = Decimal(quote.discount).quantize(Decimal("0.0001"))  # as stored, whatever the caller holds
    content = repr((str(discount), [tuple(str(value) for value in line) for line in lines]))
    return hashlib.sha256(content.encode()).hexdigest()[:16]


def _mail_customer(quote: Quote, *, closed: bool = False) -> None:
    link = absolute_url(reverse("quotes:answer", args=[customer_link_token(quote)]))
    if closed:
        subject = gettext("Quote %(quote)s closed") % {"quote": quote.reference}
        body = gettext(
            "You did not answer quote %(quote)s within a month, so it is closed. You may reopen it within a "
            "month: %(link)s"
        ) % {"quote": quote.reference, "link": link}
    else:
        subject = gettext("Quote %(quote)s") % {"quote": quote.reference}
        body = gettext("Please read quote %(quote)s and accept or decline it here: %(link)s") % {
            "quote": quote.reference,
            "link": link,
        }
    mail_contacts(quote.customer.contacts.all(), subject, body)


def quote_requestable_services() -> models.QuerySet:
    """What a customer may ask a quote for: the catalogue's active value-added and on-site services, but the
    upgrade contract, which sales quote for a product and version themselves."""
    return (
        ServiceItem.objects.filter(active=True, kind__in=(ServiceKind.VALUE_ADDED, ServiceKind.ON_SITE))
        .exclude(code=UPGRADE_CONTRACT)
        .order_by("group__position", "position", "code")
    )


@transaction.atomic
def quote_request(
    *, customer: Customer, service: ServiceItem, quantity: Decimal, note: str, requested_by: str
) -> Quote:
    """A customer's request for a quote (from its portal): a draft priced from the rate card in force, for
    sales to review, change and send; its account manager is told by e-mail once it commits."""
    if not quote_requestable_services().filter(pk=service.pk).exists():
        raise BillingError(_("A quote cannot be asked for this service."), code="not_requestable")
    notes = gettext("Asked for in the customer portal by %(who)s.") % {"who": requested_by}
    quote = quote_create(customer=customer, notes=f"{notes}\n{note.strip()}".strip())
    quote_add_line(quote=quote, service=service, quantity=quantity)
    manager = customer.account_manager
    if manager is not None and manager.email:
        subject = gettext("%(customer)s asks for a quote: %(service)s") % {
            "customer": customer.legal_name,
            "service": service.name,
        }
        body = f"{subject}\n\n{quote.notes}\n\n{absolute_url(reverse('quotes:builder', args=[quote.pk]))}"
        transaction.on_commit(lambda: EmailMessage(subject, body, None, [manager.email]).send())
    return quote
