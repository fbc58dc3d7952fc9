"""No web page may drive the mock (mockserver.guard), as Vite's dev server defaults go.

`server.allowedHosts`: a `Host` that is neither localhost (or under `.localhost`), an IP address
nor a listed host is refused on every path, which defeats DNS rebinding. `server.cors` no longer
open to every origin: here the admin API answers only its own origin and listed ones, while the
platform APIs keep CORS for front ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from mockserver.guard import host_name, normalise_origin
from tests.conftest import FIXTURES_DIR
from tests.live_server import live_server

SHOPIFY_ORDER = int(sorted((FIXTURES_DIR / "shopify" / "orders").glob("*.json"))[0].stem)
GET_ORDER = f"/admin/api/2020-10/orders/{SHOPIFY_ORDER}.json"
SHOPIFY = {"X-Shopify-Access-Token": "t"}
FRONT_END = "http://localhost:5173"
REBOUND = "attacker.example"  # a name an attacker's DNS points at 127.0.0.1 after the page loaded


@pytest.fixture
def base_url(make_app: Callable[..., Flask]) -> Iterator[str]:
    with live_server(make_app()) as base:
        yield base


def journal_count(client: FlaskClient) -> int:
    return client.get("/__mock/requests").get_json()["count"]


@pytest.mark.parametrize(
    ("path", "method"),
    [("/__mock/health", "GET"), ("/__mock/reset", "POST"), ("/__mock/requests", "GET"), (GET_ORDER, "GET")],
)
def test_a_rebound_host_name_is_refused_on_every_path(base_url: str, path: str, method: str) -> None:
    response = requests.request(method, base_url + path, headers={**SHOPIFY, "Host": f"{REBOUND}:8080"}, timeout=5)
    assert response.status_code == 403
    assert response.headers["Content-Type"].startswith("application/json")
    text = response.text
    assert REBOUND in text and "--allowed-hosts" in text  # which host, and how to allow it
    assert "Access-Control-Allow-Origin" not in response.headers


def test_the_refusal_comes_in_the_shape_of_the_api_of_the_path(client: FlaskClient) -> None:
    shopify = client.get(GET_ORDER, headers={**SHOPIFY, "Host": REBOUND})
    assert shopify.status_code == 403 and isinstance(shopify.get_json()["errors"], str)
    bigcommerce = client.get("/stores/abc/v3/orders/100/transactions", headers={"X-Auth-Token": "t", "Host": REBOUND})
    assert bigcommerce.status_code == 403 and bigcommerce.get_json()["status"] == 403
    admin = client.post("/__mock/reset", headers={"Host": REBOUND})
    assert admin.status_code == 403 and admin.get_json()["status"] == 403 and REBOUND in admin.get_json()["message"]


def test_a_refused_request_changes_nothing(client: FlaskClient) -> None:
    client.get(GET_ORDER, headers=SHOPIFY)
    assert journal_count(client) == 1
    assert client.delete("/__mock/requests", headers={"Host": REBOUND}).status_code == 403
    assert client.get(GET_ORDER, headers={**SHOPIFY, "Host": REBOUND}).status_code == 403
    assert journal_count(client) == 1  # not emptied, and the refused read was never served


@pytest.mark.parametrize(
    "host", ["localhost", "localhost:8080", "app.localhost:8080", "127.0.0.1:8080", "[::1]:8080", "192.168.1.20"]
)
def test_localhost_names_and_ip_addresses_are_answered(client: FlaskClient, host: str) -> None:
    assert client.get("/__mock/health", headers={"Host": host}).status_code == 200
    assert client.get(GET_ORDER, headers={**SHOPIFY, "Host": host}).status_code == 200


def test_listed_hosts_are_answered_and_a_leading_dot_covers_the_names_under_it(
    make_app: Callable[..., Flask],
) -> None:
    client = make_app(allowed_hosts=["refund-mock", ".mocks.test"]).test_client()
    for host in ("refund-mock:8080", "mocks.test", "shop.mocks.test:8080"):
        assert client.get("/__mock/health", headers={"Host": host}).status_code == 200, host
    for host in ("refund-mock.evil.example", "evilmocks.test"):
        assert client.get("/__mock/health", headers={"Host": host}).status_code == 403, host


def test_another_origin_cannot_reset_the_mock(base_url: str) -> None:
    headers = {**SHOPIFY, "Content-Type": "application/json"}
    calculate = f"{base_url}/admin/api/2020-10/orders/{SHOPIFY_ORDER}/refunds/calculate.json"
    requests.post(calculate, json={"refund": {"shipping": {"full_refund": True}}}, headers=headers, timeout=5)
    assert requests.get(f"{base_url}/__mock/requests", timeout=5).json()["count"] == 1
    for method, path in (("POST", "/__mock/reset"), ("DELETE", "/__mock/requests"), ("GET", "/__mock/requests")):
        response = requests.request(method, base_url + path, headers={"Origin": "http://evil.example"}, timeout=5)
        assert response.status_code == 403, path
        assert "--admin-origins http://evil.example" in response.json()["message"]
        assert "Access-Control-Allow-Origin" not in response.headers  # the page cannot read the answer either
    assert requests.get(f"{base_url}/__mock/requests", timeout=5).json()["count"] == 1  # nothing was reset


def test_a_preflight_to_the_admin_api_from_another_origin_is_refused(base_url: str) -> None:
    preflight = {"Origin": FRONT_END, "Access-Control-Request-Method": "POST"}
    response = requests.options(f"{base_url}/__mock/scenarios", headers=preflight, timeout=5)
    assert response.status_code == 403 and "Access-Control-Allow-Origin" not in response.headers


def test_a_cross_site_request_without_origin_is_refused(client: FlaskClient) -> None:
    assert client.get("/__mock/requests", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert client.get("/__mock/requests", headers={"Sec-Fetch-Site": "same-origin"}).status_code == 200


def test_the_admin_api_answers_its_own_origin_and_listed_ones(make_app: Callable[..., Flask]) -> None:
    with live_server(make_app(admin_origins=[FRONT_END])) as base:
        own = requests.post(f"{base}/__mock/reset", headers={"Origin": base}, timeout=5)
        assert own.status_code == 200
        listed = requests.post(f"{base}/__mock/reset", headers={"Origin": FRONT_END}, timeout=5)
        assert listed.status_code == 200 and listed.headers["Access-Control-Allow-Origin"] == FRONT_END
        preflight = {"Origin": FRONT_END, "Access-Control-Request-Method": "POST"}
        answered = requests.options(f"{base}/__mock/reset", headers=preflight, timeout=5)
        assert answered.status_code == 204 and answered.headers["Access-Control-Allow-Origin"] == FRONT_END
        other = requests.post(f"{base}/__mock/reset", headers={"Origin": "http://localhost:3000"}, timeout=5)
        assert other.status_code == 403


def test_the_platform_apis_keep_cors_for_front_ends_of_any_origin(base_url: str) -> None:
    response = requests.get(base_url + GET_ORDER, headers={**SHOPIFY, "Origin": "http://shop.dev.test:3000"}, timeout=5)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "http://shop.dev.test:3000"


@pytest.mark.parametrize(
    ("header", "name"),
    [("LOCALHOST:8080", "localhost"), ("[::1]:80", "::1"), ("example.test.", "example.test"), ("::1", "::1")],
)
def test_host_names_are_read_without_port_case_or_final_dot(header: str, name: str) -> None:
    assert host_name(header) == name


@pytest.mark.parametrize(
    ("origin", "normalised"),
    [
        ("http://localhost:5173", "http://localhost:5173"),
        ("HTTP://LocalHost", "http://localhost:80"),
        ("https://[::1]", "https://[::1]:443"),
        ("null", None),
        ("file://", None),
    ],
)
def test_origins_are_compared_with_their_default_port(origin: str, normalised: str | None) -> None:
    assert normalise_origin(origin) == normalised
