"""Multi-currency orders over HTTP: a JPY shop whose customer paid in KWD (and the reverse).

Shopify refunds such an order in the customer's (presentment) currency: `refund.currency` must be
the presentment currency (the docs' caution: "For multi-currency orders, the currency property is
required whenever the amount property is provided"; the mock asks for it always, see the spec's
x-mock-note), calculate's figures are the order's own presentment figures, and every `*_set` of a
created refund carries both monies. The expected figures below are worked by hand from the order's
own presentment and shop figures; the rule for shop money (a cumulative share of the matching
shop-money figure) is the one the spec's x-mock-note describes.
"""

from __future__ import annotations

import copy
import itertools
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shopify_orders import multi_currency_orders
from shopify_support import BASE, TOKEN_HEADERS, load_order

ORDER_ID = 830_000_001
LINE_ID = 8300001
SALE_ID = 8300011
ORDER_IDS = itertools.count(830_000_100)


def pair(shop: str, presentment: str, shop_currency: str = "JPY", presentment_currency: str = "KWD") -> dict:
    return {
        "shop_money": {"amount": shop, "currency_code": shop_currency},
        "presentment_money": {"amount": presentment, "currency_code": presentment_currency},
    }


def jpy_shop_kwd_customer(order_id: int = ORDER_ID) -> dict[str, Any]:
    """Two units at 3500 JPY / 7.233 KWD, 10 % tax, 890 JPY / 1.839 KWD of taxed shipping, paid in KWD."""
    return {
        "order": {
            "id": order_id,
            "name": "#9001",
            "created_at": "2023-04-01T23:34:42+09:00",
            "currency": "JPY",
            "presentment_currency": "KWD",
            "taxes_included": False,
            "financial_status": "paid",
            "location_id": None,
            "total_price": "8679",
            "total_price_set": pair("8679", "17.936"),
            "current_total_price": "8679",
            "current_total_price_set": pair("8679", "17.936"),
            "current_total_tax": "789",
            "current_total_tax_set": pair("789", "1.631"),
            "current_subtotal_price": "7000",
            "current_subtotal_price_set": pair("7000", "14.466"),
            "discount_applications": [],
            "line_items": [
                {
                    "id": LINE_ID,
                    "title": "Hot sauce trio",
                    "quantity": 2,
                    "price": "3500",
                    "price_set": pair("3500", "7.233"),
                    "fulfillable_quantity": 2,
                    "fulfillment_status": None,
                    "discount_allocations": [],
                    "tax_lines": [{"title": "Tax", "rate": 0.1, "price": "700", "price_set": pair("700", "1.447")}],
                }
            ],
            "shipping_lines": [
                {
                    "id": 8300009,
                    "title": "Express",
                    "price": "890",
                    "price_set": pair("890", "1.839"),
                    "discount_allocations": [],
                    "tax_lines": [{"title": "Tax", "rate": 0.1, "price": "89", "price_set": pair("89", "0.184")}],
                }
            ],
            "fulfillments": [],
            "refunds": [],
        },
        "transactions": [
            {
                "id": SALE_ID,
                "order_id": order_id,
                "kind": "sale",
                "status": "success",
                "amount": "17.936",
                "currency": "KWD",
                "gateway": "shopify_payments",
                "parent_id": None,
                "created_at": "2023-04-01T23:34:44+09:00",
            }
        ],
        "shop": {"primary_location_id": 61410001},
    }


@pytest.fixture
def client(shopify_app: Flask) -> FlaskClient:
    load_order(shopify_app, jpy_shop_kwd_customer())
    return shopify_app.test_client()


def post(client: FlaskClient, path: str, refund: dict[str, Any], order_id: int = ORDER_ID) -> Any:
    return client.post(f"{BASE}/orders/{order_id}/{path}", json={"refund": refund}, headers=TOKEN_HEADERS)


ONE_UNIT_AND_SHIPPING = {
    "shipping": {"full_refund": True},
    "refund_line_items": [{"line_item_id": LINE_ID, "quantity": 1, "restock_type": "no_restock"}],
}


