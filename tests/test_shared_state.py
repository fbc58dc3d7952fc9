"""What worker processes share, exercised in one process: two objects on the same files stand
for two workers (the mapped files and SQLite behave the same across processes)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from mockserver.journal import SharedJournal
from mockserver.store import Store, Transaction
from tests.conftest import FIXTURES_DIR

SHOPIFY_ORDER = FIXTURES_DIR / "shopify" / "orders" / "3012450010102.json"


def entry(path: str, body: Any = None, status: int = 200) -> dict[str, Any]:
    return {
        "time": time.time(),
        "method": "POST",
        "path": path,
        "query": "",
        "operation_id": "calculateRefund",
        "status": status,
        "body": body,
    }


def test_each_worker_writes_its_own_ring_and_any_worker_reads_them_all(tmp_path: Path) -> None:
    first, second = SharedJournal(tmp_path, 10, ring_name="a"), SharedJournal(tmp_path, 10, ring_name="b")
    first.record(**entry("/a"))
    second.record(**entry("/b"))
    first.record(**entry("/c"))
    for reader in (first, second):
        assert [item.path for item in reader.entries()] == ["/a", "/b", "/c"]
    ids = [item.id for item in first.entries()]
    assert ids == sorted(set(ids))


def test_the_shared_journal_keeps_the_newest_entries_and_clears_for_everyone(tmp_path: Path) -> None:
    first, second = SharedJournal(tmp_path, 3, ring_name="a"), SharedJournal(tmp_path, 3, ring_name="b")
    for index in range(5):
        first.record(**entry(f"/first/{index}"))
    second.record(**entry("/second"))
    assert [item.path for item in second.entries()] == ["/first/3", "/first/4", "/second"]
    assert len(first) == 3
    assert second.clear() == 3
    assert first.entries() == []
    first.record(**entry("/after"))
    assert [item.path for item in second.entries()] == ["/after"]


def test_the_shared_journal_keeps_bodies_a_client_could_send(tmp_path: Path) -> None:
    journal = SharedJournal(tmp_path, 5)
    odd = {"note": "caf\u00e9 \ud800", "n": [1, 2.5, None]}  # a lone surrogate is valid JSON text
    journal.record(**entry("/odd", odd))
    journal.record(**entry("/huge", {"x": "\u00e9" * 20_000}))  # its JSON would not fit a slot
    odd_entry, huge_entry = journal.entries()
    assert odd_entry.body == odd
    assert huge_entry.path == "/huge" and huge_entry.body is None


def test_a_zero_size_shared_journal_records_nothing(tmp_path: Path) -> None:
    journal = SharedJournal(tmp_path, 0)
    journal.record(**entry("/a"))
    assert journal.entries() == [] and not list(tmp_path.glob("journal-*.ring"))


@pytest.fixture
def two_stores(tmp_path: Path) -> Any:
    path = tmp_path / "state.sqlite3"
    stores = Store(path, verify_shared_documents=True), Store(path, verify_shared_documents=True)
    document = json.loads(SHOPIFY_ORDER.read_text(encoding="utf-8"))
    stores[0].put_order("shopify", document["order"]["id"], document)
    yield stores, document["order"]["id"]
    for store in stores:
        store.close()


def test_a_cached_order_is_read_again_after_another_store_writes(two_stores: Any) -> None:
    (reader, writer), order_id = two_stores
    first = reader.get_order("shopify", order_id)
    assert reader.get_order("shopify", order_id) is first  # no write since: the same parsed order

    def add_note(document: dict[str, Any], transaction: Transaction) -> None:
        document["order"]["note"] = "changed by the other worker"

    writer.update_order("shopify", order_id, add_note)
    again = reader.get_order("shopify", order_id)
    assert again is not first and again.document["order"]["note"] == "changed by the other worker"
    assert again.version == first.version + 1


def test_a_write_to_another_order_keeps_the_parsed_document(two_stores: Any) -> None:
    (reader, writer), order_id = two_stores
    first = reader.get_order("shopify", order_id)
    writer.put_order("shopify", 1, {"order": {"id": 1}, "transactions": []})
    again = reader.get_order("shopify", order_id)
    assert again is first or again.document is first.document  # checked against the database, not reparsed


def test_a_reader_that_changes_a_shared_document_is_caught(two_stores: Any) -> None:
    (reader, _), order_id = two_stores
    reader.get_order("shopify", order_id).document["order"]["note"] = "oops"  # type: ignore[union-attr]
    with pytest.raises(AssertionError, match="changed in place by a reader"):
        reader.get_order("shopify", order_id)


def test_update_order_works_on_a_private_copy(two_stores: Any) -> None:
    (store, _), order_id = two_stores
    shared = store.get_order("shopify", order_id)

    def change(document: dict[str, Any], transaction: Transaction) -> None:
        assert document is not shared.document  # type: ignore[union-attr]
        document["order"]["note"] = "private"

    store.update_order("shopify", order_id, change)
    assert "note" not in shared.document["order"] or shared.document["order"]["note"] != "private"  # type: ignore[union-attr]


def test_the_order_cache_stays_within_its_byte_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Documents grow with every refund; the cache is bounded in bytes so memory stays flat."""
    import mockserver.store as store_module

    monkeypatch.setattr(store_module, "DOCUMENT_CACHE_BYTES", 50_000)
    store = Store(tmp_path / "state.sqlite3")
    document = json.loads(SHOPIFY_ORDER.read_text(encoding="utf-8"))
    for order_id in range(1, 21):
        store.put_order("shopify", order_id, {**document, "order": {**document["order"], "id": order_id}})
    for order_id in range(1, 21):
        assert store.get_order("shopify", order_id).document["order"]["id"] == order_id  # type: ignore[union-attr]
    kept = sum(len(entry.text) for entry in store._documents.values())
    assert kept == store._cached_bytes <= 50_000
    assert 1 <= len(store._documents) < 20
    store.close()


def test_a_body_journaled_from_the_clients_bytes_reads_back_as_the_parsed_body(tmp_path: Path) -> None:
    """The shared journal stores the request's own JSON bytes; readers get the same body as before."""
    journal = SharedJournal(tmp_path, 10, ring_name="a")
    body = {"refund": {"note": "Größe falsch \ud800", "refund_line_items": [{"line_item_id": 1}]}}
    raw = '{"refund": {"note": "Größe falsch \\ud800", "refund_line_items": [{"line_item_id": 1}]}}'.encode()
    assert json.loads(raw) == body
    journal.record(**entry("/raw", body), body_json=raw)
    journal.record(**entry("/encoded", body))
    assert [item.body for item in journal.entries()] == [body, body]
