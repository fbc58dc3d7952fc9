"""Requests that Schemathesis found crashing the BigCommerce API (500s); each now gets its declared 4xx."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

TOKEN = {"X-Auth-Token": "any-token"}
STORE = "abc123"
LIMIT = 1 << 63  # one past the largest signed 64-bit id: SQLite cannot even look it up
HUGE = 4.942726178589963e307  # a JSON number far beyond any order, as the fuzzer sent it


def v3_errors(response: Any) -> dict[str, Any]:
    body = response.get_json()
    if isinstance(body, dict) and "data" in body:  # createOrderRefund wraps its 422s
        body = body["data"][0]
    assert body["status"] == response.status_code
    return body.get("errors") or {}


@pytest.mark.parametrize(
    "path",
    [
        f"/stores/{STORE}/v2/orders/{LIMIT}",
        f"/stores/{STORE}/v2/orders/{LIMIT}/products",
        f"/stores/{STORE}/v3/orders/{LIMIT}/transactions",
        f"/stores/{STORE}/v3/orders/{LIMIT}/payment_actions/refunds",
        f"/stores/{STORE}/v3/orders/payment_actions/refunds/{LIMIT}",
    ],
)
def test_an_id_beyond_64_bits_names_nothing(reader: FlaskClient, path: str) -> None:
    assert reader.get(path, headers=TOKEN).status_code == 404


@pytest.mark.parametrize("endpoint", ["refund_quotes", "refunds"])
def test_posting_to_an_order_id_beyond_64_bits_is_404(reader: FlaskClient, endpoint: str) -> None:
    body = {"items": [{"item_type": "ORDER", "item_id": 1, "amount": 1}], "payments": []}
    response = reader.post(f"/stores/{STORE}/v3/orders/{LIMIT}/payment_actions/{endpoint}", json=body, headers=TOKEN)
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"order_id:in": str(LIMIT)}, "order_id:in"),
        ({"id:in": str(LIMIT)}, "id:in"),
        ({"id:in": ""}, "id:in"),
        ({"order_id:in": ""}, "order_id:in"),
    ],
)
def test_refund_filters_outside_64_bits_or_empty_are_422(
    reader: FlaskClient, query: dict[str, str], field: str
) -> None:
    response = reader.get(f"/stores/{STORE}/v3/orders/payment_actions/refunds", query_string=query, headers=TOKEN)
    assert response.status_code == 422
    assert any(name.startswith(field) for name in v3_errors(response)), response.get_json()


def test_a_huge_payment_amount_matches_no_refund_method(client: FlaskClient) -> None:
    body = {
        "items": [{"item_type": "ORDER", "item_id": 100, "amount": 1}],
        "payments": [{"provider_id": "storecredit", "amount": HUGE}],
    }
    response = client.post(f"/stores/{STORE}/v3/orders/100/payment_actions/refunds", json=body, headers=TOKEN)
    assert response.status_code == 422
    assert "payments" in v3_errors(response)


@pytest.mark.parametrize("amount", [HUGE, int("9" * 40)])
def test_a_huge_order_level_amount_is_above_what_is_left(client: FlaskClient, amount: float | int) -> None:
    body = {"items": [{"item_type": "ORDER", "item_id": 100, "amount": amount}]}
    response = client.post(f"/stores/{STORE}/v3/orders/100/payment_actions/refund_quotes", json=body, headers=TOKEN)
    assert response.status_code == 422
    assert response.get_json()["title"] == "Refund amount is greater than remaining amount"


def test_a_huge_tax_adjustment_is_not_the_overcharge(client: FlaskClient) -> None:
    body = {"tax_adjustment_amount": int("9" * 40)}
    response = client.post(f"/stores/{STORE}/v3/orders/100/payment_actions/refund_quotes", json=body, headers=TOKEN)
    assert response.status_code == 422
    assert "tax_adjustment_amount" in v3_errors(response)


def test_a_huge_override_total_is_above_what_is_left(client: FlaskClient) -> None:
    body = {
        "items": [{"item_type": "ORDER", "item_id": 100, "amount": 1}],
        "merchant_calculated_override": {"total_amount": HUGE, "total_tax": 0},
        "payments": [{"provider_id": "custom", "amount": HUGE, "offline": True}],
    }
    response = client.post(f"/stores/{STORE}/v3/orders/100/payment_actions/refunds", json=body, headers=TOKEN)
    assert response.status_code == 422
    assert "merchant_calculated_override.total_amount" in v3_errors(response)


def test_an_override_that_gave_back_extra_tax_leaves_no_negative_overcharge(client: FlaskClient) -> None:
    """Seen in a fuzzing run: the 422 asked for a tax adjustment of -10.00, which is then refused as below zero."""
    override = {
        "items": [{"item_type": "ORDER", "item_id": 100, "amount": 10}],
        "merchant_calculated_override": {"total_amount": 10, "total_tax": 10},
        "payments": [{"provider_id": "custom", "amount": 10, "offline": True}],
    }
    made = client.post(f"/stores/{STORE}/v3/orders/100/payment_actions/refunds", json=override, headers=TOKEN)
    assert made.status_code == 201, made.get_json()

    response = client.post(
        f"/stores/{STORE}/v3/orders/100/payment_actions/refund_quotes", json={"tax_adjustment_amount": 1}, headers=TOKEN
    )
    assert response.status_code == 422
    message = v3_errors(response)["tax_adjustment_amount"]
    assert "overcharged on this order (0)" in message and "-" not in message
