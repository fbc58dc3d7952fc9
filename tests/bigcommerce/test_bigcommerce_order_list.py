"""`GET /v2/orders`: BigCommerce's V2 order list, its filters, sort, pages and 204.

Expected behaviour from BigCommerce's `reference/orders.v2.oas2.yml` (getOrders): "The default
sort is by order id, from lowest to highest"; "requests sent without parameters will only return
50 orders"; `min_id`/`max_id`, `status_id`, `min_date_created`/`max_date_created` "in RFC-2822 or
ISO-8601", `sort` "Field and direction ... e.g. `sort=date_created:desc`", `page`, `limit`; an
empty collection answers `204 No Content` (status codes page: "204 no content"). The orders are
the starter fixtures: 100 (status 11, created Mon, 03 Mar 2025 15:12:09), 101 (pinned to store
k3x9rt2m0q, status 14, 11 Feb 2025), 102 (status 11, Thu, 20 Mar 2025 11:05:00), 103 (status 2,
Sat, 05 Apr 2025 19:22:40), 104 (status 9, 16 Apr 2025).
"""

from __future__ import annotations

import json
from typing import Any

from flask.testing import FlaskClient

from tests.conftest import FIXTURES_DIR

TOKEN = {"X-Auth-Token": "any-token"}
STORE = "abc123"
PINNED_STORE = "k3x9rt2m0q"
ORDERS = f"/stores/{STORE}/v2/orders"


def listed(reader: FlaskClient, path: str = ORDERS, **query: Any) -> list[int]:
    response = reader.get(path, headers=TOKEN, query_string=query)
    if response.status_code == 204:
        assert response.data == b""
        return []
    assert response.status_code == 200, response.get_json()
    return [order["id"] for order in response.get_json()]


def test_lists_the_store_orders_by_id_ascending(reader: FlaskClient) -> None:
    assert listed(reader) == [100, 102, 103, 104]  # 101 belongs to another store
    assert listed(reader, f"/stores/{PINNED_STORE}/v2/orders") == [100, 101, 102, 103, 104]


def test_each_listed_order_is_the_v2_order_read(reader: FlaskClient) -> None:
    for order in reader.get(ORDERS, headers=TOKEN).get_json():
        assert order == reader.get(f"{ORDERS}/{order['id']}", headers=TOKEN).get_json()


def test_min_and_max_id_are_inclusive(reader: FlaskClient) -> None:
    assert listed(reader, min_id=102, max_id=103) == [102, 103]
    assert listed(reader, min_id=104) == [104]


def test_status_id_filter(reader: FlaskClient) -> None:
    assert listed(reader, status_id=11) == [100, 102]
    assert listed(reader, status_id=2) == [103]


def test_date_created_bounds_read_rfc2822_and_iso8601(reader: FlaskClient) -> None:
    assert listed(reader, min_date_created="Thu, 20 Mar 2025 11:05:00 +0000") == [102, 103, 104]
    assert listed(reader, max_date_created="2025-04-05T19:22:40+00:00") == [100, 102, 103]
    # the same instant in another offset; a bare date is midnight UTC
    assert listed(reader, min_date_created="2025-03-20T07:05:01.000-04:00") == [103, 104]
    assert listed(reader, min_date_created="2025-03-04", max_date_created="2025-04-06") == [102, 103]


def test_sort_by_field_and_direction(reader: FlaskClient) -> None:
    assert listed(reader, sort="id:desc") == [104, 103, 102, 100]
    assert listed(reader, sort="date_created:desc") == [104, 103, 102, 100]
    assert listed(reader, sort="status_id:asc") == [103, 104, 100, 102]  # 2, 9, 11, 11 (ties by id)
    assert listed(reader, sort="date_created") == [100, 102, 103, 104]


def test_pages_to_the_end_then_204(reader: FlaskClient) -> None:
    pages = [listed(reader, limit=3, page=page) for page in (1, 2, 3)]
    assert pages == [[100, 102, 103], [104], []]
    assert [listed(reader, limit=1, page=page) for page in range(1, 6)] == [[100], [102], [103], [104], []]


def test_no_match_is_204_without_a_body(reader: FlaskClient) -> None:
    response = reader.get(ORDERS, headers=TOKEN, query_string={"status_id": 5})
    assert response.status_code == 204
    assert response.data == b""


def test_refunds_change_what_the_status_filter_sees(client: FlaskClient) -> None:
    assert listed(client, status_id=14) == []
    quote = client.post(
        f"/stores/{STORE}/v3/orders/100/payment_actions/refund_quotes",
        headers=TOKEN,
        json={"items": [{"item_type": "PRODUCT", "item_id": 201, "quantity": 1}]},
    ).get_json()["data"]
    payment = quote["refund_methods"][0][0]
    refund = client.post(
        f"/stores/{STORE}/v3/orders/100/payment_actions/refunds",
        headers=TOKEN,
        json={
            "items": [{"item_type": "PRODUCT", "item_id": 201, "quantity": 1}],
            "payments": [{"provider_id": payment["provider_id"], "amount": payment["amount"], "offline": False}],
        },
    )
    assert refund.status_code == 201, refund.get_json()
    assert listed(client, status_id=14) == [100]  # Partially Refunded
    assert listed(client, status_id=11) == [102]


def test_bad_parameters_answer_in_the_v2_error_shape_naming_them(reader: FlaskClient) -> None:
    for name, value in (
        ("status_id", "shipped"),
        ("sort", "total:desc"),
        ("min_date_created", "yesterday"),
        ("limit", 251),
        ("page", 0),
    ):
        response = reader.get(ORDERS, headers=TOKEN, query_string={name: value})
        assert 400 <= response.status_code < 500, (name, response.status_code)
        body = response.get_json()
        assert isinstance(body, list) and body[0]["status"] == response.status_code, body
        assert name in body[0]["message"], body


def test_archived_orders_are_listed_only_with_is_deleted(client: FlaskClient) -> None:
    fixture = json.loads((FIXTURES_DIR / "bigcommerce" / "orders" / "102.json").read_text(encoding="utf-8"))
    fixture["order"].update(id=190, is_deleted=True)
    assert client.post("/__mock/bigcommerce/orders", json=fixture).status_code == 201
    assert listed(client, min_id=150) == []
    assert listed(client, min_id=150, is_deleted="true") == [190]
