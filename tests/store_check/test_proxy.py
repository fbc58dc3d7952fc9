"""`serve --proxy`: a platform's traffic goes to the real store, unchanged, with the spec's verdict
on the request and the response in `X-Mock-Violations` and both in the journal; platforms not
proxied stay mocked."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from store_check_support import FIXTURES_DIR, STORE_HASH, Store
from werkzeug.wrappers import Request, Response

from mockserver.app import MockConfig, create_app, server_of
from mockserver.cli import main
from mockserver.contract.proxy import VIOLATIONS_HEADER, ProxyError, parse_proxy
from tests.live_server import live_server

SHOPIFY = {"X-Shopify-Access-Token": "store-token"}
BIGCOMMERCE = {"X-Auth-Token": "store-token"}
ORDER = 3012450010101
CALCULATE = f"/admin/api/2020-10/orders/{ORDER}/refunds/calculate.json"
ONE_UNIT = {
    "refund": {"refund_line_items": [{"line_item_id": 10010000001, "quantity": 1, "restock_type": "no_restock"}]}
}


@pytest.fixture
def proxy_app() -> Iterator[Callable[..., Flask]]:
    built: list[Flask] = []

    def build(**targets: str) -> Flask:
        app = create_app(MockConfig(fixtures_dir=FIXTURES_DIR, strict_responses=True, proxy=targets))
        built.append(app)
        return app

    yield build
    for app in built:
        server_of(app).close()


def violations(response: Any) -> list[dict[str, str]]:
    header = response.headers.get(VIOLATIONS_HEADER)
    return json.loads(header) if header else []


def test_good_traffic_passes_through_unchanged(store: Store, proxy_app: Callable[..., Flask]) -> None:
    client: FlaskClient = proxy_app(shopify=store.base).test_client()
    for method, path, body in [
        ("GET", f"/admin/api/2020-10/orders/{ORDER}.json", None),
        ("GET", f"/admin/api/2020-10/orders/{ORDER}/transactions.json", None),
        ("POST", CALCULATE, ONE_UNIT),
        ("GET", "/admin/api/2020-10/orders/999.json", None),  # the store's own 404
    ]:
        proxied = client.open(path, method=method, json=body, headers=SHOPIFY)
        direct = requests.request(method, store.base + path, json=body, headers=SHOPIFY, timeout=10)
        assert proxied.status_code == direct.status_code
        assert proxied.get_data() == direct.content  # byte for byte
        assert proxied.headers["Content-Type"] == direct.headers["Content-Type"]
        assert VIOLATIONS_HEADER not in proxied.headers, proxied.headers[VIOLATIONS_HEADER]
    seen = [(method, operation) for method, operation in store.requests_seen() if operation == "calculateRefund"]
    assert len(seen) == 2  # the proxied calculate reached the store (and the direct one)


def test_writes_reach_the_store_and_both_sides_are_journaled(store: Store, proxy_app: Callable[..., Flask]) -> None:
    app = proxy_app(shopify=store.base)
    answer = app.test_client().post(f"/admin/api/2020-10/orders/{ORDER}/refunds.json", json=ONE_UNIT, headers=SHOPIFY)
    assert answer.status_code == 201
    assert ("POST", "createRefund") in store.requests_seen()
    entry = server_of(app).journal.entries()[-1].to_json()
    assert entry["operationId"] == "createRefund" and entry["status"] == 201
    assert entry["body"] == ONE_UNIT  # what the client sent
    assert entry["proxy"]["url"] == f"{store.base}/admin/api/2020-10/orders/{ORDER}/refunds.json"
    assert entry["proxy"]["response"] == answer.get_json()  # what the store answered
    assert entry["proxy"]["violations"] == []
    listed = app.test_client().get("/__mock/requests").get_json()  # the admin API serves it (spec-checked)
    assert listed["requests"][-1]["proxy"]["response"]["refund"]["id"] == answer.get_json()["refund"]["id"]


def test_a_request_the_spec_rejects_is_still_sent_and_flagged(store: Store, proxy_app: Callable[..., Flask]) -> None:
    client = proxy_app(shopify=store.base).test_client()
    bad = {"refund": {"refund_line_items": [{"line_item_id": 10010000001, "quantity": "one"}]}}
    answer = client.post(CALCULATE, json=bad, headers=SHOPIFY)
    assert answer.status_code == 422  # the store's own verdict, passed through
    flagged = violations(answer)
    assert [(v["in"], v["field"]) for v in flagged] == [("request", "refund.refund_line_items.0.quantity")]
    assert ("POST", "calculateRefund") in store.requests_seen()


@pytest.fixture
def broken_store() -> Iterator[str]:
    """A store whose calculate answers a body the spec rejects: `amount` a number, `currency` missing."""

    @Request.application
    def app(request: Request) -> Response:
        body = {"refund": {"shipping": {"amount": 5, "tax": "0.00", "maximum_refundable": "7.95"}}}
        return Response(json.dumps(body), 200, {"X-Request-Id": "abc"}, content_type="application/json")

    with live_server(app) as url:
        yield url


def test_a_response_the_spec_rejects_is_flagged(broken_store: str, proxy_app: Callable[..., Flask]) -> None:
    app = proxy_app(shopify=broken_store)
    answer = app.test_client().post(CALCULATE, json=ONE_UNIT, headers=SHOPIFY)
    assert answer.status_code == 200
    assert answer.get_json()["refund"]["shipping"]["amount"] == 5  # passed on as the store sent it
    assert answer.headers["X-Request-Id"] == "abc"
    flagged = violations(answer)
    assert flagged and all(v["in"] == "response" for v in flagged)
    fields = {v["field"] for v in flagged}
    assert "refund.shipping.amount" in fields
    assert server_of(app).journal.entries()[-1].proxy["violations"] == flagged


def test_platforms_not_proxied_stay_mocked(store: Store, proxy_app: Callable[..., Flask]) -> None:
    client = proxy_app(shopify=store.base).test_client()
    answer = client.get("/stores/abc123/v2/orders/100", headers=BIGCOMMERCE)
    assert answer.status_code == 200 and answer.get_json()["id"] == 100
    assert not any(operation == "getOrder" for _, operation in store.requests_seen())  # never reached the store


def test_bigcommerce_paths_go_to_the_stores_own_api_base(store: Store, proxy_app: Callable[..., Flask]) -> None:
    client = proxy_app(bigcommerce=f"{store.base}/stores/{STORE_HASH}").test_client()
    answer = client.get("/stores/anyhash/v2/orders/100/products", headers=BIGCOMMERCE)
    direct = requests.get(f"{store.base}/stores/{STORE_HASH}/v2/orders/100/products", headers=BIGCOMMERCE, timeout=10)
    assert answer.status_code == 200 and answer.get_data() == direct.content
    assert VIOLATIONS_HEADER not in answer.headers


def test_a_path_the_spec_lacks_is_forwarded_and_flagged(store: Store, proxy_app: Callable[..., Flask]) -> None:
    client = proxy_app(shopify=store.base).test_client()
    answer = client.get("/admin/api/2020-10/shop.json", headers=SHOPIFY)
    assert answer.status_code == 404  # the store (a refund-mock) has no such path either
    assert violations(answer)[0]["field"] == "path"


def test_an_unreachable_store_is_a_503_in_the_platforms_shape(proxy_app: Callable[..., Flask]) -> None:
    client = proxy_app(shopify="http://127.0.0.1:9").test_client()  # port 9 (discard): nothing listens
    answer = client.get(f"/admin/api/2020-10/orders/{ORDER}.json", headers=SHOPIFY)
    assert answer.status_code == 503
    assert "could not be reached" in answer.get_json()["errors"]


def test_the_proxy_option_is_checked() -> None:
    assert parse_proxy(
        "shopify=https://shop.example, bigcommerce=https://api.example/stores/abc/", {"shopify", "bigcommerce"}
    ) == {
        "shopify": "https://shop.example",
        "bigcommerce": "https://api.example/stores/abc",
    }
    for text in ("shopify", "square=https://x.example", "shopify=ftp://x", "shopify=https://a,shopify=https://b"):
        with pytest.raises(ProxyError):
            parse_proxy(text, {"shopify", "bigcommerce"})
    result = CliRunner().invoke(main, ["serve", "--proxy", "shopify=https://shop.example", "--workers", "2"])
    assert result.exit_code == 2 and "--proxy goes without --workers" in result.output
    result = CliRunner().invoke(main, ["serve", "--proxy", "nope"])
    assert result.exit_code == 2 and "PLATFORM=URL" in result.output


def test_the_violations_header_is_declared_in_both_specs() -> None:
    from mockserver.openapi import data_dir, load_document

    for name in ("shopify-2020-10.yaml", "bigcommerce-v3.yaml"):
        document = load_document(data_dir("specs") / name)
        assert VIOLATIONS_HEADER in document["components"]["headers"], name


def test_a_head_request_is_not_flagged_for_its_empty_body(store: Store, proxy_app: Callable[..., Flask]) -> None:
    client = proxy_app(shopify=store.base).test_client()
    answer = client.head(f"/admin/api/2020-10/orders/{ORDER}.json", headers=SHOPIFY)
    assert answer.status_code == 200
    assert VIOLATIONS_HEADER not in answer.headers


def test_an_application_graphql_body_is_checked_as_the_spec_declares_it(
    store: Store, proxy_app: Callable[..., Flask]
) -> None:
    client = proxy_app(shopify=store.base).test_client()
    headers = {**SHOPIFY, "Content-Type": "application/graphql"}
    document = f'{{ order(id: "gid://shopify/Order/{ORDER}") {{ name }} }}'
    answer = client.post("/admin/api/2025-01/graphql.json", data=document, headers=headers)
    assert answer.status_code == 200
    assert answer.get_json()["data"] == {"order": {"name": "#1101"}}
    assert violations(answer) == []  # the document alone is a body the spec takes
    entry = server_of(client.application).journal.entries()[-1].to_json()
    assert entry["body"] == document
    blank = client.post("/admin/api/2025-01/graphql.json", data="  ", headers=headers)
    assert [(v["in"], v["field"]) for v in violations(blank)] == [("request", "body")]
