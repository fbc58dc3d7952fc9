"""Refunds over HTTP: random sequences through the strict app, and 20 refunds racing on one order."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shopify_orders import assert_never_more_than_paid, orders, refund_requests
from shopify_support import BASE, TOKEN_HEADERS, load_order

from mockserver.app import server_of

ORDER_IDS = itertools.count(810_000_001)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_every_answer_to_random_refunds_matches_the_spec(shopify_app: Flask, data: st.DataObject) -> None:
    """The strict app raises on any answer its spec rejects; the state stays within what was paid."""
    document = data.draw(orders(order_id=next(ORDER_IDS)))
    order_id = load_order(shopify_app, document)
    client = shopify_app.test_client()
    url = f"{BASE}/orders/{order_id}"
    for _ in range(data.draw(st.integers(1, 4))):
        current = {
            "order": client.get(f"{url}.json", headers=TOKEN_HEADERS).get_json()["order"],
            "transactions": client.get(f"{url}/transactions.json", headers=TOKEN_HEADERS).get_json()["transactions"],
        }
        request = data.draw(refund_requests(current))
        quote_request = {key: value for key, value in request.items() if key != "transactions"}
        quoted = client.post(f"{url}/refunds/calculate.json", json={"refund": quote_request}, headers=TOKEN_HEADERS)
        assert quoted.status_code in (200, 422), quoted.get_json()
        created = client.post(f"{url}/refunds.json", json={"refund": request}, headers=TOKEN_HEADERS)
        assert created.status_code in (201, 422), created.get_json()
        if created.status_code == 201:
            refund_id = created.get_json()["refund"]["id"]
            assert client.get(f"{url}/refunds/{refund_id}.json", headers=TOKEN_HEADERS).status_code == 200
    final = {
        "order": client.get(f"{url}.json", headers=TOKEN_HEADERS).get_json()["order"],
        "transactions": client.get(f"{url}/transactions.json", headers=TOKEN_HEADERS).get_json()["transactions"],
    }
    assert_never_more_than_paid(final)
    listed = client.get(f"{url}/refunds.json", headers=TOKEN_HEADERS).get_json()["refunds"]
    assert listed == final["order"]["refunds"]


def _ten_unit_order(order_id: int) -> dict[str, Any]:
    """Ten units at 10.00, paid by one 100.00 sale: every refund of one unit is worth exactly 10.00."""
    return {
        "order": {
            "id": order_id,
            "currency": "USD",
            "financial_status": "paid",
            "current_total_price": "100.00",
            "line_items": [{"id": 1, "quantity": 10, "price": "10.00", "fulfillable_quantity": 10}],
            "shipping_lines": [],
            "refunds": [],
        },
        "transactions": [
            {
                "id": 77,
                "order_id": order_id,
                "kind": "sale",
                "status": "success",
                "amount": "100.00",
                "gateway": "manual",
            }
        ],
    }


def _race(app: Flask, url: str, bodies: list[dict[str, Any]]) -> list[tuple[int, Any]]:
    """Send every body at once, one thread and one test client each."""
    barrier = threading.Barrier(len(bodies))
    results: list[tuple[int, Any]] = [(0, None)] * len(bodies)

    def send(index: int) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post(url, json=bodies[index], headers=TOKEN_HEADERS)
        results[index] = (response.status_code, response.get_json())

    threads = [threading.Thread(target=send, args=(index,)) for index in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_twenty_concurrent_refunds_refund_exactly_what_was_paid(make_shopify_app: Callable[..., Flask]) -> None:
    app = make_shopify_app()
    order_id = load_order(app, _ten_unit_order(820_000_001))
    body = {
        "refund": {
            "refund_line_items": [{"line_item_id": 1, "quantity": 1}],
            "transactions": [{"parent_id": 77, "amount": "10.00", "kind": "refund"}],
        }
    }
    results = _race(app, f"{BASE}/orders/{order_id}/refunds.json", [body] * 20)

    statuses = sorted(status for status, _ in results)
    assert statuses == [201] * 10 + [422] * 10
    refusals = [answer["errors"] for status, answer in results if status == 422]
    assert all("refund_line_items" in errors or "transactions" in errors for errors in refusals)

    client = app.test_client()
    order = client.get(f"{BASE}/orders/{order_id}.json", headers=TOKEN_HEADERS).get_json()["order"]
    transactions = client.get(f"{BASE}/orders/{order_id}/transactions.json", headers=TOKEN_HEADERS).get_json()
    refunds = client.get(f"{BASE}/orders/{order_id}/refunds.json", headers=TOKEN_HEADERS).get_json()["refunds"]
    created_ids = sorted(answer["refund"]["id"] for status, answer in results if status == 201)
    assert sorted(refund["id"] for refund in refunds) == created_ids
    refund_money = [Decimal(t["amount"]) for t in transactions["transactions"] if t["kind"] == "refund"]
    assert sum(refund_money) == Decimal("100.00") and len(refund_money) == 10
    assert sum(line["quantity"] for refund in refunds for line in refund["refund_line_items"]) == 10
    assert all(refund["order_adjustments"] == [] for refund in refunds)
    assert order["financial_status"] == "refunded"
    assert order["current_total_price"] == "0.00"
    assert order["line_items"][0]["fulfillable_quantity"] == 0
    assert len({t["id"] for t in transactions["transactions"]}) == len(transactions["transactions"])


def test_concurrent_money_only_refunds_stop_at_the_parents_amount(make_shopify_app: Callable[..., Flask]) -> None:
    app = make_shopify_app()
    order_id = load_order(app, _ten_unit_order(820_000_002))
    body = {"refund": {"transactions": [{"parent_id": 77, "amount": "7.00", "kind": "refund"}]}}
    results = _race(app, f"{BASE}/orders/{order_id}/refunds.json", [body] * 20)
    assert sorted(status for status, _ in results) == [201] * 14 + [422] * 6
    calculated = app.test_client().post(
        f"{BASE}/orders/{order_id}/refunds/calculate.json", json={"refund": {}}, headers=TOKEN_HEADERS
    )
    assert calculated.get_json()["refund"]["transactions"][0]["maximum_refundable"] == "2.00"


def test_a_created_refund_survives_a_restart_with_a_state_file(
    make_shopify_app: Callable[..., Flask], tmp_path: Path
) -> None:
    state = tmp_path / "state.sqlite3"
    first = make_shopify_app(state_path=state)
    order_id = load_order(first, _ten_unit_order(820_000_003))
    body = {"refund": {"transactions": [{"parent_id": 77, "amount": "12.34", "kind": "refund"}]}}
    created = first.test_client().post(f"{BASE}/orders/{order_id}/refunds.json", json=body, headers=TOKEN_HEADERS)
    assert created.status_code == 201
    server_of(first).store.close()

    second = make_shopify_app(state_path=state).test_client()
    refund_id = created.get_json()["refund"]["id"]
    shown = second.get(f"{BASE}/orders/{order_id}/refunds/{refund_id}.json", headers=TOKEN_HEADERS)
    assert shown.status_code == 200 and shown.get_json() == created.get_json()
    quote = second.post(f"{BASE}/orders/{order_id}/refunds/calculate.json", json={"refund": {}}, headers=TOKEN_HEADERS)
    assert quote.get_json()["refund"]["transactions"][0]["maximum_refundable"] == "87.66"
