"""A BigCommerce refund answered 201 survives `kill -9` of a server run with `--state FILE`."""

from __future__ import annotations

import json
import signal
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.test_serve import start_serve, stop, wait_for_health

TOKEN = {"X-Auth-Token": "local-token"}


def call(method: str, url: str, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {**TOKEN, "Content-Type": "application/json"} if data is not None else TOKEN
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_a_refund_survives_kill_9_and_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite3"
    base, process = start_serve("--state", str(state))
    try:
        wait_for_health(base, process)
        items = [{"item_type": "PRODUCT", "item_id": 201, "quantity": 2}]
        status, quote = call(
            "POST", f"{base}/stores/abc123/v3/orders/100/payment_actions/refund_quotes", {"items": items}
        )
        assert status == 201
        method = quote["data"]["refund_methods"][-1]
        payments = [{"provider_id": option["provider_id"], "amount": option["amount"]} for option in method]
        status, created = call(
            "POST",
            f"{base}/stores/abc123/v3/orders/100/payment_actions/refunds",
            {"items": items, "payments": payments},
        )
        assert status == 201
    finally:
        stop(process, signal.SIGKILL)

    base, process = start_serve("--state", str(state))
    try:
        wait_for_health(base, process)
        refund_id = created["data"]["id"]
        status, found = call("GET", f"{base}/stores/abc123/v3/orders/payment_actions/refunds/{refund_id}")
        assert status == 200 and found["data"]["total_amount"] == created["data"]["total_amount"]
        status, order = call("GET", f"{base}/stores/abc123/v2/orders/100")
        assert (order["status_id"], order["refunded_amount"]) == (14, f"{created['data']['total_amount']:.4f}")
        status, products = call("GET", f"{base}/stores/abc123/v2/orders/100/products")
        assert products[0]["quantity_refunded"] == 2
        status, listed = call("GET", f"{base}/stores/abc123/v3/orders/payment_actions/refunds?order_id:in=100")
        assert [refund["id"] for refund in listed["data"]] == [refund_id]
    finally:
        stop(process)
