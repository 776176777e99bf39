"""Prices from the rate card: the one module the entitlement decision, quotes, charge requests and invoices
call. ``price_service`` prices a catalogue service on a date (the rate card then in force), ``price_upgrade``
the upgrade contract of a product's major version, ``price_agreed``
an agreed price (an order line's, a period fee), ``price_at_cost`` travel and lodging passed through. Each
returns a ``Priced`` line whose list amount is quantity x unit price (the tier total for data volumes), whose
discount is shown apart, and whose net, VAT and gross are rounded to the fen; no other module multiplies a
rate by a quantity.

Data-volume tiers follow Lago's models: *graduated* prices each slice in its own tier, *volume* prices
the whole quantity at the tier it reaches, *package* prices every started package. Flat fees of a tier
apply once when the quantity reaches that tier (graduated) or is priced by it (volume).
"""

import datetime
import math
from dataclasses import dataclass, replace
from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from djmoney.money import Money

from billing.errors import BillingError
from billing.money import FEN, round_fen
from catalog import snapshot
from catalog.models import (
    DataVolumePrice,
    DeliveryMode,
    PersonDayRate,
    PricingBasis,
    RateCard,
    Role,
    ServiceItem,
    TaxCategory,
    TravelPolicy,
    UnitPrice,
    UpgradePrice,
    VolumeModel,
)
from catalog.selectors import rate_card_in_force, vat_rate_on


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


@dataclass(frozen=True)
class Slice:
    """One printed part of a tiered price: ``quantity`` x ``unit_price`` = ``amount`` (to the fen), or a
    tier's flat fee (quantity 1). A tiered line's list amount is the sum of its slices."""

    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    flat_fee: bool = False

    def as_dict(self) -> dict:
        """As documents store it (JSON): amounts as strings."""
        return {k: str(v) if isinstance(v, Decimal) else v for k, v in self.__dict__.items()}

    @classmethod
    def of(cls, value: "Slice | dict") -> "Slice":
        if isinstance(value, Slice):
            return value
        return cls(
            Decimal(value["quantity"]),
            Decimal(value["unit_price"]),
            Decimal(value["amount"]),
            value["flat_fee"],
        )


def data_volume_slices(pricing: DataVolumePrice, quantity: Decimal) -> list[Slice]:
    """The slices of ``quantity`` units under ``pricing``'s tiers."""
    return tier_slices(
        model=pricing.model,
        tiers=[Tier(t.up_to, t.unit_price.amount, t.flat_fee.amount) for t in pricing.tiers.all()],
        quantity=quantity,
        package_size=pricing.package_size,
    )


def tier_slices(
    *, model: str, tiers: list[Tier], quantity: Decimal, package_size: Decimal | None = None
) -> list[Slice]:
    """Graduated, volume or package pricing of ``quantity`` over ``tiers``, slice by slice: graduated
    prices each part in its own tier, volume the whole quantity at the tier it reaches, package every
    started package (the slice's quantity is the number of packages)."""
    quantity = Decimal(quantity)
    if quantity < 0:
        raise BillingError(_("A quantity cannot be negative."), code="negative_quantity")
    if quantity == 0:
        return []
    tiers = sorted(tiers, key=lambda t: (t.up_to is None, t.up_to or 0))
    parts: list[tuple[Decimal, Tier]] = []
    if model == VolumeModel.PACKAGE:
        parts.append((Decimal(math.ceil(quantity / package_size)), tiers[0]))
    elif model == VolumeModel.VOLUME:
        reached = next((t for t in tiers if t.up_to is None or quantity <= t.up_to), tiers[-1])
        parts.append((quantity, reached))
    else:
        floor = Decimal(0)
        for tier in tiers:
            ceiling = quantity if tier.up_to is None or tier is tiers[-1] else min(quantity, tier.up_to)
            if ceiling <= floor:
                break
            parts.append((ceiling - floor, tier))  # past a last tier with a limit: the rest is priced there
            floor = ceiling
    slices = []
    for part, tier in parts:
        slices.append(Slice(part, tier.unit_price, round_fen(part * tier.unit_price)))
        if tier.flat_fee:
            slices.append(Slice(Decimal(1), tier.flat_fee, round_fen(tier.flat_fee), flat_fee=True))
    return slices


