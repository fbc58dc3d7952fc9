"""`refund-mock serve --watch`: edited fixture and scenario files taken up while the server runs.

The tests edit files and then poll the server (with a generous deadline) until the change shows:
how long the file system takes to report an edit is not what they check.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests
import yaml

from tests.conftest import FIXTURES_DIR
from tests.test_serve import start_serve, stop, wait_for_health
from tests.test_workers import Workers, holder_of, workers_of

T = TypeVar("T")

SHOPIFY_HEADERS = {"X-Shopify-Access-Token": "watch-test"}
ORDER = 3012450010102  # a committed fixture: two lines, a gift card and a card
ORDER_PATH = f"/admin/api/2020-10/orders/{ORDER}"
ORDER_FILE = Path("shopify", "orders", f"{ORDER}.json")
LINE = {"line_item_id": 10020000001, "quantity": 1, "restock_type": "no_restock"}
SCENARIO_FILE = """
scenarios:
  - name: order-gone
    description: getOrder answers {status}
    rules:
      - match: {{platform: shopify, operationId: getOrder}}
        respond:
          status: {status}
          error: {{message: {message}}}
"""
DEADLINE = 60.0  # seconds: generous, so that a loaded machine does not fail the test


def eventually(probe: Callable[[], T | None], what: str) -> T:
    """`probe()`'s first answer that is not None, polled until the deadline."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        answer = probe()
        if answer is not None:
            return answer
        time.sleep(0.1)
    raise AssertionError(f"never saw {what} within {DEADLINE:.0f} s")


class Watched:
    """A running `serve --watch` over a copy of the committed fixtures and one scenario file."""

    def __init__(self, base: str, process: subprocess.Popen[str], fixtures: Path, scenarios: Path):
        self.base, self.process, self.fixtures, self.scenarios = base, process, fixtures, scenarios

    def get(self, path: str, **headers: str) -> requests.Response:
        return requests.get(f"{self.base}{path}", headers={**SHOPIFY_HEADERS, **headers}, timeout=10)

    def health(self) -> dict[str, Any]:
        return requests.get(f"{self.base}/__mock/health", timeout=10).json()

    def order_file(self) -> Path:
        return self.fixtures / ORDER_FILE

    def edit_order(self, change: Callable[[dict[str, Any]], None]) -> None:
        document = json.loads(self.order_file().read_text())
        change(document)
        self.order_file().write_text(json.dumps(document, indent=2))

    def email(self) -> str:
        answer = self.get(f"{ORDER_PATH}.json")
        assert answer.status_code == 200, answer.text
        return answer.json()["order"]["email"]

    def wait_for_email(self, email: str) -> None:
        eventually(lambda: True if self.email() == email else None, f"the order's email become {email}")

    def watch_errors(self) -> dict[str, str]:
        return {error["file"]: error["reason"] for error in self.health()["watch"]["errors"]}


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    fixtures = tmp_path / "fixtures"
    for platform in ("shopify", "bigcommerce"):  # a few orders: start-up stays quick
        (fixtures / platform / "orders").mkdir(parents=True)
    shutil.copy(FIXTURES_DIR / ORDER_FILE, fixtures / ORDER_FILE)
    shutil.copy(FIXTURES_DIR / "bigcommerce" / "orders" / "100.json", fixtures / "bigcommerce" / "orders")
    scenarios = tmp_path / "scenarios.yaml"
    scenarios.write_text(SCENARIO_FILE.format(status=404, message="Not Found"))
    return fixtures, scenarios


@contextmanager
def serve_watching(fixtures: Path, scenarios: Path, *arguments: str) -> Iterator[Watched]:
    base, process = start_serve("--watch", "--fixtures", str(fixtures), "--scenarios", str(scenarios), *arguments)
    try:
        wait_for_health(base, process)
        yield Watched(base, process, fixtures, scenarios)
    finally:
        stop(process)


@pytest.fixture
def watched(files: tuple[Path, Path]) -> Iterator[Watched]:
    with serve_watching(*files) as running:
        yield running


class WatchedWorkers(Workers):
    """`Workers` of a server whose children also include the watcher process: the workers are
    the children that listen on the port."""

    def pids(self) -> list[int]:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            listening = [pid for pid in workers_of(self.process.pid) if self._listens(pid)]
            if len(listening) == 2:
                return listening
            time.sleep(0.05)
        raise AssertionError(f"expected 2 listening workers among {workers_of(self.process.pid)}")

    def _listens(self, pid: int) -> bool:
        for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
            for line in table.read_text().splitlines()[1:] if table.exists() else []:
                fields = line.split()
                listening = int(fields[1].rsplit(":", 1)[1], 16) == self.port and fields[3] == "0A"
                if listening and holder_of(fields[9], [pid]) == pid:
                    return True
        return False


