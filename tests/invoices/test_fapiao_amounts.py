"""The amounts a fapiao line carries (invoices.fapiao_batch), for any price: VAT included, 金额 less
折扣金额 is the line's gross to the fen, and 数量 x 单价 gives 金额 again within the column's 16
characters."""

from decimal import Decimal

from djmoney.money import Money
from hypothesis import given
from hypothesis import strategies as st

from billing.money import round_fen
from catalog.pricing import price_agreed
from invoices.fapiao_batch import _inclusive_amounts, _unit_price_text
from invoices.models import InvoiceLine

prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999999.99"), places=2)
quantities = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("9999"), places=3)
discounts = st.decimals(min_value=Decimal(0), max_value=Decimal("0.99"), places=4)
rates = st.sampled_from([Decimal("0.06"), Decimal("0.13"), Decimal("0.03"), Decimal("0.01")])


@given(price=prices, quantity=quantities, discount=discounts, rate=rates, inclusive=st.booleans())
def test_a_line_on_the_fapiao_adds_up_to_its_gross(price, quantity, discount, rate, inclusive):
    priced = price_agreed(
        unit_price=Money(price, "CNY"),
        quantity=quantity,
        vat_rate=rate,
        tax_inclusive=inclusive,
        discount=discount,
    )
    line = InvoiceLine(
        description="x", **priced.line_fields(), discount=priced.discount, net=priced.net, vat=priced.vat,
        gross=priced.gross,
    )  # fmt: skip
    listed, discount_amount, unit_price = _inclusive_amounts(line)
    assert listed - discount_amount == priced.gross.amount
    assert discount_amount >= 0
    assert listed == round_fen(listed)
    text = _unit_price_text(unit_price, quantity, listed, limit=16)
    assert len(text) <= 16
    assert len(text.partition(".")[2]) <= 13
    assert round_fen(Decimal(text) * quantity) == listed