@pytest.mark.parametrize(
    ("currency", "message"),
    [
        (None, "is required for a multi-currency order (its presentment currency KWD)"),
        ("JPY", "JPY is not the order's presentment currency (KWD)"),
        ("USD", "USD is not the order's presentment currency (KWD)"),
    ],
)
@pytest.mark.parametrize("path", ["refunds/calculate.json", "refunds.json"])
def test_a_multi_currency_refund_names_the_presentment_currency(
    client: FlaskClient, path: str, currency: str | None, message: str
) -> None:
    """No currency, the shop currency or a third one: 422 naming `currency`, and nothing changes."""
    refund: dict[str, Any] = dict(ONE_UNIT_AND_SHIPPING)
    if currency is not None:
        refund["currency"] = currency
    if path == "refunds.json":
        refund["transactions"] = [{"parent_id": SALE_ID, "amount": "9.980", "kind": "refund"}]
    answer = post(client, path, refund)
    assert answer.status_code == 422
    assert answer.get_json() == {"errors": {"currency": [message]}}
    refunds = client.get(f"{BASE}/orders/{ORDER_ID}/refunds.json", headers=TOKEN_HEADERS).get_json()
    assert refunds == {"refunds": []}


def test_calculate_answers_in_the_orders_own_presentment_figures(client: FlaskClient) -> None:
    """One unit (7.233 KWD, half of the line's 1.447 KWD tax: 0.7235 -> 0.724) and all shipping."""
    answer = post(client, "refunds/calculate.json", {"currency": "KWD", **ONE_UNIT_AND_SHIPPING})
    assert answer.status_code == 200
    refund = answer.get_json()["refund"]
    assert refund["currency"] == "KWD"
    assert refund["shipping"] == {"amount": "1.839", "tax": "0.184", "maximum_refundable": "1.839"}
    (line,) = refund["refund_line_items"]
    assert (line["price"], line["subtotal"], line["total_tax"]) == ("7.233", "7.233", "0.724")
    assert (line["discounted_price"], line["discounted_total_price"]) == ("7.233", "7.233")
    (suggested,) = refund["transactions"]
    # 7.233 + 0.724 + 1.839 + 0.184 = 9.980 KWD of the 17.936 KWD sale
    assert (suggested["amount"], suggested["currency"], suggested["maximum_refundable"]) == ("9.980", "KWD", "17.936")
    assert refund["total_duties_set"] == pair("0", "0.000")


def _create_quoted(client: FlaskClient, request: dict[str, Any], order_id: int = ORDER_ID) -> dict[str, Any]:
    """Calculate, then send the answer back with the transactions' kind changed to `refund`."""
    calculated = post(client, "refunds/calculate.json", request, order_id)
    assert calculated.status_code == 200, calculated.get_json()
    refund = calculated.get_json()["refund"]
    for transaction in refund["transactions"]:
        transaction["kind"] = "refund"
    created = post(client, "refunds.json", refund, order_id)
    assert created.status_code == 201, created.get_json()
    return created.get_json()["refund"]


def test_a_created_refund_carries_both_monies_and_no_discrepancy(client: FlaskClient) -> None:
    refund = _create_quoted(client, {"currency": "KWD", **ONE_UNIT_AND_SHIPPING})
    (line,) = refund["refund_line_items"]
    # shop money: half the line's 7000 JPY and 700 JPY of tax
    assert line["subtotal_set"] == pair("3500", "7.233")
    assert line["total_tax_set"] == pair("350", "0.724")
    assert (line["subtotal"], line["total_tax"]) == (3500, 350)  # plain fields are shop money
    adjustments = refund["order_adjustments"]
    assert [adjustment["kind"] for adjustment in adjustments] == ["shipping_refund"]  # no refund_discrepancy
    assert adjustments[0]["amount_set"] == pair("-890", "-1.839")
    assert adjustments[0]["tax_amount_set"] == pair("-89", "-0.184")
    assert (adjustments[0]["amount"], adjustments[0]["tax_amount"]) == ("-890", "-89")
    (transaction,) = refund["transactions"]
    assert (transaction["amount"], transaction["currency"]) == ("9.980", "KWD")
    order = client.get(f"{BASE}/orders/{ORDER_ID}.json", headers=TOKEN_HEADERS).get_json()["order"]
    # 8679 - (3500 + 350 + 890 + 89) = 3850 JPY; 17.936 - 9.980 = 7.956 KWD
    assert order["current_total_price"] == "3850"
    assert order["current_total_price_set"] == pair("3850", "7.956")
    assert order["current_total_tax_set"] == pair(str(789 - 350 - 89), "0.723")  # 1.631 - 0.724 - 0.184
    assert order["current_subtotal_price_set"] == pair("3500", "7.233")