def refund_one_unit(watched: Watched) -> dict[str, Any]:
    calculate = {"refund": {"refund_line_items": [LINE]}}
    quote = requests.post(
        f"{watched.base}{ORDER_PATH}/refunds/calculate.json", json=calculate, headers=SHOPIFY_HEADERS, timeout=10
    )
    assert quote.status_code == 200, quote.text
    transactions = [
        {"parent_id": t["parent_id"], "amount": t["amount"], "kind": "refund", "gateway": t["gateway"]}
        for t in quote.json()["refund"]["transactions"]
        if t["amount"] != "0.00"
    ]
    body = {"refund": {"refund_line_items": [LINE], "transactions": transactions}}
    created = requests.post(f"{watched.base}{ORDER_PATH}/refunds.json", json=body, headers=SHOPIFY_HEADERS, timeout=10)
    assert created.status_code == 201, created.text
    return created.json()["refund"]


def refund_ids(watched: Watched) -> list[int]:
    answer = watched.get(f"{ORDER_PATH}/refunds.json")
    assert answer.status_code == 200
    return [refund["id"] for refund in answer.json()["refunds"]]


def test_an_edited_order_file_replaces_the_order_and_its_refunds_go_with_it(watched: Watched) -> None:
    refund = refund_one_unit(watched)
    assert refund["id"] in refund_ids(watched)
    watched.edit_order(lambda document: document["order"].update(email="edited.in.place@example.com"))
    watched.wait_for_email("edited.in.place@example.com")
    # documented: the order is the file's again, so the refund made before the edit is gone with it
    assert refund_ids(watched) == []
    answer = watched.get(f"{ORDER_PATH}.json").json()["order"]
    assert answer["financial_status"] == json.loads(watched.order_file().read_text())["order"]["financial_status"]
    assert watched.health()["watch"] == {"reloads": 1, "errors": []}
    # a reset goes back to the edited version, not to the one the server started with
    assert requests.post(f"{watched.base}/__mock/reset", timeout=10).status_code == 200
    assert watched.email() == "edited.in.place@example.com"


def test_a_broken_order_file_is_reported_and_the_last_good_version_stays(watched: Watched) -> None:
    watched.edit_order(lambda document: document["order"].update(email="first.edit@example.com"))
    watched.wait_for_email("first.edit@example.com")
    refund = refund_one_unit(watched)

    watched.order_file().write_text('{"order": {"id": ')  # a save half-way through
    errors = eventually(lambda: watched.watch_errors() or None, "the broken file in /__mock/health")
    assert list(errors) == [str(ORDER_FILE)]
    assert "not valid JSON" in errors[str(ORDER_FILE)]
    health = watched.health()
    assert health["status"] == "degraded"
    assert any(str(ORDER_FILE) in reason for reason in health["reasons"])
    assert watched.process.poll() is None  # the server never stops because of an edit
    assert watched.email() == "first.edit@example.com"
    assert refund["id"] in refund_ids(watched)  # nothing replaced: the refund is still there

    # a document the spec rejects: reported with the field and the reason
    good = json.loads((FIXTURES_DIR / ORDER_FILE).read_text())
    good["order"]["total_price"] = "a lot"
    watched.order_file().write_text(json.dumps(good))
    reason = eventually(
        lambda: (watched.watch_errors().get(str(ORDER_FILE)) or "").partition("total_price")[1] or None,
        "the rejected field in /__mock/health",
    )
    assert reason == "total_price"
    assert watched.email() == "first.edit@example.com"

    # fixed: taken up, and the report goes
    good["order"]["total_price"] = json.loads((FIXTURES_DIR / ORDER_FILE).read_text())["order"]["total_price"]
    good["order"]["email"] = "fixed@example.com"
    watched.order_file().write_text(json.dumps(good))
    watched.wait_for_email("fixed@example.com")
    assert watched.watch_errors() == {}
    assert watched.health()["status"] == "ok"


def test_a_new_order_file_is_served(watched: Watched) -> None:
    document = json.loads((FIXTURES_DIR / "shopify" / "orders" / "3012450010101.json").read_text())
    (watched.fixtures / "shopify" / "orders" / "3012450010101.json").write_text(json.dumps(document))
    answer = eventually(
        lambda: (lambda response: response if response.status_code == 200 else None)(
            watched.get("/admin/api/2020-10/orders/3012450010101.json")
        ),
        "the new order served",
    )
    assert answer.json()["order"]["email"] == document["order"]["email"]


def test_an_edited_scenario_file_answers_its_new_version(watched: Watched) -> None:
    named = {"X-Mock-Scenario": "order-gone"}
    assert watched.get(f"{ORDER_PATH}.json", **named).status_code == 404
    watched.scenarios.write_text(SCENARIO_FILE.format(status=403, message="Forbidden"))
    eventually(
        lambda: True if watched.get(f"{ORDER_PATH}.json", **named).status_code == 403 else None,
        "the edited scenario's 403",
    )
    assert watched.get(f"{ORDER_PATH}.json", **named).json() == {"errors": "Forbidden"}

    # broken: reported, and the last good version keeps answering
    watched.scenarios.write_text("scenarios:\n  - name: order-gone\n    rules: []\n")
    errors = eventually(lambda: watched.watch_errors() or None, "the broken scenario file in /__mock/health")
    assert list(errors) == [str(watched.scenarios)]
    assert "order-gone" in errors[str(watched.scenarios)]
    assert watched.get(f"{ORDER_PATH}.json", **named).status_code == 403
    assert watched.process.poll() is None


