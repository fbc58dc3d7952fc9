"""The /__mock admin API: health, reset, loading and deleting orders.

One behaviour for reset, as specs/admin.yaml, the README and docs/scenarios.md say: every order
back as it was loaded, from the fixture files or through the admin API; a loaded order stays
until it is deleted (`DELETE /__mock/{platform}/orders/{order_id}`)."""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient

from tests.conftest import FIXTURES_DIR


def test_health_counts_the_loaded_fixture_orders(client: FlaskClient) -> None:
    body = client.get("/__mock/health").get_json()
    assert body["status"] == "ok"
    for platform in ("shopify", "bigcommerce"):
        expected = len(list((FIXTURES_DIR / platform / "orders").glob("*.json")))
        assert body["platforms"][platform]["orders"] == expected
    assert body["fixture_errors"] == []


def test_loading_an_order_serves_it_and_survives_reset(client: FlaskClient) -> None:
    source = sorted((FIXTURES_DIR / "shopify" / "orders").glob("*.json"))[0]
    document = json.loads(source.read_text())
    document["order"]["id"] = 777000111
    response = client.post("/__mock/shopify/orders", json=document)
    assert response.status_code == 201
    assert response.get_json() == {"platform": "shopify", "order_id": 777000111}
    headers = {"X-Shopify-Access-Token": "t"}
    assert client.get("/admin/api/2020-10/orders/777000111.json", headers=headers).status_code == 200
    assert client.post("/__mock/reset").get_json() == {"status": "reset"}
    assert client.get("/admin/api/2020-10/orders/777000111.json", headers=headers).status_code == 200


def test_loading_an_invalid_order_is_422_naming_the_field(client: FlaskClient) -> None:
    source = sorted((FIXTURES_DIR / "bigcommerce" / "orders").glob("*.json"))[0]
    document = json.loads(source.read_text())
    document["order"]["id"] = "not-a-number"
    response = client.post("/__mock/bigcommerce/orders", json=document)
    assert response.status_code == 422
    body = response.get_json()
    assert body["status"] == 422
    assert "order.id" in body["fields"]


def test_unknown_platform_is_404(client: FlaskClient) -> None:
    response = client.post("/__mock/magento/orders", json={})
    assert response.status_code == 404
    assert response.get_json()["status"] == 404


SHOPIFY = {"X-Shopify-Access-Token": "t"}


def shopify_document(order_id: int) -> dict:
    document = json.loads((FIXTURES_DIR / "shopify" / "orders" / "3012450010101.json").read_text())
    document["order"]["id"] = order_id
    return document


def test_reset_brings_a_loaded_order_back_as_loaded_even_over_a_fixture(client: FlaskClient) -> None:
    fixture = json.loads((FIXTURES_DIR / "shopify" / "orders" / "3012450010102.json").read_text())
    fixture["order"]["note"] = "loaded through the admin API"
    assert client.post("/__mock/shopify/orders", json=fixture).status_code == 201
    client.post("/__mock/reset")
    order = client.get("/admin/api/2020-10/orders/3012450010102.json", headers=SHOPIFY).get_json()["order"]
    assert order["note"] == "loaded through the admin API"


def test_deleting_a_loaded_order_stops_serving_it_and_reset_does_not_bring_it_back(client: FlaskClient) -> None:
    document = shopify_document(777000222)
    assert client.post("/__mock/shopify/orders", json=document).status_code == 201
    earlier_refunds = len(document["order"]["refunds"])
    response = client.delete("/__mock/shopify/orders/777000222")
    assert response.status_code == 200
    assert response.get_json() == {"platform": "shopify", "order_id": 777000222, "refunds_removed": earlier_refunds}
    read = client.get("/admin/api/2020-10/orders/777000222.json", headers=SHOPIFY)
    assert read.status_code == 404 and read.get_json() == {"errors": "Not Found"}  # Shopify's 404
    client.post("/__mock/reset")
    assert client.get("/admin/api/2020-10/orders/777000222.json", headers=SHOPIFY).status_code == 404
    health = client.get("/__mock/health").get_json()
    assert health["platforms"]["shopify"]["orders"] == len(list((FIXTURES_DIR / "shopify" / "orders").glob("*.json")))


def test_deleting_an_order_also_drops_it_from_the_cross_order_refund_listing(client: FlaskClient) -> None:
    bigcommerce = {"X-Auth-Token": "t"}
    listing = "/stores/abc123/v3/orders/payment_actions/refunds?order_id:in=5001"
    assert client.get(listing, headers=bigcommerce).get_json()["data"]  # generated order 5001 has an earlier refund
    assert client.delete("/__mock/bigcommerce/orders/5001").status_code == 200
    assert client.get(listing, headers=bigcommerce).get_json()["data"] == []
    assert client.get("/stores/abc123/v2/orders/5001", headers=bigcommerce).status_code == 404


def test_deleting_an_unknown_order_is_404_naming_it(client: FlaskClient) -> None:
    response = client.delete("/__mock/shopify/orders/999000999")
    assert response.status_code == 404
    assert response.get_json() == {"status": 404, "message": "No shopify order 999000999 is loaded"}


@pytest.mark.parametrize("order_id", ["9223372036854775808", "-9223372036854775809", "123456789012345678901234567890"])
def test_deleting_an_order_id_beyond_64_bits_is_404_not_a_500(client: FlaskClient, order_id: str) -> None:
    # No order is ever loaded under an id a signed 64-bit integer cannot hold (the store's ids).
    response = client.delete(f"/__mock/bigcommerce/orders/{order_id}")
    assert response.status_code == 404
    assert response.get_json() == {"status": 404, "message": f"No bigcommerce order {order_id} is loaded"}


def test_the_readme_and_the_docs_describe_the_same_reset(client: FlaskClient) -> None:
    from tests.conftest import REPO_ROOT

    for document in (REPO_ROOT / "README.md", REPO_ROOT / "docs" / "scenarios.md"):
        text = document.read_text(encoding="utf-8")
        assert "DELETE /__mock/{platform}/orders/{order_id}" in text, document
        assert "as it was loaded" in text, document
