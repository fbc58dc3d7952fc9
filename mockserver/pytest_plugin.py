"""pytest plugin: a `refund_mock` fixture, a fresh mock server for each test.

Installing refund-mock registers it (entry point `pytest11`), so a downstream test suite only
asks for the fixture:

    def test_refund_button(refund_mock):
        shop = refund_mock.url("shopify")          # http://127.0.0.1:PORT/admin/api/2020-10
        ...                                        # point your client at it
        assert refund_mock.requests(operationId="createRefund")[0]["status"] == 201

The server runs in a background thread of the test process, on a free loopback port, with the
committed fixture orders and nothing else: every test starts from the same state. Settings of
`refund-mock serve` are given with a marker: `@pytest.mark.refund_mock(tokens={...},
fixtures_dir="my-fixtures", latency_ms="50-200")` (the fields of `mockserver.app.MockConfig`;
paths as text or `Path`, latency as the CLI writes it or a `(low, high)` pair).

For a large suite, `refund_mock_session` is cheaper: one server for the whole run (one per
pytest-xdist worker process), and each test gets an isolated session of its own on it
(`mockserver.sessions`): a fresh state per test in well under a millisecond of set-up.

    def test_refund_button(refund_mock_session):
        shop = refund_mock_session.url("shopify")  # http://127.0.0.1:PORT/__session/<name>/admin/api/2020-10
        ...                                        # or send refund_mock_session.headers on each request

Its server's settings come from the `refund_mock_settings` fixture (a dict of MockConfig fields,
empty by default): override it, with `scope="session"`, in a conftest.py.

pytest loads this module in every run of every project that has refund-mock installed, so it
imports nothing heavy: Flask, the specs and the engines are imported when a test first asks
for the fixture. A test's server stops as soon as the test ends (no poll interval to wait out).
"""

from __future__ import annotations

import itertools
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from flask import Flask

MARKER = "refund_mock"

SHOPIFY_API_VERSION = "2020-10"
DEFAULT_STORE_HASH = "refundmock"  # BigCommerce orders without a pinned store answer under any hash


class RefundMock:
    """The mock serving one test: where it listens and how to steer it (admin API calls)."""

    def __init__(self, app: Flask, base_url: str, session: str | None = None):
        self.app = app
        self.base_url = base_url
        self.session = session  # the named session this test acts on (None: the server's default one)
        self._admin = app.test_client()
        if session is not None:
            self._admin.environ_base["HTTP_X_MOCK_SESSION"] = session

    @property
    def headers(self) -> dict[str, str]:
        """The header that puts a request in this test's session (empty for the default session)."""
        return {} if self.session is None else {"X-Mock-Session": self.session}

    def url(self, platform: str, store_hash: str = DEFAULT_STORE_HASH) -> str:
        """The base URL a client of `platform` is configured with.

        Shopify: `http://127.0.0.1:PORT/admin/api/2020-10` (resources are appended to it);
        BigCommerce: `http://127.0.0.1:PORT/stores/<store_hash>` (`/v3/...` and `/v2/...`
        follow, as after `https://api.bigcommerce.com/stores/<store_hash>`). In a named
        session the path starts with `/__session/<name>`, so a client needs no extra header.
        """
        base = self.base_url if self.session is None else f"{self.base_url}/__session/{self.session}"
        if platform == "shopify":
            return f"{base}/admin/api/{SHOPIFY_API_VERSION}"
        if platform == "bigcommerce":
            return f"{base}/stores/{store_hash}"
        raise ValueError(f"unknown platform {platform!r}; expected 'shopify' or 'bigcommerce'")

    def load_order(self, document: dict[str, Any], platform: str | None = None) -> int:
        """Serve one more order (a fixture document, in the platform's own shape); returns its id.

        The platform is told by the document's shape when not given: BigCommerce documents
        carry `products`, Shopify ones `transactions` and `order.line_items`.
        """
        platform = platform or _platform_of(document)
        response = self._admin.post(f"/__mock/{platform}/orders", json=document)
        body = response.get_json()
        if response.status_code != 201:
            raise ValueError(f"the {platform} fixture document was refused: {body}")
        return int(body["order_id"])

    def use_scenario(self, scenario: str | dict[str, Any]) -> str:
        """Make a scenario answer every matching request until `reset()`; returns its name.

        `scenario` is the name of a built-in scenario (`refund-mock scenarios list`) or a
        scenario document as `POST /__mock/scenarios` takes it.
        """
        document = _builtin(scenario) if isinstance(scenario, str) else dict(scenario)
        response = self._admin.post("/__mock/scenarios", json={**document, "active": True})
        body = response.get_json()
        if response.status_code != 201:
            raise ValueError(f"the scenario was refused: {body}")
        return str(body["loaded"][0])

    def requests(self, **filters: Any) -> list[dict[str, Any]]:
        """The journal of platform requests, oldest first: `time`, `method`, `path`,
        `operationId`, `status`, `scenario`, `duration_ms`, ... Filters as in
        `GET /__mock/requests`: `path`, `operationId`, `status`, `method`, `scenario`."""
        response = self._admin.get("/__mock/requests", query_string=filters)
        if response.status_code != 200:
            raise ValueError(f"the journal query was refused: {response.get_json()}")
        return list(response.get_json()["requests"])

    def reset(self) -> None:
        """Orders back to the fixtures, journal emptied, scenarios added at run time removed (in
        this test's session, when it has one)."""
        response = self._admin.post("/__mock/reset")
        if response.status_code != 200:
            raise RuntimeError(f"reset failed: {response.get_json()}")


