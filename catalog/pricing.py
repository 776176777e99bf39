"""Prices from the rate card: the one module the entitlement decision, quotes and invoices call.

Data-volume tiers follow Lago's models: *graduated* prices each slice in its own tier, *volume* prices
the whole quantity at the tier it reaches, *package* prices every started package. Flat fees of a tier
apply once when the quantity reaches that tier (graduated) or is priced by it (volume).
"""

import math
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from djmoney.money import Money

from billing.errors import BillingError
from billing.money import FEN, money, round_fen
from catalog.models import (
    DataVolumePrice,
    DeliveryMode,
    PersonDayRate,
    PricingBasis,
    RateCard,
    Role,
    ServiceItem,
    TravelPolicy,
    UnitPrice,
    VolumeModel,
)


@dataclass(frozen=True)
class UnitRate:
    """What one unit of a service costs on a rate card."""

    rate_card: RateCard
    basis: str
    unit_price: Money
    tax_inclusive: bool
    role: str = ""
    delivery_mode: str = ""


def person_day_rate(
    *, rate_card: RateCard, role: str = Role.ENGINEER, delivery_mode: str = DeliveryMode.REMOTE
) -> UnitRate:
    rate = PersonDayRate.objects.filter(rate_card=rate_card, role=role, delivery_mode=delivery_mode).first()
    if rate is None:
        raise BillingError(
            _("Rate card %(card)s has no person-day rate for %(role)s (%(mode)s)."),
            code="no_price",
            params={"card": rate_card, "role": Role(role).label, "mode": DeliveryMode(delivery_mode).label},
        )
    return UnitRate(
        rate_card, PricingBasis.PER_PERSON_DAY, rate.price, rate.tax_inclusive, role, delivery_mode
    )


def unit_rate(*, rate_card: RateCard, service: ServiceItem, basis: str) -> UnitRate:
    price = UnitPrice.objects.filter(rate_card=rate_card, service=service, basis=basis).first()
    if price is None:
        raise BillingError(
            _("Rate card %(card)s has no %(basis)s price for %(service)s."),
            code="no_price",
            params={"card": rate_card, "basis": PricingBasis(basis).label, "service": service.name},
        )
    return UnitRate(rate_card, basis, price.price, price.tax_inclusive)


def data_volume_pricing(*, rate_card: RateCard, service: ServiceItem) -> DataVolumePrice:
    pricing = (
        DataVolumePrice.objects.filter(rate_card=rate_card, service=service).prefetch_related("tiers").first()
    )
    if pricing is None or not pricing.tiers.all():
        raise BillingError(
            _("Rate card %(card)s has no data-volume price for %(service)s."),
            code="no_price",
            params={"card": rate_card, "service": service.name},
        )
    return pricing


@dataclass(frozen=True)
class Tier:
    up_to: Decimal | None  # None: no limit
    unit_price: Decimal
    flat_fee: Decimal = Decimal(0)


def data_volume_amount(pricing: DataVolumePrice, quantity: Decimal) -> Money:
    """The price of ``quantity`` units under ``pricing``'s tiers, rounded to the fen."""
    tiers = list(pricing.tiers.all())
    amount = tiered_amount(
        model=pricing.model,
        tiers=[Tier(t.up_to, t.unit_price.amount, t.flat_fee.amount) for t in tiers],
        quantity=quantity,
        package_size=pricing.package_size,
    )
    return money(amount, str(tiers[0].unit_price.currency))


def tiered_amount(
    *, model: str, tiers: list[Tier], quantity: Decimal, package_size: Decimal | None = None
) -> Decimal:
    """Graduated, volume or package pricing of ``quantity`` over ``tiers`` (unrounded)."""
    quantity = Decimal(quantity)
    if quantity < 0:
        raise BillingError(_("A quantity cannot be negative."), code="negative_quantity")
    if quantity == 0:
        return Decimal(0)
    tiers = sorted(tiers, key=lambda t: (t.up_to is None, t.up_to or 0))
    if model == VolumeModel.PACKAGE:
        return math.ceil(quantity / package_size) * tiers[0].unit_price + tiers[0].flat_fee
    if model == VolumeModel.VOLUME:
        tier = next((t for t in tiers if t.up_to is None or quantity <= t.up_to), tiers[-1])
        return quantity * tier.unit_price + tier.flat_fee
    total, floor = Decimal(0), Decimal(0)
    for tier in tiers:
        ceiling = quantity if tier.up_to is None else min(quantity, tier.up_to)
        if ceiling <= floor:
            break
        total += (ceiling - floor) * tier.unit_price + tier.flat_fee
        floor = ceiling
    if floor < quantity:  # the last tier has a limit and the quantity goes past it: price the rest there
        total += (quantity - floor) * tiers[-1].unit_price
    return total


@dataclass(frozen=True)
class LineAmounts:
    """Net, VAT and gross of one document line, each rounded to the fen; gross = net + VAT exactly."""

    net: Decimal
    vat: Decimal
    gross: Decimal
    vat_rate: Decimal


ZERO = Decimal(0)
ONE = Decimal(1)


def line_amounts(
    *,
    amount: Decimal,
    vat_rate: Decimal,
    tax_inclusive: bool,
    discount: Decimal = ZERO,
    pass_through: bool = False,
) -> LineAmounts:
    """One line: ``amount`` (unit price x quantity, or a tier total) less ``discount`` (a fraction),
    split into net and VAT at ``vat_rate``. A tax-inclusive amount is the gross and the net is derived
    from it; otherwise the amount is the net. Pass-through lines (travel and lodging at cost) are never
    discounted or marked up and carry no VAT of ours: net = gross = the cost."""
    if not ZERO <= discount <= ONE:
        raise BillingError(_("A discount is a fraction from 0 to 1."), code="invalid_discount")
    if pass_through:
        cost = round_fen(amount)
        return LineAmounts(net=cost, vat=ZERO.quantize(FEN), gross=cost, vat_rate=ZERO)
    discounted = Decimal(amount) * (ONE - discount)
    if tax_inclusive:
        gross = round_fen(discounted)
        net = round_fen(gross / (ONE + vat_rate))
    else:
        net = round_fen(discounted)
        gross = net + round_fen(net * vat_rate)
    return LineAmounts(net=net, vat=gross - net, gross=gross, vat_rate=vat_rate)


def combined_discount(line_discount: Decimal, document_discount: Decimal) -> Decimal:
    """A line's discount with the document's on top: 10% and 5% make 14.5%."""
    return ONE - (ONE - line_discount) * (ONE - document_discount)


def totals(lines: "list[LineAmounts]") -> LineAmounts:
    """Document totals: sums of the lines, never recomputed from a total."""
    net = sum((line.net for line in lines), ZERO.quantize(FEN))
    vat = sum((line.vat for line in lines), ZERO.quantize(FEN))
    return LineAmounts(net=net, vat=vat, gross=net + vat, vat_rate=ZERO)


TRAVEL_CAPS = {"lodging": "lodging_cap_per_night", "allowance": "allowance_per_day"}


def travel_cap(*, rate_card: RateCard | None, category: str, units: int) -> Money | None:
    """What the travel policy (差旅标准) of ``rate_card`` allows for an expense of ``category``: the lodging
    cap per night or the daily allowance times the nights or days; None when nothing caps it (transport,
    no policy, no cap set)."""
    policy = TravelPolicy.objects.filter(rate_card=rate_card).first() if rate_card else None
    per_unit = getattr(policy, TRAVEL_CAPS[category]) if policy and category in TRAVEL_CAPS else None
    if per_unit is None:
        return None
    return money(per_unit.amount * units, str(per_unit.currency))
