"""The BigCommerce GET endpoints serve the fixture orders, with store-hash pinning and list filters."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import FIXTURES_DIR

TOKEN = {"X-Auth-Token": "any-token"}
STORE = "abc123"
PINNED_STORE = "k3x9rt2m0q"  # order 101 is pinned to it
ORDERS_DIR = FIXTURES_DIR / "bigcommerce" / "orders"


def fixture(order_id: int) -> dict[str, Any]:
    return json.loads((ORDERS_DIR / f"{order_id}.json").read_text(encoding="utf-8"))


def get(reader: FlaskClient, path: str, **query: Any) -> Any:
    return reader.get(path, headers=TOKEN, query_string=query)


def test_v2_order_is_served_bare_with_four_decimal_string_money(reader: FlaskClient) -> None:
    response = get(reader, f"/stores/{STORE}/v2/orders/100")
    assert response.status_code == 200
    order = response.get_json()
    expected = fixture(100)["order"]
    assert "data" not in order
    assert order["id"] == 100
    assert order["total_inc_tax"] == expected["total_inc_tax"] == "105.5600"
    assert order["customer_id"] == expected["customer_id"]
    for money_field in ("subtotal_ex_tax", "total_tax", "refunded_amount", "discount_amount"):
        assert isinstance(order[money_field], str) and len(order[money_field].split(".")[1]) == 4


def test_v2_order_links_point_at_the_mock(reader: FlaskClient) -> None:
    order = get(reader, f"/stores/{STORE}/v2/orders/100").get_json()
    assert order["products"]["url"] == f"http://localhost/stores/{STORE}/v2/orders/100/products"
    assert order["shipping_addresses"]["resource"] == "/orders/100/shipping_addresses"
    follow = reader.get(order["products"]["url"].removeprefix("http://localhost"), headers=TOKEN)
    assert follow.status_code == 200


def test_v2_products_and_shipping_addresses_are_served(reader: FlaskClient) -> None:
    products = get(reader, f"/stores/{STORE}/v2/orders/100/products").get_json()
    assert products == fixture(100)["products"]
    addresses = get(reader, f"/stores/{STORE}/v2/orders/100/shipping_addresses").get_json()
    assert [address["id"] for address in addresses] == [301]
    assert {product["order_address_id"] for product in products} == {301}


def test_v2_products_page_and_limit(reader: FlaskClient) -> None:
    first = get(reader, f"/stores/{STORE}/v2/orders/100/products", limit=1).get_json()
    second = get(reader, f"/stores/{STORE}/v2/orders/100/products", limit=1, page=2).get_json()
    beyond = get(reader, f"/stores/{STORE}/v2/orders/100/products", limit=1, page=3).get_json()
    assert [p["id"] for p in first] == [201]
    assert [p["id"] for p in second] == [202]
    assert beyond == []


def test_v2_limit_above_the_ceiling_is_422_in_the_v2_shape(reader: FlaskClient) -> None:
    response = get(reader, f"/stores/{STORE}/v2/orders/100/products", limit=251)
    assert response.status_code == 422
    body = response.get_json()
    assert isinstance(body, list) and body[0]["status"] == 422
    assert "limit" in body[0]["message"]


def test_v3_transactions_are_wrapped_in_data_with_number_money(reader: FlaskClient) -> None:
    response = get(reader, f"/stores/{STORE}/v3/orders/102/transactions")
    assert response.status_code == 200
    body = response.get_json()
    assert [t["gateway"] for t in body["data"]] == ["storecredit", "bankdeposit"]
    assert sum(Decimal(str(t["amount"])) for t in body["data"]) == Decimal("125.08")
    assert all(isinstance(t["amount"], int | float) for t in body["data"])
    assert body["meta"]["pagination"]["total"] == 2


@pytest.mark.parametrize(
    "path",
    [
        "/stores/{store}/v2/orders/101",
        "/stores/{store}/v2/orders/101/products",
        "/stores/{store}/v3/orders/101/transactions",
        "/stores/{store}/v3/orders/101/payment_actions/refunds",
        "/stores/{store}/v3/orders/payment_actions/refunds/9001",
    ],
)
def test_a_pinned_order_is_served_only_under_its_store_hash(reader: FlaskClient, path: str) -> None:
    assert get(reader, path.format(store=PINNED_STORE)).status_code == 200
    other = get(reader, path.format(store=STORE))
    assert other.status_code == 404
    body = other.get_json()
    if "/v2/" in path:
        assert body == [{"status": 404, "message": "The requested resource was not found."}]
    else:
        assert body["status"] == 404 and body["title"] == "The requested resource was not found."


def test_unpinned_orders_are_served_under_any_store_hash(reader: FlaskClient) -> None:
    for store in ("abc123", "zz9", "store0001"):
        assert get(reader, f"/stores/{store}/v2/orders/100").get_json()["id"] == 100


def test_order_refunds_list_the_fixture_refund(reader: FlaskClient) -> None:
    body = get(reader, f"/stores/{PINNED_STORE}/v3/orders/101/payment_actions/refunds").get_json()
    assert body["data"] == fixture(101)["refunds"]
    assert body["data"][0]["total_amount"] == 12.84
    by_transaction = get(
        reader, f"/stores/{PINNED_STORE}/v3/orders/101/payment_actions/refunds", transaction_id="5003"
    ).get_json()
    assert [refund["id"] for refund in by_transaction["data"]] == [9001]
    none = get(reader, f"/stores/{PINNED_STORE}/v3/orders/101/payment_actions/refunds", transaction_id="1").get_json()
    assert none["data"] == []


def test_an_order_without_refunds_lists_none(reader: FlaskClient) -> None:
    body = get(reader, f"/stores/{STORE}/v3/orders/100/payment_actions/refunds").get_json()
    assert body == {"data": [], "meta": {}}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, [9001]),
        ({"order_id:in": "101,102"}, [9001]),
        ({"order_id:in": "100"}, []),
        ({"id:in": "9001"}, [9001]),
        ({"id:in": "1,2"}, []),
        ({"created:min": "2025-02-14T16:03:27+00:00"}, [9001]),
        ({"created:min": "2025-02-14T17:03:28+01:00"}, []),
        ({"created:max": "2025-02-14T17:03:27+01:00"}, [9001]),
        ({"created:max": "2025-02-14T16:03:26Z"}, []),
        ({"transaction_id": "5003"}, [9001]),
        ({"transaction_id": "4001"}, []),
    ],
)
def test_all_refunds_filters(reader: FlaskClient, query: dict[str, str], expected: list[int]) -> None:
    body = get(reader, f"/stores/{PINNED_STORE}/v3/orders/payment_actions/refunds", **query).get_json()
    assert [refund["id"] for refund in body["data"]] == expected
    assert body["meta"]["pagination"]["total"] == len(expected)


def test_all_refunds_hide_orders_pinned_to_another_store(reader: FlaskClient) -> None:
    body = get(reader, f"/stores/{STORE}/v3/orders/payment_actions/refunds").get_json()
    assert body["data"] == []


def test_all_refunds_rejects_a_malformed_date_naming_it(reader: FlaskClient) -> None:
    response = get(reader, f"/stores/{STORE}/v3/orders/payment_actions/refunds", **{"created:min": "yesterday"})
    assert response.status_code == 422
    assert "created:min" in response.get_json()["errors"]


def test_single_refund_uses_bigcommerces_refund_id_get_variant(reader: FlaskClient) -> None:
    body = get(reader, f"/stores/{PINNED_STORE}/v3/orders/payment_actions/refunds/9001").get_json()
    refund = body["data"]
    assert refund["id"] == 9001 and refund["order_id"] == 101
    assert refund["items"][0]["requested_amount"] is None  # quantity-bound: null, as documented
    assert "transaction_id" not in refund["payments"][0]
    assert refund["total_amount"] == 12.84


@pytest.mark.parametrize(
    "path",
    [
        "/stores/abc123/v3/orders/payment_actions/refunds/424242",
        "/stores/abc123/v3/orders/424242/payment_actions/refunds",
        "/stores/abc123/v3/orders/424242/transactions",
    ],
)
def test_unknown_order_or_refund_is_404_naming_it(reader: FlaskClient, path: str) -> None:
    response = get(reader, path)
    assert response.status_code == 404
    body = response.get_json()
    assert body["status"] == 404
    assert "424242" in json.dumps(body["errors"])