def test_the_units_shop_money_adds_up_to_the_line(client: FlaskClient) -> None:
    """The second unit takes what the first left: 700 - 350 = 350 JPY and 1.447 - 0.724 = 0.723 KWD of tax."""
    _create_quoted(client, {"currency": "KWD", **ONE_UNIT_AND_SHIPPING})
    second = _create_quoted(
        client, {"currency": "KWD", "refund_line_items": [{"line_item_id": LINE_ID, "quantity": 1}]}
    )
    (line,) = second["refund_line_items"]
    assert line["subtotal_set"] == pair("3500", "7.233")
    assert line["total_tax_set"] == pair("350", "0.723")


def test_in_shop_currency_shows_transactions_in_shop_money(client: FlaskClient) -> None:
    """The refund's 9.980 KWD of the 17.936 KWD sale is 8679 × 9.980 / 17.936 = 4829.2 -> 4829 JPY."""
    refund = _create_quoted(client, {"currency": "KWD", **ONE_UNIT_AND_SHIPPING})
    url = f"{BASE}/orders/{ORDER_ID}"
    listed = client.get(f"{url}/refunds.json?in_shop_currency=true", headers=TOKEN_HEADERS).get_json()
    (transaction,) = listed["refunds"][0]["transactions"]
    assert (transaction["amount"], transaction["currency"]) == ("4829", "JPY")
    shown = client.get(f"{url}/refunds/{refund['id']}.json?in_shop_currency=true", headers=TOKEN_HEADERS)
    assert shown.get_json()["refund"]["transactions"][0]["amount"] == "4829"
    default = client.get(f"{url}/refunds.json", headers=TOKEN_HEADERS).get_json()
    assert default["refunds"][0]["transactions"][0]["amount"] == "9.980"
    transactions = client.get(f"{url}/transactions.json?in_shop_currency=true", headers=TOKEN_HEADERS).get_json()
    assert [(t["amount"], t["currency"]) for t in transactions["transactions"]] == [("8679", "JPY"), ("4829", "JPY")]


def test_refunding_everything_returns_the_shop_money_taken(client: FlaskClient) -> None:
    """Two refunds of the whole sale show, in shop money, exactly the 8679 JPY it took."""
    _create_quoted(client, {"currency": "KWD", **ONE_UNIT_AND_SHIPPING})
    _create_quoted(client, {"currency": "KWD", "refund_line_items": [{"line_item_id": LINE_ID, "quantity": 1}]})
    url = f"{BASE}/orders/{ORDER_ID}/transactions.json?in_shop_currency=true"
    transactions = client.get(url, headers=TOKEN_HEADERS).get_json()["transactions"]
    refunded = [Decimal(t["amount"]) for t in transactions if t["kind"] == "refund"]
    assert sum(refunded) == Decimal(8679)


