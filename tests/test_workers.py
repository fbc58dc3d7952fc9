"""`refund-mock serve --workers 2`: one server, whichever worker process answers.

Each worker listens on its own socket (SO_REUSEPORT) and the kernel picks one per connection.
To talk to a given worker, the tests open connections until one is accepted by that worker
(found through /proc: the worker holding the server side of the connection) and keep it
alive. Linux only.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import REPO_ROOT
from tests.test_serve import start_serve, stop, wait_for_health

pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc")

SHOPIFY_HEADERS = {"X-Shopify-Access-Token": "workers-test"}
ORDER = 3012450010102  # a committed fixture: two lines, a gift card and a card
BASE = f"/admin/api/2020-10/orders/{ORDER}"
LINE = {"line_item_id": 10020000001, "quantity": 1, "restock_type": "no_restock"}


def workers_of(parent: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == parent and fields[0] != "Z":
                found.append(int(entry))
    return sorted(found)


def tcp_sockets() -> Iterator[list[str]]:
    """The fields of every row of /proc/net/tcp and /proc/net/tcp6."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            yield line.split()


def port_of(address: str) -> int:
    return int(address.rsplit(":", 1)[1], 16)


def server_side_inode(server_port: int, client_port: int) -> str | None:
    """The inode of the accepted socket of the connection from `client_port` (/proc/net/tcp)."""
    for fields in tcp_sockets():
        if port_of(fields[1]) == server_port and port_of(fields[2]) == client_port and fields[3] == "01":  # ESTABLISHED
            return fields[9]
    return None


def listening_inodes(server_port: int) -> set[str]:
    """The inodes of the sockets listening on `server_port` (one per worker: SO_REUSEPORT)."""
    return {fields[9] for fields in tcp_sockets() if port_of(fields[1]) == server_port and fields[3] == "0A"}  # LISTEN


def holder_of(inode: str, pids: list[int]) -> int | None:
    wanted = f"socket:[{inode}]"
    for pid in pids:
        try:
            descriptors = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for descriptor in descriptors:
            try:
                if os.readlink(f"/proc/{pid}/fd/{descriptor}") == wanted:
                    return pid
            except OSError:
                continue
    return None


class Workers:
    """A running `serve --workers 2`, and keep-alive connections to each of its workers."""

    def __init__(self, base: str, process: subprocess.Popen[str]):
        self.base = base
        self.process = process
        address = urlsplit(base)
        self.host, self.port = address.hostname or "127.0.0.1", address.port or 80
        self.connection: http.client.HTTPConnection | None = None
        self.last_headers: dict[str, str] = {}  # of the last answer, names in lower case

    def pids(self) -> list[int]:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            pids = workers_of(self.process.pid)
            if len(pids) == 2:
                return pids
            time.sleep(0.05)
        raise AssertionError(f"expected 2 workers, found {workers_of(self.process.pid)}")

    def wait_until_listening(self, pid: int) -> None:
        """Until worker `pid` has its own listening socket on the port.

        A worker's process exists a while before it listens (it builds the app first), and
        right after a worker dies the kernel tears down the dead one's listening socket, during
        which new connections can be refused: a connection is only tried once `pid` listens.
        """
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if any(holder_of(inode, [pid]) == pid for inode in listening_inodes(self.port)):
                return
            time.sleep(0.05)
        raise AssertionError(f"worker {pid} never listened on port {self.port}")

    def _connect_to(self, pid: int) -> http.client.HTTPConnection:
        self.wait_until_listening(pid)
        for _ in range(200):
            connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
            connection.connect()
            client_port = connection.sock.getsockname()[1]
            holder = None
            deadline = time.monotonic() + 2
            while holder is None and time.monotonic() < deadline:
                inode = server_side_inode(self.port, client_port)
                holder = holder_of(inode, self.pids()) if inode else None
                if holder is None:
                    time.sleep(0.01)
            if holder == pid:
                return connection
            connection.close()
        raise AssertionError(f"no connection reached worker {pid}")

    @contextmanager
    def only(self, pid: int) -> Iterator[None]:
        """`call` talks to worker `pid` inside this block."""
        self.connection = self._connect_to(pid)
        try:
            yield
        finally:
            self.connection.close()
            self.connection = None

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        connection = self.connection or http.client.HTTPConnection(self.host, self.port, timeout=10)
        sent = dict(headers or {})
        data = None if body is None else json.dumps(body).encode()
        if data is not None:
            sent["Content-Type"] = "application/json"
        try:
            connection.request(method, path, body=data, headers=sent)
            response = connection.getresponse()
            self.last_headers = {name.lower(): value for name, value in response.getheaders()}
            return response.status, json.loads(response.read())
        finally:
            if connection is not self.connection:
                connection.close()


