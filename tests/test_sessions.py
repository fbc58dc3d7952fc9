"""Isolated sessions (`X-Mock-Session: <name>` or a `/__session/<name>/` path prefix).

What a user notices: two CI jobs refunding the same fixture order on one server each see only
their own refund, the journal, scenarios and rate-limit buckets of one do not show in the other,
and a client that names no session sees the server exactly as before sessions existed.
"""

from __future__ import annotations

import gc
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mockserver.app import MockConfig, create_app, server_of
from tests.conftest import FIXTURES_DIR
from tests.live_server import live_server

SHOPIFY = "/admin/api/2020-10"
SHOPIFY_TOKEN = {"X-Shopify-Access-Token": "sessions-test"}
ORDER = 3012450010102  # a committed fixture: two lines, a gift card and a card
LINE = {"line_item_id": 10020000001, "quantity": 1, "restock_type": "no_restock"}
BC_STORE = "/stores/abc123"
BC_TOKEN = {"X-Auth-Token": "sessions-test"}
BC_ORDER = 100


@pytest.fixture(scope="module")
def module_app() -> Iterator[Flask]:
    app = create_app(MockConfig(fixtures_dir=FIXTURES_DIR, strict_responses=True))
    app.testing = True
    yield app
    server_of(app).close()


@pytest.fixture
def client(module_app: Flask) -> FlaskClient:
    """The module's server with no session and a default session fresh from the fixtures."""
    server = server_of(module_app)
    for entry in server.sessions.listing():
        server.sessions.drop(entry["name"])
    server.reset()
    return module_app.test_client()


def session(name: str) -> dict[str, str]:
    return {"X-Mock-Session": name}


def refund_one_unit(client: FlaskClient, headers: dict[str, str], prefix: str = "") -> dict[str, Any]:
    """Calculate, then create what calculate suggested (Shopify's documented flow)."""
    quote = client.post(
        f"{prefix}{SHOPIFY}/orders/{ORDER}/refunds/calculate.json",
        json={"refund": {"refund_line_items": [LINE]}},
        headers={**SHOPIFY_TOKEN, **headers},
    )
    assert quote.status_code == 200, quote.get_json()
    transactions = [
        {"parent_id": t["parent_id"], "amount": t["amount"], "kind": "refund", "gateway": t["gateway"]}
        for t in quote.get_json()["refund"]["transactions"]
        if t["amount"] != "0.00"
    ]
    created = client.post(
        f"{prefix}{SHOPIFY}/orders/{ORDER}/refunds.json",
        json={"refund": {"refund_line_items": [LINE], "transactions": transactions}},
        headers={**SHOPIFY_TOKEN, **headers},
    )
    assert created.status_code == 201, created.get_json()
    return created.get_json()["refund"]


def refund_ids(client: FlaskClient, headers: dict[str, str], prefix: str = "") -> list[int]:
    listed = client.get(f"{prefix}{SHOPIFY}/orders/{ORDER}/refunds.json", headers={**SHOPIFY_TOKEN, **headers})
    assert listed.status_code == 200
    return [refund["id"] for refund in listed.get_json()["refunds"]]


def financial_status(client: FlaskClient, headers: dict[str, str]) -> str:
    order = client.get(f"{SHOPIFY}/orders/{ORDER}.json", headers={**SHOPIFY_TOKEN, **headers})
    return str(order.get_json()["order"]["financial_status"])


def test_two_sessions_refunding_the_same_order_see_only_their_own(client: FlaskClient) -> None:
    baseline = refund_ids(client, {})
    first = refund_one_unit(client, session("ci-1"))
    second = refund_one_unit(client, session("ci-2"))
    assert first["id"] != second["id"]  # ids stay unique across sessions, as on one real store
    assert refund_ids(client, session("ci-1")) == [*baseline, first["id"]]
    assert refund_ids(client, session("ci-2")) == [*baseline, second["id"]]
    # the default session, and a session that never wrote, still see the fixture
    assert refund_ids(client, {}) == baseline
    assert refund_ids(client, session("ci-3")) == baseline
    assert financial_status(client, {}) == "paid"
    assert financial_status(client, session("ci-1")) == "partially_refunded"