def test_the_reverse_a_kwd_shop_with_a_jpy_customer(shopify_app: Flask) -> None:
    """The same order with the currencies swapped: 7233 JPY of a 17936 JPY sale in a KWD shop."""
    document = copy.deepcopy(jpy_shop_kwd_customer(next(ORDER_IDS)))

    def swapped(node: Any) -> Any:
        if isinstance(node, dict):
            money = node.get("shop_money"), node.get("presentment_money")
            if all(isinstance(part, dict) for part in money):
                shop, shown = money
                return {
                    "shop_money": {"amount": shown["amount"], "currency_code": "KWD"},
                    "presentment_money": {"amount": shop["amount"], "currency_code": "JPY"},
                }
            return {key: swapped(value) for key, value in node.items()}
        if isinstance(node, list):
            return [swapped(item) for item in node]
        return node

    document = swapped(document)
    order = document["order"]
    order["currency"], order["presentment_currency"] = "KWD", "JPY"
    for key in ("total_price", "current_total_price", "current_total_tax", "current_subtotal_price"):
        order[key] = order[f"{key}_set"]["shop_money"]["amount"]
    for line in [*order["line_items"], *order["shipping_lines"]]:
        line["price"] = line["price_set"]["shop_money"]["amount"]
        for tax in line["tax_lines"]:
            tax["price"] = tax["price_set"]["shop_money"]["amount"]
    document["transactions"][0].update(amount="8679", currency="JPY")
    order_id = load_order(shopify_app, document)
    client = shopify_app.test_client()
    calculated = post(client, "refunds/calculate.json", {"currency": "JPY", **ONE_UNIT_AND_SHIPPING}, order_id)
    refund = calculated.get_json()["refund"]
    # 3500 + 350 + 890 + 89 = 4829 JPY
    assert refund["transactions"][0]["amount"] == "4829"
    created = _create_quoted(client, {"currency": "JPY", **ONE_UNIT_AND_SHIPPING}, order_id)
    line = created["refund_line_items"][0]
    assert line["subtotal_set"] == pair("7.233", "3500", "KWD", "JPY")
    assert line["total_tax_set"] == pair("0.724", "350", "KWD", "JPY")  # half of 1.447 KWD, rounded half up


# -- properties: both monies add up, for a JPY shop with KWD customers and the reverse -------------


def _side(money_set: dict[str, Any], side: str) -> Decimal:
    return Decimal(money_set[side]["amount"])


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), currencies=st.sampled_from([("JPY", "KWD"), ("KWD", "JPY"), ("USD", "EUR"), ("EUR", "JPY")]))
def test_refunding_every_unit_in_any_grouping_returns_each_line_in_both_monies(
    shopify_app: Flask, data: st.DataObject, currencies: tuple[str, str]
) -> None:
    """Shop and presentment money of a line's refunds add up exactly to the line, however its units are grouped."""
    shop, presentment = currencies
    document = data.draw(multi_currency_orders(shop, presentment, order_id=next(ORDER_IDS)))
    order_id = load_order(shopify_app, document)
    client = shopify_app.test_client()
    order = document["order"]
    left = {line["id"]: line["quantity"] for line in order["line_items"]}
    while any(left.values()):
        line_id = data.draw(st.sampled_from([key for key, units in left.items() if units]))
        quantity = data.draw(st.integers(1, left[line_id]))
        left[line_id] -= quantity
        request = {
            "currency": presentment,
            "shipping": {"full_refund": data.draw(st.booleans())},
            "refund_line_items": [{"line_item_id": line_id, "quantity": quantity}],
        }
        _create_quoted(client, request, order_id)
    stored = client.get(f"{BASE}/orders/{order_id}.json", headers=TOKEN_HEADERS).get_json()["order"]
    refund_lines = [line for refund in stored["refunds"] for line in refund["refund_line_items"]]
    for line in order["line_items"]:
        mine = [item for item in refund_lines if item["line_item_id"] == line["id"]]
        for side, code in (("shop_money", shop), ("presentment_money", presentment)):
            net = _side(line["price_set"], side) * line["quantity"] - sum(
                (_side(allocation["amount_set"], side) for allocation in line["discount_allocations"]), Decimal(0)
            )
            tax = sum((_side(tax_line["price_set"], side) for tax_line in line["tax_lines"]), Decimal(0))
            assert sum((_side(item["subtotal_set"], side) for item in mine), Decimal(0)) == net
            assert sum((_side(item["total_tax_set"], side) for item in mine), Decimal(0)) == tax
            assert {item["subtotal_set"][side]["currency_code"] for item in mine} == {code}
    shipping = [
        a for refund in stored["refunds"] for a in refund["order_adjustments"] if a["kind"] == "shipping_refund"
    ]
    assert len(shipping) <= 1
    for adjustment in shipping:
        (line,) = order["shipping_lines"]
        assert -_side(adjustment["amount_set"], "shop_money") == _side(line["price_set"], "shop_money")
        assert -_side(adjustment["amount_set"], "presentment_money") == _side(line["price_set"], "presentment_money")
    # every refund lowered the current subtotal in both monies: nothing of the lines is left
    for side in ("shop_money", "presentment_money"):
        assert _side(stored["current_subtotal_price_set"], side) == 0
