"""The committed starter orders add up to the cent, and together cover the cases users meet."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest
from shopify_support import FIXTURES_DIR, fixture_documents

from mockserver.money import minor_unit
from mockserver.shopify.consistency import problems

DOCUMENTS = fixture_documents()
IDS = sorted(DOCUMENTS)


def amount(text: str) -> Decimal:
    return Decimal(text)


def total(items: list[dict[str, Any]], key: str = "amount") -> Decimal:
    return sum((Decimal(str(item[key])) for item in items), Decimal(0))


def money_strings(node: Any, path: str = "") -> list[tuple[str, str]]:
    """Every (path, value) of the money strings in a document: `amount`, `price` and `*_price`/`total_*` fields."""
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}"
            if isinstance(value, str) and (
                key in ("amount", "price", "tax_amount")
                or key.startswith(("total_", "current_"))
                or key.endswith("_price")
            ):
                found.append((here, value))
            else:
                found.extend(money_strings(value, here))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(money_strings(value, f"{path}.{index}"))
    return found


@pytest.mark.parametrize("order_id", IDS)
def test_order_totals_add_up(order_id: int) -> None:
    order = DOCUMENTS[order_id]["order"]
    lines = order["line_items"]
    items = sum((amount(line["price"]) * line["quantity"] for line in lines), Decimal(0))
    discounts = sum((total(line["discount_allocations"]) for line in lines), Decimal(0))
    line_tax = sum((total(line["tax_lines"], "price") for line in lines), Decimal(0))
    shipping = total(order["shipping_lines"], "price")
    shipping_tax = sum((total(line["tax_lines"], "price") for line in order["shipping_lines"]), Decimal(0))
    assert amount(order["total_line_items_price"]) == items
    assert amount(order["total_discounts"]) == discounts
    assert amount(order["subtotal_price"]) == items - discounts
    assert amount(order["total_tax"]) == line_tax + shipping_tax == total(order["tax_lines"], "price")
    assert amount(order["total_price"]) == items - discounts + shipping + line_tax + shipping_tax
    assert amount(order["total_shipping_price_set"]["shop_money"]["amount"]) == shipping


@pytest.mark.parametrize("order_id", IDS)
def test_every_discount_application_is_fully_allocated(order_id: int) -> None:
    order = DOCUMENTS[order_id]["order"]
    allocated: dict[int, Decimal] = {}
    for line in order["line_items"]:
        for allocation in line["discount_allocations"]:
            index = allocation["discount_application_index"]
            allocated[index] = allocated.get(index, Decimal(0)) + amount(allocation["amount"])
    assert set(allocated) == set(range(len(order["discount_applications"])))
    for code in order["discount_codes"]:
        index = next(i for i, app in enumerate(order["discount_applications"]) if app.get("code") == code["code"])
        assert amount(code["amount"]) == allocated[index]


@pytest.mark.parametrize("order_id", IDS)
def test_payments_cover_the_order_and_refunds_agree(order_id: int) -> None:
    document = DOCUMENTS[order_id]
    order, transactions = document["order"], document["transactions"]
    received = [t for t in transactions if t["kind"] in ("sale", "capture") and t["status"] == "success"]
    assert total(received) == amount(order["total_price"])
    refund_transactions = [t for t in transactions if t["kind"] == "refund"]
    embedded = [t for refund in order["refunds"] for t in refund["transactions"]]
    assert embedded == refund_transactions
    refunded_lines = [line for refund in order["refunds"] for line in refund["refund_line_items"]]
    line_value = total(refunded_lines, "subtotal") + total(refunded_lines, "total_tax")
    adjustments = [adj for refund in order["refunds"] for adj in refund["order_adjustments"]]
    # money out = the lines' value, minus the (negative) adjustments for shipping and discrepancies
    assert total(refund_transactions) == line_value - total(adjustments) - total(adjustments, "tax_amount")
    status = "paid" if not refund_transactions else "partially_refunded"
    assert order["financial_status"] == status


@pytest.mark.parametrize("order_id", IDS)
def test_current_totals_are_the_totals_minus_the_refunds(order_id: int) -> None:
    order = DOCUMENTS[order_id]["order"]
    lines = [line for refund in order["refunds"] for line in refund["refund_line_items"]]
    subtotal, tax = total(lines, "subtotal"), total(lines, "total_tax")
    assert amount(order["current_subtotal_price"]) == amount(order["subtotal_price"]) - subtotal
    assert amount(order["current_total_tax"]) == amount(order["total_tax"]) - tax
    assert amount(order["current_total_price"]) == amount(order["total_price"]) - subtotal - tax
    refunded_units = {}
    for line in lines:
        refunded_units[line["line_item_id"]] = refunded_units.get(line["line_item_id"], 0) + line["quantity"]
    for line in order["line_items"]:
        assert 0 <= line["fulfillable_quantity"] <= line["quantity"] - refunded_units.get(line["id"], 0)


@pytest.mark.parametrize("order_id", IDS)
def test_money_has_the_currency_decimals_and_sets_agree(order_id: int) -> None:
    document = DOCUMENTS[order_id]
    places = minor_unit(document["order"]["currency"])
    for path, value in money_strings(document):
        exponent = Decimal(value).as_tuple().exponent
        assert isinstance(exponent, int) and -exponent == places, (path, value)
    order = document["order"]
    for key, value in order.items():
        if f"{key}_set" in order and isinstance(value, str):
            assert order[f"{key}_set"]["shop_money"]["amount"] == value, key


def test_the_starter_set_covers_the_cases_users_meet() -> None:
    orders = [document["order"] for document in DOCUMENTS.values()]
    currencies = {order["currency"] for order in orders}
    assert {"USD", "JPY", "KWD"} <= currencies
    assert any(order.get("customer") is None for order in orders), "a guest checkout"
    assert any(order["refunds"] for order in orders), "an earlier partial refund"
    kinds = {t["kind"] for document in DOCUMENTS.values() for t in document["transactions"]}
    assert {"sale", "authorization", "capture"} <= kinds
    assert any(
        {t["gateway"] for t in document["transactions"] if t["kind"] == "sale"} >= {"gift_card", "shopify_payments"}
        for document in DOCUMENTS.values()
    ), "a gift card and a card on one order"
    methods = {app["allocation_method"] for order in orders for app in order["discount_applications"]}
    assert {"across", "each"} <= methods
    shipping_taxed = [
        bool(line["tax_lines"]) for order in orders for line in order["shipping_lines"] if line["price"] != "0.00"
    ]
    assert True in shipping_taxed and False in shipping_taxed


# -- multi-currency fixtures: payments in the customer's currency ---------------------------------


def _multi_currency_fixtures() -> list[dict[str, Any]]:
    documents = [
        json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((FIXTURES_DIR / "shopify" / "orders").glob("*.json"))
    ]
    return [d for d in documents if d["order"]["presentment_currency"] != d["order"]["currency"]]


def test_the_committed_set_has_a_jpy_shop_with_kwd_customers_paying_in_kwd() -> None:
    found = _multi_currency_fixtures()
    assert any((d["order"]["currency"], d["order"]["presentment_currency"]) == ("JPY", "KWD") for d in found)
    for document in found:
        order = document["order"]
        assert {t["currency"] for t in document["transactions"]} == {order["presentment_currency"]}
        paid = sum(
            (Decimal(t["amount"]) for t in document["transactions"] if t["kind"] in ("sale", "capture")), Decimal(0)
        )
        assert paid == Decimal(order["total_price_set"]["presentment_money"]["amount"])


def test_consistency_refuses_shop_currency_payments_on_a_multi_currency_order() -> None:
    """What the committed set held before: a KWD customer's payment recorded in JPY."""
    document = copy.deepcopy(_multi_currency_fixtures()[0])
    order = document["order"]
    sale = next(t for t in document["transactions"] if t["kind"] in ("sale", "capture"))
    sale["currency"] = order["currency"]
    sale["amount"] = order["total_price"]
    found = dict(problems(document))
    index = document["transactions"].index(sale)
    assert found[f"$.transactions[{index}].currency"] == (
        f"should be {order['presentment_currency']}, the order's presentment currency"
    )
    assert "$.transactions" in found  # the payments no longer add up to the presentment total


def test_consistency_checks_presentment_totals_against_their_parts() -> None:
    document = copy.deepcopy(_multi_currency_fixtures()[0])
    money = document["order"]["total_line_items_price_set"]["presentment_money"]
    money["amount"] = str(Decimal(money["amount"]) + 1)
    found = dict(problems(document))
    assert "(presentment money)" in found["$.order.total_line_items_price"]