def test_a_second_refund_in_a_session_sees_its_first(client: FlaskClient) -> None:
    """The order has two units of the line: the third unit is refused in the session, not elsewhere."""
    refund_one_unit(client, session("twice"))
    refund_one_unit(client, session("twice"))
    over = client.post(
        f"{SHOPIFY}/orders/{ORDER}/refunds/calculate.json",
        json={"refund": {"refund_line_items": [LINE]}},
        headers={**SHOPIFY_TOKEN, **session("twice")},
    )
    assert over.status_code == 422, over.get_json()
    fresh = client.post(
        f"{SHOPIFY}/orders/{ORDER}/refunds/calculate.json",
        json={"refund": {"refund_line_items": [LINE]}},
        headers=SHOPIFY_TOKEN,
    )
    assert fresh.status_code == 200


def test_the_path_prefix_is_the_same_session_as_the_header(client: FlaskClient) -> None:
    made = refund_one_unit(client, {}, prefix="/__session/browser-7")
    assert made["id"] in refund_ids(client, session("browser-7"))
    assert made["id"] in refund_ids(client, {}, prefix="/__session/browser-7")
    assert made["id"] not in refund_ids(client, {})
    journal = client.get("/__session/browser-7/__mock/requests").get_json()
    assert journal["requests"][0]["path"] == f"{SHOPIFY}/orders/{ORDER}/refunds/calculate.json"
    assert {entry["session"] for entry in journal["requests"]} == {"browser-7"}


def test_the_default_session_is_unaffected_and_its_journal_its_own(client: FlaskClient) -> None:
    client.get(f"{SHOPIFY}/orders/{ORDER}.json", headers=SHOPIFY_TOKEN)
    refund_one_unit(client, session("other"))
    default = client.get("/__mock/requests").get_json()
    assert [(entry["path"], entry["session"]) for entry in default["requests"]] == [
        (f"{SHOPIFY}/orders/{ORDER}.json", None)
    ]
    other = client.get("/__mock/requests", headers=session("other")).get_json()
    assert [entry["operationId"] for entry in other["requests"]] == ["calculateRefund", "createRefund"]


def test_reset_of_one_session_leaves_the_others(client: FlaskClient) -> None:
    kept = refund_one_unit(client, session("keep"))
    refund_one_unit(client, session("wipe"))
    default = refund_one_unit(client, {})
    assert client.post("/__mock/reset", headers=session("wipe")).status_code == 200
    assert client.get("/__mock/requests", headers=session("wipe")).get_json()["count"] == 0
    assert refund_ids(client, session("wipe")) == refund_ids(client, session("never-wrote"))
    assert kept["id"] in refund_ids(client, session("keep"))
    assert default["id"] in refund_ids(client, {})
    # and a reset of the default session leaves the named ones
    assert client.post("/__mock/reset").status_code == 200
    assert default["id"] not in refund_ids(client, {})
    assert kept["id"] in refund_ids(client, session("keep"))
    assert client.get("/__mock/requests", headers=session("keep")).get_json()["count"] > 0


def test_the_dashboard_lists_every_sessions_requests_with_their_session(client: FlaskClient) -> None:
    client.get(f"{SHOPIFY}/orders/{ORDER}.json", headers=SHOPIFY_TOKEN)
    client.get(f"{SHOPIFY}/orders/{ORDER}.json", headers={**SHOPIFY_TOKEN, **session("ui")})
    every = client.get("/__mock/requests", query_string={"all_sessions": "true"}).get_json()
    assert [entry["session"] for entry in every["requests"]] == [None, "ui"]
    page_script = client.get("/__mock/ui/dashboard.js").get_data(as_text=True)
    assert "all_sessions=true" in page_script


