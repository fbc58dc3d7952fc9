"""The dashboard's page and the admin calls it reads through: order balances, scenario switches
and the journal's response bodies (tests through HTTP; the browser tests are in
test_dashboard_browser.py)."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from mockserver.dashboard import STATIC_DIR
from mockserver.journal import MAX_BODY_BYTES, SharedJournal
from tests.conftest import FIXTURES_DIR

SHOPIFY = {"X-Shopify-Access-Token": "any-token"}
BIGCOMMERCE = {"X-Auth-Token": "any-token"}
BASE = "/admin/api/2020-10"
STORE = "abc123"
SHOPIFY_ORDER = 3012450010101  # line items 4 + 1 + 2 units, one earlier refund (the fixture file)
BIGCOMMERCE_ORDER = 100


def balance(client: Any, platform: str, order_id: int) -> dict[str, Any]:
    answer = client.get("/__mock/orders")
    assert answer.status_code == 200
    return next(order for order in answer.get_json()["platforms"][platform] if order["order_id"] == order_id)


# -- the page ------------------------------------------------------------------------------------


def test_the_page_is_served_with_its_own_files_only(client: Any) -> None:
    page = client.get("/__mock/ui")
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy
    html = page.get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"#]+)"', html)
    assert sorted(assets) == ["/__mock/ui/dashboard.css", "/__mock/ui/dashboard.js", "data:,"]  # data: the empty icon
    assets.remove("data:,")
    for asset in assets:
        assert client.get(asset).status_code == 200


def test_nothing_is_fetched_from_outside(client: Any) -> None:
    """Offline: no URL of another host, no web font, no import, in any of the page's files."""
    for path in STATIC_DIR.iterdir():
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/|@import|@font-face|url\(", text), path.name


def test_an_unknown_file_is_the_admin_apis_404(client: Any) -> None:
    answer = client.get("/__mock/ui/../admin.py")
    assert answer.status_code == 404
    assert client.get("/__mock/ui/nothing.js").get_json()["status"] == 404


def test_with_an_admin_token_the_page_loads_but_its_data_wants_the_token(make_app: Callable[..., Flask]) -> None:
    """The page holds no data; every admin call it makes is checked as any other."""
    client = make_app(admin_token="s3cret").test_client()
    assert client.get("/__mock/ui").status_code == 200
    assert client.get("/__mock/orders").status_code == 401
    assert client.get("/__mock/orders", headers={"X-Mock-Admin-Token": "s3cret"}).status_code == 200
    assert client.put("/__mock/scenarios/shopify-rate-limited/active", json={"active": True}).status_code == 401


# -- GET /__mock/orders --------------------------------------------------------------------------


def test_shopify_balance_matches_what_the_order_and_its_transactions_say(client: Any) -> None:
    """Money left: the successful sales and captures less the successful refunds, as Shopify's
    transactions endpoint lists them; units left: ordered less refunded units of the order read."""
    order = client.get(f"{BASE}/orders/{SHOPIFY_ORDER}.json", headers=SHOPIFY).get_json()["order"]
    transactions = client.get(f"{BASE}/orders/{SHOPIFY_ORDER}/transactions.json", headers=SHOPIFY)
    paid = refunded = Decimal(0)
    for transaction in transactions.get_json()["transactions"]:
        if transaction["status"] == "success" and transaction["kind"] in ("sale", "capture"):
            paid += Decimal(transaction["amount"])
        if transaction["status"] == "success" and transaction["kind"] == "refund":
            refunded += Decimal(transaction["amount"])
    units = sum(line["quantity"] for line in order["line_items"])
    units -= sum(line["quantity"] for refund in order["refunds"] for line in refund["refund_line_items"])

    shown = balance(client, "shopify", SHOPIFY_ORDER)
    assert shown["name"] == order["name"]
    assert shown["currency"] == order["presentment_currency"]
    assert Decimal(shown["money_left"]) == paid - refunded
    assert shown["units_left"] == units
    assert [refund["id"] for refund in shown["refunds"]] == [refund["id"] for refund in order["refunds"]]


def test_a_shopify_refund_shows_in_the_balance(client: Any) -> None:
    before = balance(client, "shopify", SHOPIFY_ORDER)
    order = client.get(f"{BASE}/orders/{SHOPIFY_ORDER}.json", headers=SHOPIFY).get_json()["order"]
    line = next(line for line in order["line_items"] if line["quantity"] >= 2)
    wanted = [{"line_item_id": line["id"], "quantity": 1, "restock_type": "no_restock"}]
    request = {"refund": {"refund_line_items": wanted}}
    calculated = client.post(f"{BASE}/orders/{SHOPIFY_ORDER}/refunds/calculate.json", json=request, headers=SHOPIFY)
    refund = copy.deepcopy(calculated.get_json()["refund"])
    for transaction in refund["transactions"]:
        transaction["kind"] = "refund"
    created = client.post(f"{BASE}/orders/{SHOPIFY_ORDER}/refunds.json", json={"refund": refund}, headers=SHOPIFY)
    assert created.status_code == 201
    paid_back = sum(Decimal(t["amount"]) for t in created.get_json()["refund"]["transactions"])

    after = balance(client, "shopify", SHOPIFY_ORDER)
    assert after["units_left"] == before["units_left"] - 1
    assert Decimal(after["money_left"]) == Decimal(before["money_left"]) - paid_back
    newest = after["refunds"][-1]
    assert newest["id"] == created.get_json()["refund"]["id"]
    assert (newest["units"], Decimal(newest["amount"])) == (1, paid_back)


def test_bigcommerce_balance_matches_the_v2_order(client: Any) -> None:
    """Money left: V2's total_inc_tax less refunded_amount; units: quantity less quantity_refunded."""
    order = client.get(f"/stores/{STORE}/v2/orders/{BIGCOMMERCE_ORDER}", headers=BIGCOMMERCE).get_json()
    products = client.get(f"/stores/{STORE}/v2/orders/{BIGCOMMERCE_ORDER}/products", headers=BIGCOMMERCE).get_json()
    shown = balance(client, "bigcommerce", BIGCOMMERCE_ORDER)
    assert Decimal(shown["money_left"]) == Decimal(order["total_inc_tax"]) - Decimal(order["refunded_amount"])
    assert shown["units_left"] == sum(p["quantity"] - p["quantity_refunded"] for p in products)
    assert shown["currency"] == order["currency_code"]


def test_a_bigcommerce_refund_shows_in_the_balance(client: Any) -> None:
    before = balance(client, "bigcommerce", BIGCOMMERCE_ORDER)
    body = {"items": [{"item_type": "PRODUCT", "item_id": 201, "quantity": 1}]}
    path = f"/stores/{STORE}/v3/orders/{BIGCOMMERCE_ORDER}/payment_actions"
    quote = client.post(f"{path}/refund_quotes", json=body, headers=BIGCOMMERCE).get_json()["data"]
    option = quote["refund_methods"][0]
    body["payments"] = [
        {"provider_id": part["provider_id"], "amount": part["amount"], "offline": part["offline"]} for part in option
    ]
    created = client.post(f"{path}/refunds", json=body, headers=BIGCOMMERCE)
    assert created.status_code == 201, created.get_json()
    total = Decimal(str(created.get_json()["data"]["total_amount"]))

    after = balance(client, "bigcommerce", BIGCOMMERCE_ORDER)
    assert after["units_left"] == before["units_left"] - 1
    assert Decimal(after["money_left"]) == Decimal(before["money_left"]) - total
    assert Decimal(after["refunds"][-1]["amount"]) == total


def test_every_fixture_order_is_listed(client: Any) -> None:
    platforms = client.get("/__mock/orders").get_json()["platforms"]
    for platform in ("shopify", "bigcommerce"):
        files = {int(path.stem) for path in (FIXTURES_DIR / platform / "orders").glob("*.json")}
        assert {order["order_id"] for order in platforms[platform]} == files


def walk_pages(client: Any, query: str, headers: dict[str, str] | None = None) -> dict[str, list[dict[str, Any]]]:
    """Every order of each platform, read a page at a time by following `next`, as the dashboard does."""
    walked: dict[str, list[dict[str, Any]]] = {}
    for platform in ("shopify", "bigcommerce"):
        after: int | None = None
        walked[platform] = []
        while True:
            cursor = "" if after is None else f"&after={after}"
            answer = client.get(f"/__mock/orders?platform={platform}&{query}{cursor}", headers=headers or {})
            assert answer.status_code == 200, answer.get_json()
            body = answer.get_json()
            assert list(body["platforms"]) == [platform] == list(body["pages"])  # only the platform asked for
            page = body["platforms"][platform]
            walked[platform].extend(page)
            after = body["pages"][platform]["next"]
            if after is None:
                assert body["pages"][platform]["total"] == len(walked[platform])
                break
            assert after == page[-1]["order_id"]  # the cursor: the last order of this page
    return walked


def test_orders_come_a_page_at_a_time_and_the_pages_add_up_to_every_order(client: Any) -> None:
    """A person paging through the dashboard sees every order once, lowest id first, and how many there are."""
    whole = client.get("/__mock/orders").get_json()
    for platform in ("shopify", "bigcommerce"):
        files = sorted(int(path.stem) for path in (FIXTURES_DIR / platform / "orders").glob("*.json"))
        assert whole["pages"][platform] == {"total": len(files), "next": None}
        first = client.get("/__mock/orders?limit=3").get_json()
        assert [order["order_id"] for order in first["platforms"][platform]] == files[:3]
        assert first["pages"][platform] == {"total": len(files), "next": files[2]}
    assert walk_pages(client, "limit=4") == whole["platforms"]


def test_without_a_limit_a_page_stops_at_the_default_size(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """No call reads a whole large store at once: without `limit` a page holds at most the default
    number of orders (250, shrunk here to 7 so the 30 committed orders span pages), and says where
    the next page starts."""
    from mockserver import admin

    monkeypatch.setattr(admin, "DEFAULT_BALANCE_PAGE", 7)
    answer = client.get("/__mock/orders?platform=shopify").get_json()
    files = sorted(int(path.stem) for path in (FIXTURES_DIR / "shopify" / "orders").glob("*.json"))
    assert [order["order_id"] for order in answer["platforms"]["shopify"]] == files[:7]
    assert answer["pages"]["shopify"] == {"total": len(files), "next": files[6]}


def test_a_page_past_the_last_order_is_empty_and_a_bad_limit_is_named(client: Any) -> None:
    beyond = client.get("/__mock/orders?platform=shopify&limit=5&after=99999999999999").get_json()
    assert beyond["platforms"] == {"shopify": []}
    assert beyond["pages"]["shopify"]["next"] is None
    for query in ("limit=0", "limit=1001", "after=-1", "platform=amazon", "limit=ten"):
        answer = client.get(f"/__mock/orders?{query}")
        assert answer.status_code == 422, query
        assert query.split("=")[0] in answer.get_json()["fields"]


def test_a_sessions_pages_show_its_refund_and_the_defaults_do_not(client: Any) -> None:
    before = balance(client, "shopify", SHOPIFY_ORDER)
    session = {"X-Mock-Session": "paged"}
    body = {"refund": {"refund_line_items": [{"line_item_id": 10010000001, "quantity": 1}]}}
    path = f"{BASE}/orders/{SHOPIFY_ORDER}/refunds"
    refund = client.post(f"{path}/calculate.json", json=body, headers={**SHOPIFY, **session}).get_json()["refund"]
    for transaction in refund["transactions"]:
        transaction["kind"] = "refund"
    created = client.post(f"{path}.json", json={"refund": refund}, headers={**SHOPIFY, **session})
    assert created.status_code == 201
    walked = walk_pages(client, "limit=2", session)
    in_session = next(order for order in walked["shopify"] if order["order_id"] == SHOPIFY_ORDER)
    assert in_session["units_left"] == before["units_left"] - 1
    assert created.get_json()["refund"]["id"] in [refund["id"] for refund in in_session["refunds"]]
    assert balance(client, "shopify", SHOPIFY_ORDER) == before


# -- PUT /__mock/scenarios/{name}/active ---------------------------------------------------------


def test_a_switched_on_scenario_answers_every_request_until_switched_off(client: Any) -> None:
    order = f"{BASE}/orders/{SHOPIFY_ORDER}.json"
    switched = client.put("/__mock/scenarios/shopify-rate-limited/active", json={"active": True})
    assert switched.status_code == 200
    assert switched.get_json()["active"] is True
    throttled = client.get(order, headers=SHOPIFY)
    assert throttled.status_code == 429  # Shopify's throttle answer, with Retry-After (the built-in's body)
    assert throttled.headers["Retry-After"] == "2.0"
    assert client.get("/__mock/requests?limit=1").get_json()["requests"][0]["scenario"] == "shopify-rate-limited"
    assert client.put("/__mock/scenarios/shopify-rate-limited/active", json={"active": False}).status_code == 200
    assert client.get(order, headers=SHOPIFY).status_code == 200


def test_reset_brings_each_scenario_back_as_loaded(client: Any) -> None:
    client.put("/__mock/scenarios/shopify-rate-limited/active", json={"active": True})
    client.post("/__mock/reset")
    listed = {s["name"]: s for s in client.get("/__mock/scenarios").get_json()["scenarios"]}
    assert listed["shopify-rate-limited"]["active"] is False
    assert client.get(f"{BASE}/orders/{SHOPIFY_ORDER}.json", headers=SHOPIFY).status_code == 200


def test_adding_a_scenario_again_drops_its_switch(client: Any) -> None:
    scenario = {
        "name": "slow-orders",
        "rules": [{"match": {"platform": "shopify", "operationId": "getOrder"}, "respond": {"passthrough": True}}],
    }
    assert client.post("/__mock/scenarios", json=scenario).status_code == 201
    assert client.put("/__mock/scenarios/slow-orders/active", json={"active": True}).get_json()["active"] is True
    assert client.post("/__mock/scenarios", json=scenario).status_code == 201  # again: `active` defaults to false
    listed = {s["name"]: s for s in client.get("/__mock/scenarios").get_json()["scenarios"]}
    assert listed["slow-orders"]["active"] is False


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/__mock/scenarios/no-such-thing/active", {"active": True}, 404),
        ("/__mock/scenarios/shopify-rate-limited/active", {"active": "yes"}, 422),
        ("/__mock/scenarios/shopify-rate-limited/active", {}, 422),
    ],
)
def test_a_bad_switch_is_refused_and_changes_nothing(client: Any, path: str, body: Any, status: int) -> None:
    before = client.get("/__mock/scenarios").get_json()
    answer = client.put(path, json=body)
    assert answer.status_code == status
    assert answer.get_json()["status"] == status
    assert client.get("/__mock/scenarios").get_json() == before


