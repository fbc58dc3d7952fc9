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
fixtures_dir=..., latency_ms=(50, 200))` (the fields of `mockserver.app.MockConfig`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from mockserver.app import MockConfig, create_app, server_of
from mockserver.scenarios import BUILTIN_FILE, read_yaml

SHOPIFY_API_VERSION = "2020-10"
DEFAULT_STORE_HASH = "refundmock"  # BigCommerce orders without a pinned store answer under any hash


class RefundMock:
    """The mock serving one test: where it listens and how to steer it (admin API calls)."""

    def __init__(self, app: Flask, base_url: str):
        self.app = app
        self.base_url = base_url
        self._admin = app.test_client()

    def url(self, platform: str, store_hash: str = DEFAULT_STORE_HASH) -> str:
        """The base URL a client of `platform` is configured with.

        Shopify: `http://127.0.0.1:PORT/admin/api/2020-10` (resources are appended to it);
        BigCommerce: `http://127.0.0.1:PORT/stores/<store_hash>` (`/v3/...` and `/v2/...`
        follow, as after `https://api.bigcommerce.com/stores/<store_hash>`).
        """
        if platform == "shopify":
            return f"{self.base_url}/admin/api/{SHOPIFY_API_VERSION}"
        if platform == "bigcommerce":
            return f"{self.base_url}/stores/{store_hash}"
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
        """Orders back to the fixtures, journal emptied, scenarios added at run time removed."""
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
    library = read_yaml(BUILTIN_FILE).get("scenarios", [])
    for entry in library:
        if entry.get("name") == name:
            return dict(entry)
    known = ", ".join(sorted(str(entry.get("name")) for entry in library))
    raise ValueError(f"no built-in scenario named {name!r}; the built-ins are: {known}")


def serve_in_background(app: Flask) -> tuple[str, Any, threading.Thread]:
    """Serve `app` on a free loopback port from a daemon thread: (base URL, server, thread)."""
    from werkzeug.serving import make_server

    from mockserver.serving import MockRequestHandler

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MockRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="refund-mock", daemon=True)
    thread.start()
    return f"http://127.0.0.1:{server.server_port}", server, thread


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "refund_mock(**settings): settings (MockConfig fields) of the test's refund_mock server"
    )


@pytest.fixture
def refund_mock(request: pytest.FixtureRequest) -> Iterator[RefundMock]:
    """A refund-mock server for this test only, with the committed fixtures and fresh state."""
    marker = request.node.get_closest_marker("refund_mock")
    settings = dict(marker.kwargs) if marker is not None else {}
    app = create_app(MockConfig(**settings))
    base_url, server, thread = serve_in_background(app)
    try:
        yield RefundMock(app, base_url)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        server_of(app).store.close()