def test_clearing_the_journal_of_a_session_leaves_the_others(client: FlaskClient) -> None:
    client.get(f"{SHOPIFY}/orders/{ORDER}.json", headers={**SHOPIFY_TOKEN, **session("a")})
    client.get(f"{SHOPIFY}/orders/{ORDER}.json", headers={**SHOPIFY_TOKEN, **session("b")})
    client.get(f"{SHOPIFY}/orders/{ORDER}.json", headers=SHOPIFY_TOKEN)
    assert client.delete("/__mock/requests", headers=session("a")).get_json() == {"cleared": 1}
    assert client.get("/__mock/requests", headers=session("a")).get_json()["count"] == 0
    assert client.get("/__mock/requests", headers=session("b")).get_json()["count"] == 1
    assert client.get("/__mock/requests").get_json()["count"] == 1


def test_scenarios_switched_on_in_a_session_answer_only_there(client: FlaskClient) -> None:
    switched = client.put("/__mock/scenarios/shopify-over-quantity/active", json={"active": True}, headers=session("s"))
    assert switched.status_code == 200 and switched.get_json()["active"] is True
    body = {"refund": {"refund_line_items": [LINE]}}
    scripted = client.post(
        f"{SHOPIFY}/orders/{ORDER}/refunds.json", json=body, headers={**SHOPIFY_TOKEN, **session("s")}
    )
    assert scripted.status_code == 422
    assert client.post(f"{SHOPIFY}/orders/{ORDER}/refunds.json", json=body, headers=SHOPIFY_TOKEN).status_code == 201
    other = {**SHOPIFY_TOKEN, **session("t")}
    assert client.post(f"{SHOPIFY}/orders/{ORDER}/refunds.json", json=body, headers=other).status_code == 201
    listed = {
        item["name"]: item for item in client.get("/__mock/scenarios", headers=session("s")).get_json()["scenarios"]
    }
    assert listed["shopify-over-quantity"]["active"] is True
    assert listed["shopify-over-quantity"]["rules"][0]["answered"] == 1
    default = {item["name"]: item for item in client.get("/__mock/scenarios").get_json()["scenarios"]}
    assert default["shopify-over-quantity"]["active"] is False
    assert default["shopify-over-quantity"]["rules"][0]["answered"] == 0
    # a reset of the session switches it off again
    client.post("/__mock/reset", headers=session("s"))
    again = client.post(f"{SHOPIFY}/orders/{ORDER}/refunds.json", json=body, headers={**SHOPIFY_TOKEN, **session("s")})
    assert again.status_code == 201


def test_run_time_scenarios_and_their_counters_are_per_session(client: FlaskClient) -> None:
    scenario = {
        "name": "once-rate-limited",
        "active": True,
        "rules": [
            {
                "match": {"platform": "shopify", "operationId": "getOrder", "times": 1},
                "respond": {"status": 429, "error": {"message": "Exceeded 2 calls per second for api client."}},
            }
        ],
    }
    assert client.post("/__mock/scenarios", json=scenario, headers=session("x")).status_code == 201
    path = f"{SHOPIFY}/orders/{ORDER}.json"
    assert client.get(path, headers=SHOPIFY_TOKEN).status_code == 200  # not loaded in the default session
    assert client.get(path, headers={**SHOPIFY_TOKEN, **session("y")}).status_code == 200
    assert client.get(path, headers={**SHOPIFY_TOKEN, **session("x")}).status_code == 429
    assert client.get(path, headers={**SHOPIFY_TOKEN, **session("x")}).status_code == 200  # `times: 1` spent
    names = [item["name"] for item in client.get("/__mock/scenarios").get_json()["scenarios"]]
    assert "once-rate-limited" not in names
    removed = client.delete("/__mock/scenarios?name=once-rate-limited", headers=session("x"))
    assert removed.get_json() == {"removed": ["once-rate-limited"]}


