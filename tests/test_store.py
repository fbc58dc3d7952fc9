"""The SQLite store: durable writes, one writer per order, nothing lost under concurrency."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from mockserver.store import Store, Transaction


def test_state_file_survives_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    store = Store(path)
    store.put_order("shopify", 1, {"total": 0}, baseline=True)
    store.update_order("shopify", 1, lambda doc, tx: doc.update(total=5))
    store.close()
    reopened = Store(path)
    stored = reopened.get_order("shopify", 1)
    assert stored is not None and stored.document == {"total": 5}
    reopened.close()


def test_concurrent_changes_to_one_order_are_serialised(tmp_path: Path) -> None:
    """Each change sees the previous one's result: 40 increments from 8 threads give 40."""
    store = Store(tmp_path / "state.sqlite3")
    store.put_order("bigcommerce", 7, {"count": 0, "ids": []})

    def increment(document: dict[str, Any], tx: Transaction) -> None:
        refund_id = tx.next_id("refund")
        document["count"] += 1
        document["ids"].append(refund_id)
        tx.save_refund(refund_id, "2026-01-01T00:00:00+00:00", {"id": refund_id})

    def worker() -> None:
        for _ in range(5):
            store.update_order("bigcommerce", 7, increment)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = store.get_order("bigcommerce", 7)
    assert stored is not None
    assert stored.document["count"] == 40
    assert len(set(stored.document["ids"])) == 40
    assert [refund["id"] for refund in store.list_refunds("bigcommerce")] == sorted(stored.document["ids"])
    store.close()


def test_a_failed_change_saves_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.sqlite3")
    store.put_order("shopify", 2, {"refunds": []})

    def refuse(document: dict[str, Any], tx: Transaction) -> None:
        document["refunds"].append("half-done")
        raise ValueError("over-refund")

    with pytest.raises(ValueError, match="over-refund"):
        store.update_order("shopify", 2, refuse)
    stored = store.get_order("shopify", 2)
    assert stored is not None and stored.document == {"refunds": []}
    store.close()


