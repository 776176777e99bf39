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
from billing.money import money
from catalog.models import (
    DataVolumePrice,
    DeliveryMode,
    PersonDayRate,
    PricingBasis,
    RateCard,
    Role,
    ServiceItem,
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


def data_volume_amount(pricing: DataVolumePrice, quantity: Decimal) -> Money:
    """The price of ``quantity`` units under ``pricing``'s tiers, rounded to the fen."""
    quantity = Decimal(quantity)
    if quantity < 0:
        raise BillingError(_("A quantity cannot be negative."), code="negative_quantity")
    tiers = sorted(pricing.tiers.all(), key=lambda t: (t.up_to is None, t.up_to or 0))
    currency = str(tiers[0].unit_price.currency)
    if quantity == 0:
        return money(Decimal(0), currency)
    if pricing.model == VolumeModel.PACKAGE:
        packages = math.ceil(quantity / pricing.package_size)
        tier = tiers[0]
        return money(packages * tier.unit_price.amount + tier.flat_fee.amount, currency)
    if pricing.model == VolumeModel.VOLUME:
        tier = next((t for t in tiers if t.up_to is None or quantity <= t.up_to), tiers[-1])
        return money(quantity * tier.unit_price.amount + tier.flat_fee.amount, currency)
    total, floor = Decimal(0), Decimal(0)
    for tier in tiers:
        ceiling = quantity if tier.up_to is None else min(quantity, tier.up_to)
        if ceiling <= floor:
            break
        total += (ceiling - floor) * tier.unit_price.amount + tier.flat_fee.amount
        floor = ceiling
    if floor < quantity:  # the last tier has a limit and the quantity goes past it: price the rest there
        total += (quantity - floor) * tiers[-1].unit_price.amount
    return money(total, currency)