def test_without_watch_health_says_nothing_of_it(files: tuple[Path, Path]) -> None:
    fixtures, scenarios = files
    base, process = start_serve("--fixtures", str(fixtures), "--scenarios", str(scenarios))
    try:
        assert "watch" not in wait_for_health(base, process)
    finally:
        stop(process)


def test_under_workers_every_worker_takes_up_the_change(files: tuple[Path, Path]) -> None:
    with serve_watching(*files, "--workers", "2") as watched:
        workers = WatchedWorkers(watched.base, watched.process)
        named = {"X-Mock-Scenario": "order-gone", **SHOPIFY_HEADERS}
        watched.edit_order(lambda document: document["order"].update(email="workers@example.com"))
        watched.scenarios.write_text(SCENARIO_FILE.format(status=403, message="Forbidden"))
        watched.wait_for_email("workers@example.com")
        eventually(
            lambda: True if watched.get(f"{ORDER_PATH}.json", **named).status_code == 403 else None,
            "the edited scenario's 403",
        )
        for pid in workers.pids():  # each worker, on a connection of its own
            with workers.only(pid):
                status, order = workers.call("GET", f"{ORDER_PATH}.json", headers=SHOPIFY_HEADERS)
                assert (status, order["order"]["email"]) == (200, "workers@example.com")
                assert workers.call("GET", f"{ORDER_PATH}.json", headers=named) == (403, {"errors": "Forbidden"})

        watched.order_file().write_text("not json")
        eventually(lambda: watched.watch_errors() or None, "the broken file in /__mock/health")
        for pid in workers.pids():
            with workers.only(pid):
                status, health = workers.call("GET", "/__mock/health")
                assert [error["file"] for error in health["watch"]["errors"]] == [str(ORDER_FILE)]
                status, order = workers.call("GET", f"{ORDER_PATH}.json", headers=SHOPIFY_HEADERS)
                assert order["order"]["email"] == "workers@example.com"
        assert watched.process.poll() is None


def test_an_ndjson_line_edited_replaces_only_its_order(tmp_path: Path) -> None:
    fixtures = tmp_path / "fixtures"
    (fixtures / "bigcommerce" / "orders").mkdir(parents=True)
    (fixtures / "shopify").mkdir()
    stream = fixtures / "shopify" / "orders.ndjson"
    first = json.loads((FIXTURES_DIR / "shopify" / "orders" / "3012450010101.json").read_text())
    second = json.loads((FIXTURES_DIR / ORDER_FILE).read_text())
    stream.write_text(f"{json.dumps(first)}\n{json.dumps(second)}\n")
    scenarios = tmp_path / "scenarios.yaml"
    scenarios.write_text(SCENARIO_FILE.format(status=404, message="Not Found"))
    with serve_watching(fixtures, scenarios) as watched:
        refund = refund_one_unit(watched)  # on the second line's order
        first["order"]["email"] = "line.one@example.com"
        stream.write_text(f"{json.dumps(first)}\n{json.dumps(second)}\n")
        eventually(
            lambda: (
                True
                if watched.get("/admin/api/2020-10/orders/3012450010101.json").json()["order"]["email"]
                == "line.one@example.com"
                else None
            ),
            "the first line's order edited",
        )
        assert refund_ids(watched) == [refund["id"]]  # the unchanged line's order kept its refund

        stream.write_text(f"{json.dumps(first)}\nnot json\n")
        errors = eventually(lambda: watched.watch_errors() or None, "the broken line in /__mock/health")
        assert list(errors) == ["shopify/orders.ndjson"]
        assert errors["shopify/orders.ndjson"].startswith("line 2: ")
        assert refund_ids(watched) == [refund["id"]]


def test_a_yaml_order_file_is_watched_too(files: tuple[Path, Path]) -> None:
    fixtures, scenarios = files
    document = json.loads((FIXTURES_DIR / "bigcommerce" / "orders" / "101.json").read_text())
    yaml_file = fixtures / "bigcommerce" / "orders" / "101.yaml"
    with serve_watching(fixtures, scenarios) as watched:
        document["order"]["customer_message"] = "edited as YAML"
        yaml_file.write_text(yaml.safe_dump(document))
        path = f"/stores/{document['store_hash']}/v2/orders/101"  # the order is pinned to its store
        headers = {"X-Auth-Token": "watch-test"}
        answer = eventually(
            lambda: (lambda got: got if got.status_code == 200 else None)(
                requests.get(f"{watched.base}{path}", headers=headers, timeout=10)
            ),
            "the YAML order served",
        )
        assert answer.json()["customer_message"] == "edited as YAML"