def test_reset_restores_the_baseline(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.sqlite3")
    store.put_order("shopify", 3, {"n": 1}, baseline=True)
    store.update_order("shopify", 3, lambda doc, tx: doc.update(n=2))
    store.put_order("shopify", 4, {"n": 9})  # not a baseline order: gone after reset
    store.reset(lambda platform, order_id, document: [])
    assert store.get_order("shopify", 3).document == {"n": 1}  # type: ignore[union-attr]
    assert store.get_order("shopify", 4) is None
    store.close()


def test_new_ids_go_above_every_loaded_documents_ids_resets_included(tmp_path: Path) -> None:
    """A sequence's floor is the highest id any loaded order declared; it only rises."""
    store = Store(tmp_path / "state.sqlite3")
    store.put_order("bigcommerce", 1, {}, baseline=True, id_floors={"bigcommerce.id": 40})
    store.put_order("bigcommerce", 2, {}, baseline=True, id_floors={"bigcommerce.id": 25})
    assert store.next_id("bigcommerce.id", start=3) == 41  # above order 1's ids, not order 2's
    assert store.next_id("bigcommerce.id", start=3) == 42
    assert store.next_id("other", start=3) == 3  # sequences without a floor are as before
    store.reset(lambda platform, order_id, document: [])
    assert store.next_id("bigcommerce.id") == 41  # a reset starts the run over, above the floor
    store.put_order("bigcommerce", 3, {}, id_floors={"bigcommerce.id": 90})
    assert store.next_id("bigcommerce.id") == 91
    store.close()


def test_derived_values_last_as_long_as_the_stored_version(tmp_path: Path) -> None:
    """Figures computed from an order are reused until the order changes, then computed afresh."""
    store = Store(tmp_path / "state.sqlite3")
    store.put_order("shopify", 1, {"total": 3})
    store.put_order("shopify", 2, {"total": 4})
    computed: list[int] = []

    def doubled(document: dict[str, Any]) -> int:
        computed.append(document["total"])
        return document["total"] * 2

    def read(order_id: int) -> int:
        stored = store.get_order("shopify", order_id)
        assert stored is not None
        return stored.derive("doubled", doubled)

    assert [read(1), read(1)] == [6, 6]
    assert computed == [3]
    store.update_order("shopify", 2, lambda doc, tx: doc.update(total=5))  # another order: 1 keeps its figures
    assert read(1) == 6 and computed == [3]
    store.update_order("shopify", 1, lambda doc, tx: doc.update(total=7))
    assert read(1) == 14
    assert computed == [3, 7]
    store.close()


def _shopify_order(line_ids: list[int], transaction_ids: list[int]) -> dict[str, Any]:
    return {
        "order": {"line_items": [{"id": i} for i in line_ids]},
        "transactions": [{"id": i} for i in transaction_ids],
    }


def test_an_item_is_found_by_its_id_through_every_kind_of_write(tmp_path: Path) -> None:
    """`order_holding` (GraphQL's `node(id:)` for a line or a transaction) reads an index that must
    follow every write: a change, a reset, a reloaded order, a deleted order, a session's copy."""
    from mockserver.session_store import SessionStore

    store = Store(tmp_path / "state.sqlite3")
    store.put_order("shopify", 1, _shopify_order([11], [21]), baseline=True)
    store.put_order("shopify", 2, _shopify_order([12], [22]), baseline=True)
    holding = store.order_holding
    assert holding("shopify", "$.transactions", 21) == 1  # the first lookup along a path indexes it
    assert holding("shopify", "$.order.line_items", 12) == 2
    assert holding("shopify", "$.transactions", 12) is None  # a line id is not a transaction id
    assert holding("bigcommerce", "$.transactions", 21) is None

    store.update_order("shopify", 1, lambda document, tx: document["transactions"].append({"id": 31}))
    assert holding("shopify", "$.transactions", 31) == 1  # a refund's new transaction

    session = SessionStore(store, "ci-7")
    session.update_order("shopify", 2, lambda document, tx: document["transactions"].append({"id": 32}))
    assert session.order_holding("shopify", "$.transactions", 32) == 2  # the session's own copy
    assert session.order_holding("shopify", "$.transactions", 21) == 1  # the baseline, as the session reads it
    assert session.order_holding("shopify", "$.transactions", 31) is None  # the default session's refund
    assert holding("shopify", "$.transactions", 32) is None

    store.reset(lambda platform, order_id, document: [])
    assert holding("shopify", "$.transactions", 31) is None
    assert holding("shopify", "$.transactions", 21) == 1
    assert session.order_holding("shopify", "$.transactions", 32) == 2  # a reset of the default session only

    store.clear_session("ci-7", drop=True)
    assert session.order_holding("shopify", "$.transactions", 32) is None

    store.put_order("shopify", 1, _shopify_order([11], [41]), baseline=True, replace=True)  # reloaded
    assert holding("shopify", "$.transactions", 21) is None
    assert holding("shopify", "$.transactions", 41) == 1
    assert SessionStore(store, "ci-8").order_holding("shopify", "$.transactions", 41) == 1

    store.delete_order("shopify", 2)
    assert holding("shopify", "$.order.line_items", 12) is None
    store.close()

    reopened = Store(tmp_path / "state.sqlite3")  # the index lives in the state file
    assert reopened.order_holding("shopify", "$.transactions", 41) == 1
    reopened.close()


def test_a_lookup_by_item_id_costs_the_same_in_a_large_store(tmp_path: Path) -> None:
    """Looked up in an index, not by reading every stored document: SQLite runs as many steps for an
    id no order holds among 400 orders as among 4 (a scan of the documents grew with the count)."""

    def steps(orders: int) -> int:
        store = Store(tmp_path / f"state-{orders}.sqlite3")
        for order_id in range(1, orders + 1):
            store.put_order("shopify", order_id, _shopify_order([order_id * 10], [order_id * 10 + 1]), baseline=True)
        store.order_holding("shopify", "$.transactions", 1)  # the first lookup fills the index in
        counted = [0]

        def count() -> int:
            counted[0] += 1
            return 0

        connection = store._connection()
        connection.set_progress_handler(count, 1)
        assert store.order_holding("shopify", "$.transactions", 999_999) is None
        connection.set_progress_handler(None, 1)
        store.close()
        return counted[0]

    small, large = steps(4), steps(400)
    assert large <= small + 10, (small, large)
