"""`GET /orders.json`: Shopify's order list, its filters and its cursor pages.

Expected behaviour from Shopify's REST Admin 2020-10 Order resource ("Retrieves a list of
orders"): `ids` ("a comma-separated list of order IDs"), `limit` (default 50, maximum 250),
`since_id` ("Show orders after the specified ID"), `created_at_min`/`created_at_max`
("Show orders created at or after/before date"), `status` (open, closed, cancelled, any;
default open), `financial_status` (... `unpaid`: "Show authorized and partially paid
orders", `any`: default), `fields`; and its 2019-10 pagination ("links that are provided in
the response header", `page_info`, only `limit` and `fields` beside it). Orders: the starter
fixtures 3012450010101-105 (all open; 101 partially refunded, the others paid), plus a closed
and a closed-and-cancelled copy loaded through the admin API.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import FIXTURES_DIR

ORDERS = "/admin/api/2020-10/orders.json"
TOKEN = {"X-Shopify-Access-Token": "shpat_lists"}
LINK = re.compile(r'<([^>]+)>; rel="(next|previous)"')
OPEN = [3012450010105, 3012450010104, 3012450010103, 3012450010102, 3012450010101]  # newest first
CLOSED, CANCELLED = 3012450010902, 3012450010903


def fixture(order_id: int) -> dict[str, Any]:
    return json.loads((FIXTURES_DIR / "shopify" / "orders" / f"{order_id}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def lister(starter_fixtures_dir: Any) -> Any:
    from mockserver.admin import ADMIN_API
    from mockserver.app import MockConfig, create_app, server_of
    from mockserver.shopify import PLATFORM

    app: Flask = create_app(
        MockConfig(fixtures_dir=starter_fixtures_dir, strict_responses=True), apis=[PLATFORM, ADMIN_API]
    )
    client = app.test_client()
    for order_id, created, cancelled in (
        (CLOSED, "2020-11-07T09:00:00-05:00", None),
        (CANCELLED, "2020-11-08T09:00:00-05:00", "2020-11-09T09:00:00-05:00"),
    ):
        document = copy.deepcopy(fixture(3012450010102))
        document["order"].update(id=order_id, created_at=created, closed_at="2020-11-09T10:00:00-05:00")
        document["order"]["cancelled_at"] = cancelled
        document["order"]["name"] = f"#{order_id}"
        assert client.post("/__mock/shopify/orders", json=document).status_code == 201
    yield client
    server_of(app).store.close()


def listed(client: FlaskClient, **query: Any) -> list[int]:
    response = client.get(ORDERS, headers=TOKEN, query_string=query)
    assert response.status_code == 200, response.get_json()
    return [order["id"] for order in response.get_json()["orders"]]


def links(response: Any) -> dict[str, str]:
    found = {}
    for url, relation in LINK.findall(response.headers.get("Link", "")):
        parts = urlsplit(url)
        found[relation] = f"{parts.path}?{parts.query}"
    return found


def test_open_orders_newest_first_each_as_the_order_read(lister: FlaskClient) -> None:
    orders = lister.get(ORDERS, headers=TOKEN).get_json()["orders"]
    assert [order["id"] for order in orders] == OPEN
    for order in orders:
        assert order == lister.get(f"/admin/api/2020-10/orders/{order['id']}.json", headers=TOKEN).get_json()["order"]


def test_status_filter(lister: FlaskClient) -> None:
    assert listed(lister, status="open") == OPEN
    assert listed(lister, status="closed") == [CANCELLED, CLOSED]
    assert listed(lister, status="cancelled") == [CANCELLED]
    assert listed(lister, status="any") == [*OPEN[:2], CANCELLED, CLOSED, *OPEN[2:]]


def test_financial_status_filter(lister: FlaskClient) -> None:
    assert listed(lister, financial_status="partially_refunded") == [3012450010101]
    assert listed(lister, financial_status="paid") == OPEN[:4]
    assert listed(lister, financial_status="unpaid") == []
    assert listed(lister, financial_status="any") == OPEN


def test_created_at_bounds_are_inclusive_instants(lister: FlaskClient) -> None:
    # 3012450010103 was created at 2020-11-06T08:05:33-08:00, i.e. 16:05:33 UTC
    assert listed(lister, created_at_min="2020-11-06T08:05:33-08:00") == OPEN[:3]
    assert listed(lister, created_at_min="2020-11-06T16:05:34Z") == OPEN[:2]
    assert listed(lister, created_at_max="2020-11-05T18:40:51-05:00") == OPEN[3:]
    assert listed(lister, created_at_min="2020-11-05", created_at_max="2020-11-07") == OPEN[2:4]


def test_since_id_lists_by_id_upwards(lister: FlaskClient) -> None:
    assert listed(lister, since_id=3012450010102) == [3012450010103, 3012450010104, 3012450010105]
    assert listed(lister, since_id=3012450010102, status="any") == [
        3012450010103,
        3012450010104,
        3012450010105,
        CLOSED,
        CANCELLED,
    ]


def test_ids_and_fields(lister: FlaskClient) -> None:
    assert listed(lister, ids=f"3012450010101,{CLOSED},3012450010105") == [3012450010105, 3012450010101]
    assert listed(lister, ids=f"3012450010101,{CLOSED}", status="any") == [CLOSED, 3012450010101]
    body = lister.get(ORDERS, headers=TOKEN, query_string={"fields": "id,financial_status", "limit": 1}).get_json()
    assert body == {"orders": [{"id": 3012450010105, "financial_status": "paid"}]}


def test_cursor_pages_to_the_end_and_back_keeping_the_filters(lister: FlaskClient) -> None:
    response = lister.get(ORDERS, headers=TOKEN, query_string={"status": "any", "limit": 3})
    pages = [[order["id"] for order in response.get_json()["orders"]]]
    assert set(links(response)) == {"next"}
    while "next" in links(response):
        response = lister.get(links(response)["next"], headers=TOKEN)
        assert response.status_code == 200, response.get_json()
        pages.append([order["id"] for order in response.get_json()["orders"]])
    assert pages == [[OPEN[0], OPEN[1], CANCELLED], [CLOSED, OPEN[2], OPEN[3]], [OPEN[4]]]
    assert set(links(response)) == {"previous"}
    back = lister.get(links(response)["previous"], headers=TOKEN)
    assert [order["id"] for order in back.get_json()["orders"]] == pages[1]


def test_page_info_refuses_other_filters_and_page_is_refused(lister: FlaskClient) -> None:
    first = lister.get(ORDERS, headers=TOKEN, query_string={"limit": 2})
    cursor = links(first)["next"]
    refused = lister.get(f"{cursor}&status=any", headers=TOKEN)
    assert refused.status_code == 400
    assert refused.get_json()["errors"]["status"].startswith("status cannot be passed when page_info is present.")
    page = lister.get(ORDERS, headers=TOKEN, query_string={"page": 2})
    assert page.status_code == 400 and page.get_json() == {"errors": {"page": "page cannot be passed."}}
    foreign = lister.get(ORDERS, headers=TOKEN, query_string={"page_info": "bm90LWEtY3Vyc29y"})
    assert foreign.status_code == 400 and foreign.get_json() == {"errors": {"page_info": "Invalid value."}}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("status", "archived"),
        ("financial_status", "owing"),
        ("limit", "251"),
        ("since_id", "x"),
        ("created_at_min", "yesterday"),
        ("created_at_max", "2020-13-01"),
        ("ids", "1,two"),
    ],
)
def test_a_bad_parameter_is_a_422_naming_it(lister: FlaskClient, name: str, value: str) -> None:
    response = lister.get(ORDERS, headers=TOKEN, query_string={name: value})
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert list(errors) == [name] and isinstance(errors[name], list) and errors[name][0]