@contextmanager
def serve_workers(*arguments: str) -> Iterator[Workers]:
    base, process = start_serve("--workers", "2", *arguments)
    try:
        wait_for_health(base, process)
        yield Workers(base, process)
    finally:
        stop(process)


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workers]:
    with serve_workers("--state", str(tmp_path_factory.mktemp("workers") / "state.sqlite3")) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh_start(request: pytest.FixtureRequest) -> None:
    if "workers" in request.fixturenames:
        running: Workers = request.getfixturevalue("workers")
        assert running.call("POST", "/__mock/reset")[0] == 200


def refund_one_unit(workers: Workers, headers: dict[str, str] = SHOPIFY_HEADERS) -> dict[str, Any]:
    """Calculate one unit of LINE, then create what calculate suggested (Shopify's documented flow)."""
    status, quote = workers.call(
        "POST", f"{BASE}/refunds/calculate.json", {"refund": {"refund_line_items": [LINE]}}, headers
    )
    assert status == 200, quote
    transactions = [
        {"parent_id": t["parent_id"], "amount": t["amount"], "kind": "refund", "gateway": t["gateway"]}
        for t in quote["refund"]["transactions"]
        if t["amount"] != "0.00"
    ]
    request = {"refund": {"refund_line_items": [LINE], "transactions": transactions}}
    status, created = workers.call("POST", f"{BASE}/refunds.json", request, headers)
    assert status == 201, created
    return created["refund"]


def test_a_refund_acknowledged_by_one_worker_is_read_by_the_other(workers: Workers) -> None:
    first, second = workers.pids()
    with workers.only(first):
        refund = refund_one_unit(workers)
    with workers.only(second):
        status, listed = workers.call("GET", f"{BASE}/refunds.json", headers=SHOPIFY_HEADERS)
        assert status == 200
        assert refund["id"] in [item["id"] for item in listed["refunds"]]
        status, order = workers.call("GET", f"{BASE}.json", headers=SHOPIFY_HEADERS)
        assert order["order"]["financial_status"] in ("partially_refunded", "refunded")
        # the quantity the first worker refunded is no longer refundable here
        status, quote = workers.call(
            "POST",
            f"{BASE}/refunds/calculate.json",
            {"refund": {"refund_line_items": [{**LINE, "quantity": 2}]}},
            SHOPIFY_HEADERS,
        )
        assert status == 422, quote


def test_run_time_scenarios_and_their_counters_are_shared(workers: Workers) -> None:
    first, second = workers.pids()
    scenario = {
        "name": "twice-rate-limited",
        "active": True,
        "rules": [
            {
                "match": {"platform": "shopify", "operationId": "getOrder", "times": 2},
                "respond": {"status": 429, "error": {"message": "Exceeded 2 calls per second for api client."}},
            }
        ],
    }
    with workers.only(first):
        assert workers.call("POST", "/__mock/scenarios", {"scenarios": [scenario]})[0] == 201
        assert workers.call("GET", f"{BASE}.json", headers=SHOPIFY_HEADERS)[0] == 429
    with workers.only(second):  # the scenario is loaded here too, and its counter already says 1
        assert workers.call("GET", f"{BASE}.json", headers=SHOPIFY_HEADERS)[0] == 429
        assert workers.call("GET", f"{BASE}.json", headers=SHOPIFY_HEADERS)[0] == 200  # `times: 2` is spent
        listed = workers.call("GET", "/__mock/scenarios")[1]["scenarios"]
        loaded = next(item for item in listed if item["name"] == "twice-rate-limited")
        assert loaded["rules"][0]["answered"] == 2
        assert workers.call("DELETE", "/__mock/scenarios?name=twice-rate-limited")[0] == 200
    with workers.only(first):
        assert workers.call("GET", f"{BASE}.json", headers=SHOPIFY_HEADERS)[0] == 200


