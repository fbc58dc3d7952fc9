"""The request journal: a bounded ring, its filters and count, and what the app records in it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Flask

from mockserver.journal import Journal
from tests.conftest import FIXTURES_DIR

SHOPIFY_ORDER = int(sorted((FIXTURES_DIR / "shopify" / "orders").glob("*.json"))[0].stem)
BIGCOMMERCE_ORDER = int(sorted((FIXTURES_DIR / "bigcommerce" / "orders").glob("*.json"))[0].stem)
GET_ORDER = f"/admin/api/2020-10/orders/{SHOPIFY_ORDER}.json"
CALCULATE = f"/admin/api/2020-10/orders/{SHOPIFY_ORDER}/refunds/calculate.json"
TRANSACTIONS = f"/stores/abc/v3/orders/{BIGCOMMERCE_ORDER}/transactions"
SHOPIFY = {"X-Shopify-Access-Token": "any-token"}
BIGCOMMERCE = {"X-Auth-Token": "any-token"}


def record(
    journal: Journal, path: str, status: int = 200, operation_id: str | None = "op", method: str = "GET"
) -> None:
    journal.record(
        time=0.0, method=method, path=path, query="", operation_id=operation_id, status=status, duration_ms=1.0
    )


def test_the_ring_keeps_only_the_newest_entries() -> None:
    journal = Journal(3)
    for index in range(10):
        record(journal, f"/p/{index}")
    assert [entry.path for entry in journal.entries()] == ["/p/7", "/p/8", "/p/9"]
    assert [entry.id for entry in journal.entries()] == [8, 9, 10]  # ids keep counting


def test_size_zero_turns_the_journal_off() -> None:
    journal = Journal(0)
    record(journal, "/p")
    assert journal.entries() == []


def test_filters_combine() -> None:
    journal = Journal(10)
    record(journal, "/orders/1.json", 200, "getOrder")
    record(journal, "/orders/2.json", 404, "getOrder")
    record(journal, "/orders/2/refunds.json", 201, "createRefund", "POST")
    record(journal, "/nowhere", 404, None)
    assert [e.path for e in journal.find(path="/orders/2.json")] == ["/orders/2.json"]
    assert len(journal.find(path="/orders/*")) == 3
    assert len(journal.find(operation_id="getOrder")) == 2
    assert [e.path for e in journal.find(status=404)] == ["/orders/2.json", "/nowhere"]
    assert [e.path for e in journal.find(status=404, operation_id="getOrder")] == ["/orders/2.json"]
    assert [e.path for e in journal.find(method="post")] == ["/orders/2/refunds.json"]
    assert journal.clear() == 4 and journal.find() == []


def journal_of(client: Any, query: str = "") -> dict[str, Any]:
    response = client.get(f"/__mock/requests{query}")
    assert response.status_code == 200
    return response.get_json()


def test_platform_requests_are_journaled_with_what_answered(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    client.get(GET_ORDER, headers=SHOPIFY)
    client.post(CALCULATE, json={"refund": {"shipping": {"full_refund": True}}}, headers=SHOPIFY)
    client.get(GET_ORDER, headers={**SHOPIFY, "X-Mock-Scenario": "shopify-rate-limited"})
    client.get(GET_ORDER, headers={**SHOPIFY, "Prefer": "code=404"})
    client.get(TRANSACTIONS + "?limit=5", headers=BIGCOMMERCE)
    client.get("/admin/api/2020-10/nothing-here.json", headers=SHOPIFY)
    client.get("/__mock/health")  # the admin API is not journaled

    journal = journal_of(client)
    entries = journal["requests"]
    assert journal["count"] == len(entries) == 6
    first, calculate, throttled, preferred, bigcommerce, unrouted = entries
    assert (first["method"], first["path"], first["operationId"], first["status"]) == (
        "GET",
        GET_ORDER,
        "getOrder",
        200,
    )
    assert first["scenario"] is None and first["fault"] is None and first["body"] is None
    assert calculate["operationId"] == "calculateRefund" and calculate["body"] == {
        "refund": {"shipping": {"full_refund": True}}
    }
    assert (throttled["status"], throttled["scenario"]) == (429, "shopify-rate-limited")
    assert (preferred["status"], preferred["scenario"]) == (404, "Prefer code=404")
    assert bigcommerce["operationId"] == "getOrderTransactions" and bigcommerce["query"] == "limit=5"
    assert (unrouted["operationId"], unrouted["status"]) == (None, 404)
    ids = [entry["id"] for entry in entries]
    assert ids == sorted(ids)
    for entry in entries:
        assert entry["duration_ms"] >= 0
        assert datetime.fromisoformat(entry["time"].replace("Z", "+00:00")).tzinfo is not None


def test_the_admin_api_filters_and_counts(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    for _ in range(3):
        client.get(GET_ORDER, headers=SHOPIFY)
    client.get("/admin/api/2020-10/orders/999999999.json", headers=SHOPIFY)
    client.get(TRANSACTIONS, headers=BIGCOMMERCE)

    assert journal_of(client, f"?path={GET_ORDER}")["count"] == 3
    assert journal_of(client, "?path=/admin/api/2020-10/orders/*")["count"] == 4
    assert journal_of(client, "?operationId=getOrder&status=404")["count"] == 1
    assert journal_of(client, "?operationId=getOrderTransactions")["requests"][0]["path"] == TRANSACTIONS
    assert journal_of(client, "?method=post")["count"] == 0
    limited = journal_of(client, "?operationId=getOrder&limit=2")
    assert limited["count"] == 4 and [e["status"] for e in limited["requests"]] == [200, 404]  # the newest two
    assert journal_of(client, "?limit=0")["requests"] == []
    assert client.get("/__mock/requests?status=abc").status_code == 422


def test_delete_and_reset_empty_the_journal(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    client.get(GET_ORDER, headers=SHOPIFY)
    client.get(GET_ORDER, headers=SHOPIFY)
    assert client.delete("/__mock/requests").get_json() == {"cleared": 2}
    assert journal_of(client)["count"] == 0
    client.get(GET_ORDER, headers=SHOPIFY)
    client.post("/__mock/reset")
    assert journal_of(client)["count"] == 0


def test_memory_stays_flat_under_load(make_app: Callable[..., Flask]) -> None:
    client = make_app(journal_size=5).test_client()
    for _ in range(40):
        client.get(GET_ORDER, headers=SHOPIFY)
    journal = journal_of(client)
    assert journal["count"] == 5
    assert journal["requests"][-1]["id"] == 40


def test_large_bodies_are_not_kept(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    note = "x" * 20_000
    client.post(CALCULATE, json={"refund": {"note": note, "shipping": {"full_refund": True}}}, headers=SHOPIFY)
    (entry,) = journal_of(client)["requests"]
    assert entry["operationId"] == "calculateRefund" and entry["body"] is None
