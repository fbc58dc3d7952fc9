"""Calculate then create, always: calculate's answer, sent back with `kind: refund`, is a 201.

Shopify documents that calculate "returns a suitable location ID" for `return` and `cancel` lines
that name none, and that its suggested transactions "must be changed to kind refund for the
refund to be accepted". Also here: the deprecated `restock: true` (the docs' refund 509562969 of
order 450789469 shows `restock: true` with `legacy_restock` lines at location 487838322), and the
ids of a created refund's objects (each its own, as on the platform).
"""

from __future__ import annotations

import copy
import itertools
import json
from decimal import Decimal
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from shopify_orders import multi_currency_orders, orders
from shopify_support import BASE, DOCS_ORDER_ID, FIXTURES_DIR, TOKEN_HEADERS, load_order

from mockserver.generation import GeneratorSettings
from mockserver.shopify.generator import generate_order
from mockserver.shopify.models import DEFAULT_LOCATION_ID

ORDER_IDS = itertools.count(840_000_001)
ZERO = Decimal(0)


def post(client: FlaskClient, order_id: int, path: str, refund: dict[str, Any]) -> Any:
    return client.post(f"{BASE}/orders/{order_id}/{path}", json={"refund": refund}, headers=TOKEN_HEADERS)


def as_create(calculated: dict[str, Any]) -> dict[str, Any]:
    """Calculate's answer as a create request: only the transactions' `kind` changes."""
    refund = copy.deepcopy(calculated["refund"])
    for transaction in refund["transactions"]:
        transaction["kind"] = "refund"
    return refund


def unfulfilled_order(order_id: int, shop: dict[str, Any] | None) -> dict[str, Any]:
    """A USD order nobody shipped yet, with no location on the order: only the shop can name one."""
    document: dict[str, Any] = {
        "order": {
            "id": order_id,
            "currency": "USD",
            "presentment_currency": "USD",
            "financial_status": "paid",
            "location_id": None,
            "total_price": "20.00",
            "line_items": [
                {"id": 7001, "quantity": 2, "price": "10.00", "fulfillable_quantity": 2, "fulfillment_status": None}
            ],
            "shipping_lines": [],
            "fulfillments": [],
            "refunds": [],
        },
        "transactions": [
            {
                "id": 7011,
                "order_id": order_id,
                "kind": "sale",
                "status": "success",
                "amount": "20.00",
                "currency": "USD",
                "gateway": "bogus",
            }
        ],
    }
    if shop is not None:
        document["shop"] = shop
    return document


def cancel(quantity: int) -> dict[str, Any]:
    return {"line_item_id": 7001, "quantity": quantity, "restock_type": "cancel"}


def test_calculate_suggests_the_shops_primary_location_and_create_accepts_the_answer(shopify_app: Flask) -> None:
    order_id = load_order(shopify_app, unfulfilled_order(next(ORDER_IDS), {"primary_location_id": 55501}))
    client = shopify_app.test_client()
    request = {
        "currency": "USD",
        "refund_line_items": [{"line_item_id": 7001, "quantity": 1, "restock_type": "cancel"}],
    }
    calculated = post(client, order_id, "refunds/calculate.json", request)
    assert calculated.get_json()["refund"]["refund_line_items"][0]["location_id"] == 55501
    created = post(client, order_id, "refunds.json", as_create(calculated.get_json()))
    assert created.status_code == 201, created.get_json()
    line = created.get_json()["refund"]["refund_line_items"][0]
    assert (line["restock_type"], line["location_id"]) == ("cancel", 55501)


def test_an_order_without_any_location_still_gets_one(shopify_app: Flask) -> None:
    """A real store's order dropped in without a `shop` block: the mock's default location (spec x-mock-note)."""
    order_id = load_order(shopify_app, unfulfilled_order(next(ORDER_IDS), None))
    client = shopify_app.test_client()
    request = {
        "currency": "USD",
        "refund_line_items": [{"line_item_id": 7001, "quantity": 2, "restock_type": "cancel"}],
    }
    calculated = post(client, order_id, "refunds/calculate.json", request).get_json()
    assert calculated["refund"]["refund_line_items"][0]["location_id"] == DEFAULT_LOCATION_ID
    assert post(client, order_id, "refunds.json", as_create(calculated)).status_code == 201


