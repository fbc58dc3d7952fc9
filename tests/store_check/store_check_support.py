"""A second refund-mock on loopback plays "the store" that record, verify and the proxy talk to.

It is a real HTTP server (werkzeug, in a thread) over the committed fixtures, strict: it answers
only what its spec allows, with its real headers. A test may change an order in the store only,
through its admin API, as a store whose data moved on since the recording.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner, Result

from mockserver.app import MockConfig, MockServer, create_app, server_of
from mockserver.cli import main
from tests.live_server import live_server

FIXTURES_DIR = Path(__file__).resolve().parents[2] / "fixtures"
STORE_HASH = "abc123"  # orders pinned to another store (101) are not served under it
TOKEN = "store-token"


@dataclass
class Store:
    base: str
    server: MockServer

    def url(self, platform: str) -> str:
        """What a user gives as --url: the shop's address, or the store's API base."""
        return self.base if platform == "shopify" else f"{self.base}/stores/{STORE_HASH}"

    def load(self, platform: str, document: dict[str, Any]) -> None:
        """Change an order in the store only (its admin API, over HTTP)."""
        answer = requests.post(f"{self.base}/__mock/{platform}/orders", json=document, timeout=10)
        assert answer.status_code == 201, answer.text

    def requests_seen(self) -> list[tuple[str, str | None]]:
        """(method, operationId) of every platform request the store received."""
        return [(entry.method, entry.operation_id) for entry in self.server.journal.entries()]


@pytest.fixture
def store() -> Iterator[Store]:
    # The stand-in store is on Shopify Plus and BigCommerce Pro: a record or verify run sends a few
    # hundred requests, which the standard buckets (40 calls, 150 a window) would make the
    # client's back-off pace for a minute or more; the back-off itself is tested in test_backoff.
    config = MockConfig(
        fixtures_dir=FIXTURES_DIR, strict_responses=True, builtin_scenarios=False, plans=("plus", "pro")
    )
    app = create_app(config)
    server = server_of(app)
    try:
        with live_server(app) as base:
            yield Store(base, server)
    finally:
        server.close()


def served_orders(platform: str) -> dict[int, dict[str, Any]]:
    """The store's orders as its fixture files hold them (those it serves under STORE_HASH)."""
    documents = {}
    for path in sorted((FIXTURES_DIR / platform / "orders").glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        if document.get("store_hash") in (None, STORE_HASH):
            documents[int(document["order"]["id"])] = document
    return documents


def run(*arguments: str) -> Result:
    """`refund-mock ARGUMENTS`, in process; stdout and stderr kept apart."""
    return CliRunner().invoke(main, list(arguments), catch_exceptions=False)


def record(store: Store, platform: str, out: Path, *extra: str, orders: list[int] | None = None) -> Result:
    ids = orders if orders is not None else sorted(served_orders(platform))
    return run(
        "record",
        "--platform",
        platform,
        "--url",
        store.url(platform),
        "--token",
        TOKEN,
        "--orders",
        ",".join(map(str, ids)),
        "--out",
        str(out),
        *extra,
    )


def verify(store: Store, platform: str, fixtures: Path, reports: Path) -> Result:
    return run(
        "verify",
        "--platform",
        platform,
        "--url",
        store.url(platform),
        "--token",
        TOKEN,
        "--fixtures",
        str(fixtures),
        "--json-report",
        str(reports / "verify.json"),
        "--junit",
        str(reports / "verify.xml"),
    )
