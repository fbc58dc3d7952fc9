"""The GET endpoints serve the fixture documents as Shopify would."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from shopify_support import BASE, DOCS_ORDER_ID, TOKEN_HEADERS, fixture_documents

DOCUMENTS = fixture_documents()
ORDER_IDS = sorted(DOCUMENTS)
WITH_REFUNDS = [order_id for order_id in ORDER_IDS if DOCUMENTS[order_id]["order"]["refunds"]]


def test_the_starter_set_exists() -> None:
    assert len(ORDER_IDS) >= 4
    assert DOCS_ORDER_ID not in ORDER_IDS, "the documented order is built at test time, never committed"
    assert WITH_REFUNDS


@pytest.mark.parametrize("order_id", ORDER_IDS)
def test_get_order_serves_the_fixture(shopify_client: FlaskClient, order_id: int) -> None:
    response = shopify_client.get(f"{BASE}/orders/{order_id}.json", headers=TOKEN_HEADERS)
    assert response.status_code == 200
    assert response.content_type.startswith("application/json")
    assert response.get_json() == {"order": DOCUMENTS[order_id]["order"]}


@pytest.mark.parametrize("order_id", ORDER_IDS)
def test_list_transactions_serves_the_fixture(shopify_client: FlaskClient, order_id: int) -> None:
    response = shopify_client.get(f"{BASE}/orders/{order_id}/transactions.json", headers=TOKEN_HEADERS)
    assert response.status_code == 200
    assert response.get_json() == {"transactions": DOCUMENTS[order_id]["transactions"]}


def test_order_fields_keeps_only_the_named_fields(shopify_client: FlaskClient) -> None:
    order_id = ORDER_IDS[0]
    response = shopify_client.get(
        f"{BASE}/orders/{order_id}.json",
        query_string={"fields": "id, financial_status,nonsense"},
        headers=TOKEN_HEADERS,
    )
    order = DOCUMENTS[order_id]["order"]
    assert response.get_json() == {"order": {"id": order_id, "financial_status": order["financial_status"]}}


def test_transactions_since_id(shopify_client: FlaskClient) -> None:
    order_id = next(o for o in ORDER_IDS if len(DOCUMENTS[o]["transactions"]) > 1)
    first = DOCUMENTS[order_id]["transactions"][0]["id"]
    response = shopify_client.get(
        f"{BASE}/orders/{order_id}/transactions.json", query_string={"since_id": first}, headers=TOKEN_HEADERS
    )
    ids = [transaction["id"] for transaction in response.get_json()["transactions"]]
    assert ids == [t["id"] for t in DOCUMENTS[order_id]["transactions"] if t["id"] > first]
    assert first not in ids


@pytest.mark.parametrize("order_id", WITH_REFUNDS)
def test_list_and_show_refunds(shopify_client: FlaskClient, order_id: int) -> None:
    refunds: list[dict[str, Any]] = DOCUMENTS[order_id]["order"]["refunds"]
    listed = shopify_client.get(f"{BASE}/orders/{order_id}/refunds.json", headers=TOKEN_HEADERS)
    assert listed.status_code == 200
    assert listed.get_json() == {"refunds": refunds}
    for refund in refunds:
        shown = shopify_client.get(f"{BASE}/orders/{order_id}/refunds/{refund['id']}.json", headers=TOKEN_HEADERS)
        assert shown.status_code == 200
        assert shown.get_json() == {"refund": refund}


def test_refund_list_limit_and_fields(docs_client: FlaskClient, docs_order_document: dict[str, Any]) -> None:
    url = f"{BASE}/orders/{DOCS_ORDER_ID}/refunds.json"
    refunds = docs_order_document["order"]["refunds"]
    limited = docs_client.get(url, query_string={"limit": 1, "fields": "id,note"}, headers=TOKEN_HEADERS).get_json()
    assert limited == {"refunds": [{"id": refunds[0]["id"], "note": refunds[0]["note"]}]}


def test_a_refund_of_another_order_is_not_found(shopify_client: FlaskClient) -> None:
    order_id = WITH_REFUNDS[0]
    refund_id = DOCUMENTS[order_id]["order"]["refunds"][0]["id"]
    other = next(o for o in ORDER_IDS if o != order_id)
    response = shopify_client.get(f"{BASE}/orders/{other}/refunds/{refund_id}.json", headers=TOKEN_HEADERS)
    assert response.status_code == 404
    assert response.get_json() == {"errors": "Not Found"}


@pytest.mark.parametrize(
    "path",
    [
        "/orders/999999999.json",
        "/orders/999999999/transactions.json",
        "/orders/999999999/refunds.json",
        "/orders/{order}/refunds/999999999.json",
        "/orders/abc.json",
        "/orders/0.json",
    ],
)
def test_unknown_order_or_refund_is_404(shopify_client: FlaskClient, path: str) -> None:
    response = shopify_client.get(BASE + path.format(order=ORDER_IDS[0]), headers=TOKEN_HEADERS)
    assert response.status_code == 404
    assert response.get_json() == {"errors": "Not Found"}


def test_the_documented_order_is_served_as_loaded(
    docs_client: FlaskClient, docs_order_document: dict[str, Any]
) -> None:
    order = docs_client.get(f"{BASE}/orders/{DOCS_ORDER_ID}.json", headers=TOKEN_HEADERS).get_json()["order"]
    assert order == docs_order_document["order"]
    assert order["shipping_lines"][0]["price"] == "5.00"
