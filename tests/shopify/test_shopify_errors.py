"""Shopify's own error shapes for every failure class, as the pipeline sends them."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from shopify_support import BASE, TOKEN_HEADERS, fixture_documents

from mockserver.platform import Violation
from mockserver.shopify import exceptions
from mockserver.shopify.exceptions import ShopifyErrors, shopify_field

ORDER_ID = sorted(fixture_documents())[0]
CALCULATE = f"{BASE}/orders/{ORDER_ID}/refunds/calculate.json"
CREATE = f"{BASE}/orders/{ORDER_ID}/refunds.json"
MISSING_ROOT = {"errors": {"refund": "Required parameter missing or invalid"}}


@pytest.mark.parametrize("url", [CALCULATE, CREATE])
@pytest.mark.parametrize(
    "body", [{"shipping": {"full_refund": True}}, [], "refund", 3, {"refund": None}, {"refund": []}]
)
def test_body_without_the_root_object_is_400(shopify_client: FlaskClient, url: str, body: object) -> None:
    response = shopify_client.post(url, json=body, headers=TOKEN_HEADERS)
    assert response.status_code == 400
    assert response.get_json() == MISSING_ROOT


@pytest.mark.parametrize(
    ("raw", "reason"),
    [(b"{not json", "not valid JSON"), (b"\xff\xfe{}", "not UTF-8"), (b"", "empty")],
)
def test_undecodable_body_is_400_naming_the_reason(shopify_client: FlaskClient, raw: bytes, reason: str) -> None:
    response = shopify_client.post(CREATE, data=raw, headers={**TOKEN_HEADERS, "Content-Type": "application/json"})
    assert response.status_code == 400
    errors = response.get_json()["errors"]
    assert list(errors) == ["refund"]
    assert errors["refund"].startswith("Required parameter missing or invalid")
    assert reason in errors["refund"]


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        ({"refund_line_items": [{"line_item_id": 1, "quantity": "two"}]}, "refund_line_items.quantity", "integer"),
        (
            {"refund_line_items": [{"line_item_id": 1, "quantity": 1}, {"quantity": 1}]},
            "refund_line_items.line_item_id",
            "required",
        ),
        (
            {"refund_line_items": [{"line_item_id": 1, "quantity": 1, "restock_type": "legacy_restock"}]},
            "refund_line_items.restock_type",
            "no_restock",
        ),
        ({"shipping": {"amount": "five"}}, "shipping.amount", "pattern"),
        ({"currency": "usd"}, "currency", "pattern"),
        ({"refund_line_item": []}, "refund_line_item", "not a recognised field"),
    ],
)
def test_schema_violation_is_422_naming_the_field_shopify_style(
    shopify_client: FlaskClient, body: dict[str, object], field: str, reason: str
) -> None:
    response = shopify_client.post(CALCULATE, json={"refund": body}, headers=TOKEN_HEADERS)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert field in errors, errors
    assert isinstance(errors[field], list) and all(isinstance(message, str) for message in errors[field])
    assert reason in " ".join(errors[field])


def test_create_refuses_a_suggested_refund_kind(shopify_client: FlaskClient) -> None:
    transaction = {"parent_id": 1, "amount": "1.00", "kind": "suggested_refund"}
    response = shopify_client.post(CREATE, json={"refund": {"transactions": [transaction]}}, headers=TOKEN_HEADERS)
    assert response.status_code == 422
    assert "transactions.kind" in response.get_json()["errors"]


def test_bad_query_parameter_is_422(shopify_client: FlaskClient) -> None:
    response = shopify_client.get(f"{BASE}/orders/{ORDER_ID}/refunds.json?limit=251", headers=TOKEN_HEADERS)
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["limit"]


@pytest.mark.parametrize("headers", [{}, {"X-Shopify-Access-Token": ""}, {"Authorization": "Bearer x"}])
def test_missing_token_is_401(shopify_client: FlaskClient, headers: dict[str, str]) -> None:
    response = shopify_client.get(f"{BASE}/orders/{ORDER_ID}.json", headers=headers)
    assert response.status_code == 401
    assert response.get_json() == {
        "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
    }


def test_unknown_token_is_401_when_tokens_are_configured(make_shopify_app: Callable[..., Flask]) -> None:
    client = make_shopify_app(tokens={"tok": ["read_orders"]}).test_client()
    response = client.get(f"{BASE}/orders/{ORDER_ID}.json", headers={"X-Shopify-Access-Token": "other"})
    assert response.status_code == 401


def test_read_only_token_reads_but_cannot_refund(make_shopify_app: Callable[..., Flask]) -> None:
    client = make_shopify_app(tokens={"tok": ["read_orders"]}).test_client()
    headers = {"X-Shopify-Access-Token": "tok"}
    assert client.get(f"{BASE}/orders/{ORDER_ID}.json", headers=headers).status_code == 200
    for url in (CALCULATE, CREATE):
        response = client.post(url, json={"refund": {}}, headers=headers)
        assert response.status_code == 403
        assert response.get_json() == {"errors": "[API] This action requires merchant approval for write_orders scope."}


def test_write_scope_implies_read(make_shopify_app: Callable[..., Flask]) -> None:
    client = make_shopify_app(tokens={"writer": ["write_orders"], "nobody": []}).test_client()
    assert (
        client.get(f"{BASE}/orders/{ORDER_ID}/refunds.json", headers={"X-Shopify-Access-Token": "writer"}).status_code
        == 200
    )
    response = client.get(f"{BASE}/orders/{ORDER_ID}/refunds.json", headers={"X-Shopify-Access-Token": "nobody"})
    assert response.status_code == 403
    assert "read_orders" in response.get_json()["errors"]


def test_wrong_method_is_405_with_allow(shopify_client: FlaskClient) -> None:
    response = shopify_client.put(CALCULATE, json={"refund": {}}, headers=TOKEN_HEADERS)
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert "POST" in response.get_json()["errors"]


def test_wrong_content_type_is_415(shopify_client: FlaskClient) -> None:
    response = shopify_client.post(
        CALCULATE, data=json.dumps({"refund": {}}), headers={**TOKEN_HEADERS, "Content-Type": "text/plain"}
    )
    assert response.status_code == 415
    assert "application/json" in response.get_json()["errors"]


def test_body_over_one_mebibyte_is_413(shopify_client: FlaskClient) -> None:
    body = json.dumps({"refund": {"note": "x" * (1 << 20)}})
    response = shopify_client.post(CREATE, data=body, headers={**TOKEN_HEADERS, "Content-Type": "application/json"})
    assert response.status_code == 413
    assert isinstance(response.get_json()["errors"], str)


def test_field_paths_drop_the_root_key_and_indexes() -> None:
    assert shopify_field(Violation("body", "refund.refund_line_items.3.quantity", "x")) == "refund_line_items.quantity"
    assert shopify_field(Violation("body", "refund.transactions.0", "x")) == "transactions"
    assert shopify_field(Violation("query", "limit", "x")) == "limit"


def test_several_violations_are_grouped_by_field() -> None:
    error = ShopifyErrors().invalid_request(
        "/x",
        [
            Violation("body", "refund.refund_line_items.0.quantity", "must be an integer"),
            Violation("body", "refund.refund_line_items.1.quantity", "must be greater than or equal to 1"),
            Violation("body", "refund.refund_line_items.2.quantity", "must be an integer"),
        ],
    )
    assert (error.status, error.body) == (
        422,
        {"errors": {"refund_line_items.quantity": ["must be an integer", "must be greater than or equal to 1"]}},
    )


@pytest.mark.parametrize(
    ("error", "status", "body"),
    [
        (
            exceptions.MoreThanPurchased(),
            422,
            {"refund_line_items.quantity": ["cannot refund more items than were purchased"]},
        ),
        (
            exceptions.MoreThanFulfillable(),
            422,
            {"refund_line_items": ["cannot remove more than the fulfillable quantity."]},
        ),
        (
            exceptions.MoreThanRefundableQuantity(),
            422,
            {"refund_line_items": ["cannot refund more than refundable quantity"]},
        ),
        (exceptions.ParentNotOnOrder(), 422, {"transactions": ["require a parent_id associated with the order"]}),
        (exceptions.UnexpectedError(), 500, "An unexpected error occurred"),
        (exceptions.NotFound(), 404, "Not Found"),
    ],
)
def test_documented_errors_have_their_exact_bodies(error: exceptions.ShopifyError, status: int, body: object) -> None:
    assert (error.status, error.body) == (status, {"errors": body})


def test_documented_messages_merge_as_shopify_sends_them() -> None:
    merged = exceptions.Unprocessable.merge([exceptions.MoreThanRefundableQuantity(), exceptions.MoreThanFulfillable()])
    assert merged.body == {
        "errors": {
            "refund_line_items": [
                "cannot refund more than refundable quantity",
                "cannot remove more than the fulfillable quantity.",
            ]
        }
    }


def test_throttle_carries_retry_after() -> None:
    error = exceptions.Throttled()
    assert error.status == 429
    assert error.headers == {"Retry-After": "2.0"}
    assert error.body == {
        "errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."
    }