def test_a_named_scenario_counts_per_session(client: FlaskClient) -> None:
    """`X-Mock-Scenario` with a `times` rule: each session gets its own count."""
    scenario = {
        "name": "first-get-fails",
        "rules": [
            {
                "match": {"platform": "shopify", "operationId": "getOrder", "times": 1},
                "respond": {"status": 503, "error": {"message": "Service Unavailable"}},
            }
        ],
    }
    assert client.post("/__mock/scenarios", json=scenario, headers=session("p")).status_code == 201
    assert client.post("/__mock/scenarios", json=scenario, headers=session("q")).status_code == 201
    path = f"{SHOPIFY}/orders/{ORDER}.json"
    for name in ("p", "q"):
        headers = {**SHOPIFY_TOKEN, **session(name), "X-Mock-Scenario": "first-get-fails"}
        assert client.get(path, headers=headers).status_code == 503
        assert client.get(path, headers=headers).status_code == 200


def test_rate_limit_buckets_are_per_session(make_app: Any) -> None:
    """Shopify REST: a bucket of 40 per token (shopify.dev, REST Admin API rate limits)."""
    app = make_app(throttle=True)
    client = app.test_client()
    path = f"{SHOPIFY}/orders/{ORDER}.json"
    for _ in range(40):
        assert client.get(path, headers={**SHOPIFY_TOKEN, **session("busy")}).status_code == 200
    assert client.get(path, headers={**SHOPIFY_TOKEN, **session("busy")}).status_code == 429
    fresh = client.get(path, headers={**SHOPIFY_TOKEN, **session("calm")})
    assert fresh.status_code == 200
    assert fresh.headers["X-Shopify-Shop-Api-Call-Limit"] == "1/40"
    assert client.get(path, headers=SHOPIFY_TOKEN).headers["X-Shopify-Shop-Api-Call-Limit"] == "1/40"
    # emptying the session's buckets lets it call again
    assert client.delete("/__mock/rate-limits", headers=session("busy")).status_code == 200
    assert client.get(path, headers={**SHOPIFY_TOKEN, **session("busy")}).status_code == 200


def test_order_lists_are_session_aware(client: FlaskClient) -> None:
    refund_one_unit(client, session("lists"))
    query = {"ids": str(ORDER), "financial_status": "partially_refunded", "status": "any"}
    mine = client.get(f"{SHOPIFY}/orders.json", query_string=query, headers={**SHOPIFY_TOKEN, **session("lists")})
    assert [order["id"] for order in mine.get_json()["orders"]] == [ORDER]
    default = client.get(f"{SHOPIFY}/orders.json", query_string=query, headers=SHOPIFY_TOKEN)
    assert default.get_json()["orders"] == []
    balances = client.get("/__mock/orders", headers=session("lists")).get_json()["platforms"]["shopify"]
    default_balances = client.get("/__mock/orders").get_json()["platforms"]["shopify"]
    assert [b for b in balances if b["order_id"] == ORDER] != [b for b in default_balances if b["order_id"] == ORDER]
    assert len(balances) == len(default_balances)


def test_bigcommerce_refunds_and_order_reads_are_session_aware(client: FlaskClient) -> None:
    headers = {**BC_TOKEN, **session("bc")}
    quote = client.post(
        f"{BC_STORE}/v3/orders/{BC_ORDER}/payment_actions/refund_quotes",
        json={"items": [{"item_type": "ORDER", "item_id": BC_ORDER, "amount": 1}]},
        headers=headers,
    )
    assert quote.status_code == 201
    method = quote.get_json()["data"]["refund_methods"][0][0]
    refund = client.post(
        f"{BC_STORE}/v3/orders/{BC_ORDER}/payment_actions/refunds",
        json={
            "items": [{"item_type": "ORDER", "item_id": BC_ORDER, "amount": 1}],
            "payments": [{"provider_id": method["provider_id"], "amount": 1, "offline": method["offline"]}],
        },
        headers=headers,
    )
    assert refund.status_code == 201, refund.get_json()
    refund_id = refund.get_json()["data"]["id"]

    def listed(extra: dict[str, str]) -> list[int]:
        found = client.get(f"{BC_STORE}/v3/orders/{BC_ORDER}/payment_actions/refunds", headers={**BC_TOKEN, **extra})
        return [item["id"] for item in found.get_json()["data"]]

    assert refund_id in listed(session("bc"))
    assert refund_id not in listed({})
    assert refund_id not in listed(session("bc-other"))
    v2 = client.get(f"{BC_STORE}/v2/orders/{BC_ORDER}", headers=headers).get_json()
    v2_default = client.get(f"{BC_STORE}/v2/orders/{BC_ORDER}", headers=BC_TOKEN).get_json()
    assert float(v2["refunded_amount"]) == float(v2_default["refunded_amount"]) + 1


