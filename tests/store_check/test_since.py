"""`record --since DATE --limit N` lists orders through each platform's own list endpoint
(Shopify `GET /orders.json` with `status=any`, `created_at_min` and cursor pages in the `Link`
header; BigCommerce `GET /v2/orders` with `min_date_created` and numbered pages), against a
loopback server that plays those two endpoints (the mock serves no order lists)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from mockserver.contract.http import StoreClient
from mockserver.contract.record import order_ids


@pytest.fixture
def listing_store() -> Iterator[tuple[str, list[dict[str, str]]]]:
    asked: list[dict[str, str]] = []

    @Request.application
    def app(request: Request) -> Response:
        asked.append(dict(request.args))
        if request.path == "/admin/api/2020-10/orders.json":
            if request.args.get("page_info") == "next-cursor":
                return Response(json.dumps({"orders": [{"id": 3}]}), content_type="application/json")
            base = f"http://{request.host}/admin/api/2020-10/orders.json"
            link = f'<{base}?limit=2&page_info=next-cursor>; rel="next"'
            return Response(
                json.dumps({"orders": [{"id": 1}, {"id": 2}]}), headers={"Link": link}, content_type="application/json"
            )
        if request.path == "/stores/abc123/v2/orders":
            page = int(request.args["page"])
            ids = range((page - 1) * 250 + 1, page * 250 + 1) if page == 1 else range(251, 256)
            return Response(json.dumps([{"id": number} for number in ids]), content_type="application/json")
        return Response("[]", 404, content_type="application/json")

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", asked
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_shopify_lists_orders_of_any_status_following_the_cursor(
    listing_store: tuple[str, list[dict[str, str]]],
) -> None:
    base, asked = listing_store
    client = StoreClient("shopify", base, "token")
    assert order_ids(client, "2026-11-01T00:00:00Z", 10) == [1, 2, 3]
    assert asked[0] == {
        "status": "any",
        "created_at_min": "2026-11-01T00:00:00Z",
        "fields": "id",
        "limit": "10",
    }
    assert asked[1]["page_info"] == "next-cursor" and "created_at_min" not in asked[1]  # a cursor takes no filters


def test_shopify_stops_at_the_limit(listing_store: tuple[str, list[dict[str, str]]]) -> None:
    base, _ = listing_store
    assert order_ids(StoreClient("shopify", base, "token"), "2026-11-01", 2) == [1, 2]


def test_bigcommerce_pages_until_a_short_page(listing_store: tuple[str, list[dict[str, str]]]) -> None:
    base, asked = listing_store
    ids = order_ids(StoreClient("bigcommerce", f"{base}/stores/abc123", "token"), "2026-11-01", 1000)
    assert ids == list(range(1, 256))
    assert [request["page"] for request in asked] == ["1", "2"]
    assert asked[0]["min_date_created"] == "2026-11-01" and asked[0]["sort"] == "date_created:asc"
