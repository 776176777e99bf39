"""Money rounding: every amount is quantised here, to the fen, half up."""

from decimal import ROUND_HALF_UP, Decimal

from djmoney.money import Money

FEN = Decimal("0.01")


def round_fen(value: Decimal) -> Decimal:
    """``value`` rounded to 0.01, half up (2.675 -> 2.68), as Chinese invoices require."""
    return Decimal(value).quantize(FEN, rounding=ROUND_HALF_UP)


def money(amount: Decimal, currency: str = "CNY") -> Money:
    """A Money of ``amount`` rounded to the fen."""
    return Money(round_fen(amount), currency)
