"""Generated BigCommerce fixture orders for property tests, consistent to the minor unit.

The arithmetic here is the tests' own (how a store would have charged the order), not the
engine's: lines priced per unit, an order-level discount spread over the lines, tax per line,
shipping and handling on one address, an optional fee and gift wrapping, and one or two tenders
that paid exactly the total.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hypothesis import strategies as st

from mockserver.money import quantum, split

ORDER_IDS = itertools.count(60000)
RATES = [Decimal("0"), Decimal("0.05"), Decimal("0.08875"), Decimal("0.1"), Decimal("0.2")]
CURRENCIES = ["USD", "EUR", "GBP", "JPY", "KWD"]
ONLINE_GATEWAYS = ["braintree", "stripe", "adyen", "authorizenet", "paypalexpress"]


def rounded(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)


def v2(amount: Decimal) -> str:
    return f"{amount:.4f}"


def v3(amount: Decimal) -> int | float:
    return int(amount) if amount == amount.to_integral_value() else float(amount)


@dataclass(frozen=True)
class LineSpec:
    unit_minor: int  # unit price in minor units (ex tax, or inc tax for tax-inclusive orders)
    quantity: int
    rate: Decimal
    wrapping_minor: int  # 0: no gift wrapping


@dataclass(frozen=True)
class OrderSpec:
    currency: str
    store_currency: str
    tax_inclusive: bool
    guest: bool
    lines: tuple[LineSpec, ...]
    discount_percent: int
    shipping_minor: int
    handling_minor: int
    fee_minor: int
    rate: Decimal  # for shipping, handling, wrapping and fees
    gateways: tuple[str, ...]  # the order's online tenders
    store_credit_percent: int  # share of the total paid with store credit (0: none)


@st.composite
def order_specs(draw: st.DrawFn, currencies: list[str] | None = None) -> OrderSpec:
    currency = draw(st.sampled_from(currencies or CURRENCIES))
    scale = 1 if currency == "JPY" else 100 if currency != "KWD" else 1000
    line_count = draw(st.integers(1, 3))
    lines = tuple(
        LineSpec(
            unit_minor=draw(st.integers(1, 200)) * scale // 4 + draw(st.integers(1, 99)),
            quantity=draw(st.integers(1, 4)),
            rate=draw(st.sampled_from(RATES)),
            wrapping_minor=draw(st.sampled_from([0, 0, 3 * scale + 7])),
        )
        for _ in range(line_count)
    )
    guest = draw(st.booleans())
    return OrderSpec(
        currency=currency,
        store_currency=draw(st.sampled_from([currency, currency, "USD" if currency != "USD" else "EUR"])),
        tax_inclusive=draw(st.booleans()),
        guest=guest,
        lines=lines,
        discount_percent=draw(st.sampled_from([0, 0, 10, 15])),
        shipping_minor=draw(st.sampled_from([0, 5 * scale, 7 * scale + 33])),
        handling_minor=draw(st.sampled_from([0, 0, 2 * scale + 1])),
        fee_minor=draw(st.sampled_from([0, 0, scale + 50])),
        rate=draw(st.sampled_from(RATES)),
        gateways=tuple(draw(st.lists(st.sampled_from(ONLINE_GATEWAYS), min_size=1, max_size=2, unique=True))),
        store_credit_percent=0 if guest else draw(st.sampled_from([0, 0, 30])),
    )


def _charged(base: Decimal, rate: Decimal, inclusive: bool, currency: str) -> tuple[Decimal, Decimal, Decimal]:
    """(ex tax, inc tax, tax) of an amount priced on the order's basis."""
    if inclusive:
        tax = rounded(base * rate / (1 + rate), currency)
        return base - tax, base, tax
    tax = rounded(base * rate, currency)
    return base, base + tax, tax