def test_the_journal_lists_the_requests_of_every_worker(workers: Workers) -> None:
    first, second = workers.pids()
    for pid, count in ((first, 3), (second, 2), (first, 1)):
        with workers.only(pid):
            for _ in range(count):
                assert workers.call("GET", f"{BASE}/transactions.json", headers=SHOPIFY_HEADERS)[0] == 200
    for pid in (first, second):
        with workers.only(pid):
            journal = workers.call("GET", "/__mock/requests?operationId=listTransactions")[1]
            assert journal["count"] == 6
            ids = [entry["id"] for entry in journal["requests"]]
            assert ids == sorted(set(ids))  # oldest first, each request once
    with workers.only(second):
        assert workers.call("DELETE", "/__mock/requests")[1] == {"cleared": 6}
    with workers.only(first):
        assert workers.call("GET", "/__mock/requests")[1]["count"] == 0


def test_reset_reaches_every_worker(workers: Workers) -> None:
    first, second = workers.pids()
    scenario = {
        "name": "always-500",
        "rules": [{"match": {"platform": "shopify"}, "respond": {"status": 500, "error": {"message": "down"}}}],
    }
    with workers.only(first):
        refund = refund_one_unit(workers)
        assert workers.call("POST", "/__mock/scenarios", {"scenarios": [scenario]})[0] == 201
    with workers.only(second):
        assert workers.call("POST", "/__mock/reset")[0] == 200
    with workers.only(first):
        listed = workers.call("GET", f"{BASE}/refunds.json", headers=SHOPIFY_HEADERS)[1]
        assert refund["id"] not in [item["id"] for item in listed["refunds"]]
        status, _ = workers.call("GET", f"{BASE}.json", headers={**SHOPIFY_HEADERS, "X-Mock-Scenario": "always-500"})
        assert status == 422  # no scenario of that name any more: the platform's 422 says so


def test_connection_faults_answer_501_naming_the_single_process_server(workers: Workers) -> None:
    scenario = {
        "name": "reset-it",
        "rules": [{"match": {"platform": "shopify"}, "respond": {"fault": "connection-reset"}}],
    }
    assert workers.call("POST", "/__mock/scenarios", {"scenarios": [scenario]})[0] == 201
    status, body = workers.call("GET", f"{BASE}.json", headers={**SHOPIFY_HEADERS, "X-Mock-Scenario": "reset-it"})
    assert status == 501
    assert "without --workers" in json.dumps(body)


def test_a_killed_worker_comes_back_with_the_state_and_the_scenarios(tmp_path: Path) -> None:
    with serve_workers("--state", str(tmp_path / "state.sqlite3")) as running:
        first, second = running.pids()
        scenario = {
            "name": "slow-down",
            "active": True,
            "rules": [
                {
                    "match": {"platform": "shopify", "operationId": "listTransactions"},
                    "respond": {"status": 429, "error": {"message": "Exceeded 2 calls per second for api client."}},
                }
            ],
        }
        with running.only(first):
            refund = refund_one_unit(running)
            assert running.call("POST", "/__mock/scenarios", {"scenarios": [scenario]})[0] == 201
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while not (set(workers_of(running.process.pid)) - {first, second}) and time.monotonic() < deadline:
            time.sleep(0.05)
        replacement = next(iter(set(running.pids()) - {second}))
        assert replacement != first
        with running.only(replacement):  # a fresh process, which did not reload the fixtures
            listed = running.call("GET", f"{BASE}/refunds.json", headers=SHOPIFY_HEADERS)[1]
            assert refund["id"] in [item["id"] for item in listed["refunds"]]
            assert running.call("GET", f"{BASE}/transactions.json", headers=SHOPIFY_HEADERS)[0] == 429


