"""Money rules: rounding by minor unit, and splits that never lose or invent a cent."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation, getcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver.money import format_money, minor_unit, parse_money, quantum, round_money, split, unit_share

CURRENCIES = ["USD", "EUR", "JPY", "KWD", "BHD", "CAD"]


@st.composite
def amounts(draw: st.DrawFn, currency: str) -> Decimal:
    units = draw(st.integers(min_value=0, max_value=10**9))
    return Decimal(units) * quantum(currency)


@pytest.mark.parametrize(("currency", "places"), [("USD", 2), ("JPY", 0), ("KWD", 3), ("EUR", 2), ("BHD", 3)])
def test_minor_units_follow_iso_4217(currency: str, places: int) -> None:
    assert minor_unit(currency) == places


def test_rounding_is_half_up_to_the_minor_unit() -> None:
    assert round_money(Decimal("0.125"), "USD") == Decimal("0.13")
    assert round_money(Decimal("2.5"), "JPY") == Decimal("3")
    assert round_money(Decimal("1.0005"), "KWD") == Decimal("1.001")
    assert format_money(Decimal("199"), "USD") == "199.00"
    assert format_money(Decimal("199"), "JPY") == "199"
    assert format_money(Decimal("3.5"), "KWD") == "3.500"


@given(
    st.decimals(allow_nan=False, allow_infinity=False, places=None, min_value=-(10**40), max_value=10**40),
    st.sampled_from(CURRENCIES),
)
def test_rounding_holds_for_amounts_of_any_size(amount: Decimal, currency: str) -> None:
    """Half-up to the minor unit whatever the size: amounts beyond the default 28 digits (a request
    may send 1E+26) round exactly as with unlimited precision, and the thread's context is left as
    it was."""
    precision = getcontext().prec
    exact = amount.quantize(quantum(currency), ROUND_HALF_UP, Context(prec=200))
    assert round_money(amount, currency) == exact
    assert str(round_money(amount, currency)) == str(exact)
    assert getcontext().prec == precision


def test_a_huge_amount_keeps_every_digit_and_an_infinite_one_is_refused() -> None:
    assert format_money(Decimal("1E+26"), "USD") == "100000000000000000000000000.00"
    assert format_money(Decimal("123456789012345678901234567.895"), "KWD") == "123456789012345678901234567.895"
    for bad in ("Infinity", "-Infinity"):
        with pytest.raises(InvalidOperation):
            round_money(Decimal(bad), "USD")


def test_documented_cart_discount_proration() -> None:
    """shopify.md §8: 10.00 over three 199.00 lines is 3.34 + 3.33 + 3.33; 111.85 over 200 + 85 is 78.49 + 33.36."""
    assert split(Decimal("10.00"), [199, 199, 199], "USD") == [Decimal("3.34"), Decimal("3.33"), Decimal("3.33")]
    assert split(Decimal("111.85"), [Decimal("200.00"), Decimal("85.00")], "USD") == [
        Decimal("78.49"),
        Decimal("33.36"),
    ]


@given(data=st.data(), currency=st.sampled_from(CURRENCIES))
def test_split_parts_sum_to_the_whole(data: st.DataObject, currency: str) -> None:
    total = data.draw(amounts(currency))
    weights = data.draw(st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=12))
    parts = split(total, weights, currency)
    assert sum(parts, Decimal(0)) == total
    assert all(part >= 0 and part == round_money(part, currency) for part in parts)
    whole = sum(weights)
    if whole:  # each part is within one minor unit of its exact share
        for part, weight in zip(parts, weights, strict=True):
            assert abs(part - total * weight / whole) < quantum(currency)


@given(data=st.data(), currency=st.sampled_from(CURRENCIES))
def test_taking_units_in_any_grouping_returns_exactly_the_total(data: st.DataObject, currency: str) -> None:
    total = data.draw(amounts(currency))
    whole = data.draw(st.integers(min_value=1, max_value=20))
    groups: list[int] = []
    left = whole
    while left:
        take = data.draw(st.integers(min_value=1, max_value=left))
        groups.append(take)
        left -= take
    taken = 0
    collected = Decimal(0)
    for take in groups:
        part = unit_share(total, whole, taken, take, currency)
        assert part >= 0
        collected += part
        taken += take
    assert collected == total


@pytest.mark.parametrize("text", ["41.94", 41.94, 2, "100.0"])
def test_request_money_may_be_a_number_or_a_string(text: object) -> None:
    assert parse_money(text) == Decimal(str(text))


@pytest.mark.parametrize("bad", [None, True, "abc", "NaN", "Infinity"])
def test_non_amounts_are_refused(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_money(bad)