def build_order(spec: OrderSpec, order_id: int | None = None) -> dict[str, Any]:
    """A fixture document for `spec`, in BigCommerce's V2/V3 shapes."""
    order_id = order_id if order_id is not None else next(ORDER_IDS)
    currency = spec.currency
    step = quantum(currency)
    inclusive = spec.tax_inclusive
    gross = [Decimal(line.unit_minor) * step * line.quantity for line in spec.lines]
    discount = rounded(sum(gross, Decimal(0)) * spec.discount_percent / 100, currency)
    shares = split(discount, gross, currency)
    address_id = order_id * 10 + 1
    products = []
    totals = {"paid": Decimal(0), "tax": Decimal(0), "ex": Decimal(0)}
    wrapping_total = [Decimal(0), Decimal(0), Decimal(0)]
    for index, (line, line_gross, share) in enumerate(zip(spec.lines, gross, shares, strict=True)):
        ex, inc, tax = _charged(line_gross - share, line.rate, inclusive, currency)
        unit = Decimal(line.unit_minor) * step
        product = {
            "id": order_id * 10 + 2 + index,
            "order_id": order_id,
            "product_id": 100 + index,
            "order_address_id": address_id,
            "name": f"Generated product {index + 1}",
            "sku": f"GEN-{index + 1}",
            "type": "physical",
            "price_ex_tax": v2(unit),
            "price_inc_tax": v2(unit),
            "price_tax": v2(Decimal(0)),
            "total_ex_tax": v2(line_gross if not inclusive else line_gross - tax),
            "total_inc_tax": v2(line_gross + (0 if inclusive else tax)),
            "total_tax": v2(tax),
            "quantity": line.quantity,
            "quantity_refunded": 0,
            "is_refunded": False,
            "applied_discounts": (
                [
                    {
                        "id": "manual-discount",
                        "amount": v2(share),
                        "name": "Manual Discount",
                        "code": None,
                        "target": "order",
                    }
                ]
                if share
                else []
            ),
            "discounted_total_inc_tax": v2(inc),
            "wrapping_cost_ex_tax": "0.0000",
            "wrapping_cost_inc_tax": "0.0000",
            "wrapping_cost_tax": "0.0000",
        }
        totals["paid"] += inc
        totals["tax"] += tax
        totals["ex"] += ex
        if line.wrapping_minor:
            w_ex, w_inc, w_tax = _charged(Decimal(line.wrapping_minor) * step, spec.rate, inclusive, currency)
            product.update(
                {
                    "wrapping_id": 1,
                    "wrapping_name": "Gift box",
                    "wrapping_cost_ex_tax": v2(w_ex),
                    "wrapping_cost_inc_tax": v2(w_inc),
                    "wrapping_cost_tax": v2(w_tax),
                }
            )
            for position, value in enumerate((w_ex, w_inc, w_tax)):
                wrapping_total[position] += value
        products.append(product)
    s_ex, s_inc, s_tax = _charged(Decimal(spec.shipping_minor) * step, spec.rate, inclusive, currency)
    h_ex, h_inc, h_tax = _charged(Decimal(spec.handling_minor) * step, spec.rate, inclusive, currency)
    address = {
        "id": address_id,
        "order_id": order_id,
        "first_name": "Sam",
        "last_name": "Example",
        "shipping_method": "Flat Rate",
        "cost_ex_tax": v2(s_ex),
        "cost_inc_tax": v2(s_inc),
        "cost_tax": v2(s_tax),
        "handling_cost_ex_tax": v2(h_ex),
        "handling_cost_inc_tax": v2(h_inc),
        "handling_cost_tax": v2(h_tax),
    }
    fees = []
    f_ex = f_inc = f_tax = Decimal(0)
    if spec.fee_minor:
        f_ex, f_inc, f_tax = _charged(Decimal(spec.fee_minor) * step, spec.rate, inclusive, currency)
        fees.append(
            {
                "id": order_id * 10,
                "type": "custom_fee",
                "cost_ex_tax": v2(f_ex),
                "cost_inc_tax": v2(f_inc),
                "cost_tax": v2(f_tax),
            }
        )
    total = totals["paid"] + wrapping_total[1] + s_inc + h_inc + f_inc
    total_tax = totals["tax"] + wrapping_total[2] + s_tax + h_tax + f_tax
    store_credit = rounded(total * spec.store_credit_percent / 100, currency)
    tenders = [("storecredit", "store_credit", store_credit)] if store_credit else []
    rest = total - store_credit
    online = split(rest, [2] + [1] * (len(spec.gateways) - 1), currency)
    tenders += [(gateway, "credit_card", amount) for gateway, amount in zip(spec.gateways, online, strict=True)]
    transactions = [
        {
            "id": order_id * 10 + 5 + position,
            "order_id": str(order_id),
            "event": "purchase",
            "method": method,
            "amount": v3(amount),
            "currency": currency,
            "gateway": gateway,
            "date_created": "2025-01-02T03:04:05+00:00",
            "status": "ok",
        }
        for position, (gateway, method, amount) in enumerate(tenders)
        if amount > 0
    ]
    order = {
        "id": order_id,
        "customer_id": 0 if spec.guest else 77,
        "status_id": 11,
        "status": "Awaiting Fulfillment",
        "subtotal_ex_tax": v2(totals["ex"]),
        "subtotal_inc_tax": v2(totals["paid"]),
        "subtotal_tax": v2(totals["tax"]),
        "shipping_cost_ex_tax": v2(s_ex),
        "shipping_cost_inc_tax": v2(s_inc),
        "shipping_cost_tax": v2(s_tax),
        "handling_cost_ex_tax": v2(h_ex),
        "handling_cost_inc_tax": v2(h_inc),
        "handling_cost_tax": v2(h_tax),
        "wrapping_cost_ex_tax": v2(wrapping_total[0]),
        "wrapping_cost_inc_tax": v2(wrapping_total[1]),
        "wrapping_cost_tax": v2(wrapping_total[2]),
        "total_ex_tax": v2(total - total_tax),
        "total_inc_tax": v2(total),
        "total_tax": v2(total_tax),
        "is_tax_inclusive_pricing": inclusive,
        "payment_method": "Credit Card",
        "payment_status": "captured",
        "refunded_amount": "0.0000",
        "store_credit_amount": v2(store_credit),
        "gift_certificate_amount": "0.0000",
        "discount_amount": v2(discount),
        "currency_code": currency,
        "default_currency_code": currency,
        "store_default_currency_code": spec.store_currency,
    }
    return {
        "order": order,
        "products": products,
        "shipping_addresses": [address],
        "fees": fees,
        "transactions": transactions,
        "refunds": [],
    }


