"""Requests that Schemathesis found crashing the Shopify API (500s); each now gets its declared 4xx."""

from __future__ import annotations

from decimal import Decimal

import pytest
from flask.testing import FlaskClient
from shopify_support import BASE, TOKEN_HEADERS, fixture_documents

INT64_MAX = 2**63 - 1
ORDER_ID = 3012450010101  # USD, a sale 4210000001 of 205.68 with 13.42 refunded
SALE = 4210000001
LIMIT = 1 << 63  # one past the largest signed 64-bit id: SQLite cannot even look it up


def test_the_order_under_test_is_a_starter_fixture() -> None:
    assert ORDER_ID in fixture_documents()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/orders/{LIMIT}.json"),
        ("GET", f"/orders/{LIMIT}/transactions.json"),
        ("GET", f"/orders/{LIMIT}/refunds.json"),
        ("GET", f"/orders/{ORDER_ID}/refunds/{LIMIT}.json"),
        ("POST", f"/orders/{LIMIT}/refunds/calculate.json"),
        ("POST", f"/orders/{LIMIT}/refunds.json"),
    ],
)
def test_an_id_beyond_64_bits_names_nothing(shopify_client: FlaskClient, method: str, path: str) -> None:
    response = shopify_client.open(BASE + path, method=method, json={"refund": {}}, headers=TOKEN_HEADERS)
    assert response.status_code == 404
    assert response.get_json() == {"errors": "Not Found"}


def test_the_largest_64_bit_id_is_a_valid_unknown_order(shopify_client: FlaskClient) -> None:
    response = shopify_client.get(f"{BASE}/orders/{INT64_MAX}.json", headers=TOKEN_HEADERS)
    assert response.status_code == 404


@pytest.mark.parametrize("amount", [1e26, "1" + "0" * 40, 4.9e307])
def test_a_huge_shipping_amount_is_above_the_refundable_shipping(
    shopify_client: FlaskClient, amount: float | str
) -> None:
    for endpoint in ("refunds/calculate.json", "refunds.json"):
        response = shopify_client.post(
            f"{BASE}/orders/{ORDER_ID}/{endpoint}",
            json={"refund": {"currency": "USD", "shipping": {"amount": amount}}},
            headers=TOKEN_HEADERS,
        )
        assert response.status_code == 422, response.get_json()
        assert list(response.get_json()["errors"]) == ["shipping.amount"]


def test_a_huge_transaction_amount_is_above_the_parent_s_room(shopify_client: FlaskClient) -> None:
    response = shopify_client.post(
        f"{BASE}/orders/{ORDER_ID}/refunds.json",
        json={"refund": {"transactions": [{"parent_id": SALE, "amount": "9" * 40, "kind": "refund"}]}},
        headers=TOKEN_HEADERS,
    )
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["errors"]["transactions"] == [
        f"amount cannot be greater than the refundable amount of parent {SALE} (192.26)"
    ]


@pytest.mark.parametrize(("amount", "refused"), [("1.001", True), ("1.0010", True), ("1.000", False), ("1.10", False)])
def test_decimal_places_are_read_from_the_digits(shopify_client: FlaskClient, amount: str, refused: bool) -> None:
    response = shopify_client.post(
        f"{BASE}/orders/{ORDER_ID}/refunds/calculate.json",
        json={"refund": {"currency": "USD", "shipping": {"amount": amount}}},
        headers=TOKEN_HEADERS,
    )
    errors = (response.get_json() or {}).get("errors", {})
    too_many = "has more decimal places than USD allows (2)"
    assert (too_many in str(errors)) is refused, errors


def test_a_fixture_order_id_beyond_64_bits_is_refused_when_loaded(shopify_client: FlaskClient) -> None:
    document = fixture_documents()[ORDER_ID]
    document["order"]["id"] = LIMIT
    response = shopify_client.post("/__mock/shopify/orders", json=document)
    assert response.status_code == 422
    assert "order.id" in response.get_json()["fields"]


def test_calculate_s_answer_sent_back_with_refund_kinds_is_accepted(shopify_client: FlaskClient) -> None:
    """What an SDK sends when it saves the calculated Refund: every read-only field included."""
    order_id, line = 3012450010102, 10020000001
    calculated = shopify_client.post(
        f"{BASE}/orders/{order_id}/refunds/calculate.json",
        json={
            "refund": {"shipping": {"full_refund": True}, "refund_line_items": [{"line_item_id": line, "quantity": 1}]}
        },
        headers=TOKEN_HEADERS,
    ).get_json()["refund"]
    assert {"duties", "total_duties_set"} <= set(calculated) and {"tax", "maximum_refundable"} <= set(
        calculated["shipping"]
    )
    sent_back = {**calculated, "transactions": [{**t, "kind": "refund"} for t in calculated["transactions"]]}
    response = shopify_client.post(
        f"{BASE}/orders/{order_id}/refunds.json", json={"refund": sent_back}, headers=TOKEN_HEADERS
    )
    assert response.status_code == 201, response.get_json()
    created = response.get_json()["refund"]
    assert [(item["line_item_id"], item["quantity"]) for item in created["refund_line_items"]] == [(line, 1)]
    refunded = sum(Decimal(t["amount"]) for t in created["transactions"])
    assert refunded == sum(Decimal(t["amount"]) for t in calculated["transactions"]) > 0
