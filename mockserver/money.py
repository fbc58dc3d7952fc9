"""Money as `Decimal`: currency minor units, half-up rounding, and splits that always add up.

Both platforms' engines use these; nothing here knows about HTTP or a platform.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from functools import cache

from babel.numbers import get_currency_precision

ZERO = Decimal(0)


@cache
def minor_unit(currency: str) -> int:
    """Decimal places of a currency's minor unit (ISO 4217 via CLDR): JPY 0, USD 2, KWD 3."""
    return get_currency_precision(currency.upper())


@cache
def _quantum(places: int) -> Decimal:
    return Decimal(1).scaleb(-places)


def quantum(currency: str) -> Decimal:
    """The smallest amount of `currency`: 1 for JPY, 0.01 for USD, 0.001 for KWD."""
    return _quantum(minor_unit(currency))


# currency -> (minor unit places, quantum): a quote rounds some 30 amounts, so one dictionary
# lookup instead of two cached calls per rounding
_STEPS: dict[str, tuple[int, Decimal]] = {}


def round_money(amount: Decimal | int | str, currency: str) -> Decimal:
    """Round half-up to the currency's minor unit.

    The precision grows with the amount: the default 28 digits cannot hold 1E+26 with two
    decimals, and `quantize` would raise InvalidOperation for such a request amount.
    """
    value = amount if type(amount) is Decimal else Decimal(amount)
    try:
        places, step = _STEPS[currency]
    except KeyError:
        places = minor_unit(currency)
        step = _STEPS.setdefault(currency, (places, _quantum(places)))[1]
    try:
        # the usual case: the context's precision (28 digits by default) holds the result, and
        # trying costs less than checking first (a local context costs twice the rounding itself).
        # The rounding is passed by position: by keyword, `quantize` takes three times as long.
        return value.quantize(step, ROUND_HALF_UP)
    except InvalidOperation:  # a result longer than the precision (decimal traps it by default)
        if not value.is_finite():
            raise  # an infinity has no minor unit at any precision
    with localcontext() as context:
        context.prec = value.adjusted() + places + 2
        return value.quantize(step, ROUND_HALF_UP)


def parse_money(value: object) -> Decimal:
    """A request amount sent as a JSON number or a decimal string; ValueError if it is neither."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not an amount: {value!r}")
    try:
        amount = Decimal(str(value))
    except InvalidOperation as error:
        raise ValueError(f"not an amount: {value!r}") from error
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    return amount


def format_money(amount: Decimal, currency: str) -> str:
    """Shopify's string form: exactly the currency's decimal places ("199.00", "500", "1.250")."""
    return str(round_money(amount, currency))


def split(total: Decimal, weights: Sequence[Decimal | int], currency: str) -> list[Decimal]:
    """Split `total` in proportion to `weights`; the parts sum to `total` exactly.

    Largest-remainder method in minor units: each part gets the floor of its exact share, then
    the units left over go one each to the parts with the largest remainders (ties to the
    earliest part). A zero total weight splits evenly.
    """
    step = quantum(currency)
    units = int((round_money(total, currency) / step).to_integral_value())
    if not weights:
        if units:
            raise ValueError("cannot split a non-zero amount over nothing")
        return []
    decimal_weights = [Decimal(weight) for weight in weights]
    if any(weight < 0 for weight in decimal_weights):
        raise ValueError("weights must not be negative")
    whole = sum(decimal_weights, ZERO)
    if whole == 0:
        decimal_weights = [Decimal(1)] * len(decimal_weights)
        whole = Decimal(len(decimal_weights))
    sign = -1 if units < 0 else 1
    units = abs(units)
    exact = [Decimal(units) * weight / whole for weight in decimal_weights]
    floors = [int(share.to_integral_value(rounding=ROUND_FLOOR)) for share in exact]
    left = units - sum(floors)
    order = sorted(range(len(exact)), key=lambda index: (-(exact[index] - floors[index]), index))
    for index in order[:left]:
        floors[index] += 1
    return [sign * part * step for part in floors]


def cumulative_share(total: Decimal, taken: int, whole: int, currency: str) -> Decimal:
    """The rounded share of `total` that belongs to the first `taken` of `whole` units."""
    if whole <= 0 or taken <= 0 or not total:  # nothing of nothing (a line without discounts, say)
        return ZERO
    if taken >= whole:
        return round_money(total, currency)
    return round_money(Decimal(total) * taken / whole, currency)


def unit_share(total: Decimal, whole: int, taken_before: int, taking: int, currency: str) -> Decimal:
    """The amount for `taking` more units of `whole`, after `taken_before` were taken.

    It is the difference of two cumulative shares, so taking units in any grouping and any
    order returns exactly `total` once all `whole` units are taken: no cent lost or invented.
    """
    return cumulative_share(total, taken_before + taking, whole, currency) - cumulative_share(
        total, taken_before, whole, currency
    )


def minor_units(amount: Decimal, currency: str) -> int:
    """`amount` counted in the currency's minor units (12.34 USD -> 1234, 500 JPY -> 500)."""
    return int((round_money(amount, currency) / quantum(currency)).to_integral_value())


def counterpart(
    amount: Decimal, before: Decimal, whole: Decimal, currency: str, total: Decimal, total_currency: str
) -> Decimal:
    """The part of `total` (in `total_currency`) that matches `amount` of `whole` (in `currency`).

    `before` of `whole` was matched earlier. It is a cumulative share by minor units, so the
    counterparts of the parts of `whole`, in any grouping and order, add up exactly to `total`:
    the shop money of a presentment figure, split from the order's matching shop-money figure.
    """
    return unit_share(
        total,
        minor_units(whole, currency),
        minor_units(before, currency),
        minor_units(amount, currency),
        total_currency,
    )
