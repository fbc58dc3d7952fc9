"""CORS for a browser front end on the platform APIs: preflights, `Origin` echoed, auth headers
allowed; `--no-cors`. (The admin API answers other origins only when listed: test_browser_guard.py.)"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import requests
from flask import Flask

from tests.conftest import FIXTURES_DIR
from tests.live_server import live_server

SHOPIFY_ORDER = int(sorted((FIXTURES_DIR / "shopify" / "orders").glob("*.json"))[0].stem)
CALCULATE = f"/admin/api/2020-10/orders/{SHOPIFY_ORDER}/refunds/calculate.json"
GET_ORDER = f"/admin/api/2020-10/orders/{SHOPIFY_ORDER}.json"
BROWSER = "http://localhost:5173"
PREFLIGHT = {
    "Origin": BROWSER,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type,x-shopify-access-token,x-mock-scenario",
}


def listed(value: str | None) -> set[str]:
    return {part.strip().lower() for part in (value or "").split(",") if part.strip()}


@pytest.fixture
def base_url(make_app: Callable[..., Flask]) -> Iterator[str]:
    with live_server(make_app()) as base:
        yield base


@pytest.mark.parametrize("path", [CALCULATE, "/stores/abc/v3/orders/100/payment_actions/refund_quotes"])
def test_a_preflight_from_a_browser_origin_is_answered(base_url: str, path: str) -> None:
    response = requests.options(base_url + path, headers=PREFLIGHT, timeout=5)
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == BROWSER
    assert "post" in listed(response.headers["Access-Control-Allow-Methods"])
    allowed = listed(response.headers["Access-Control-Allow-Headers"])
    assert {"x-shopify-access-token", "x-auth-token", "content-type", "x-mock-scenario", "prefer"} <= allowed
    assert int(response.headers["Access-Control-Max-Age"]) > 0
    assert "origin" in listed(response.headers["Vary"])


def test_answers_echo_the_origin_and_expose_the_platform_headers(base_url: str) -> None:
    headers = {"Origin": BROWSER, "X-Shopify-Access-Token": "t", "X-Mock-Scenario": "shopify-rate-limited"}
    response = requests.get(base_url + GET_ORDER, headers=headers, timeout=5)
    assert response.status_code == 429
    assert response.headers["Access-Control-Allow-Origin"] == BROWSER
    exposed = listed(response.headers["Access-Control-Expose-Headers"])
    assert {"retry-after", "x-shopify-shop-api-call-limit", "x-retry-after", "x-rate-limit-requests-left"} <= exposed
    error = requests.get(base_url + "/nowhere", headers={"Origin": BROWSER}, timeout=5)
    assert error.headers["Access-Control-Allow-Origin"] == BROWSER  # errors are readable by the page too


def test_requests_without_an_origin_get_no_cors_headers(base_url: str) -> None:
    response = requests.get(base_url + GET_ORDER, headers={"X-Shopify-Access-Token": "t"}, timeout=5)
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers
    plain_options = requests.options(base_url + CALCULATE, timeout=5)
    assert plain_options.status_code == 405 and "POST" in plain_options.headers["Allow"]


def test_no_cors_turns_it_off(make_app: Callable[..., Flask]) -> None:
    with live_server(make_app(cors=False)) as base:
        preflight = requests.options(base + CALCULATE, headers=PREFLIGHT, timeout=5)
        answer = requests.get(base + GET_ORDER, headers={"Origin": BROWSER, "X-Shopify-Access-Token": "t"}, timeout=5)
    assert preflight.status_code == 405 and "Access-Control-Allow-Origin" not in preflight.headers
    assert answer.status_code == 200 and "Access-Control-Allow-Origin" not in answer.headers
