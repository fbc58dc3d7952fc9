"""Shopify's documented figures, reproduced from order 450789469 rebuilt from the reference samples."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from shopify_support import BASE, DOCS_ORDER_ID, TOKEN_HEADERS, read_sample

ORDER_URL = f"{BASE}/orders/{DOCS_ORDER_ID}"
LINE_FIELDS = (
    "quantity",
    "line_item_id",
    "price",
    "subtotal",
    "total_tax",
    "discounted_price",
    "discounted_total_price",
    "total_cart_discount_amount",
)
SUGGESTION_FIELDS = ("order_id", "kind", "gateway", "parent_id", "amount", "currency", "maximum_refundable")


def calculate(client: FlaskClient, body: dict[str, Any]) -> Any:
    response = client.post(f"{ORDER_URL}/refunds/calculate.json", json=body, headers=TOKEN_HEADERS)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["refund"]


def test_line_518995019_and_all_shipping(docs_client: FlaskClient, samples_dir: Path) -> None:
    request = read_sample(samples_dir, "calculate-request-2020-10-line-item-and-shipping.json")
    expected = read_sample(samples_dir, "calculate-response-2022docs-line-item-and-shipping.json")["refund"]
    answer = calculate(docs_client, request)
    line = answer["refund_line_items"][0]
    assert (line["subtotal"], line["total_tax"], line["total_cart_discount_amount"]) == ("195.67", "3.98", "3.33")
    assert {k: line[k] for k in LINE_FIELDS} == {k: expected["refund_line_items"][0][k] for k in LINE_FIELDS}
    suggestion = answer["transactions"][0]
    assert (suggestion["parent_id"], suggestion["maximum_refundable"]) == (801038806, "41.94")
    assert [{k: t[k] for k in SUGGESTION_FIELDS} for t in answer["transactions"]] == expected["transactions"]
    assert answer["shipping"] == expected["shipping"]
    assert answer["currency"] == "USD"


def test_same_request_without_currency_echoes_the_order_currency(docs_client: FlaskClient, samples_dir: Path) -> None:
    request = copy.deepcopy(read_sample(samples_dir, "calculate-request-2020-10-line-item-and-shipping.json"))
    del request["refund"]["currency"]
    assert calculate(docs_client, request)["currency"] == "USD"


def test_partial_shipping(docs_client: FlaskClient, samples_dir: Path) -> None:
    expected = read_sample(samples_dir, "calculate-response-2022docs-partial-shipping.json")["refund"]
    answer = calculate(docs_client, {"refund": {"currency": "USD", "shipping": {"amount": 2.0}}})
    assert answer["shipping"] == expected["shipping"]
    assert answer["refund_line_items"] == []
    assert [{k: t[k] for k in SUGGESTION_FIELDS} for t in answer["transactions"]] == expected["transactions"]


def test_calculate_changes_nothing(docs_client: FlaskClient, samples_dir: Path) -> None:
    before = docs_client.get(f"{ORDER_URL}.json", headers=TOKEN_HEADERS).get_json()
    transactions = docs_client.get(f"{ORDER_URL}/transactions.json", headers=TOKEN_HEADERS).get_json()
    for _ in range(2):
        calculate(docs_client, read_sample(samples_dir, "calculate-request-2020-10-line-item-and-shipping.json"))
    assert docs_client.get(f"{ORDER_URL}.json", headers=TOKEN_HEADERS).get_json() == before
    assert docs_client.get(f"{ORDER_URL}/transactions.json", headers=TOKEN_HEADERS).get_json() == transactions


def test_the_documented_create_request(docs_client: FlaskClient, samples_dir: Path) -> None:
    request = read_sample(samples_dir, "create-refund-request-2020-10-line-item-return.json")
    documented = read_sample(samples_dir, "create-refund-response-2022docs-line-item.json")["refund"]
    response = docs_client.post(f"{ORDER_URL}/refunds.json", json=request, headers=TOKEN_HEADERS)
    assert response.status_code == 201, response.get_json()
    refund = response.get_json()["refund"]
    line, documented_line = refund["refund_line_items"][0], documented["refund_line_items"][0]
    for key in ("quantity", "line_item_id", "subtotal", "total_tax", "subtotal_set", "total_tax_set"):
        assert line[key] == documented_line[key], key
    # the line was never fulfilled, so "return" comes back as "no_restock", as the docs show
    assert (line["restock_type"], line["location_id"]) == ("no_restock", None)
    transaction = refund["transactions"][0]
    for key in ("kind", "gateway", "status", "message", "parent_id", "amount", "currency"):
        assert transaction[key] == documented["transactions"][0][key], key
    assert refund["note"] == "wrong size"
    location = response.headers["Location"]
    assert location == f"http://localhost{ORDER_URL}/refunds/{refund['id']}.json"

    shown = docs_client.get(location.removeprefix("http://localhost"), headers=TOKEN_HEADERS)
    assert shown.status_code == 200 and shown.get_json() == {"refund": refund}
    listed = docs_client.get(f"{ORDER_URL}/refunds.json", headers=TOKEN_HEADERS).get_json()["refunds"]
    assert [r["id"] for r in listed] == [509562969, refund["id"]]
    order = docs_client.get(f"{ORDER_URL}.json", headers=TOKEN_HEADERS).get_json()["order"]
    assert order["refunds"][-1] == refund
    assert order["financial_status"] == "refunded"  # 209.00 + 41.94 is all of capture 801038806
    transactions = docs_client.get(f"{ORDER_URL}/transactions.json", headers=TOKEN_HEADERS).get_json()
    assert transactions["transactions"][-1] == transaction

    after = calculate(docs_client, {"refund": {"shipping": {"full_refund": True}}})
    assert after["shipping"] == {"amount": "0.00", "tax": "0.00", "maximum_refundable": "0.00"}
    assert after["transactions"] == []
    again = docs_client.post(
        f"{ORDER_URL}/refunds/calculate.json",
        json={"refund": {"refund_line_items": [{"line_item_id": 518995019, "quantity": 1}]}},
        headers=TOKEN_HEADERS,
    )
    assert again.status_code == 422
    assert again.get_json() == {"errors": {"refund_line_items": ["cannot refund more than refundable quantity"]}}


def test_the_documented_shipping_refund(docs_client: FlaskClient, samples_dir: Path) -> None:
    documented = read_sample(samples_dir, "create-refund-response-2022docs-shipping-only.json")["refund"]
    body = {
        "refund": {
            "currency": "USD",
            "shipping": {"amount": 5},
            "transactions": [{"parent_id": 801038806, "amount": 5, "kind": "refund", "gateway": "bogus"}],
        }
    }
    response = docs_client.post(f"{ORDER_URL}/refunds.json", json=body, headers=TOKEN_HEADERS)
    assert response.status_code == 201, response.get_json()
    refund = response.get_json()["refund"]
    assert refund["refund_line_items"] == []
    assert refund["transactions"][0]["amount"] == "5.00"
    keys = ("amount", "tax_amount", "kind", "reason", "amount_set", "tax_amount_set")
    assert [{k: a[k] for k in keys} for a in refund["order_adjustments"]] == [
        {k: a[k] for k in keys} for a in documented["order_adjustments"]
    ]
    assert refund["order_adjustments"][0]["refund_id"] == refund["id"]
    order = docs_client.get(f"{ORDER_URL}.json", headers=TOKEN_HEADERS).get_json()["order"]
    assert order["financial_status"] == "partially_refunded"


@pytest.mark.parametrize(
    ("line_item_id", "errors"),
    [
        (703073504, {"refund_line_items": ["cannot refund more than refundable quantity"]}),
        (466157049, {"refund_line_items": ["cannot refund more than refundable quantity"]}),
    ],
)
def test_lines_refunded_by_the_documented_refund_cannot_be_refunded_again(
    docs_client: FlaskClient, line_item_id: int, errors: dict[str, list[str]]
) -> None:
    body = {"refund": {"refund_line_items": [{"line_item_id": line_item_id, "quantity": 1}]}}
    response = docs_client.post(f"{ORDER_URL}/refunds/calculate.json", json=body, headers=TOKEN_HEADERS)
    assert response.status_code == 422
    assert response.get_json() == {"errors": errors}
