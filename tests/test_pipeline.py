"""The shared request pipeline, seen from both platforms: every error class in its own shape."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import FIXTURES_DIR


@dataclass(frozen=True)
class PlatformCase:
    name: str
    token_header: str
    order_path: str  # a GET with {id}
    quote_path: str  # a POST with {id}
    valid_quote_body: Any
    invalid_quote_body: Any
    invalid_field: str  # the field the 422 must name

    def first_order_id(self) -> int:
        path = sorted((FIXTURES_DIR / self.name / "orders").glob("*.json"))[0]
        return int(path.stem)

    def headers(self, token: str = "any-token") -> dict[str, str]:
        return {self.token_header: token}


SHOPIFY = PlatformCase(
    name="shopify",
    token_header="X-Shopify-Access-Token",
    order_path="/admin/api/2020-10/orders/{id}.json",
    quote_path="/admin/api/2020-10/orders/{id}/refunds/calculate.json",
    valid_quote_body={"refund": {"shipping": {"full_refund": True}}},
    invalid_quote_body={"refund": {"refund_line_items": [{"line_item_id": 1, "quantity": "two"}]}},
    invalid_field="quantity",
)
BIGCOMMERCE = PlatformCase(
    name="bigcommerce",
    token_header="X-Auth-Token",
    order_path="/stores/abc123/v3/orders/{id}/transactions",
    quote_path="/stores/abc123/v3/orders/{id}/payment_actions/refund_quotes",
    valid_quote_body={"items": [{"item_type": "ORDER", "item_id": 1, "amount": 1}]},
    invalid_quote_body={"items": [{"item_type": "PRODUCT", "item_id": 1, "quantity": "two"}]},
    invalid_field="quantity",
)
PLATFORMS = [pytest.param(SHOPIFY, id="shopify"), pytest.param(BIGCOMMERCE, id="bigcommerce")]


def assert_platform_error(case: PlatformCase, status: int, body: Any, *, v2: bool = False) -> None:
    """The body has the platform's own error shape for `status`."""
    if case.name == "shopify":
        assert isinstance(body, dict) and set(body) == {"errors"}, body
        assert body["errors"], body
    elif v2:
        assert isinstance(body, list) and body, body
        assert body[0]["status"] == status and isinstance(body[0]["message"], str), body
    else:
        assert isinstance(body, dict), body
        inner = body["data"][0] if "data" in body else body
        assert inner["status"] == status and isinstance(inner["title"], str), body


@pytest.mark.parametrize("case", PLATFORMS)
def test_a_fixture_order_is_served(client: FlaskClient, case: PlatformCase) -> None:
    response = client.get(case.order_path.format(id=case.first_order_id()), headers=case.headers())
    assert response.status_code == 200, response.get_json()
    assert response.content_type.startswith("application/json")


@pytest.mark.parametrize("case", PLATFORMS)
def test_unknown_order_is_404_in_platform_shape(client: FlaskClient, case: PlatformCase) -> None:
    response = client.get(case.order_path.format(id=987654321987), headers=case.headers())
    assert response.status_code == 404
    assert_platform_error(case, 404, response.get_json())


@pytest.mark.parametrize("case", PLATFORMS)
def test_non_numeric_order_id_is_404(client: FlaskClient, case: PlatformCase) -> None:
    response = client.get(case.order_path.format(id="abc"), headers=case.headers())
    assert response.status_code == 404
    assert_platform_error(case, 404, response.get_json())


@pytest.mark.parametrize("case", PLATFORMS)
def test_unknown_path_under_the_platform_is_404_in_its_shape(client: FlaskClient, case: PlatformCase) -> None:
    prefix = "/admin/api/2020-10" if case.name == "shopify" else "/stores/abc123/v3"
    response = client.get(f"{prefix}/no/such/thing", headers=case.headers())
    assert response.status_code == 404
    assert_platform_error(case, 404, response.get_json())


@pytest.mark.parametrize("case", PLATFORMS)
def test_wrong_method_is_405_with_allow(client: FlaskClient, case: PlatformCase) -> None:
    response = client.delete(case.quote_path.format(id=case.first_order_id()), headers=case.headers())
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert_platform_error(case, 405, response.get_json())


@pytest.mark.parametrize("case", PLATFORMS)
def test_missing_token_is_401(client: FlaskClient, case: PlatformCase) -> None:
    response = client.get(case.order_path.format(id=case.first_order_id()))
    assert response.status_code == 401
    assert_platform_error(case, 401, response.get_json())


@pytest.mark.parametrize("case", PLATFORMS)
def test_unknown_token_is_401_when_tokens_are_configured(make_app: Any, case: PlatformCase) -> None:
    client = make_app(tokens={"known": ["read_orders", "store_v2_orders"]}).test_client()
    response = client.get(case.order_path.format(id=case.first_order_id()), headers=case.headers("stranger"))
    assert response.status_code == 401
    assert_platform_error(case, 401, response.get_json())


