"""Prices and line amounts: the one pricing module quotes and invoices share."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from billing.errors import BillingError
from billing.money import FEN, rmb_capitals, round_fen
from catalog.models import VolumeModel
from catalog.pricing import Tier, combined_discount, line_amounts, tiered_amount, totals

D = Decimal
RATES = [D("0.06"), D("0.13"), D(0)]


@pytest.mark.parametrize(
    ("amount", "capitals"),
    [
        ("12345.67", "壹万贰仟叁佰肆拾伍元陆角柒分"),
        ("10000", "壹万元整"),
        ("100.05", "壹佰元零伍分"),
        ("0", "零元整"),
        ("0.004", "零元整"),
        ("2.675", "贰元陆角捌分"),  # rounded half up before converting, not truncated
        ("1010", "壹仟零壹拾元整"),
        ("100010000", "壹亿零壹万元整"),
        ("123456789.12", "壹亿贰仟叁佰肆拾伍万陆仟柒佰捌拾玖元壹角贰分"),
        ("900000000.50", "玖亿元伍角"),
        ("-100.05", "负壹佰元零伍分"),
    ],
)
def test_rmb_capitals(amount, capitals):
    assert rmb_capitals(D(amount)) == capitals


def test_tax_exclusive_line_adds_vat_to_the_net():
    line = line_amounts(amount=D("1000"), vat_rate=D("0.06"), tax_inclusive=False)
    assert (line.net, line.vat, line.gross) == (D("1000.00"), D("60.00"), D("1060.00"))


def test_tax_inclusive_line_derives_the_net_from_the_gross():
    line = line_amounts(amount=D("1060"), vat_rate=D("0.06"), tax_inclusive=True)
    assert (line.net, line.vat, line.gross) == (D("1000.00"), D("60.00"), D("1060.00"))
    odd = line_amounts(amount=D("100"), vat_rate=D("0.13"), tax_inclusive=True)
    assert (odd.net, odd.vat, odd.gross) == (D("88.50"), D("11.50"), D("100.00"))


def test_discounts_apply_before_vat_and_combine():
    line = line_amounts(amount=D("2000"), vat_rate=D("0.06"), tax_inclusive=False, discount=D("0.1"))
    assert (line.net, line.gross) == (D("1800.00"), D("1908.00"))
    assert combined_discount(D("0.1"), D("0.05")) == D("0.145")


def test_travel_at_cost_is_never_discounted_and_includes_its_vat_in_the_cost():
    line = line_amounts(
        amount=D("1234.56"), vat_rate=D("0.06"), tax_inclusive=False, discount=D("0.5"), pass_through=True
    )
    assert (line.net, line.vat, line.gross) == (D("1164.68"), D("69.88"), D("1234.56"))
    outside = line_amounts(amount=D("1234.56"), vat_rate=D(0), tax_inclusive=False, pass_through=True)
    assert (outside.net, outside.vat, outside.gross) == (D("1234.56"), D("0.00"), D("1234.56"))


def test_a_discount_outside_0_to_1_is_refused():
    with pytest.raises(BillingError):
        line_amounts(amount=D(1), vat_rate=D("0.06"), tax_inclusive=False, discount=D("1.5"))


amounts = st.decimals(min_value=D(0), max_value=D("99999999.99"), places=2)
discounts = st.decimals(min_value=D(0), max_value=D(1), places=3)


@given(amount=amounts, rate=st.sampled_from(RATES), inclusive=st.booleans(), discount=discounts)
def test_every_line_is_rounded_to_the_fen_and_adds_up(amount, rate, inclusive, discount):
    line = line_amounts(amount=amount, vat_rate=rate, tax_inclusive=inclusive, discount=discount)
    for value in (line.net, line.vat, line.gross):
        assert value == value.quantize(FEN)
    assert line.net + line.vat == line.gross
    assert (
        abs(line.vat - line.net * rate) <= D("0.01") if inclusive else line.vat == round_fen(line.net * rate)
    )
    assert line.gross <= round_fen(amount * (1 + rate)) + FEN


@given(st.lists(st.tuples(amounts, st.sampled_from(RATES), st.booleans()), max_size=30))
def test_totals_are_the_sums_of_the_lines(rows):
    lines = [line_amounts(amount=a, vat_rate=r, tax_inclusive=i) for a, r, i in rows]
    total = totals(lines)
    assert total.net == sum((x.net for x in lines), D(0))
    assert total.vat == sum((x.vat for x in lines), D(0))
    assert total.gross == sum((x.gross for x in lines), D(0))


def tiered(model: str, tiers, package_size=None):
    """A pricing function over ``tiers`` of (up to, unit price, flat fee)."""
    return lambda quantity: tiered_amount(
        model=model, tiers=[Tier(*t) for t in tiers], quantity=quantity, package_size=package_size
    )


TIERS = [(D(100), D(200), D(0)), (D(500), D(150), D(0)), (None, D(100), D(0))]


@pytest.mark.parametrize(
    ("quantity", "graduated", "volume"),
    [
        (D(0), D(0), D(0)),
        (D(50), D(10000), D(10000)),
        (D(100), D(20000), D(20000)),
        (D(250), D(42500), D(37500)),
        (D(1000), D(130000), D(100000)),
    ],
)
def test_graduated_and_volume_tiers(quantity, graduated, volume):
    assert tiered(VolumeModel.GRADUATED, TIERS)(quantity) == graduated
    assert tiered(VolumeModel.VOLUME, TIERS)(quantity) == volume


def test_package_pricing_charges_every_started_package():
    pricing = tiered(VolumeModel.PACKAGE, [(None, D(6000), D(0))], package_size=D(10))
    assert pricing(D(25)) == 18000
    assert pricing(D(30)) == 18000


def test_graduated_flat_fees_apply_once_per_tier_reached():
    pricing = tiered(VolumeModel.GRADUATED, [(D(10), D(1), D(100)), (None, D(2), D(50))])
    assert pricing(D(5)) == 105
    assert pricing(D(15)) == 100 + 10 + 50 + 10


@given(
    st.decimals(min_value=D(0), max_value=D(100000), places=2),
    st.decimals(min_value=D(0), max_value=D(100000), places=2),
)
def test_more_volume_never_costs_less_on_graduated_tiers(a, b):
    pricing = tiered(VolumeModel.GRADUATED, TIERS)
    low, high = sorted((a, b))
    assert pricing(low) <= pricing(high)