def test_a_switch_holds_in_every_worker(tmp_path: Path, make_app: Callable[..., Flask]) -> None:
    """`serve --workers N`: two apps on one run folder stand for two worker processes."""
    first = make_app(run_dir=tmp_path).test_client()
    second = make_app(run_dir=tmp_path).test_client()
    first.put("/__mock/scenarios/shopify-rate-limited/active", json={"active": True})
    assert second.get(f"{BASE}/orders/{SHOPIFY_ORDER}.json", headers=SHOPIFY).status_code == 429
    second.post("/__mock/reset")
    assert first.get(f"{BASE}/orders/{SHOPIFY_ORDER}.json", headers=SHOPIFY).status_code == 200


# -- the journal's response bodies ---------------------------------------------------------------


def test_the_journal_keeps_the_answer_the_client_got(client: Any) -> None:
    got = client.get(f"{BASE}/orders/{SHOPIFY_ORDER}/transactions.json", headers=SHOPIFY)
    entry = client.get("/__mock/requests?limit=1").get_json()["requests"][0]
    assert entry["response"] == got.get_json()
    missing = client.get(f"{BASE}/orders/1.json", headers=SHOPIFY)
    entry = client.get("/__mock/requests?limit=1").get_json()["requests"][0]
    assert (entry["status"], entry["response"]) == (404, missing.get_json())


