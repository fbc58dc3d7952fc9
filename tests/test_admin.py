"""The /__mock admin API: health, reset, loading orders."""

from __future__ import annotations

import json

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