@pytest.mark.parametrize("case", PLATFORMS)
def test_token_without_the_scope_is_403_naming_it(make_app: Any, case: PlatformCase) -> None:
    client = make_app(tokens={"reader": ["read_orders", "store_v2_orders_read_only"]}).test_client()
    response = client.post(
        case.quote_path.format(id=case.first_order_id()), json=case.valid_quote_body, headers=case.headers("reader")
    )
    assert response.status_code == 403
    body = response.get_json()
    assert_platform_error(case, 403, body)
    needed = "write_orders" if case.name == "shopify" else "store_v2_orders"
    assert needed in json.dumps(body)


@pytest.mark.parametrize("case", PLATFORMS)
def test_wrong_content_type_is_415(client: FlaskClient, case: PlatformCase) -> None:
    response = client.post(
        case.quote_path.format(id=case.first_order_id()),
        data=json.dumps(case.valid_quote_body),
        headers={**case.headers(), "Content-Type": "text/plain"},
    )
    assert response.status_code == 415
    assert_platform_error(case, 415, response.get_json())


@pytest.mark.parametrize("case", PLATFORMS)
def test_body_over_one_mebibyte_is_413(client: FlaskClient, case: PlatformCase) -> None:
    padding = " " * (1 << 20)
    response = client.post(
        case.quote_path.format(id=case.first_order_id()),
        data=json.dumps(case.valid_quote_body) + padding,
        headers={**case.headers(), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert_platform_error(case, 413, response.get_json())


@pytest.mark.parametrize("case", PLATFORMS)
@pytest.mark.parametrize(
    "raw",
    [b"{not json", b'{"refund": NaN}', b"\xff\xfe{}", b"", b"[1e999]"],
    ids=["syntax", "nan", "not-utf8", "empty", "infinite"],
)
def test_undecodable_body_is_400_never_500(client: FlaskClient, case: PlatformCase, raw: bytes) -> None:
    response = client.post(
        case.quote_path.format(id=case.first_order_id()),
        data=raw,
        headers={**case.headers(), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert_platform_error(case, 400, response.get_json())


@pytest.mark.parametrize("case", PLATFORMS)
def test_schema_violation_is_422_naming_the_field(client: FlaskClient, case: PlatformCase) -> None:
    response = client.post(
        case.quote_path.format(id=case.first_order_id()), json=case.invalid_quote_body, headers=case.headers()
    )
    assert response.status_code == 422
    body = response.get_json()
    assert_platform_error(case, 422, body)
    assert case.invalid_field in json.dumps(body)


def test_shopify_body_without_root_key_is_400(client: FlaskClient) -> None:
    response = client.post(
        SHOPIFY.quote_path.format(id=SHOPIFY.first_order_id()), json={"shipping": {}}, headers=SHOPIFY.headers()
    )
    assert response.status_code == 400
    assert response.get_json() == {"errors": {"refund": "Required parameter missing or invalid"}}


def test_bigcommerce_v2_errors_use_the_array_shape(client: FlaskClient) -> None:
    response = client.get("/stores/abc123/v2/orders/987654321", headers=BIGCOMMERCE.headers())
    assert response.status_code == 404
    assert_platform_error(BIGCOMMERCE, 404, response.get_json(), v2=True)


def test_rejected_request_changes_nothing(client: FlaskClient) -> None:
    """A refused refund leaves the order exactly as it was."""
    order_id = SHOPIFY.first_order_id()
    before = client.get(SHOPIFY.order_path.format(id=order_id), headers=SHOPIFY.headers()).get_json()
    client.post(
        f"/admin/api/2020-10/orders/{order_id}/refunds.json",
        json={"refund": {"refund_line_items": [{"line_item_id": 1, "quantity": -1}]}},
        headers=SHOPIFY.headers(),
    )
    after = client.get(SHOPIFY.order_path.format(id=order_id), headers=SHOPIFY.headers()).get_json()
    assert after == before


@pytest.mark.parametrize("case", PLATFORMS)
def test_a_defect_inside_the_mock_is_a_500_in_the_platform_shape_never_a_404(
    case: PlatformCase, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Were a handler to fail, the client must see a server error (which it retries or reports),
    not a 404 that says the order does not exist. Both specs declare the 500 (Shopify's words:
    "An unexpected error occurred"); the journal records it like any answer."""
    from mockserver.app import server_of

    server = server_of(app)
    platform = server.apis[case.name]
    operation_id = next(
        operation.operation_id
        for template, operations in server.specs[case.name].paths.items()
        if template.endswith(case.quote_path.split("{id}")[1])
        for operation in operations.values()
    )

    def broken(context: Any) -> Any:
        raise RuntimeError("a defect")

    monkeypatch.setitem(platform.handlers, operation_id, broken)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # as served, not as a test re-raises
    client = app.test_client()
    path = case.quote_path.format(id=case.first_order_id())
    response = client.post(path, json=case.valid_quote_body, headers=case.headers())
    assert response.status_code == 500, response.get_data(as_text=True)
    assert_platform_error(case, 500, response.get_json())
    journal = client.get("/__mock/requests").get_json()
    assert any(entry["path"] == path and entry["status"] == 500 for entry in _entries(journal)), journal


def _entries(journal: Any) -> list[dict[str, Any]]:
    return journal["requests"] if isinstance(journal, dict) else journal