def test_an_answer_over_the_limit_is_journaled_as_null(client: Any) -> None:
    got = client.get(f"{BASE}/orders/4100000000001.json", headers=SHOPIFY)  # the largest fixture order
    assert len(got.get_data()) > MAX_BODY_BYTES
    entry = client.get("/__mock/requests?limit=1").get_json()["requests"][0]
    assert (entry["status"], entry["response"]) == (200, None)


def test_a_head_request_journals_no_answer(client: Any) -> None:
    assert client.head(f"{BASE}/orders/{SHOPIFY_ORDER}/transactions.json", headers=SHOPIFY).get_data() == b""
    entry = client.get("/__mock/requests?limit=1").get_json()["requests"][0]
    assert (entry["method"], entry["status"], entry["response"]) == ("HEAD", 200, None)


def test_a_garbled_answer_is_journaled_as_null(client: Any) -> None:
    rule = {"match": {"platform": "shopify"}, "respond": {"fault": "malformed-json"}}
    scenario = {"name": "garbled", "rules": [rule]}
    client.post("/__mock/scenarios", json=scenario)
    client.get(f"{BASE}/orders/{SHOPIFY_ORDER}/transactions.json", headers={**SHOPIFY, "X-Mock-Scenario": "garbled"})
    assert client.get("/__mock/requests?limit=1").get_json()["requests"][0]["response"] is None


def test_the_shared_journal_keeps_answers_and_drops_them_first_when_full(tmp_path: Path) -> None:
    journal = SharedJournal(tmp_path, 10, ring_name="test")
    common: dict[str, Any] = {"method": "POST", "path": "/x", "query": "", "operation_id": "op", "status": 201}
    journal.record(time=1.0, body={"a": 1}, body_json=b'{"a":1}', response_json=b'{"ok":true}', **common)
    big_request = json.dumps({"note": "r" * 12000}).encode()
    big_answer = json.dumps({"note": "a" * 12000}).encode()
    journal.record(time=2.0, body=None, body_json=big_request, response_json=big_answer, **common)
    first, second = journal.entries()
    assert (first.body, first.to_json()["response"]) == ({"a": 1}, {"ok": True})
    assert second.body == {"note": "r" * 12000}
    assert second.to_json()["response"] is None
    journal.close()


def test_the_admin_spec_still_validates() -> None:
    from openapi_spec_validator import validate

    from mockserver.openapi import data_dir
    from mockserver.safe_yaml import load_yaml

    validate(load_yaml((data_dir("specs") / "admin.yaml").read_text(encoding="utf-8")))