def _platform_of(document: dict[str, Any]) -> str:
    if "products" in document:
        return "bigcommerce"
    if "transactions" in document and "line_items" in (document.get("order") or {}):
        return "shopify"
    raise ValueError("cannot tell the platform of this document; pass platform='shopify' or 'bigcommerce'")


def _builtin(name: str) -> dict[str, Any]:
    from mockserver.scenarios import BUILTIN_FILE, read_yaml

    library = read_yaml(BUILTIN_FILE).get("scenarios", [])
    for entry in library:
        if entry.get("name") == name:
            return dict(entry)
    known = ", ".join(sorted(str(entry.get("name")) for entry in library))
    raise ValueError(f"no built-in scenario named {name!r}; the built-ins are: {known}")


class BackgroundServer:
    """A werkzeug server on a free loopback port, served from a daemon thread, stopped at once.

    `socketserver.shutdown()` waits until `serve_forever` next looks at its stop flag, which it
    does only when its `select` wakes: after a connection, or after the poll interval (half a
    second by default, paid by every test). `stop` sets the flag and wakes the loop with a
    connection of its own, so it returns as soon as the loop has ended, whatever the interval.
    """

    def __init__(self, app: Flask, poll_interval: float = 0.5):
        from werkzeug.serving import make_server

        from mockserver.serving import MockRequestHandler

        self.server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MockRequestHandler)
        self.port = self.server.server_port
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": poll_interval}, name="refund-mock", daemon=True
        )
        self.thread.start()

    def _wake(self) -> None:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                pass
        except OSError:
            pass  # the loop has ended and the socket is closing: nothing left to wake

    def stop(self) -> None:
        stopper = threading.Thread(target=self.server.shutdown, name="refund-mock-stop", daemon=True)
        stopper.start()
        while stopper.is_alive():
            self._wake()  # until the loop saw the flag (a wake before the flag was set is just served)
            stopper.join(timeout=0.05)
        self.server.server_close()
        self.thread.join(timeout=5)


def serve_in_background(app: Flask) -> tuple[str, Any, threading.Thread]:
    """Serve `app` on a free loopback port from a daemon thread: (base URL, server, thread)."""
    background = BackgroundServer(app)
    return background.base_url, background.server, background.thread


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**settings): settings (MockConfig fields: fixtures_dir, tokens, latency_ms, ...) of the test's "
        "refund_mock server",
    )


def _marker_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The marker's settings, checked: a mistake is one clear line naming the marker and the setting."""
    import dataclasses

    from mockserver.app import MockConfig

    marker = request.node.get_closest_marker(MARKER)
    if marker is None:
        return {}
    if marker.args:
        pytest.fail(
            f'@pytest.mark.{MARKER} takes settings by name (e.g. fixtures_dir="my-fixtures"), '
            f"not positional values {marker.args!r}",
            pytrace=False,
        )
    known = sorted(item.name for item in dataclasses.fields(MockConfig) if item.name != "extra")
    for name in marker.kwargs:
        if name not in known:
            pytest.fail(
                f"@pytest.mark.{MARKER}: unknown setting {name!r}; the settings are: {', '.join(known)}",
                pytrace=False,
            )
    return dict(marker.kwargs)


@pytest.fixture
def refund_mock(request: pytest.FixtureRequest) -> Iterator[RefundMock]:
    """A refund-mock server for this test only, with the committed fixtures and fresh state."""
    from mockserver.app import FixtureError, MockConfig, create_app
    from mockserver.scenarios import ScenarioError

    settings = _marker_settings(request)
    shown = ", ".join(f"{name}={value!r}" for name, value in settings.items())
    try:
        config = MockConfig(**settings)
    except (ValueError, TypeError) as error:
        pytest.fail(f"@pytest.mark.{MARKER}({shown}): {error}", pytrace=False)
    try:
        app = create_app(config)
    except (FixtureError, ScenarioError, ValueError) as error:
        pytest.fail(f"@pytest.mark.{MARKER}({shown}): {error}", pytrace=False)
    with _served(app) as mock:
        yield mock


@pytest.fixture(scope="session")
def refund_mock_settings() -> dict[str, Any]:
    """MockConfig fields for the server `refund_mock_session` shares; override in a conftest.py."""
    return {}


@pytest.fixture(scope="session")
def refund_mock_server(refund_mock_settings: dict[str, Any]) -> Iterator[RefundMock]:
    """One refund-mock server for the whole run (per xdist worker), in the default session."""
    from mockserver.app import FixtureError, MockConfig, create_app
    from mockserver.scenarios import ScenarioError

    try:
        app = create_app(MockConfig(**refund_mock_settings))
    except (FixtureError, ScenarioError, ValueError, TypeError) as error:
        pytest.fail(f"refund_mock_settings {refund_mock_settings!r}: {error}", pytrace=False)
    with _served(app) as mock:
        yield mock


@contextmanager
def _served(app: Flask) -> Iterator[RefundMock]:
    """`app` served on a loopback port while the block runs; then stopped and its state closed."""
    from mockserver.app import server_of

    background = BackgroundServer(app)
    try:
        yield RefundMock(app, background.base_url)
    finally:
        background.stop()
        server_of(app).close()


_SESSION_NUMBERS = itertools.count(1)


@pytest.fixture
def refund_mock_session(refund_mock_server: RefundMock) -> Iterator[RefundMock]:
    """This test's own session on the run's shared server: fresh state, dropped when the test ends."""
    name = f"pytest-{os.getpid()}-{next(_SESSION_NUMBERS)}"
    mock = RefundMock(refund_mock_server.app, refund_mock_server.base_url, session=name)
    try:
        yield mock
    finally:
        mock._admin.delete(f"/__mock/sessions/{name}")
