"""Latency: `serve --latency LOW-HIGH` for every platform answer, and a scenario rule's `delay`."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import requests
from flask import Flask

from mockserver.app import server_of
from mockserver.cli import parse_latency
from tests.conftest import FIXTURES_DIR
from tests.live_server import live_server

SHOPIFY_ORDER = int(sorted((FIXTURES_DIR / "shopify" / "orders").glob("*.json"))[0].stem)
GET_ORDER = f"/admin/api/2020-10/orders/{SHOPIFY_ORDER}.json"
SHOPIFY = {"X-Shopify-Access-Token": "any-token"}
SLACK = 0.5  # seconds a loaded CI machine may add on top of the latency asked for


def timed_get(url: str, **kwargs: object) -> tuple[float, requests.Response]:
    started = time.perf_counter()
    response = requests.get(url, timeout=10, **kwargs)  # type: ignore[arg-type]
    return time.perf_counter() - started, response


def test_latency_option_forms() -> None:
    assert parse_latency("50-200") == (50.0, 200.0)
    assert parse_latency(" 75 ") == (75.0, 75.0)
    assert parse_latency(None) is None


def test_sampled_latency_stays_within_bounds_and_varies(make_app: Callable[..., Flask]) -> None:
    server = server_of(make_app(latency_ms=(50, 80)))
    samples = [server.sample_latency() for _ in range(500)]
    assert all(0.05 <= sample <= 0.08 for sample in samples)
    assert max(samples) - min(samples) > 0.015  # a range, not a constant


def test_a_bad_latency_range_is_refused(make_app: Callable[..., Flask]) -> None:
    with pytest.raises(ValueError, match="latency"):
        make_app(latency_ms=(200, 100))


def test_every_platform_answer_is_delayed_within_bounds(make_app: Callable[..., Flask]) -> None:
    low, high = 0.2, 0.3
    with live_server(make_app(latency_ms=(low * 1000, high * 1000))) as base:
        for _ in range(3):
            elapsed, response = timed_get(base + GET_ORDER, headers=SHOPIFY)
            assert response.status_code == 200
            assert low <= elapsed <= high + SLACK, elapsed
        elapsed, response = timed_get(base + "/admin/api/2020-10/orders/1/nothing.json", headers=SHOPIFY)
        assert response.status_code == 404 and elapsed >= low  # unrouted platform paths too
        elapsed, response = timed_get(base + "/__mock/health")
        assert response.status_code == 200 and elapsed < low  # the admin API is never slowed down
        durations = [
            entry["duration_ms"] for entry in requests.get(base + "/__mock/requests", timeout=5).json()["requests"]
        ]
        assert len(durations) == 4 and all(low * 1000 <= duration <= (high + SLACK) * 1000 for duration in durations)


def test_a_rule_delay_adds_to_the_computed_answer(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    slow = {
        "name": "slow",
        "rules": [{"match": {"platform": "shopify"}, "respond": {"passthrough": True, "delay": 250}}],
    }
    app.test_client().post("/__mock/scenarios", json=slow)
    with live_server(app) as base:
        quick, plain = timed_get(base + GET_ORDER, headers=SHOPIFY)
        elapsed, delayed = timed_get(base + GET_ORDER, headers={**SHOPIFY, "X-Mock-Scenario": "slow"})
    assert delayed.status_code == 200 and delayed.json() == plain.json()
    assert 0.25 <= elapsed <= 0.25 + SLACK
    assert quick < 0.25
