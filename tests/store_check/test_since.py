"""`record --since DATE --limit N` lists orders through each platform's own list endpoint
(Shopify `GET /orders.json` with `status=any`, `created_at_min` and cursor pages in the `Link`
header; BigCommerce `GET /v2/orders` with `min_date_created` and numbered pages), here against
the mock's own order lists (a second refund-mock on loopback over the committed fixtures).

Pages are made small (`PAGE_SIZE`) so that a few fixture orders take several pages."""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime

import pytest
from store_check_support import Store, served_orders

from mockserver.contract import record
from mockserver.contract.http import StoreClient
from mockserver.contract.record import order_ids

SHOPIFY_SINCE = "2023-04-01T15:00:00Z"  # part of the generated orders, none of the starter ones
BIGCOMMERCE_SINCE = "Tue, 08 Aug 2023 15:00:00 +0000"  # part of the generated orders, and the starter ones


def created_since(platform: str, since: datetime) -> list[tuple[datetime, int]]:
    """(creation time, id) of the served orders created at or after `since`, from their fixture files."""
    found = []
    for order_id, document in served_orders(platform).items():
        order = document["order"]
        if platform == "shopify":
            created = datetime.fromisoformat(order["created_at"])
        else:
            created = parsedate_to_datetime(order["date_created"])
        if created >= since:
            found.append((created, order_id))
    return found


def test_shopify_lists_orders_since_the_date_following_the_cursor(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(record, "PAGE_SIZE", 4)
    expected = [
        order_id
        for _, order_id in sorted(created_since("shopify", datetime.fromisoformat(SHOPIFY_SINCE)), reverse=True)
    ]  # newest first
    assert len(expected) > 8  # several pages
    client = StoreClient("shopify", store.url("shopify"), "token")
    assert order_ids(client, SHOPIFY_SINCE, 1000) == expected
    assert order_ids(client, SHOPIFY_SINCE, 6) == expected[:6]
    assert len([entry for entry in store.server.journal.entries() if entry.operation_id == "listOrders"]) > 3


def test_bigcommerce_lists_orders_since_the_date_page_by_page(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(record, "PAGE_SIZE", 4)
    expected = [
        order_id for _, order_id in sorted(created_since("bigcommerce", parsedate_to_datetime(BIGCOMMERCE_SINCE)))
    ]  # sort=date_created:asc
    assert len(expected) > 8
    client = StoreClient("bigcommerce", store.url("bigcommerce"), "token")
    assert order_ids(client, BIGCOMMERCE_SINCE, 1000) == expected
    assert order_ids(client, "2023-08-08T15:00:00Z", 5) == expected[:5]