def test_every_committed_shop_fixture_names_a_default_location(shopify_client: FlaskClient) -> None:

    for path in sorted((FIXTURES_DIR / "shopify" / "orders").glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        assert document.get("shop", {}).get("primary_location_id"), path.name


def test_restock_true_records_legacy_restock(shopify_app: Flask, docs_order_document: dict[str, Any]) -> None:
    """As the docs' refund 509562969: `restock: true`, lines without restock_type -> `legacy_restock`."""
    load_order(shopify_app, docs_order_document)
    client = shopify_app.test_client()
    request = {
        "currency": "USD",
        "restock": True,
        "refund_line_items": [{"line_item_id": 518995019, "quantity": 1, "location_id": 487838322}],
        "transactions": [{"parent_id": 801038806, "amount": "41.94", "kind": "refund", "gateway": "bogus"}],
    }
    created = post(client, DOCS_ORDER_ID, "refunds.json", request)
    assert created.status_code == 201, created.get_json()
    refund = created.get_json()["refund"]
    assert refund["restock"] is True
    assert [(line["restock_type"], line["location_id"]) for line in refund["refund_line_items"]] == [
        ("legacy_restock", 487838322)
    ]
    shown = client.get(f"{BASE}/orders/{DOCS_ORDER_ID}/refunds/{refund['id']}.json", headers=TOKEN_HEADERS)
    assert shown.get_json()["refund"]["refund_line_items"][0]["restock_type"] == "legacy_restock"


def test_restock_false_keeps_the_lines_restock_types(shopify_app: Flask, docs_order_document: dict[str, Any]) -> None:
    load_order(shopify_app, docs_order_document)
    client = shopify_app.test_client()
    request = {
        "currency": "USD",
        "restock": False,
        "refund_line_items": [{"line_item_id": 518995019, "quantity": 1}],
        "transactions": [{"parent_id": 801038806, "amount": "41.94", "kind": "refund"}],
    }
    refund = post(client, DOCS_ORDER_ID, "refunds.json", request).get_json()["refund"]
    assert refund["refund_line_items"][0]["restock_type"] == "no_restock"


def _ids(refund: dict[str, Any]) -> list[int]:
    return [
        refund["id"],
        *(line["id"] for line in refund["refund_line_items"]),
        *(transaction["id"] for transaction in refund["transactions"]),
        *(adjustment["id"] for adjustment in refund["order_adjustments"]),
    ]


def test_each_object_of_a_refund_has_its_own_id_store_wide(shopify_app: Flask) -> None:
    """A refund, its line, its transaction and its adjustments: four kinds, no id shared, none reused."""
    client = shopify_app.test_client()
    seen: list[int] = []
    for _ in range(2):
        order_id = load_order(shopify_app, unfulfilled_order(next(ORDER_IDS), {"primary_location_id": 55501}))
        request = {
            "currency": "USD",
            "refund_line_items": [{"line_item_id": 7001, "quantity": 1, "restock_type": "no_restock"}],
            # 5.00 less than the line's 10.00: a refund_discrepancy adjustment too
            "transactions": [{"parent_id": 7011, "amount": "5.00", "kind": "refund"}],
        }
        refund = post(client, order_id, "refunds.json", request).get_json()["refund"]
        assert [adjustment["kind"] for adjustment in refund["order_adjustments"]] == ["refund_discrepancy"]
        seen += _ids(refund)
    assert len(seen) == len(set(seen)) == 8


# -- the property: calculate's answer always creates, with the quote's money -----------------------


@st.composite
def any_order(draw: st.DrawFn, order_id: int) -> dict[str, Any]:
    """Single-currency orders, JPY shops with KWD customers and the reverse, and generator orders."""
    kind = draw(st.sampled_from(["single", "jpy-kwd", "kwd-jpy", "usd-eur", "generated"]))
    if kind == "single":
        return draw(orders(order_id=order_id))
    if kind == "generated":
        settings_ = GeneratorSettings(seed=draw(st.integers(1, 50)), currencies=("JPY", "KWD", "USD"))
        document = generate_order(settings_, draw(st.integers(1, 200)))
        document["order"]["id"] = order_id
        for transaction in document["transactions"]:
            transaction["order_id"] = order_id
        return document
    shop, presentment = {"jpy-kwd": ("JPY", "KWD"), "kwd-jpy": ("KWD", "JPY"), "usd-eur": ("USD", "EUR")}[kind]
    return draw(multi_currency_orders(shop, presentment, order_id=order_id))


@st.composite
def calculate_requests(draw: st.DrawFn, document: dict[str, Any]) -> dict[str, Any]:
    """What a client asks calculate: some units of some lines, restocked or not, never a location."""
    order = document["order"]
    request: dict[str, Any] = {"currency": order.get("presentment_currency") or order["currency"]}
    lines = order["line_items"]
    request["refund_line_items"] = [
        {
            "line_item_id": line["id"],
            "quantity": draw(st.integers(1, max(1, int(line["quantity"])))),
            "restock_type": draw(st.sampled_from(["no_restock", "cancel", "return"])),
        }
        for line in draw(st.lists(st.sampled_from(lines), max_size=3, unique_by=lambda line: line["id"]))
    ]
    if draw(st.booleans()):
        request["shipping"] = {"full_refund": True}
    return request


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value))


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_calculate_then_create_always_gives_the_quoted_refund(shopify_app: Flask, data: st.DataObject) -> None:
    document = data.draw(any_order(next(ORDER_IDS)))
    order_id = load_order(shopify_app, document)
    client = shopify_app.test_client()
    calculated = post(client, order_id, "refunds/calculate.json", data.draw(calculate_requests(document)))
    assume(calculated.status_code == 200)  # only requests the engine accepts
    quote = calculated.get_json()["refund"]
    money_out = sum((_decimal(t["amount"]) for t in quote["transactions"]), ZERO)
    assume(quote["refund_line_items"] or money_out > 0 or _decimal(quote["shipping"]["amount"]) > 0)

    created = post(client, order_id, "refunds.json", as_create(calculated.get_json()))
    assert created.status_code == 201, created.get_json()
    refund = created.get_json()["refund"]
    currency = quote["currency"]
    for quoted, stored in zip(quote["refund_line_items"], refund["refund_line_items"], strict=True):
        assert (stored["line_item_id"], stored["quantity"]) == (quoted["line_item_id"], quoted["quantity"])
        assert (stored["restock_type"], stored["location_id"]) == (quoted["restock_type"], quoted["location_id"])
        assert stored["subtotal_set"]["presentment_money"] == {"amount": quoted["subtotal"], "currency_code": currency}
        assert stored["total_tax_set"]["presentment_money"] == {
            "amount": quoted["total_tax"],
            "currency_code": currency,
        }
        assert stored["subtotal_set"]["shop_money"]["currency_code"] == document["order"]["currency"]
    paid = [(t["parent_id"], t["amount"], t["currency"]) for t in quote["transactions"] if _decimal(t["amount"]) > 0]
    assert [(t["parent_id"], t["amount"], t["currency"]) for t in refund["transactions"]] == paid
    shipping = [a for a in refund["order_adjustments"] if a["kind"] == "shipping_refund"]
    shipped_back = -sum((_decimal(a["amount_set"]["presentment_money"]["amount"]) for a in shipping), ZERO)
    assert shipped_back == _decimal(quote["shipping"]["amount"])
    taxes_included = bool(document["order"].get("taxes_included"))
    lines = quote["refund_line_items"]
    value = sum((_decimal(line["subtotal"]) for line in lines), ZERO) + _decimal(quote["shipping"]["amount"])
    if not taxes_included:
        value += sum((_decimal(line["total_tax"]) for line in lines), ZERO) + _decimal(quote["shipping"]["tax"])
    discrepancies = [a for a in refund["order_adjustments"] if a["kind"] == "refund_discrepancy"]
    # refunding exactly the quoted value leaves no discrepancy; a capped suggestion leaves the rest as one
    assert (discrepancies == []) == (value == money_out)
