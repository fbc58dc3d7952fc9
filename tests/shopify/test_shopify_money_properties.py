"""Property tests of the Shopify engine over generated orders and random refund sequences.

The engine is called directly (no HTTP) so that hypothesis can try many orders quickly; the
HTTP round trip, with every response checked against the spec, is in test_shopify_refund_http.py.
"""

from __future__ import annotations

import copy
import itertools
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shopify_orders import assert_never_more_than_paid, orders, refund_requests

from mockserver.money import minor_unit
from mockserver.shopify import models
from mockserver.shopify.exceptions import Unprocessable

ZERO = Decimal(0)
PROPERTY_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class Ids:
    """Stands in for the store's id sequences."""

    def __init__(self) -> None:
        self.counter = itertools.count(1)

    def __call__(self, name: str, start: int) -> int:
        return start + next(self.counter)


def money(value: Any) -> Decimal:
    return Decimal(str(value))


def quote_total(calculated: dict[str, Any]) -> Decimal:
    refund = calculated["refund"]
    lines = sum((money(line["subtotal"]) + money(line["total_tax"]) for line in refund["refund_line_items"]), ZERO)
    return lines + money(refund["shipping"]["amount"]) + money(refund["shipping"]["tax"])


def paid(document: dict[str, Any]) -> Decimal:
    return sum(
        (money(t["amount"]) for t in document["transactions"] if t["kind"] in ("sale", "capture")),
        ZERO,
    )


def refunded_money(document: dict[str, Any]) -> Decimal:
    return sum((money(t["amount"]) for t in document["transactions"] if t["kind"] == "refund"), ZERO)


