"""The store's order listing: kept with every write, filtered and sorted without reading documents."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from mockserver.store import OrderListing, Store, instant_text


def listed(document: dict[str, Any]) -> OrderListing:
    created = instant_text(datetime.fromisoformat(document["created"]))
    return OrderListing(created, {"state": document["state"]}, archived=document.get("archived", False))


def test_instant_text_orders_as_time_whatever_the_offset() -> None:
    earlier = datetime(2025, 3, 20, 11, 5, tzinfo=timezone(timedelta(hours=9)))  # 02:05 UTC
    later = datetime(2025, 3, 20, 3, 0, tzinfo=UTC)
    assert instant_text(earlier) < instant_text(later)
    assert instant_text(datetime(2025, 3, 20)) == "2025-03-20T00:00:00.000000Z"  # no zone: UTC


def test_filters_sorts_and_follows_changes_resets_and_deletes(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.sqlite3", listing_of={"p": listed})
    for order_id, created, state in (
        (1, "2025-01-03T00:00:00+00:00", "open"),
        (2, "2025-01-01T00:00:00+00:00", "open"),
        (3, "2025-01-02T00:00:00+00:00", "closed"),
    ):
        store.put_order("p", order_id, {"created": created, "state": state}, baseline=True)
    assert store.list_order_ids("p") == [1, 2, 3]
    assert store.list_order_ids("p", order_by=(("created_at", True),)) == [1, 3, 2]
    assert store.list_order_ids("p", facets={"state": ["open"]}) == [1, 2]
    assert store.list_order_ids("p", min_id=2, created_max="2025-01-02T00:00:00.000000Z") == [2, 3]
    assert store.list_order_ids("p", ids=[3, 1, 9]) == [1, 3]
    assert store.list_order_ids("p", order_by=(("id", True),), limit=2, offset=1) == [2, 1]
    store.update_order("p", 2, lambda document, _: document.update(state="closed"))
    assert store.list_order_ids("p", facets={"state": ["closed"]}) == [2, 3]
    store.reset(lambda *_: [])
    assert store.list_order_ids("p", facets={"state": ["closed"]}) == [3]
    store._connection().execute("DELETE FROM orders WHERE order_id = 3")  # as a delete would
    assert store.list_order_ids("p") == [1, 2]
    store.close()


def test_a_state_file_from_before_listings_is_listed_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    Store(path).put_order("p", 5, {"created": "2025-01-01T00:00:00+00:00", "state": "open"})
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT count(*) FROM order_listing").fetchone()[0] == 0
    store = Store(path, listing_of={"p": listed})
    assert store.list_order_ids("p", facets={"state": ["open"]}) == [5]
    store.close()


def test_archived_orders_are_listed_only_when_asked_for(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.sqlite3", listing_of={"p": listed})
    store.put_order("p", 1, {"created": "2025-01-01T00:00:00+00:00", "state": "open"})
    store.put_order("p", 2, {"created": "2025-01-01T00:00:00+00:00", "state": "open", "archived": True})
    assert store.list_order_ids("p") == [1]
    assert store.list_order_ids("p", archived=True) == [2]
    assert store.list_order_ids("p", archived=None) == [1, 2]
    store.close()