@dataclass(frozen=True)
class Expected:
    """What refunding everything must give back, from the document's own fields."""

    total: Decimal
    tax: Decimal
    product_basis: dict[int, Decimal]  # per product: its paid total on the order's price basis
    shipping_basis: Decimal
    handling_basis: Decimal


def expected_totals(document: dict[str, Any]) -> Expected:
    inclusive = document["order"]["is_tax_inclusive_pricing"]

    def basis(paid: str, tax: str) -> Decimal:
        return Decimal(paid) if inclusive else Decimal(paid) - Decimal(tax)

    address = document["shipping_addresses"][0]
    return Expected(
        total=Decimal(document["order"]["total_inc_tax"]),
        tax=Decimal(document["order"]["total_tax"]),
        product_basis={p["id"]: basis(p["discounted_total_inc_tax"], p["total_tax"]) for p in document["products"]},
        shipping_basis=basis(address["cost_inc_tax"], address["cost_tax"]),
        handling_basis=basis(address["handling_cost_inc_tax"], address["handling_cost_tax"]),
    )


def all_refundable_pieces(document: dict[str, Any]) -> list[tuple[str, int, Decimal | int]]:
    """(item_type, item_id, quantity or amount) for every unit and amount left to refund, in small pieces."""
    inclusive = document["order"]["is_tax_inclusive_pricing"]
    currency = document["order"]["default_currency_code"]
    pieces: list[tuple[str, int, Decimal | int]] = []
    for product in document["products"]:
        pieces += [("PRODUCT", product["id"], 1)] * product["quantity"]
        if Decimal(product["wrapping_cost_inc_tax"]) > 0:
            pieces += [("GIFT_WRAPPING", product["id"], 1)] * product["quantity"]
    address = document["shipping_addresses"][0]
    for kind, prefix in (("SHIPPING", "cost"), ("HANDLING", "handling_cost")):
        amount = Decimal(address[f"{prefix}_inc_tax" if inclusive else f"{prefix}_ex_tax"])
        if amount > 0:
            pieces += [(kind, address["id"], part) for part in split(amount, [3, 1, 2], currency) if part > 0]
    for fee in document.get("fees", []):
        amount = Decimal(fee["cost_inc_tax" if inclusive else "cost_ex_tax"])
        pieces += [("FEE", fee["id"], part) for part in split(amount, [1, 1], currency) if part > 0]
    return pieces


def as_items(pieces: list[tuple[str, int, Decimal | int]]) -> list[dict[str, Any]]:
    """Refund items for pieces, merging pieces of the same thing as a client would."""
    merged: dict[tuple[str, int], Decimal | int] = {}
    for kind, item_id, size in pieces:
        merged[(kind, item_id)] = merged.get((kind, item_id), 0) + size
    items = []
    for (kind, item_id), size in merged.items():
        if kind in ("PRODUCT", "GIFT_WRAPPING"):
            items.append({"item_type": kind, "item_id": item_id, "quantity": int(size)})
        else:
            items.append({"item_type": kind, "item_id": item_id, "amount": v3(size)})
    return items