def tiered_amount(
    *, model: str, tiers: list[Tier], quantity: Decimal, package_size: Decimal | None = None
) -> Decimal:
    """Graduated, volume or package pricing of ``quantity`` over ``tiers``: the sum of its slices."""
    slices = tier_slices(model=model, tiers=tiers, quantity=quantity, package_size=package_size)
    return sum((part.amount for part in slices), Decimal(0))


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
    discounted or marked up: the gross is the cost, VAT included at ``vat_rate`` when travel is part of
    our taxable sale (settings.TRAVEL_VAT), none of ours otherwise (net = gross = the cost)."""
    if not ZERO <= discount <= ONE:
        raise BillingError(_("A discount is a fraction from 0 to 1."), code="invalid_discount")
    if pass_through:
        cost = round_fen(amount)
        net = round_fen(cost / (ONE + vat_rate))
        return LineAmounts(net=net, vat=cost - net, gross=cost, vat_rate=vat_rate)
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


@dataclass(frozen=True)
class Priced:
    """One priced line as every document prints it: quantity x unit price = list amount; list amount less
    the discount = amount (in the price's own terms: the gross when the price includes VAT, else the net);
    net + VAT = gross. Money values are in the price's currency and rounded to the fen."""

    basis: str
    unit: str
    quantity: Decimal
    unit_price: Money
    list_amount: Money
    discount: Decimal
    discount_amount: Money
    amount: Money
    net: Money
    vat: Money
    gross: Money
    vat_rate: Decimal
    tax_inclusive: bool
    pass_through: bool = False
    rate_card: RateCard | None = None
    role: str = ""
    delivery_mode: str = ""
    tiers: tuple = ()  # of Tier, for a data volume
    tier_model: str = ""  # VolumeModel of the tiers
    slices: tuple = ()  # of Slice: how a tiered list amount is made up, as documents print it

    @property
    def currency(self) -> str:
        return str(self.unit_price.currency)

    def line_fields(self) -> dict:
        """What a stored line (quote line, charge, invoice line) keeps of this price."""
        return {
            "quantity": self.quantity,
            "unit": self.unit,
            "unit_price": self.unit_price,
            "list_amount": self.list_amount,
            "slices": [part.as_dict() for part in self.slices],
            "tax_inclusive": self.tax_inclusive,
            "vat_rate": self.vat_rate,
            "pass_through": self.pass_through,
        }


def _priced(
    *,
    unit_price: Money,
    quantity: Decimal,
    vat_rate: Decimal,
    tax_inclusive: bool,
    discount: Decimal = ZERO,
    list_amount: Decimal | None = None,
    pass_through: bool = False,
    **about,
) -> Priced:
    quantity = Decimal(quantity)
    if quantity < 0:
        raise BillingError(_("A quantity cannot be negative."), code="negative_quantity")
    currency = str(unit_price.currency)
    listed = round_fen(unit_price.amount * quantity if list_amount is None else list_amount)
    line = line_amounts(
        amount=listed,
        vat_rate=Decimal(vat_rate),
        tax_inclusive=tax_inclusive,
        discount=ZERO if pass_through else Decimal(discount),
        pass_through=pass_through,
    )
    amount = line.gross if tax_inclusive or pass_through else line.net
    return Priced(
        quantity=quantity,
        unit_price=unit_price,
        list_amount=Money(listed, currency),
        discount=ZERO if pass_through else Decimal(discount),
        discount_amount=Money(listed - amount, currency),
        amount=Money(amount, currency),
        net=Money(line.net, currency),
        vat=Money(line.vat, currency),
        gross=Money(line.gross, currency),
        vat_rate=line.vat_rate,
        tax_inclusive=tax_inclusive,
        pass_through=pass_through,
        **about,
    )


def price_service(
    *,
    service: ServiceItem,
    quantity: Decimal,
    on: datetime.date,
    basis: str | None = None,
    role: str = Role.ENGINEER,
    delivery_mode: str = DeliveryMode.REMOTE,
    discount: Decimal = ZERO,
    rate_card: RateCard | None = None,
    vat_rate: Decimal | None = None,
) -> Priced:
    """``quantity`` of ``service`` at the rate card in force ``on`` (or ``rate_card``), by the service's
    pricing basis (or ``basis``, one of its alternatives), less ``discount`` (a fraction), with the VAT of
    the service's tax category on that day. Raises ``BillingError`` (code ``no_price``, ``no_rate_card``,
    ``no_vat_rate``, ``invalid_basis``) for what cannot be priced."""
    basis = basis or service.pricing_basis
    if basis not in service.pricing_bases or basis == PricingBasis.INCLUDED:
        raise BillingError(
            _("%(service)s is not priced %(basis)s."),
            code="invalid_basis",
            params={
                "service": service.name,
                "basis": PricingBasis(basis).label if basis in PricingBasis.values else basis,
            },
        )
    if basis == PricingBasis.PER_PERSON_DAY:
        return price_person_days(
            quantity=quantity,
            on=on,
            role=role,
            delivery_mode=delivery_mode,
            tax_category=service.tax_category.code,
            discount=discount,
            rate_card=rate_card,
            vat_rate=vat_rate,
        )
    card = rate_card or rate_card_in_force(on=on)
    if vat_rate is None:
        vat_rate = vat_rate_on(category_code=service.tax_category.code, on=on)
    quantity = Decimal(quantity)
    common = {
        "basis": basis,
        "quantity": quantity,
        "vat_rate": vat_rate,
        "discount": discount,
        "rate_card": card,
    }
    if basis == PricingBasis.PER_DATA_VOLUME:
        pricing = data_volume_pricing(rate_card=card, service=service)
        slices = data_volume_slices(pricing, quantity)
        total = sum((part.amount for part in slices), ZERO)
        average = round_fen(total / quantity) if quantity else pricing.tiers.all()[0].unit_price.amount
        return _priced(
            unit_price=Money(average, str(pricing.tiers.all()[0].unit_price.currency)),
            list_amount=total,
            slices=tuple(slices),
            tax_inclusive=pricing.tax_inclusive,
            unit=str(pricing.get_unit_display()),
            tiers=tuple(Tier(t.up_to, t.unit_price.amount, t.flat_fee.amount) for t in pricing.tiers.all()),
            tier_model=pricing.model,
            **common,
        )
    rate = unit_rate(rate_card=card, service=service, basis=basis)
    return _priced(
        unit_price=rate.unit_price,
        tax_inclusive=rate.tax_inclusive,
        unit=str(PricingBasis(basis).label),
        **common,
    )


def price_person_days(
    *,
    quantity: Decimal,
    on: datetime.date,
    role: str = Role.ENGINEER,
    delivery_mode: str = DeliveryMode.REMOTE,
    tax_category: str = TaxCategory.SERVICES,
    discount: Decimal = ZERO,
    rate_card: RateCard | None = None,
    vat_rate: Decimal | None = None,
) -> Priced:
    """Person-days (人天) of ``role`` delivered ``delivery_mode`` at the rate card in force ``on``: work of
    any service billed by workload (extra trainings, on-site visits, custom development)."""
    card = rate_card or rate_card_in_force(on=on)
    rate = person_day_rate(rate_card=card, role=role, delivery_mode=delivery_mode)
    return _priced(
        unit_price=rate.unit_price,
        quantity=quantity,
        vat_rate=vat_rate_on(category_code=tax_category, on=on) if vat_rate is None else vat_rate,
        tax_inclusive=rate.tax_inclusive,
        discount=discount,
        basis=PricingBasis.PER_PERSON_DAY,
        unit=str(PricingBasis.PER_PERSON_DAY.label),
        rate_card=card,
        role=role,
        delivery_mode=delivery_mode,
    )


def upgrade_price(*, rate_card: RateCard, product: str, major: int) -> UpgradePrice:
    """The upgrade contract price of ``product`` to ``major`` on ``rate_card`` (from the catalogue snapshot:
    the entitlement check asks it)."""
    prices = snapshot.cached(
        ("upgrade_prices", rate_card.pk),
        lambda: {
            (price.product.code.upper(), price.major): price
            for price in UpgradePrice.objects.filter(rate_card=rate_card).select_related(
                "product", "tax_category"
            )
        },
    )
    price = prices.get((product.upper(), int(major)))
    if price is None:
        raise BillingError(
            _("Rate card %(card)s has no upgrade contract price for %(product)s %(major)s."),
            code="no_price",
            params={"card": rate_card, "product": product, "major": major},
        )
    return price


def price_upgrade(
    *,
    product: str,
    major: int,
    on: datetime.date,
    discount: Decimal = ZERO,
    rate_card: RateCard | None = None,
    vat_rate: Decimal | None = None,
) -> Priced:
    """The upgrade contract (升级服务合同) taking ``product`` to the major version ``major``: one contract at
    its price on the rate card in force ``on`` (or ``rate_card``), less ``discount``, with the VAT of the
    price's tax category on that day. The entitlement decision, quotes and invoices price a major upgrade
    here alone. Raises ``BillingError`` (``no_price``, ``no_rate_card``, ``no_vat_rate``)."""
    card = rate_card or rate_card_in_force(on=on)
    price = upgrade_price(rate_card=card, product=product, major=major)
    if vat_rate is None:
        vat_rate = vat_rate_on(category_code=price.tax_category.code, on=on)
    return _priced(
        unit_price=price.price,
        quantity=ONE,
        vat_rate=vat_rate,
        tax_inclusive=price.tax_inclusive,
        discount=discount,
        basis=PricingBasis.FIXED,
        unit=str(PricingBasis.FIXED.label),
        rate_card=card,
    )


def price_agreed(
    *,
    unit_price: Money,
    quantity: Decimal,
    vat_rate: Decimal,
    tax_inclusive: bool = True,
    discount: Decimal = ZERO,
    unit: str = "",
    basis: str = "",
    list_amount: Money | None = None,
    slices: tuple = (),
    before: Decimal = ZERO,
) -> Priced:
    """An agreed price: an order line's unit price and discount, a period fee, a confirmed charge.
    ``list_amount`` is the agreed list total of ``quantity`` when it is not quantity x unit price (the
    tier total of a data volume, made up of ``slices``).

    ``before``: how much of the same agreed line was priced already (work delivered in pieces). The piece
    is then the difference of the cumulative amounts (``list_amount`` being the cumulative one), so the
    pieces of a line always add up to the whole line to the fen, whatever the discount's rounding."""
    terms = {"unit_price": unit_price, "vat_rate": vat_rate, "tax_inclusive": tax_inclusive}
    terms |= {"discount": discount, "unit": unit, "basis": basis}
    after = _priced(
        quantity=Decimal(before) + Decimal(quantity),
        list_amount=None if list_amount is None else list_amount.amount,
        slices=tuple(Slice.of(part) for part in slices),
        **terms,
    )
    if not before:
        return after
    earlier = _priced(quantity=Decimal(before), **terms)
    return replace(
        after,
        quantity=Decimal(quantity),
        slices=(),
        **{
            name: getattr(after, name) - getattr(earlier, name)
            for name in ("list_amount", "discount_amount", "amount", "net", "vat", "gross")
        },
    )


def price_at_cost(*, amount: Money, unit: str = "", vat_rate: Decimal = ZERO) -> Priced:
    """Travel and lodging passed through at cost: one unit, never discounted, the cost VAT included at
    ``vat_rate`` (``travel_vat_rate``: the travel service's rate when travel is part of our taxable sale,
    0 when it is kept outside our fapiao)."""
    return _priced(
        unit_price=amount,
        quantity=ONE,
        vat_rate=vat_rate,
        tax_inclusive=True,
        pass_through=True,
        unit=unit,
        basis="",
    )


TRAVEL_CAPS = {"lodging": "lodging_cap_per_night", "allowance": "allowance_per_day"}


def travel_cap(*, rate_card: RateCard | None, category: str, units: int) -> Money | None:
    """What the travel policy (差旅标准) of ``rate_card`` allows for an expense of ``category``: the lodging
    cap per night or the daily allowance times the nights or days; None when nothing caps it (transport,
    no policy, no cap set)."""
    policy = TravelPolicy.objects.filter(rate_card=rate_card).first() if rate_card else None
    per_unit = getattr(policy, TRAVEL_CAPS[category]) if policy and category in TRAVEL_CAPS else None
    if per_unit is None:
        return None
    return Money(round_fen(per_unit.amount * units), per_unit.currency)
