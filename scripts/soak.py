"""Soak test: mixed load against `refund-mock serve --workers N --state FILE`, then an audit.

Bounded in time (`--duration`, 10 minutes by default) and in requests (`--max-requests`), and on
loopback only. The load mixes quotes, refunds on many orders (a quote, then the refund it
suggests), reads, scripted errors (built-in scenarios through `X-Mock-Scenario`, 5xx ones
included) and fuzzed bad bodies. Midway one worker is killed with SIGKILL. Then:

- no 5xx answered outside the scripted ones;
- the resident memory of the surviving worker and of the whole server stayed flat after warm-up
  (growth under 10 %);
- the server recovered from the kill (a new worker serves) and every refund it acknowledged
  with a 201 is present, with the amount the 201 gave, and the refunded total of every order is
  the sum of those 201s (plus any refund committed by the killed worker whose answer never left:
  those are listed, and there can be no more of them than requests cut off by the kill).

Prints a summary and exits 0 when every check holds, 1 otherwise. Used by `scripts/soak` and,
with a short `--duration`, by tests/test_workers.py.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"  # loopback only
SHOPIFY = "/admin/api/2020-10"
SHOPIFY_TOKEN = {"X-Shopify-Access-Token": "soak-token"}
BIGCOMMERCE_TOKEN = {"X-Auth-Token": "soak-token"}
SCRIPTED = {
    "shopify": ["shopify-server-error", "shopify-rate-limited", "shopify-over-quantity", "shopify-not-fulfillable"],
    "bigcommerce": [
        "bigcommerce-tax-service-unavailable",
        "bigcommerce-rate-limited",
        "bigcommerce-amount-greater-than-remaining",
    ],
}
MIX = [("quote", 40), ("refund", 20), ("read", 12), ("scripted", 12), ("fuzz", 14), ("journal", 2)]
MEMORY_GROWTH_LIMIT = 0.10
# Caches fill, the allocator settles and order documents grow with their refunds during the first
# part of a run; memory growth is measured after it: 20 % of the run, at most two minutes.
WARM_UP_LIMIT = 120.0


# -- the server -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def children(pid: int) -> list[int]:
    """Child process ids (Linux /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return sorted(found)


def rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_for_health(base_port: int, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited early with code {process.returncode}")
        try:
            status, _ = Client(base_port).request("GET", "/__mock/health")
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit("the server did not answer /__mock/health in time")


# -- HTTP -----------------------------------------------------------------------------------------------


class Client:
    """One keep-alive connection; reconnects after a dropped one."""

    def __init__(self, port: int):
        self.port = port
        self.connection: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None, raw: bytes | None = None
    ) -> tuple[int, Any]:
        if self.connection is None:
            self.connection = http.client.HTTPConnection(HOST, self.port, timeout=30)
        sent_headers = dict(headers or {})
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        if data is not None:
            sent_headers.setdefault("Content-Type", "application/json")
        try:
            self.connection.request(method, path, body=data, headers=sent_headers)
            response = self.connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()
            self.connection = None
            raise
        if response.getheader("Connection", "").lower() == "close":
            self.connection.close()
            self.connection = None
        try:
            return response.status, json.loads(payload) if payload else None
        except ValueError:
            return response.status, payload


# -- orders and the load ----------------------------------------------------------------------------------


@dataclass
class Order:
    platform: str
    order_id: int
    items: list[int]  # Shopify line item ids, BigCommerce product ids
    store_hash: str = "soak"
    # Items a quote was refused for (refunded in full by now): quotes and refunds pick the others,
    # so that the load stays mostly computed answers rather than 422s. Replaced, never changed in
    # place, so that client threads can read it while another one adds to it.
    exhausted: frozenset[int] = frozenset()

    def refundable_items(self) -> list[int]:
        left = [item for item in self.items if item not in self.exhausted]
        return left or self.items

    def mark_exhausted(self, item: int) -> None:
        self.exhausted = self.exhausted | {item}

    @property
    def base(self) -> str:
        if self.platform == "shopify":
            return f"{SHOPIFY}/orders/{self.order_id}"
        return f"/stores/{self.store_hash}/v3/orders/{self.order_id}"

    @property
    def headers(self) -> dict[str, str]:
        return SHOPIFY_TOKEN if self.platform == "shopify" else BIGCOMMERCE_TOKEN


def read_orders(fixtures: Path) -> list[Order]:
    orders = []
    for path in sorted((fixtures / "shopify" / "orders").glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        lines = [line["id"] for line in document["order"]["line_items"]]
        orders.append(Order("shopify", document["order"]["id"], lines))
    for path in sorted((fixtures / "bigcommerce" / "orders").glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        products = [product["id"] for product in document["products"]]
        orders.append(Order("bigcommerce", document["order"]["id"], products, document.get("store_hash") or "soak"))
    return orders


@dataclass
class Acknowledged:
    refund_id: int
    amount: Decimal


@dataclass
class Tally:
    """What the clients saw; one lock for all of it."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: int = 0
    statuses: Counter[str] = field(default_factory=Counter)  # "kind status"
    unexpected_5xx: list[str] = field(default_factory=list)
    scripted_5xx: int = 0
    connection_errors: list[float] = field(default_factory=list)  # monotonic times
    acknowledged: dict[tuple[str, int], list[Acknowledged]] = field(default_factory=lambda: defaultdict(list))

    def count(self, kind: str, status: int, scripted_5xx_allowed: bool, what: str) -> None:
        with self.lock:
            self.requests += 1
            self.statuses[f"{kind} {status}"] += 1
            if status >= 500:
                if scripted_5xx_allowed:
                    self.scripted_5xx += 1
                elif len(self.unexpected_5xx) < 20:
                    self.unexpected_5xx.append(f"{status} {what}")
                else:
                    self.unexpected_5xx.append("...")


def shopify_lines(order: Order, chooser: random.Random) -> list[dict[str, Any]]:
    return [{"line_item_id": chooser.choice(order.refundable_items()), "quantity": 1, "restock_type": "no_restock"}]


def bigcommerce_items(order: Order, chooser: random.Random) -> list[dict[str, Any]]:
    return [{"item_type": "PRODUCT", "item_id": chooser.choice(order.refundable_items()), "quantity": 1}]


def quote(client: Client, order: Order, chooser: random.Random) -> tuple[int, Any, Any]:
    if order.platform == "shopify":
        request = {
            "refund": {
                "shipping": {"full_refund": chooser.random() < 0.3},
                "refund_line_items": shopify_lines(order, chooser),
            }
        }
        status, body = client.request("POST", f"{order.base}/refunds/calculate.json", request, order.headers)
    else:
        request = {"items": bigcommerce_items(order, chooser)}
        status, body = client.request("POST", f"{order.base}/payment_actions/refund_quotes", request, order.headers)
    if status == 422:  # the unit is refunded already (or the order cannot be refunded): pick others next time
        item = request["refund"]["refund_line_items"][0]["line_item_id"] if "refund" in request else None
        order.mark_exhausted(item if item is not None else request["items"][0]["item_id"])
    return status, request, body


def refund(client: Client, order: Order, chooser: random.Random, tally: Tally) -> None:
    """A quote, then the refund it suggests; a 201 is remembered for the audit."""
    status, request, quoted = quote(client, order, chooser)
    tally.count("refund-quote", status, False, f"quote {order.base}")
    if status not in (200, 201):
        return
    if order.platform == "shopify":
        request["refund"]["transactions"] = [
            {"parent_id": t["parent_id"], "amount": t["amount"], "kind": "refund", "gateway": t["gateway"]}
            for t in quoted["refund"]["transactions"]
            if Decimal(t["amount"]) > 0
        ]
        status, body = client.request("POST", f"{order.base}/refunds.json", request, order.headers)
    else:
        methods = quoted["data"]["refund_methods"]
        if not methods:
            return
        request["payments"] = [{k: p[k] for k in ("provider_id", "amount", "offline")} for p in chooser.choice(methods)]
        status, body = client.request("POST", f"{order.base}/payment_actions/refunds", request, order.headers)
    tally.count("refund", status, False, f"refund {order.base}")
    if status != 201:
        return
    if order.platform == "shopify":
        amount = sum((Decimal(t["amount"]) for t in body["refund"]["transactions"]), Decimal(0))
        acknowledged = Acknowledged(body["refund"]["id"], amount)
    else:
        acknowledged = Acknowledged(body["data"]["id"], Decimal(str(body["data"]["total_amount"])))
    with tally.lock:
        tally.acknowledged[(order.platform, order.order_id)].append(acknowledged)


def read(client: Client, order: Order, chooser: random.Random, tally: Tally) -> None:
    if order.platform == "shopify":
        path = chooser.choice([f"{order.base}.json", f"{order.base}/refunds.json", f"{order.base}/transactions.json"])
    else:
        path = chooser.choice([f"{order.base}/payment_actions/refunds", f"{order.base}/transactions"])
    status, _ = client.request("GET", path, headers=order.headers)
    tally.count("read", status, False, f"GET {path}")


def scripted(client: Client, order: Order, chooser: random.Random, tally: Tally) -> None:
    name = chooser.choice(SCRIPTED[order.platform])
    headers = {**order.headers, "X-Mock-Scenario": name}
    if order.platform == "shopify":
        request = {"refund": {"refund_line_items": shopify_lines(order, chooser)}}
        status, _ = client.request("POST", f"{order.base}/refunds/calculate.json", request, headers)
    else:
        status, _ = client.request(
            "POST", f"{order.base}/payment_actions/refund_quotes", {"items": bigcommerce_items(order, chooser)}, headers
        )
    tally.count("scripted", status, True, f"scenario {name} on {order.base}")


def fuzzed_body(order: Order, chooser: random.Random) -> bytes:
    """A body the spec refuses, or that is not JSON at all."""
    junk: list[Any] = [None, True, -1, 0, 1.5, 10**30, "", "x" * 300, [], {}, {"a": [1, {"b": None}]}, "\ud800"]
    if order.platform == "shopify":
        document: Any = {"refund": {"refund_line_items": shopify_lines(order, chooser)}}
        spots = [("refund",), ("refund", "refund_line_items"), ("refund", "refund_line_items", 0, "quantity")]
    else:
        document = {"items": bigcommerce_items(order, chooser)}
        spots = [("items",), ("items", 0, "item_type"), ("items", 0, "quantity")]
    choice = chooser.random()
    if choice < 0.15:
        return chooser.choice([b"{", b"not json", b"[1,2", b"\xff\xfe", b'{"refund": NaN}', b"{}" * 5000])
    spot = chooser.choice(spots)
    target = document
    for step in spot[:-1]:
        target = target[step]
    target[spot[-1]] = chooser.choice(junk)
    return json.dumps(document).encode("utf-8", "surrogatepass")


def fuzz(client: Client, order: Order, chooser: random.Random, tally: Tally) -> None:
    raw = fuzzed_body(order, chooser)
    if order.platform == "shopify":
        path = chooser.choice([f"{order.base}/refunds/calculate.json", f"{order.base}/refunds.json"])
    else:
        path = chooser.choice([f"{order.base}/payment_actions/refund_quotes", f"{order.base}/payment_actions/refunds"])
    status, _ = client.request("POST", path, headers=order.headers, raw=raw)
    tally.count("fuzz", status, False, f"POST {path} {raw[:80]!r}")


def journal(client: Client, tally: Tally) -> None:
    status, _ = client.request("GET", "/__mock/requests?limit=20")
    tally.count("journal", status, False, "GET /__mock/requests")


def client_loop(port: int, orders: list[Order], seed: int, stop: threading.Event, tally: Tally, budget: int) -> None:
    chooser = random.Random(seed)
    client = Client(port)
    kinds, weights = zip(*MIX, strict=True)
    reconnect_in = chooser.randint(20, 200)
    while not stop.is_set():
        with tally.lock:
            if tally.requests >= budget:
                return
        reconnect_in -= 1
        if reconnect_in <= 0 and client.connection is not None:  # new connections spread over the workers
            client.connection.close()
            client.connection = None
            reconnect_in = chooser.randint(20, 200)
        kind = chooser.choices(kinds, weights)[0]
        order = chooser.choice(orders)
        for _ in range(3):  # quotes and refunds prefer orders with units left to refund
            if kind not in ("quote", "refund") or len(order.exhausted) < len(order.items):
                break
            order = chooser.choice(orders)
        try:
            if kind == "quote":
                status, _, _ = quote(client, order, chooser)
                tally.count("quote", status, False, f"quote {order.base}")
            elif kind == "refund":
                refund(client, order, chooser, tally)
            elif kind == "read":
                read(client, order, chooser, tally)
            elif kind == "scripted":
                scripted(client, order, chooser, tally)
            elif kind == "fuzz":
                fuzz(client, order, chooser, tally)
            else:
                journal(client, tally)
        except (OSError, http.client.HTTPException):
            with tally.lock:
                tally.connection_errors.append(time.monotonic())
            time.sleep(0.05)


# -- the audit ------------------------------------------------------------------------------------------------


def refunds_present(client: Client, order: Order) -> dict[int, Decimal]:
    if order.platform == "shopify":
        status, body = client.request("GET", f"{order.base}/refunds.json?limit=250", headers=order.headers)
        assert status == 200, (status, body)
        return {
            refund["id"]: sum(
                (Decimal(t["amount"]) for t in refund["transactions"] if t["kind"] == "refund"), Decimal(0)
            )
            for refund in body["refunds"]
        }
    status, body = client.request("GET", f"{order.base}/payment_actions/refunds", headers=order.headers)
    assert status == 200, (status, body)
    return {refund["id"]: Decimal(str(refund["total_amount"])) for refund in body["data"]}


def baseline_refunds(fixtures: Path, order: Order) -> set[int]:
    """Refunds the fixture document already had (not made during the soak)."""
    name = f"{order.order_id}.json"
    document = json.loads((fixtures / order.platform / "orders" / name).read_text(encoding="utf-8"))
    refunds = document["order"].get("refunds", []) if order.platform == "shopify" else document.get("refunds", [])
    return {refund["id"] for refund in refunds}


def audit(port: int, orders: list[Order], fixtures: Path, tally: Tally) -> tuple[list[str], dict[str, Any]]:
    client = Client(port)
    problems: list[str] = []
    missing = wrong_amount = committed_unacknowledged = 0
    unacknowledged_total = Decimal(0)
    for order in orders:
        acknowledged = tally.acknowledged.get((order.platform, order.order_id), [])
        present = refunds_present(client, order)
        made = {
            refund_id: amount
            for refund_id, amount in present.items()
            if refund_id not in baseline_refunds(fixtures, order)
        }
        for refund in acknowledged:
            if refund.refund_id not in made:
                missing += 1
                problems.append(
                    f"{order.platform} order {order.order_id}: acknowledged refund {refund.refund_id} is gone"
                )
            elif made[refund.refund_id] != refund.amount:
                wrong_amount += 1
                problems.append(
                    f"{order.platform} order {order.order_id}: refund {refund.refund_id} holds "
                    f"{made[refund.refund_id]}, its 201 said {refund.amount}"
                )
        extra = set(made) - {refund.refund_id for refund in acknowledged}
        committed_unacknowledged += len(extra)
        unacknowledged_total += sum((made[refund_id] for refund_id in extra), Decimal(0))
        acknowledged_total = sum((refund.amount for refund in acknowledged), Decimal(0))
        if sum(made.values(), Decimal(0)) != acknowledged_total + sum((made[r] for r in extra), Decimal(0)):
            problems.append(f"{order.platform} order {order.order_id}: refunded total does not add up")
    cut_off = len(tally.connection_errors)
    if committed_unacknowledged > cut_off:
        problems.append(
            f"{committed_unacknowledged} refunds were committed without a 201, "
            f"more than the {cut_off} requests the kill cut off"
        )
    figures = {
        "acknowledged": sum(len(refunds) for refunds in tally.acknowledged.values()),
        "orders_refunded": sum(1 for refunds in tally.acknowledged.values() if refunds),
        "missing": missing,
        "wrong_amount": wrong_amount,
        "committed_unacknowledged": committed_unacknowledged,
        "unacknowledged_total": str(unacknowledged_total),
    }
    return problems, figures


# -- main -----------------------------------------------------------------------------------------------------


def generate_fixtures(out: Path, count: int) -> None:
    command = [sys.executable, "-m", "mockserver.cli", "fixtures", "generate", "--count", str(count), "--seed", "7"]
    command += ["--currencies", "USD,EUR,JPY,KWD", "--no-quotes", "--out", str(out)]
    subprocess.run(command, check=True, cwd=REPO_ROOT, stdout=subprocess.DEVNULL)


def main() -> int:
    parser = argparse.ArgumentParser(prog="scripts/soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=600, help="seconds of load (default 600)")
    parser.add_argument("--max-requests", type=int, default=3_000_000, help="stop earlier after this many requests")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8, help="client threads, one keep-alive connection each")
    parser.add_argument("--orders", type=int, default=2000, help="generated orders per platform")
    parser.add_argument("--kill-at", type=float, default=0.5, help="SIGKILL one worker at this fraction (0: never)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON line too")
    parser.add_argument(
        "--no-memory-check", action="store_true", help="skip the memory check (a short run cannot show a flat curve)"
    )
    options = parser.parse_args()
    if options.duration <= 0 or not 0 <= options.kill_at < 1:
        parser.error("--duration must be positive and --kill-at in [0, 1)")

    with tempfile.TemporaryDirectory(prefix="refund-mock-soak-") as temporary:
        work = Path(temporary)
        fixtures = work / "fixtures"
        started = time.monotonic()
        generate_fixtures(fixtures, options.orders)
        orders = read_orders(fixtures)
        port = free_port()
        command = [sys.executable, "-m", "mockserver.cli", "serve", "--host", HOST, "--port", str(port)]
        command += ["--workers", str(options.workers), "--state", str(work / "state.sqlite3")]
        command += ["--fixtures", str(fixtures)]
        log = open(work / "serve.log", "wb")  # noqa: SIM115 - closed below, after the server stopped
        server = subprocess.Popen(command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for_health(port, server)
            print(
                f"soak: {len(orders)} orders, {options.workers} workers, {options.clients} clients, "
                f"{options.duration:.0f} s (set-up {time.monotonic() - started:.1f} s)",
                flush=True,
            )
            summary = soak(server, port, orders, fixtures, options)
        finally:
            if server.poll() is None:
                server.send_signal(signal.SIGTERM)
                try:
                    server.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()
            log.close()
        tail = (work / "serve.log").read_text(encoding="utf-8", errors="replace")
        if "Traceback" in tail:
            summary["problems"].append("the server log holds a traceback:\n" + tail[-3000:])
    print_summary(summary)
    if options.json:
        print(json.dumps({key: value for key, value in summary.items() if key != "statuses"}, default=str))
    return 0 if not summary["problems"] else 1


def soak(
    server: subprocess.Popen[bytes], port: int, orders: list[Order], fixtures: Path, options: Any
) -> dict[str, Any]:
    tally = Tally()
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=client_loop,
            args=(port, orders, options.seed * 1000 + index, stop, tally, options.max_requests),
            daemon=True,
        )
        for index in range(options.clients)
    ]
    begin = time.monotonic()
    for thread in threads:
        thread.start()
    warm_up = min(WARM_UP_LIMIT, options.duration * 0.2)
    interval = min(5.0, max(0.5, options.duration / 40))  # seconds between memory samples
    samples: list[tuple[float, int, dict[int, int]]] = []  # (seconds, total RSS, RSS per worker)
    kill_at = options.duration * options.kill_at if options.kill_at else None
    killed: dict[str, Any] = {}
    problems: list[str] = []
    while True:
        elapsed = time.monotonic() - begin
        if elapsed >= options.duration or not any(thread.is_alive() for thread in threads):
            break
        workers = children(server.pid)
        samples.append(
            (
                elapsed,
                rss_bytes(server.pid) + sum(rss_bytes(pid) for pid in workers),
                {p: rss_bytes(p) for p in workers},
            )
        )
        if kill_at is not None and not killed and elapsed >= kill_at and workers:
            victim = max(workers, key=cpu_seconds)  # the busier worker: it has requests in flight
            busy = cpu_seconds(victim)
            os.kill(victim, signal.SIGKILL)
            killed = {"pid": victim, "at": elapsed, "monotonic": time.monotonic(), "cpu_seconds": busy}
            recovered = wait_for_recovery(server.pid, victim, options.workers, port)
            killed["recovered_after"] = recovered
            if recovered is None:
                problems.append("the server did not bring a new worker up within 60 s of the kill")
        time.sleep(max(0.0, min(interval, options.duration - (time.monotonic() - begin))))
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    elapsed = time.monotonic() - begin
    if server.poll() is not None:
        problems.append(f"the server exited with code {server.returncode}")
        return {"problems": problems, "statuses": tally.statuses, "requests": tally.requests}

    memory = memory_report(samples, warm_up, killed.get("pid"))
    memory_problems = memory.pop("problems")
    if not options.no_memory_check:
        problems.extend(memory_problems)
    if tally.unexpected_5xx:
        problems.append(f"{len(tally.unexpected_5xx)} unexpected 5xx answers, e.g. {tally.unexpected_5xx[:5]}")
    if killed:
        kill_time = killed["monotonic"]
        late = [
            t
            for t in tally.connection_errors
            if not kill_time - 1 <= t <= kill_time + (killed.get("recovered_after") or 0) + 5
        ]
        if late:
            problems.append(f"{len(late)} connection errors away from the kill")
    elif tally.connection_errors:
        problems.append(f"{len(tally.connection_errors)} connection errors without a kill")
    audit_problems, figures = audit(port, orders, fixtures, tally)
    problems.extend(audit_problems[:20])
    return {
        "seconds": round(elapsed, 1),
        "requests": tally.requests,
        "rate": round(tally.requests / elapsed, 1),
        "statuses": tally.statuses,
        "scripted_5xx": tally.scripted_5xx,
        "unexpected_5xx": len(tally.unexpected_5xx),
        "connection_errors": len(tally.connection_errors),
        "killed": {key: value for key, value in killed.items() if key != "monotonic"},
        "memory": memory,
        "refunds": figures,
        "problems": problems,
    }


def wait_for_recovery(parent: int, victim: int, workers: int, port: int) -> float | None:
    """Seconds until the parent runs `workers` live workers again, the victim replaced, and health answers."""
    started = time.monotonic()
    client = Client(port)
    while time.monotonic() - started < 60:
        current = [pid for pid in children(parent) if pid != victim and rss_bytes(pid)]
        if len(current) >= workers:
            try:
                if client.request("GET", "/__mock/health")[0] == 200:
                    return round(time.monotonic() - started, 2)
            except (OSError, http.client.HTTPException):
                pass
        time.sleep(0.05)
    return None


def memory_report(
    samples: list[tuple[float, int, dict[int, int]]], warm_up: float, killed: int | None
) -> dict[str, Any]:
    after = [sample for sample in samples if sample[0] >= warm_up]
    report: dict[str, Any] = {"samples": len(samples), "warm_up_seconds": warm_up, "problems": []}
    if len(after) < 4:
        report["problems"].append(f"too few memory samples after warm-up ({len(after)}); run longer")
        return report
    window = max(2, len(after) // 10)
    first, last = after[:window], after[-window:]

    def growth(values_first: list[int], values_last: list[int]) -> float:
        start = statistics.median(values_first)
        return (statistics.median(values_last) - start) / start if start else 0.0

    # the worker that lived through the whole run: a leak cannot hide behind the kill's restart
    survivors = set(after[0][2]) & set(after[-1][2])
    survivors.discard(killed or -1)
    if survivors:
        pid = min(survivors)
        worker = growth([s[2][pid] for s in first], [s[2][pid] for s in last])
        per_minute = {}
        for seconds, _, workers in samples:
            if pid in workers:
                per_minute.setdefault(int(seconds // 60), workers[pid])
        report["surviving_worker"] = {
            "pid": pid,
            "rss_mib_per_minute": [round(rss / 2**20, 1) for _, rss in sorted(per_minute.items())],
            "rss_mib_after_warm_up": round(statistics.median(s[2][pid] for s in first) / 2**20, 1),
            "rss_mib_at_end": round(statistics.median(s[2][pid] for s in last) / 2**20, 1),
            "growth": round(worker, 4),
        }
        if worker >= MEMORY_GROWTH_LIMIT:
            report["problems"].append(f"the surviving worker's memory grew {worker:.1%} after warm-up")
    total = growth([s[1] for s in first], [s[1] for s in last])
    report["server_total"] = {
        "rss_mib_after_warm_up": round(statistics.median(s[1] for s in first) / 2**20, 1),
        "rss_mib_at_end": round(statistics.median(s[1] for s in last) / 2**20, 1),
        "peak_rss_mib": round(max(s[1] for s in samples) / 2**20, 1),
        "growth": round(total, 4),
    }
    if total >= MEMORY_GROWTH_LIMIT:
        report["problems"].append(f"the server's total memory grew {total:.1%} after warm-up")
    return report


def print_summary(summary: dict[str, Any]) -> None:
    print("\n== soak summary ==")
    if "seconds" in summary:
        print(f"load: {summary['requests']:,} requests in {summary['seconds']} s ({summary['rate']:,} req/s)")
        by_kind: dict[str, list[str]] = defaultdict(list)
        for key, count in sorted(summary["statuses"].items()):
            kind, status = key.split()
            by_kind[kind].append(f"{status}: {count:,}")
        for kind, parts in by_kind.items():
            print(f"  {kind:<13} {', '.join(parts)}")
        print(
            f"5xx: {summary['scripted_5xx']:,} scripted, {summary['unexpected_5xx']} unexpected; "
            f"connection errors: {summary['connection_errors']} (requests cut off by the kill)"
        )
        killed = summary["killed"]
        if killed:
            print(
                f"kill: worker {killed['pid']} ({killed['cpu_seconds']:.1f} CPU s of work) SIGKILLed at "
                f"{killed['at']:.0f} s; a new worker answered after {killed['recovered_after']} s"
            )
        memory = summary["memory"]
        if "surviving_worker" in memory:
            worker = memory["surviving_worker"]
            print(
                f"memory, surviving worker: {worker['rss_mib_after_warm_up']} MiB after warm-up "
                f"({memory['warm_up_seconds']:.0f} s) -> {worker['rss_mib_at_end']} MiB at the end "
                f"({worker['growth']:+.1%}); MiB at each minute: {', '.join(map(str, worker['rss_mib_per_minute']))}"
            )
        if "server_total" in memory:
            total = memory["server_total"]
            print(
                f"memory, whole server (parent + workers): {total['rss_mib_after_warm_up']} MiB -> "
                f"{total['rss_mib_at_end']} MiB ({total['growth']:+.1%}), peak {total['peak_rss_mib']} MiB"
            )
        refunds = summary["refunds"]
        print(
            f"refunds: {refunds['acknowledged']:,} acknowledged (201) on {refunds['orders_refunded']} orders; "
            f"{refunds['missing']} missing afterwards, {refunds['wrong_amount']} with another amount; "
            f"{refunds['committed_unacknowledged']} committed whose 201 the kill cut off "
            f"(total {refunds['unacknowledged_total']})"
        )
    print("result: " + ("PASS" if not summary["problems"] else "FAIL"))
    for problem in summary["problems"]:
        print(f"  - {problem}")


if __name__ == "__main__":
    sys.exit(main())
