"""Money rounding: every amount is quantised here, to the fen, half up; sums never add two currencies."""

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

import cn2an
from djmoney.money import Money

FEN = Decimal("0.01")


def round_fen(value: Decimal) -> Decimal:
    """``value`` rounded to 0.01, half up (2.675 -> 2.68), as Chinese invoices require."""
    return Decimal(value).quantize(FEN, rounding=ROUND_HALF_UP)


def money(amount: Decimal, currency: str = "CNY") -> Money:
    """A Money of ``amount`` rounded to the fen."""
    return Money(round_fen(amount), currency)


def rmb_capitals(amount: Decimal) -> str:
    """人民币大写 of an amount, rounded half up to the fen first (cn2an truncates): 12345.67 ->
    壹万贰仟叁佰肆拾伍元陆角柒分, 10000 -> 壹万元整, 100.05 -> 壹佰元零伍分, 0 -> 零元整. A negative amount (a
    credit note) reads 负…."""
    rounded = round_fen(amount)
    if rounded < 0:
        return "负" + rmb_capitals(-rounded)
    return cn2an.an2cn(f"{rounded:f}", "rmb")


def capitals(amount: Money) -> str:
    """人民币大写 of an amount in yuan; nothing for another currency (its words are not 元角分)."""
    return rmb_capitals(amount.amount) if str(amount.currency) == "CNY" else ""


def sums_by_currency(amounts: Iterable[Money]) -> dict[str, Money]:
    """Amounts summed per currency (never across currencies), currencies in alphabetical order."""
    sums: dict[str, Money] = {}
    for amount in amounts:
        currency = str(amount.currency)
        sums[currency] = sums.get(currency, Money(0, currency)) + amount
    return dict(sorted(sums.items()))


def quantity_text(value) -> str:
    """A quantity as documents and messages print it: two decimals, three when it has thousandths (work
    is counted to the thousandth of a person-day): 1 -> "1.00", 0.125 -> "0.125". The same on every
    database (SQLite sums decimals as floats)."""
    quantity = Decimal(value).quantize(Decimal("0.001"))
    return f"{quantity:.2f}" if quantity == quantity.quantize(FEN) else f"{quantity:.3f}"