def test_graphql_reads_the_session_state(client: FlaskClient) -> None:
    made = refund_one_unit(client, session("gql"))
    query = {"query": f'{{ order(id: "gid://shopify/Order/{ORDER}") {{ refunds {{ id }} }} }}'}

    def refunds(extra: dict[str, str]) -> list[str]:
        answer = client.post(f"{SHOPIFY}/graphql.json", json=query, headers={**SHOPIFY_TOKEN, **extra})
        assert answer.status_code == 200, answer.get_json()
        return [refund["id"] for refund in answer.get_json()["data"]["order"]["refunds"]]

    default = refunds({})  # asked first: a kept answer must not leak into the session
    assert f"gid://shopify/Refund/{made['id']}" in refunds(session("gql"))
    assert refunds({}) == default
    assert f"gid://shopify/Refund/{made['id']}" not in refunds(session("gql-other"))


def test_bad_session_names_are_400_naming_the_header(client: FlaskClient) -> None:
    bad = client.get(f"{SHOPIFY}/orders/{ORDER}.json", headers={**SHOPIFY_TOKEN, **session("no spaces")})
    assert bad.status_code == 400
    assert "X-Mock-Session" in bad.get_json()["errors"]
    too_long = client.post("/__mock/reset", headers=session("x" * 65))
    assert too_long.status_code == 400
    assert "X-Mock-Session" in too_long.get_json()["fields"]
    empty = client.get(f"/__session//admin/api/2020-10/orders/{ORDER}.json", headers=SHOPIFY_TOKEN)
    assert empty.status_code == 400
    both = client.get(f"/__session/one{SHOPIFY}/orders/{ORDER}.json", headers={**SHOPIFY_TOKEN, **session("two")})
    assert both.status_code == 400 and "X-Mock-Session" in both.get_json()["errors"]
    bc = client.get(f"{BC_STORE}/v2/orders/{BC_ORDER}", headers={**BC_TOKEN, **session(".dot")})
    assert bc.status_code == 400
    assert client.get("/__mock/sessions").get_json()["sessions"] == []  # nothing was made


def test_sessions_are_listed_and_dropped(client: FlaskClient) -> None:
    refund_one_unit(client, session("listed"))
    client.get(f"{SHOPIFY}/orders/{ORDER}.json", headers={**SHOPIFY_TOKEN, **session("reader")})
    listing = client.get("/__mock/sessions").get_json()
    by_name = {entry["name"]: entry for entry in listing["sessions"]}
    assert set(by_name) == {"listed", "reader"}
    assert by_name["listed"]["requests"] == 2
    assert (by_name["listed"]["orders_written"], by_name["listed"]["refunds_written"]) == (1, 1)
    assert (by_name["reader"]["orders_written"], by_name["reader"]["refunds_written"]) == (0, 0)
    assert client.delete("/__mock/sessions/listed").get_json() == {"dropped": "listed"}
    assert [entry["name"] for entry in client.get("/__mock/sessions").get_json()["sessions"]] == ["reader"]
    assert refund_ids(client, session("listed")) == refund_ids(client, {})  # back as new
    missing = client.delete("/__mock/sessions/never-made")
    assert missing.status_code == 404 and "never-made" in missing.get_json()["message"]