def test_a_short_soak_with_a_sigkill_loses_no_acknowledged_refund() -> None:
    """scripts/soak in its short mode: mixed load, a worker SIGKILLed midway, then the audit."""
    command = [sys.executable, str(REPO_ROOT / "scripts" / "soak.py"), "--duration", "12", "--orders", "40"]
    command += ["--clients", "4", "--no-memory-check", "--json"]
    finished = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    summary = json.loads(finished.stdout.strip().splitlines()[-1])
    assert summary["problems"] == []
    assert summary["killed"]["recovered_after"] is not None  # a new worker took the killed one's place
    assert summary["refunds"]["acknowledged"] > 0
    assert summary["refunds"]["missing"] == summary["refunds"]["wrong_amount"] == 0
    assert summary["unexpected_5xx"] == 0 and summary["scripted_5xx"] > 0


def test_the_parent_of_the_workers_supervises_without_the_app(workers: Workers) -> None:
    """The fixtures are loaded by a short-lived child, so the parent holds granian, not Flask and the specs."""
    parent = workers.process.pid
    with open(f"/proc/{parent}/maps", encoding="ascii", errors="replace") as handle:
        mapped = handle.read()
    assert "jsonschema_rs" not in mapped and "orjson" not in mapped  # the app's native modules live in the workers
    for pid in workers.pids():
        with open(f"/proc/{pid}/maps", encoding="ascii", errors="replace") as handle:
            assert "jsonschema_rs" in handle.read()


def test_a_refused_scenario_file_stops_the_workers_server_with_the_reason(tmp_path: Path) -> None:
    scenarios = tmp_path / "bad.yaml"
    scenarios.write_text("scenarios:\n  - name: broken\n    match: {operationId: calculateRefund}\n", encoding="utf-8")
    command = [sys.executable, "-m", "mockserver.cli", "serve", "--workers", "2", "--port", "0"]
    finished = subprocess.run([*command, "--scenarios", str(scenarios)], capture_output=True, text=True, timeout=60)
    assert finished.returncode == 1
    assert "scenario file refused: bad.yaml: scenario 'broken'" in finished.stderr  # which file, which rule, why


def test_the_workers_count_in_one_rate_window_and_the_admin_api_sees_it(workers: Workers) -> None:
    """A store's BigCommerce window (150 per 30 s) is one window, whichever worker answers."""
    first, second = workers.pids()
    order = "/stores/sharedwindow/v2/orders/100"
    with workers.only(first):
        assert workers.call("GET", order, headers={"X-Auth-Token": "t"})[0] == 200
        assert workers.last_headers["x-rate-limit-requests-left"] == "149"
    with workers.only(second):
        assert workers.call("GET", order, headers={"X-Auth-Token": "t"})[0] == 200
        assert workers.last_headers["x-rate-limit-requests-left"] == "148"
        status, limits = workers.call("GET", "/__mock/rate-limits")
    assert status == 200
    assert [bucket["used"] for bucket in limits["buckets"] if bucket["key"] == "sharedwindow"] == [2]
    with workers.only(first):
        assert workers.call("DELETE", "/__mock/rate-limits")[0] == 200
    with workers.only(second):
        workers.call("GET", order, headers={"X-Auth-Token": "t"})
        assert workers.last_headers["x-rate-limit-requests-left"] == "149"


def test_throttle_refuses_on_one_worker_what_the_other_spent() -> None:
    with serve_workers("--throttle", "--journal-size", "0") as running:
        first, second = running.pids()
        order = "/stores/spent/v2/orders/100"
        with running.only(first):
            statuses = {running.call("GET", order, headers={"X-Auth-Token": "t"})[0] for _ in range(150)}
        assert statuses == {200}
        with running.only(second):
            status, body = running.call("GET", order, headers={"X-Auth-Token": "t"})
            assert status == 429 and body == [{"status": 429, "message": "Too Many Requests"}]
            assert running.last_headers["x-rate-limit-requests-left"] == "0"
            assert "retry-after" not in running.last_headers
