"""BigCommerce's own error shapes for every failure the pipeline detects, on V3 and V2 paths."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from mockserver.app import MockConfig, create_app, server_of
from mockserver.bigcommerce import PLATFORM
from mockserver.openapi import Spec
from tests.conftest import FIXTURES_DIR, REPO_ROOT

TOKEN = {"X-Auth-Token": "any-token"}
QUOTE = "/stores/abc123/v3/orders/100/payment_actions/refund_quotes"
REFUND = "/stores/abc123/v3/orders/100/payment_actions/refunds"
V2_ORDER = "/stores/abc123/v2/orders/100"
READ_ONLY_TOKENS = {"tok": ["store_v2_orders_read_only"], "transactions-reader": ["store_v2_transactions_read_only"]}
STATUS_PAGE = "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes"


def assert_v3_error(body: Any, status: int, title: str | None = None) -> None:
    assert isinstance(body, dict), body
    assert body["status"] == status
    assert body["type"] == STATUS_PAGE
    assert isinstance(body["title"], str) and body["title"]
    if title is not None:
        assert body["title"] == title


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"\xff\xfe{}", b"", b'{"items": NaN}'],
    ids=["syntax", "not-utf8", "empty", "nan"],
)
def test_malformed_body_is_400_input_is_invalid(reader: FlaskClient, raw: bytes) -> None:
    response = reader.post(QUOTE, data=raw, headers={**TOKEN, "Content-Type": "application/json"})
    assert response.status_code == 400
    body = response.get_json()
    assert_v3_error(body, 400, "Input is invalid.")
    assert body["errors"]["body"]


def test_schema_violation_is_422_naming_the_dotted_field(reader: FlaskClient) -> None:
    body = {"items": [{"item_type": "PRODUCT", "item_id": 201, "quantity": 1}, {"item_type": "PRODUCT", "item_id": 2}]}
    response = reader.post(QUOTE, json=body, headers=TOKEN)
    assert response.status_code == 422
    error = response.get_json()
    assert_v3_error(error, 422, "JSON data is missing or invalid")
    assert error["errors"] == {"items.1.quantity": "is required"}


def test_wrong_type_is_422_naming_field_and_reason(reader: FlaskClient) -> None:
    body = {"items": [{"item_type": "SHIPPING", "item_id": 301, "amount": "ten"}]}
    error = reader.post(QUOTE, json=body, headers=TOKEN).get_json()
    assert error["errors"] == {"items.0.amount": "must be a number"}


def test_create_refund_422_is_wrapped_in_data(reader: FlaskClient) -> None:
    response = reader.post(
        REFUND, json={"items": [{"item_type": "PRODUCT", "item_id": 201, "quantity": 1}]}, headers=TOKEN
    )
    assert response.status_code == 422
    body = response.get_json()
    assert set(body) == {"data"}
    assert_v3_error(body["data"][0], 422, "JSON data is missing or invalid")
    assert body["data"][0]["errors"] == {"payments": "is required"}


def test_missing_token_is_401_with_the_documented_title(reader: FlaskClient) -> None:
    response = reader.post(QUOTE, json={"items": []})
    assert response.status_code == 401
    assert_v3_error(
        response.get_json(),
        401,
        "Unauthorized - the v3 Auth client ID or token in the request are not a valid combination for this store.",
    )


def test_v2_missing_token_is_401_in_the_array_shape(reader: FlaskClient) -> None:
    response = reader.get(V2_ORDER)
    assert response.status_code == 401
    body = response.get_json()
    assert isinstance(body, list) and body[0]["status"] == 401 and body[0]["message"].startswith("Unauthorized")


@pytest.fixture(scope="module")
def read_only_client() -> Iterator[FlaskClient]:
    """A token that may only read orders (V2 and the refund lists), shared by this module."""
    app = create_app(MockConfig(fixtures_dir=FIXTURES_DIR, strict_responses=True, tokens=READ_ONLY_TOKENS))
    yield app.test_client()
    server_of(app).store.close()


def test_read_only_token_cannot_quote_403_naming_the_scope(read_only_client: FlaskClient) -> None:
    response = read_only_client.post(QUOTE, json={"items": []}, headers={"X-Auth-Token": "tok"})
    assert response.status_code == 403
    body = response.get_json()
    assert_v3_error(body, 403, "Unauthorized Access. You do not have permission to make this request.")
    assert "store_v2_orders" in body["errors"]["scope"]


def test_read_only_orders_token_reads_orders_but_not_transactions(read_only_client: FlaskClient) -> None:
    headers = {"X-Auth-Token": "tok"}
    assert read_only_client.get(V2_ORDER, headers=headers).status_code == 200
    assert (
        read_only_client.get("/stores/abc123/v3/orders/100/payment_actions/refunds", headers=headers).status_code == 200
    )
    transactions = read_only_client.get("/stores/abc123/v3/orders/100/transactions", headers=headers)
    assert transactions.status_code == 403
    assert "store_v2_transactions" in json.dumps(transactions.get_json())


def test_v2_forbidden_uses_the_array_shape(read_only_client: FlaskClient) -> None:
    response = read_only_client.get(V2_ORDER, headers={"X-Auth-Token": "transactions-reader"})
    assert response.status_code == 403
    body = response.get_json()
    assert isinstance(body, list) and body[0]["status"] == 403
    assert "store_v2_orders" in body[0]["message"]


def test_unknown_token_is_401_when_tokens_are_configured(read_only_client: FlaskClient) -> None:
    response = read_only_client.get(V2_ORDER, headers={"X-Auth-Token": "nope"})
    assert response.status_code == 401


@pytest.mark.parametrize(
    "path",
    [
        "/stores/abc123/v3/orders/999999/transactions",
        "/stores/abc123/v3/orders/abc/transactions",
        "/stores/ABC!/v3/orders/100/transactions",
    ],
    ids=["unknown-order", "non-numeric-id", "bad-store-hash"],
)
def test_v3_not_found_shape(reader: FlaskClient, path: str) -> None:
    response = reader.get(path, headers=TOKEN)
    assert response.status_code == 404
    assert_v3_error(response.get_json(), 404, "The requested resource was not found.")


@pytest.mark.parametrize("path", ["/stores/abc123/v2/orders/999999", "/stores/abc123/v2/orders/0/products"])
def test_v2_not_found_shape(reader: FlaskClient, path: str) -> None:
    response = reader.get(path, headers=TOKEN)
    assert response.status_code == 404
    assert response.get_json() == [{"status": 404, "message": "The requested resource was not found."}]


def test_unknown_quote_order_is_404(reader: FlaskClient) -> None:
    response = reader.post(
        "/stores/abc123/v3/orders/999999/payment_actions/refund_quotes",
        json={"items": [{"item_type": "PRODUCT", "item_id": 1, "quantity": 1}]},
        headers=TOKEN,
    )
    assert response.status_code == 404
    assert response.get_json()["errors"] == {"order_id": "there is no order 999999 in this store"}


def test_wrong_method_is_405_with_allow(reader: FlaskClient) -> None:
    response = reader.delete(QUOTE, headers=TOKEN)
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert_v3_error(response.get_json(), 405)
    v2 = reader.post(V2_ORDER, headers=TOKEN)
    assert v2.status_code == 405 and v2.get_json()[0]["status"] == 405


def test_wrong_content_type_is_415(reader: FlaskClient) -> None:
    response = reader.post(
        QUOTE, data="items=1", headers={**TOKEN, "Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 415
    body = response.get_json()
    assert_v3_error(body, 415)
    assert "application/x-www-form-urlencoded" in body["errors"]["Content-Type"]


def test_body_over_one_mebibyte_is_413(reader: FlaskClient) -> None:
    raw = json.dumps({"items": [{"item_type": "ORDER", "item_id": 100, "amount": 1, "reason": "x" * (1 << 20)}]})
    response = reader.post(QUOTE, data=raw, headers={**TOKEN, "Content-Type": "application/json"})
    assert response.status_code == 413
    assert_v3_error(response.get_json(), 413)


# -- errors scripted by scenarios ------------------------------------------------------------


def _spec() -> Spec:
    return Spec(REPO_ROOT / "specs" / "bigcommerce-v3.yaml")


SCRIPTED_STATUSES = [400, 401, 403, 404, 413, 415, 422, 429, 500, 501, 503]


@pytest.mark.parametrize("status", SCRIPTED_STATUSES)
def test_scripted_errors_fit_every_operations_declared_response(status: int) -> None:
    for operation in _spec().operations.values():
        error = PLATFORM.errors.scripted(
            operation.path, status, "Scripted", {"items.0.quantity": "why"}, operation.method
        )
        assert operation.response_violations(status, error.body) == [], (operation.operation_id, error.body)


def test_scripted_429_carries_the_stores_rate_limit_headers(client: FlaskClient) -> None:
    """The built-in 429 on a V2 path: the V2 array, and the store's window shown spent.

    BigCommerce's rate-limit page: the four X-Rate-Limit-* headers, clients wait Reset-Ms; no
    Retry-After is sent."""
    headers = {"X-Auth-Token": "t", "X-Mock-Scenario": "bigcommerce-rate-limited"}
    response = client.get("/stores/abc123/v2/orders/100", headers=headers)
    assert response.status_code == 429
    assert response.get_json() == [{"status": 429, "message": "Too Many Requests"}]
    assert response.headers["X-Rate-Limit-Requests-Left"] == "0"
    assert response.headers["X-Rate-Limit-Requests-Quota"] == "150"
    assert response.headers["X-Rate-Limit-Time-Window-Ms"] == "30000"
    assert 0 < int(response.headers["X-Rate-Limit-Time-Reset-Ms"]) <= 30000
    assert "Retry-After" not in response.headers and "X-Retry-After" not in response.headers


def test_scripted_refund_errors_use_the_documented_wrappers() -> None:
    path = "/stores/abc123/v3/orders/42/payment_actions/refunds"
    wrapped = PLATFORM.errors.scripted(path, 422, "Refund amount is greater than remaining amount", None, "POST")
    assert wrapped.body == {
        "data": [{"status": 422, "title": "Refund amount is greater than remaining amount", "type": STATUS_PAGE}]
    }
    failed = PLATFORM.errors.scripted(path, 503, "Tax service gone away", None, "POST")
    assert failed.body == {"data": [{"order_id": 42, "status": 503, "error": "Tax service gone away"}], "meta": {}}