def test_reading_a_session_through_the_admin_api_neither_makes_it_nor_brings_it_back(client: FlaskClient) -> None:
    """The dashboard watching a session reads it twice a second: a session a CI job dropped stays dropped."""
    for path in ("/__mock/requests", "/__mock/orders?limit=5", "/__mock/scenarios"):
        assert client.get(path, headers=session("watched")).status_code == 200
    assert client.get("/__mock/sessions").get_json()["sessions"] == []
    made = refund_one_unit(client, session("watched"))
    assert client.delete("/__mock/sessions/watched").status_code == 200
    for path in ("/__mock/requests", "/__mock/orders?limit=5", "/__mock/scenarios"):
        assert client.get(path, headers=session("watched")).status_code == 200
    assert client.get("/__mock/sessions").get_json()["sessions"] == []
    assert made["id"] not in refund_ids(client, session("watched"))  # a platform request: made anew, fresh
    assert [entry["name"] for entry in client.get("/__mock/sessions").get_json()["sessions"]] == ["watched"]


def test_idle_sessions_expire(client: FlaskClient, module_app: Flask) -> None:
    sessions = server_of(module_app).sessions
    now = [1_000_000.0]
    real_clock = sessions.clock
    sessions.clock = lambda: now[0]
    try:
        made = refund_one_unit(client, session("sleepy"))
        now[0] += sessions.idle_seconds / 2
        client.get(f"{SHOPIFY}/orders/{ORDER}.json", headers={**SHOPIFY_TOKEN, **session("busy")})
        now[0] += sessions.idle_seconds / 2 + 1  # "sleepy" idle past the limit, "busy" not
        names = [entry["name"] for entry in client.get("/__mock/sessions").get_json()["sessions"]]
        assert names == ["busy"]
        assert made["id"] not in refund_ids(client, session("sleepy"))
    finally:
        sessions.clock = real_clock


def test_a_session_costs_nothing_until_it_writes(client: FlaskClient, module_app: Flask) -> None:
    """Reads in a session share the fixture documents: no copy is made."""
    store = server_of(module_app).store
    for name in ("r1", "r2", "r3"):
        client.get(f"{SHOPIFY}/orders/{ORDER}.json", headers={**SHOPIFY_TOKEN, **session(name)})
    first, second = (store.get_session_order(name, "shopify", ORDER) for name in ("r1", "r2"))
    assert first is not None and second is not None and first.document is second.document
    copies = store._connection().execute("SELECT count(*) FROM session_orders").fetchone()[0]
    assert copies == 0


def resident_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_a_thousand_sessions_with_a_refund_each_fit_in_50_mb(client: FlaskClient) -> None:
    refund_one_unit(client, session("warm-up"))
    gc.collect()
    before = resident_bytes()
    for number in range(1000):
        refund_one_unit(client, session(f"job-{number}"))
    gc.collect()
    grown = resident_bytes() - before
    assert grown < 50 * 1024 * 1024, f"1,000 sessions took {grown / 1e6:.1f} MB"
    assert len(client.get("/__mock/sessions").get_json()["sessions"]) == 1001