def as_refund(calculated: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    """What a client sends to create after calculate: the same request and the suggested transactions."""
    transactions = [
        {**suggestion, "kind": "refund"}
        for suggestion in calculated["refund"]["transactions"]
        if money(suggestion["amount"]) > 0
    ]
    return {**request, "transactions": transactions}


@st.composite
def partitions(draw: st.DrawFn, document: dict[str, Any]) -> list[dict[str, Any]]:
    """Every unit and all the shipping of the order, spread over 1 to 4 refund requests."""
    order = document["order"]
    currency = order["currency"]
    count = draw(st.integers(1, 4))
    requests: list[dict[str, Any]] = [{"currency": currency, "refund_line_items": []} for _ in range(count)]
    for line in order["line_items"]:
        units = [draw(st.integers(0, count - 1)) for _ in range(line["quantity"])]
        for index in range(count):
            taken = units.count(index)
            if taken:
                requests[index]["refund_line_items"].append(
                    {"line_item_id": line["id"], "quantity": taken, "restock_type": "no_restock"}
                )
    shipping = money(order["shipping_lines"][0]["price"])
    step = Decimal(1).scaleb(-minor_unit(currency))
    cuts = sorted(draw(st.lists(st.integers(0, int(shipping / step)), min_size=count - 1, max_size=count - 1)))
    bounds = [0, *cuts, int(shipping / step)]
    for index in range(count):
        part = (bounds[index + 1] - bounds[index]) * step
        if part and index == count - 1 and draw(st.booleans()):
            requests[index]["shipping"] = {"full_refund": True}
        elif part:
            requests[index]["shipping"] = {"amount": str(part)}
    return [request for request in requests if request["refund_line_items"] or "shipping" in request]


@PROPERTY_SETTINGS
@given(data=st.data())
def test_refunding_everything_in_any_partition_returns_exactly_the_order(data: st.DataObject) -> None:
    document = data.draw(orders())
    order = document["order"]
    original = copy.deepcopy(order)
    ids = Ids()
    for request in data.draw(partitions(document)):
        calculated = models.calculate(document, request)
        created = models.create_refund(document, as_refund(calculated, request), ids)
        refund_money = sum((money(t["amount"]) for t in created.refund["transactions"]), ZERO)
        assert refund_money == quote_total(calculated), "a quote's total is the refund that follows it"
        assert [a["kind"] for a in created.refund["order_adjustments"]] in ([], ["shipping_refund"])

    refunds = order["refunds"]
    for line in original["line_items"]:
        refunded = [r for refund in refunds for r in refund["refund_line_items"] if r["line_item_id"] == line["id"]]
        gross = money(line["price"]) * line["quantity"]
        discounts = sum((money(a["amount"]) for a in line["discount_allocations"]), ZERO)
        assert sum(r["quantity"] for r in refunded) == line["quantity"]
        assert sum((money(r["subtotal_set"]["shop_money"]["amount"]) for r in refunded), ZERO) == gross - discounts
        assert sum((money(r["total_tax_set"]["shop_money"]["amount"]) for r in refunded), ZERO) == sum(
            (money(t["price"]) for t in line["tax_lines"]), ZERO
        )
    shipping_adjustments = [a for refund in refunds for a in refund["order_adjustments"]]
    shipping_line = original["shipping_lines"][0]
    assert -sum((money(a["amount"]) for a in shipping_adjustments), ZERO) == money(shipping_line["price"])
    assert -sum((money(a["tax_amount"]) for a in shipping_adjustments), ZERO) == sum(
        (money(t["price"]) for t in shipping_line["tax_lines"]), ZERO
    )
    assert refunded_money(document) == paid(document) == money(original["total_price"])
    if paid(document) > 0:
        assert order["financial_status"] == "refunded"
    for key in ("current_subtotal_price", "current_total_tax", "current_total_discounts", "current_total_price"):
        assert money(order[key]) == 0, key
    leftover = models.calculate(document, {"shipping": {"full_refund": True}})["refund"]
    assert leftover["transactions"] == [] and money(leftover["shipping"]["maximum_refundable"]) == 0


@PROPERTY_SETTINGS
@given(data=st.data())
def test_random_refund_sequences_never_refund_more_than_was_paid(data: st.DataObject) -> None:
    document = data.draw(orders())
    ids = Ids()
    for _ in range(data.draw(st.integers(1, 6))):
        request = data.draw(refund_requests(document))
        before = copy.deepcopy(document)
        try:
            calculated = models.calculate(document, {k: v for k, v in request.items() if k != "transactions"})
        except Unprocessable:
            calculated = None
        assert document == before, "calculate changes nothing"
        try:
            models.create_refund(document, request, ids)
        except Unprocessable as refused:
            assert refused.status == 422 and refused.body["errors"]
            assert document == before, "a refused refund changes nothing"
            continue
        assert calculated is not None, "what create accepts, calculate quotes"
        assert_never_more_than_paid(document)


@PROPERTY_SETTINGS
@given(data=st.data())
def test_quoted_line_figures_hold_together(data: st.DataObject) -> None:
    document = data.draw(orders())
    order = document["order"]
    currency = order["currency"]
    line = data.draw(st.sampled_from(order["line_items"]))
    quantity = data.draw(st.integers(1, line["quantity"]))
    calculated = models.calculate(
        document, {"refund_line_items": [{"line_item_id": line["id"], "quantity": quantity}]}
    )["refund"]
    quoted = calculated["refund_line_items"][0]
    places = minor_unit(currency)
    for key in ("price", "subtotal", "total_tax", "discounted_price", "discounted_total_price"):
        assert -money(quoted[key]).as_tuple().exponent == places, key
    assert money(quoted["subtotal"]) == money(quoted["discounted_total_price"]) - money(
        quoted["total_cart_discount_amount"]
    )
    assert money(quoted["discounted_total_price"]) <= money(quoted["price"]) * quantity
    assert calculated["currency"] == currency
    assert sum((money(t["amount"]) for t in calculated["transactions"]), ZERO) == min(
        quote_total({"refund": calculated}), paid(document)
    )


@pytest.mark.parametrize("quantity", [1, 2, 3])
def test_units_one_at_a_time_add_up_to_the_line(quantity: int) -> None:
    """A 10.00 cart discount and 1.00 of tax over three units: 3.34/3.33/3.33 and 0.33/0.34/0.33."""
    document = {
        "order": {
            "id": 1,
            "currency": "USD",
            "discount_applications": [{"allocation_method": "across"}],
            "line_items": [
                {
                    "id": 7,
                    "quantity": 3,
                    "price": "20.00",
                    "discount_allocations": [{"amount": "10.00", "discount_application_index": 0}],
                    "tax_lines": [{"price": "1.00"}],
                }
            ],
            "shipping_lines": [],
            "refunds": [],
        },
        "transactions": [{"id": 5, "kind": "sale", "status": "success", "amount": "51.00", "gateway": "manual"}],
    }
    ids = Ids()
    total = ZERO
    taken = 0
    while taken < 3:
        step = min(quantity, 3 - taken)
        request = {"refund_line_items": [{"line_item_id": 7, "quantity": step}]}
        created = models.create_refund(document, as_refund(models.calculate(document, request), request), ids)
        total += sum((money(t["amount"]) for t in created.refund["transactions"]), ZERO)
        taken += step
    assert total == Decimal("51.00")


def test_tax_inclusive_prices_do_not_add_the_tax_again() -> None:
    """With `taxes_included`, 110.00 per unit already holds its 10.00 of tax: the refund is 110.00."""
    document = {
        "order": {
            "id": 2,
            "currency": "USD",
            "taxes_included": True,
            "line_items": [{"id": 8, "quantity": 2, "price": "110.00", "tax_lines": [{"price": "20.00"}]}],
            "shipping_lines": [],
            "refunds": [],
        },
        "transactions": [{"id": 6, "kind": "sale", "status": "success", "amount": "220.00", "gateway": "manual"}],
    }
    quote = models.calculate(document, {"refund_line_items": [{"line_item_id": 8, "quantity": 1}]})["refund"]
    assert (quote["refund_line_items"][0]["subtotal"], quote["refund_line_items"][0]["total_tax"]) == (
        "110.00",
        "10.00",
    )
    assert [t["amount"] for t in quote["transactions"]] == ["110.00"]
