"""A hypothesis strategy for Shopify fixture documents that add up to the minor unit.

Built the way Shopify builds an order: line-level (`each`) discounts first, then an order-level
(`across`) discount split over the lines by their discounted value, tax on what is left, shipping
with or without tax, and payments that cover the total exactly (one sale, a gift card and a card,
or an authorization with its capture).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

from mockserver.money import format_money, minor_unit, quantum, round_money, split

CURRENCIES = ["USD", "JPY", "KWD", "EUR"]
TAX_RATES = ["0", "0.05", "0.0825", "0.1"]
ZERO = Decimal(0)


def money_set(amount: Decimal, currency: str) -> dict[str, Any]:
    text = format_money(amount, currency)
    return {
        "shop_money": {"amount": text, "currency_code": currency},
        "presentment_money": {"amount": text, "currency_code": currency},
    }


def _transaction(
    order_id: int,
    transaction_id: int,
    kind: str,
    amount: Decimal,
    currency: str,
    gateway: str,
    minute: int,
    parent=None,
) -> dict[str, Any]:
    when = f"2020-11-02T10:{minute:02d}:00-05:00"
    return {
        "id": transaction_id,
        "order_id": order_id,
        "kind": kind,
        "status": "success",
        "amount": format_money(amount, currency),
        "currency": currency,
        "gateway": gateway,
        "parent_id": parent,
        "created_at": when,
        "processed_at": when,
        "test": False,
    }


@st.composite
def orders(draw: st.DrawFn, order_id: int = 700001, currencies: list[str] | None = None) -> dict[str, Any]:
    """One consistent fixture document."""
    currency = draw(st.sampled_from(currencies or CURRENCIES))
    step = quantum(currency)
    line_count = draw(st.integers(1, 3))
    applications: list[dict[str, Any]] = []
    lines = []
    for index in range(line_count):
        price = step * draw(st.integers(1, 40_000))
        quantity = draw(st.integers(1, 5))
        each_off = ZERO
        if draw(st.booleans()) and price > step:
            each_off = step * draw(st.integers(1, int(price / step) - 1 or 1))
        lines.append(
            {
                "id": 900 + index,
                "title": f"Item {index}",
                "price": price,
                "quantity": quantity,
                "each_off": each_off,
                "rate": Decimal(draw(st.sampled_from(TAX_RATES))),
                "fulfilled": draw(st.booleans()),
                "allocations": [],
            }
        )
    for line in lines:
        if line["each_off"]:
            applications.append(
                {
                    "type": "automatic",
                    "value": str(line["each_off"]),
                    "value_type": "fixed_amount",
                    "allocation_method": "each",
                    "target_selection": "entitled",
                    "target_type": "line_item",
                }
            )
            line["allocations"].append((len(applications) - 1, line["each_off"] * line["quantity"]))
    discounted = [line["price"] * line["quantity"] - sum((a for _, a in line["allocations"]), ZERO) for line in lines]
    if draw(st.booleans()):
        across = step * draw(st.integers(1, max(1, int(sum(discounted) / step) - 1)))
        applications.append(
            {
                "type": "discount_code",
                "code": "TAKEOFF",
                "value": str(across),
                "value_type": "fixed_amount",
                "allocation_method": "across",
                "target_selection": "all",
                "target_type": "line_item",
            }
        )
        for line, part in zip(lines, split(across, discounted, currency), strict=True):
            line["allocations"].append((len(applications) - 1, part))

    line_items = []
    for line in lines:
        net = line["price"] * line["quantity"] - sum((a for _, a in line["allocations"]), ZERO)
        tax = round_money(net * line["rate"], currency)
        line["tax"] = tax
        line_items.append(
            {
                "id": line["id"],
                "title": line["title"],
                "quantity": line["quantity"],
                "price": format_money(line["price"], currency),
                "price_set": money_set(line["price"], currency),
                "fulfillable_quantity": 0 if line["fulfilled"] else line["quantity"],
                "fulfillment_status": "fulfilled" if line["fulfilled"] else None,
                "discount_allocations": [
                    {
                        "amount": format_money(a, currency),
                        "amount_set": money_set(a, currency),
                        "discount_application_index": i,
                    }
                    for i, a in line["allocations"]
                ],
                "tax_lines": [
                    {
                        "title": "Tax",
                        "price": format_money(tax, currency),
                        "rate": float(line["rate"]),
                        "price_set": money_set(tax, currency),
                    }
                ]
                if line["rate"]
                else [],
            }
        )
    shipping_price = step * draw(st.integers(0, 3_000))
    shipping_rate = Decimal(draw(st.sampled_from(TAX_RATES)))
    shipping_tax = round_money(shipping_price * shipping_rate, currency)
    shipping_lines = [
        {
            "id": 555,
            "title": "Standard",
            "price": format_money(shipping_price, currency),
            "discounted_price": format_money(shipping_price, currency),
            "discount_allocations": [],
            "tax_lines": [{"title": "Tax", "price": format_money(shipping_tax, currency), "rate": float(shipping_rate)}]
            if shipping_tax
            else [],
        }
    ]
    items = sum((line["price"] * line["quantity"] for line in lines), ZERO)
    discounts = sum((a for line in lines for _, a in line["allocations"]), ZERO)
    total_tax = sum((line["tax"] for line in lines), ZERO) + shipping_tax
    total = items - discounts + shipping_price + total_tax

    payment = draw(st.sampled_from(["sale", "gift_card_and_card", "authorization"]))
    transactions = []
    if payment == "sale" or total < 2 * step:
        transactions.append(_transaction(order_id, 1001, "sale", total, currency, "shopify_payments", 1))
    elif payment == "gift_card_and_card":
        on_gift_card = step * draw(st.integers(1, int(total / step) - 1))
        transactions.append(_transaction(order_id, 1001, "sale", on_gift_card, currency, "gift_card", 1))
        transactions.append(_transaction(order_id, 1002, "sale", total - on_gift_card, currency, "shopify_payments", 2))
    else:
        transactions.append(_transaction(order_id, 1001, "authorization", total, currency, "bogus", 1))
        transactions.append(_transaction(order_id, 1002, "capture", total, currency, "bogus", 3, parent=1001))

    order = {
        "id": order_id,
        "name": f"#{order_id}",
        "created_at": "2020-11-02T10:00:00-05:00",
        "currency": currency,
        "presentment_currency": currency,
        "taxes_included": False,
        "financial_status": "paid",
        "customer": None if draw(st.booleans()) else {"id": 42, "email": "buyer@example.com"},
        "location_id": 31,
        "total_line_items_price": format_money(items, currency),
        "total_discounts": format_money(discounts, currency),
        "subtotal_price": format_money(items - discounts, currency),
        "total_tax": format_money(total_tax, currency),
        "total_price": format_money(total, currency),
        "current_subtotal_price": format_money(items - discounts, currency),
        "current_total_discounts": format_money(discounts, currency),
        "current_total_tax": format_money(total_tax, currency),
        "current_total_price": format_money(total, currency),
        "current_total_price_set": money_set(total, currency),
        "discount_applications": applications,
        "line_items": line_items,
        "shipping_lines": shipping_lines,
        "fulfillments": [],
        "refunds": [],
    }
    return {"order": order, "transactions": transactions}


def _money(value: Any) -> Decimal:
    return Decimal(str(value))


@st.composite
def refund_requests(draw: st.DrawFn, document: dict[str, Any]) -> dict[str, Any]:
    """Any request a client might send, sensible or not (over quantities, foreign parents, big amounts)."""
    order = document["order"]
    currency = order["currency"]
    step = Decimal(1).scaleb(-minor_unit(currency))
    line_ids = [line["id"] for line in order["line_items"]]
    sensible = draw(st.integers(0, 9)) > 0  # most requests are what a client would really send
    request: dict[str, Any] = {"currency": currency}
    request["refund_line_items"] = [
        {
            "line_item_id": draw(st.sampled_from(line_ids)) if sensible else 4242,
            "quantity": draw(st.integers(1, 3 if sensible else 6)),
            "restock_type": draw(st.sampled_from(["no_restock", "cancel", "return"])),
            "location_id": 31,
        }
        for _ in range(draw(st.integers(1 if sensible else 0, 2)))
    ]
    if draw(st.booleans()):
        shipping = _money(order["shipping_lines"][0]["price"])
        request["shipping"] = {"amount": str(step * draw(st.integers(0, int(shipping / step) * 2 + 1)))}
    parents = [t["id"] for t in document["transactions"] if t["kind"] in ("sale", "capture")]
    total = _money(order["total_price"])
    request["transactions"] = [
        {
            "parent_id": draw(st.sampled_from(parents)) if sensible else 31337,
            "amount": str(step * draw(st.integers(0, int(total / step) // (3 if sensible else 1) + 2))),
            "kind": "refund",
        }
        for _ in range(draw(st.integers(0, 2)))
    ]
    return request


def assert_never_more_than_paid(document: dict[str, Any]) -> None:
    order = document["order"]
    currency = order["currency"]
    for parent in (t for t in document["transactions"] if t["kind"] in ("sale", "capture")):
        against = [t for t in document["transactions"] if t["kind"] == "refund" and t["parent_id"] == parent["id"]]
        assert sum((_money(t["amount"]) for t in against), ZERO) <= _money(parent["amount"])
    assert _refunded(document) <= _paid(document)
    refunds = order["refunds"]
    for line in order["line_items"]:
        refunded = [r for refund in refunds for r in refund["refund_line_items"] if r["line_item_id"] == line["id"]]
        units = sum(r["quantity"] for r in refunded)
        assert units <= line["quantity"]
        assert 0 <= line["fulfillable_quantity"] <= line["quantity"] - units
        net = _money(line["price"]) * line["quantity"] - sum(
            (_money(a["amount"]) for a in line["discount_allocations"]), ZERO
        )
        assert sum((_money(r["subtotal_set"]["shop_money"]["amount"]) for r in refunded), ZERO) <= net
    shipping = [a for refund in refunds for a in refund["order_adjustments"] if a["kind"] == "shipping_refund"]
    assert -sum((_money(a["amount"]) for a in shipping), ZERO) <= _money(order["shipping_lines"][0]["price"])
    places = minor_unit(currency)
    for refund in refunds:
        for transaction in refund["transactions"]:
            assert -_money(transaction["amount"]).as_tuple().exponent == places


def _paid(document: dict[str, Any]) -> Decimal:
    return sum((_money(t["amount"]) for t in document["transactions"] if t["kind"] in ("sale", "capture")), ZERO)


def _refunded(document: dict[str, Any]) -> Decimal:
    return sum((_money(t["amount"]) for t in document["transactions"] if t["kind"] == "refund"), ZERO)


# -- multi-currency orders ------------------------------------------------------------------------

# Roughly what one unit of each currency buys in US dollars, to draw believable exchange rates.
USD_VALUE = {"USD": Decimal(1), "EUR": Decimal("1.08"), "JPY": Decimal("0.0067"), "KWD": Decimal("3.25")}
ORDER_MONEY_KEYS = (
    "total_line_items_price",
    "total_discounts",
    "subtotal_price",
    "total_tax",
    "total_price",
    "current_subtotal_price",
    "current_total_discounts",
    "current_total_tax",
    "current_total_price",
)


def _in_shop_money(node: dict[str, Any], key: str, rate: Decimal, shop: str, presentment: str) -> None:
    """`node[key]`, drawn in presentment money, becomes shop money with both monies in `key_set`."""
    if key not in node:
        return
    amount = _money(node[key])
    shop_amount = round_money(amount * rate, shop)
    node[key] = format_money(shop_amount, shop)
    node[f"{key}_set"] = {
        "shop_money": {"amount": format_money(shop_amount, shop), "currency_code": shop},
        "presentment_money": {"amount": format_money(amount, presentment), "currency_code": presentment},
    }


@st.composite
def multi_currency_orders(draw: st.DrawFn, shop: str, presentment: str, order_id: int = 700001) -> dict[str, Any]:
    """An order a customer paid in `presentment` in a shop that keeps its books in `shop`.

    The order is drawn in presentment money (what the customer was charged, payments included);
    each figure's shop money is its conversion at one drawn rate, as Shopify converts them.
    """
    document = draw(orders(order_id=order_id, currencies=[presentment]))
    rate = USD_VALUE[presentment] / USD_VALUE[shop] * Decimal(draw(st.integers(90, 110))) / 100
    order = document["order"]
    for line in order["line_items"]:
        _in_shop_money(line, "price", rate, shop, presentment)
        for allocation in line["discount_allocations"]:
            _in_shop_money(allocation, "amount", rate, shop, presentment)
        for tax in line["tax_lines"]:
            _in_shop_money(tax, "price", rate, shop, presentment)
    for line in order["shipping_lines"]:
        for key in ("price", "discounted_price"):
            _in_shop_money(line, key, rate, shop, presentment)
        for tax in line["tax_lines"]:
            _in_shop_money(tax, "price", rate, shop, presentment)
    for key in ORDER_MONEY_KEYS:
        _in_shop_money(order, key, rate, shop, presentment)
    _sum_shop_money(order, shop)
    for line in order["line_items"]:  # rounding each part on its own can leave a tiny line below zero
        allocated = sum((_money(a["amount"]) for a in line["discount_allocations"]), ZERO)
        assume(_money(line["price"]) * line["quantity"] >= allocated)
    order["currency"] = shop
    order["presentment_currency"] = presentment
    return document


def _sum_shop_money(order: dict[str, Any], shop: str) -> None:
    """The order's shop-money totals as the sums of their converted parts (as the books add up)."""

    def shop_money(node: dict[str, Any], key: str) -> Decimal:
        return _money(node[f"{key}_set"]["shop_money"]["amount"])

    lines = order["line_items"]
    items = sum((shop_money(line, "price") * line["quantity"] for line in lines), ZERO)
    discounts = sum((shop_money(a, "amount") for line in lines for a in line["discount_allocations"]), ZERO)
    shipping = sum((shop_money(line, "price") for line in order["shipping_lines"]), ZERO)
    tax = sum((shop_money(t, "price") for line in [*lines, *order["shipping_lines"]] for t in line["tax_lines"]), ZERO)
    totals = {
        "total_line_items_price": items,
        "total_discounts": discounts,
        "subtotal_price": items - discounts,
        "total_tax": tax,
        "total_price": items - discounts + shipping + tax,
    }
    for key, amount in list(totals.items()):
        if key != "total_line_items_price":
            totals[f"current_{key.removeprefix('total_')}" if key == "subtotal_price" else f"current_{key}"] = amount
    for key, amount in totals.items():
        if key in order:
            order[key] = format_money(amount, shop)
            order[f"{key}_set"]["shop_money"]["amount"] = format_money(amount, shop)