def test_sessions_over_real_sockets(make_app: Any) -> None:
    """The prefix through a real server, as a browser or a client without headers sends it."""
    app = make_app()
    with live_server(app) as base:
        url = f"{base}/__session/http-1{SHOPIFY}/orders/{ORDER}.json"
        request = urllib.request.Request(url, headers=SHOPIFY_TOKEN)
        with urllib.request.urlopen(request) as response:
            assert json.loads(response.read())["order"]["id"] == ORDER
        listing = urllib.request.urlopen(f"{base}/__mock/sessions")
        assert [entry["name"] for entry in json.loads(listing.read())["sessions"]] == ["http-1"]
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(urllib.request.Request(f"{base}/__session/bad!name{SHOPIFY}/orders.json"))
        assert refused.value.code == 400


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc")
def test_sessions_are_the_same_on_every_worker(tmp_path: Path) -> None:
    from tests.test_workers import refund_one_unit, serve_workers

    path = f"{SHOPIFY}/orders/{ORDER}"
    line_body = {"refund": {"refund_line_items": [LINE]}}
    w1 = {**SHOPIFY_TOKEN, **session("w1")}
    with serve_workers("--state", str(tmp_path / "state.sqlite3")) as workers:
        first, second = workers.pids()
        with workers.only(first):
            refund_id = refund_one_unit(workers, w1)["id"]
            switched = workers.call(
                "PUT", "/__mock/scenarios/shopify-over-quantity/active", {"active": True}, session("w1")
            )
            assert switched[0] == 200
        with workers.only(second):
            listed = workers.call("GET", f"{path}/refunds.json", headers=w1)[1]
            assert refund_id in [refund["id"] for refund in listed["refunds"]]
            default = workers.call("GET", f"{path}/refunds.json", headers=SHOPIFY_TOKEN)[1]
            assert refund_id not in [refund["id"] for refund in default["refunds"]]
            assert workers.call("POST", f"{path}/refunds.json", line_body, w1)[0] == 422  # the switch holds here
            assert workers.call("POST", f"{path}/refunds/calculate.json", line_body, SHOPIFY_TOKEN)[0] == 200
            journal = workers.call("GET", "/__mock/requests", headers=session("w1"))[1]
            assert [entry["operationId"] for entry in journal["requests"]] == [
                "calculateRefund",
                "createRefund",
                "listRefunds",
                "createRefund",
            ]
            sessions = workers.call("GET", "/__mock/sessions")[1]["sessions"]
            assert [(entry["name"], entry["refunds_written"]) for entry in sessions] == [("w1", 1)]
            assert workers.call("DELETE", "/__mock/sessions/w1")[0] == 200
        with workers.only(first):  # dropped here too: its refund and its switch are gone
            listed = workers.call("GET", f"{path}/refunds.json", headers=w1)[1]
            assert refund_id not in [refund["id"] for refund in listed["refunds"]]
            assert workers.call("POST", f"{path}/refunds/calculate.json", line_body, w1)[0] == 200
            journal = workers.call("GET", "/__mock/requests", headers=session("w1"))[1]
            assert [entry["operationId"] for entry in journal["requests"]] == ["listRefunds", "calculateRefund"]


def test_a_browser_front_end_may_send_the_header(client: FlaskClient) -> None:
    """A page on another origin asks first (CORS preflight); the answer allows `X-Mock-Session`."""
    preflight = client.options(
        f"{SHOPIFY}/orders/{ORDER}.json",
        headers={
            "Origin": "http://localhost:5173",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "x-shopify-access-token",
        },
    )
    assert preflight.status_code == 204
    allowed = {name.strip().lower() for name in preflight.headers["Access-Control-Allow-Headers"].split(",")}
    assert "x-mock-session" in allowed


def test_the_idle_time_is_a_serve_option() -> None:
    from click.testing import CliRunner

    from mockserver.cli import main

    assert "--session-idle" in CliRunner().invoke(main, ["serve", "--help"]).output
    refused = CliRunner().invoke(main, ["serve", "--session-idle", "0"])
    assert refused.exit_code == 2 and "--session-idle" in refused.output
    assert MockConfig().session_idle == 3600.0  # the default the README and the spec state


def test_a_session_starts_with_the_start_up_scenarios_switched_as_loaded(make_app: Any, tmp_path: Path) -> None:
    scenarios = tmp_path / "always.yaml"
    scenarios.write_text(
        "scenarios:\n"
        "  - name: orders-unavailable\n"
        "    active: true\n"
        "    rules:\n"
        "      - match: {platform: shopify, operationId: getOrder}\n"
        "        respond: {status: 503, error: {message: Service Unavailable}}\n",
        encoding="utf-8",
    )
    client = make_app(scenario_files=[scenarios]).test_client()
    path = f"{SHOPIFY}/orders/{ORDER}.json"
    assert client.get(path, headers={**SHOPIFY_TOKEN, **session("new")}).status_code == 503
    switched = client.put("/__mock/scenarios/orders-unavailable/active", json={"active": False}, headers=session("new"))
    assert switched.status_code == 200
    assert client.get(path, headers={**SHOPIFY_TOKEN, **session("new")}).status_code == 200
    assert client.get(path, headers=SHOPIFY_TOKEN).status_code == 503  # the default session keeps it on
    assert client.get(path, headers={**SHOPIFY_TOKEN, **session("newer")}).status_code == 503
