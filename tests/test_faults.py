"""Faults as a real HTTP client sees them: a reset connection, an empty reply, broken JSON.

Each test starts a real server on a free loopback port: the werkzeug server `refund-mock serve`
uses, and gunicorn when it is installed.
"""

from __future__ import annotations

import errno
import http.client
import importlib.util
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from flask import Flask

from tests.conftest import FIXTURES_DIR, REPO_ROOT
from tests.live_server import live_server

SHOPIFY_ORDER = int(sorted((FIXTURES_DIR / "shopify" / "orders").glob("*.json"))[0].stem)
GET_ORDER = f"/admin/api/2020-10/orders/{SHOPIFY_ORDER}.json"
CALCULATE = f"/admin/api/2020-10/orders/{SHOPIFY_ORDER}/refunds/calculate.json"
SHOPIFY = {"X-Shopify-Access-Token": "any-token"}
FAULTS = {
    "scenarios": [
        {"name": kind, "rules": [{"match": {"platform": "shopify"}, "respond": {"fault": kind}}]}
        for kind in ("connection-reset", "empty-response", "malformed-json")
    ]
}


def causes(error: BaseException) -> Iterator[BaseException]:
    """Every exception wrapped inside `error` (requests -> urllib3 -> http.client / socket)."""
    seen: set[int] = set()
    pending: list[Any] = [error]
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending.extend([*current.args, current.__cause__, current.__context__, getattr(current, "reason", None)])


def was_reset(error: BaseException) -> bool:
    """A RST from the peer: errno ECONNRESET, not merely a connection closed without an answer."""
    return any(type(cause) is ConnectionResetError and cause.errno == errno.ECONNRESET for cause in causes(error))


def was_empty(error: BaseException) -> bool:
    return any(isinstance(cause, http.client.RemoteDisconnected) for cause in causes(error))


def fault_request(base: str, kind: str, **kwargs: Any) -> requests.ConnectionError:
    with pytest.raises(requests.ConnectionError) as raised:
        requests.get(base + GET_ORDER, headers={**SHOPIFY, "X-Mock-Scenario": kind}, timeout=5, **kwargs)
    return raised.value


@pytest.fixture
def base_url(make_app: Callable[..., Flask]) -> Iterator[str]:
    app = make_app()
    app.testing = False  # a live server answers like `serve` does
    with live_server(app) as base:
        assert requests.post(base + "/__mock/scenarios", json=FAULTS, timeout=5).status_code == 201
        yield base


def test_connection_reset_is_a_real_reset(base_url: str) -> None:
    error = fault_request(base_url, "connection-reset")
    assert was_reset(error), list(causes(error))
    assert requests.get(base_url + GET_ORDER, headers=SHOPIFY, timeout=5).status_code == 200  # the server lives on


def test_empty_response_closes_without_an_answer(base_url: str) -> None:
    error = fault_request(base_url, "empty-response")
    assert was_empty(error) and not was_reset(error), list(causes(error))
    assert requests.get(base_url + GET_ORDER, headers=SHOPIFY, timeout=5).status_code == 200


def test_faults_on_a_kept_alive_connection(base_url: str) -> None:
    with requests.Session() as session:
        assert session.get(base_url + GET_ORDER, headers=SHOPIFY, timeout=5).status_code == 200
        error = fault_request(base_url, "connection-reset")
        assert was_reset(error)
        assert session.get(base_url + GET_ORDER, headers=SHOPIFY, timeout=5).status_code == 200


def test_malformed_json_is_a_complete_answer_with_a_broken_body(base_url: str) -> None:
    normal = requests.get(base_url + GET_ORDER, headers=SHOPIFY, timeout=5)
    broken = requests.get(base_url + GET_ORDER, headers={**SHOPIFY, "X-Mock-Scenario": "malformed-json"}, timeout=5)
    assert broken.status_code == 200
    assert broken.headers["Content-Type"].startswith("application/json")
    assert int(broken.headers["Content-Length"]) == len(broken.content) < len(normal.content)
    assert normal.content.startswith(broken.content)
    with pytest.raises(requests.JSONDecodeError):
        broken.json()


def test_faults_are_journaled(base_url: str) -> None:
    fault_request(base_url, "connection-reset")
    requests.get(base_url + GET_ORDER, headers={**SHOPIFY, "X-Mock-Scenario": "malformed-json"}, timeout=5)
    entries = requests.get(base_url + "/__mock/requests", timeout=5).json()["requests"]
    assert [(e["status"], e["scenario"], e["fault"]) for e in entries] == [
        (0, "connection-reset", "connection-reset"),
        (200, "malformed-json", "malformed-json"),
    ]


def test_the_flask_test_client_sees_the_reset_as_an_error(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    client.post("/__mock/scenarios", json=FAULTS)
    with pytest.raises(ConnectionResetError):
        client.get(GET_ORDER, headers={**SHOPIFY, "X-Mock-Scenario": "connection-reset"}).get_data()


# -- gunicorn ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(params=["sync", "gthread"])
def gunicorn_url(request: pytest.FixtureRequest) -> Iterator[str]:
    if importlib.util.find_spec("gunicorn") is None:
        pytest.skip("gunicorn is not installed (pip install gunicorn)")
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers=1",
        "--graceful-timeout=1",
        f"--worker-class={request.param}",
        f"--bind=127.0.0.1:{port}",
        "mockserver.app:create_app()",
    ]
    process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(base + "/__mock/health", timeout=5)
                break
            except requests.RequestException:  # bound but the worker still loading, or not bound yet
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"gunicorn did not start: {process.stderr.read().decode() if process.stderr else ''}")
                time.sleep(0.1)
        assert requests.post(base + "/__mock/scenarios", json=FAULTS, timeout=5).status_code == 201
        yield base
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
        assert b"Traceback" not in stderr, stderr.decode()  # faults leave no errors in gunicorn's log


def test_faults_under_gunicorn(gunicorn_url: str) -> None:
    assert was_reset(fault_request(gunicorn_url, "connection-reset"))
    empty = fault_request(gunicorn_url, "empty-response")
    assert was_empty(empty) and not was_reset(empty)
    broken = requests.get(gunicorn_url + GET_ORDER, headers={**SHOPIFY, "X-Mock-Scenario": "malformed-json"}, timeout=5)
    with pytest.raises(requests.JSONDecodeError):
        broken.json()
    assert requests.get(gunicorn_url + GET_ORDER, headers=SHOPIFY, timeout=5).status_code == 200
