"""The HTTP sections of `scripts/bench`: refund-mock against Prism and a bare Flask app.

`scripts/bench` registers these sections next to the fixture-generation ones:

- `http`: Shopify calculate and BigCommerce quote on multi-line fixture orders (request
  validation on, computed quotes) under `refund-mock serve --workers 2`, the same request
  against Prism 5 serving `specs/shopify-2020-10.yaml` (its static example), and against a bare
  Flask handler returning the same body on the same WSGI server (granian, same settings); plus
  the journal switched off and response validation switched on. Every target runs
  `wrk -t2 -c32 -d10s --latency` in turn, A/B/A/B, and the ratios come from the same rounds.
- `startup`: seconds from launching `refund-mock serve` to its first 200 on a platform request.
- `memory`: resident memory with 10,000 generated orders loaded (5,000 per platform), after
  traffic over all of them; generating them times `fixtures generate` end to end.
- `summary`: the table of every figure against the issue's targets.

Missing tools are installed: wrk from Debian's packages (`apt-get`, as root), Prism with npm
into a cache folder outside the repository (`~/.cache/refund-mock/prism`, or
`$REFUND_MOCK_TOOLS/prism`). Servers bind to 127.0.0.1 on free ports and are stopped by process
id (their process group) afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockserver.wsgi import THREADS

ROOT = Path(__file__).resolve().parents[1]
TOOLS = Path(os.environ.get("REFUND_MOCK_TOOLS") or Path.home() / ".cache" / "refund-mock")
PRISM_PACKAGE = "@stoplight/prism-cli@5"
HOST = "127.0.0.1"
WORKERS = 2
BLOCKING_THREADS = THREADS  # the bare app runs under the granian settings `serve --workers` uses

SHOPIFY_ORDER = 3012450010101  # three lines, a discount code, two transactions, an earlier refund
SHOPIFY_PATH = f"/admin/api/2020-10/orders/{SHOPIFY_ORDER}/refunds/calculate.json"
SHOPIFY_BODY = {
    "refund": {
        "currency": "USD",
        "shipping": {"full_refund": True},
        "refund_line_items": [
            {"line_item_id": 10010000001, "quantity": 1, "restock_type": "no_restock"},
            {"line_item_id": 10010000003, "quantity": 1, "restock_type": "no_restock"},
        ],
    }
}
SHOPIFY_HEADERS = {"X-Shopify-Access-Token": "bench-token"}
BIGCOMMERCE_PATH = "/stores/bench/v3/orders/100/payment_actions/refund_quotes"
BIGCOMMERCE_BODY = {
    "items": [
        {"item_type": "PRODUCT", "item_id": 201, "quantity": 1},
        {"item_type": "PRODUCT", "item_id": 202, "quantity": 1},
        {"item_type": "SHIPPING", "item_id": 301, "amount": 5},
    ]
}
BIGCOMMERCE_HEADERS = {"X-Auth-Token": "bench-token"}

# The same refund through the GraphQL Admin API: suggestedRefund on the same order, lines and
# shipping, selecting what calculate answers (line, shipping and transaction figures).
GRAPHQL_PATH = "/admin/api/2025-01/graphql.json"
GRAPHQL_BODY = {
    "query": (
        "query Suggest($id: ID!, $lines: [RefundLineItemInput!]) { order(id: $id) {"
        " suggestedRefund(refundShipping: true, refundLineItems: $lines) {"
        " shipping { amountSet { shopMoney { amount } } taxSet { shopMoney { amount } }"
        " maximumRefundableSet { shopMoney { amount } } }"
        " refundLineItems { lineItem { id } quantity restockType location { id } priceSet { shopMoney { amount } }"
        " subtotalSet { shopMoney { amount } } totalTaxSet { shopMoney { amount } } }"
        " suggestedTransactions { gateway kind amountSet { shopMoney { amount currencyCode } }"
        " maximumRefundableSet { shopMoney { amount } } parentTransaction { id } } } } }"
    ),
    "variables": {
        "id": f"gid://shopify/Order/{SHOPIFY_ORDER}",
        "lines": [
            {"lineItemId": "gid://shopify/LineItem/10010000001", "quantity": 1, "restockType": "NO_RESTOCK"},
            {"lineItemId": "gid://shopify/LineItem/10010000003", "quantity": 1, "restockType": "NO_RESTOCK"},
        ],
    },
}

TARGETS = {  # the targets, checked in the summary
    "vs_prism": 2.0,
    "vs_bare": 0.5,
    "p99_ms": 25.0,
    "journal_cost": 0.15,
    "startup_s": 1.5,
    "memory_mib": 200.0,
    "graphql_vs_rest": 0.5,  # suggestedRefund at least half the throughput of REST calculate
}

RESULTS: dict[str, Any] = {}


def heading(text: str) -> None:
    print(f"\n== {text} ==", flush=True)


# -- tools --------------------------------------------------------------------------------------------------


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    apt = shutil.which("apt-get")
    if apt and os.geteuid() == 0:
        print("installing wrk with apt-get", flush=True)
        subprocess.run([apt, "install", "-y", "wrk"], check=False, stdout=subprocess.DEVNULL)
        if not shutil.which("wrk"):
            subprocess.run([apt, "update"], check=True, stdout=subprocess.DEVNULL)
            subprocess.run([apt, "install", "-y", "wrk"], check=True, stdout=subprocess.DEVNULL)
        found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is missing: install it (Debian/Ubuntu: sudo apt-get install wrk) and run again")
    return found


def ensure_prism() -> Path:
    prism = TOOLS / "prism" / "node_modules" / ".bin" / "prism"
    if prism.exists():
        return prism
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm is missing: install Node.js 18+ with npm (Debian: sudo apt-get install npm)")
    print(f"installing {PRISM_PACKAGE} with npm into {prism.parents[2]}", flush=True)
    (TOOLS / "prism").mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--prefix", str(TOOLS / "prism"), PRISM_PACKAGE],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return prism


# -- processes --------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"

    def pids(self) -> list[int]:
        """The server process and all its descendants."""
        parents = {self.process.pid}
        found = [self.process.pid]
        changed = True
        table = process_table()
        while changed:
            changed = False
            for pid, parent in table.items():
                if parent in parents and pid not in parents:
                    parents.add(pid)
                    found.append(pid)
                    changed = True
        return found


def process_table() -> dict[int, int]:
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                    table[int(entry)] = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    return table


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, ValueError, IndexError):
            continue
    return total / os.sysconf("SC_CLK_TCK")


def memory_of(pids: list[int]) -> tuple[int, int]:
    """(resident, proportional) bytes summed over `pids` (PSS splits pages the workers share)."""
    rss = pss = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as handle:
                for line in handle:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1]) * 1024
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1]) * 1024
        except OSError:
            continue
    return rss, pss


def machine_busy_seconds() -> float:
    with open("/proc/stat", encoding="ascii") as handle:
        fields = [int(value) for value in handle.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


@contextmanager
def running(name: str, command: list[str], env: dict[str, str] | None = None) -> Iterator[Server]:
    """Start a server in its own process group on a free port (`{port}` in the command); stop it after."""
    port = free_port()
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below, after the server
    process = subprocess.Popen(
        [part.replace("{port}", str(port)) for part in command],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )
    server = Server(name, process, port)
    try:
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()


def post(url: str, body: Any, headers: dict[str, str], timeout: float = 5) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={**headers, "Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_until_answering(server: Server, path: str, body: Any, headers: dict[str, str], timeout: float = 120) -> bytes:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SystemExit(f"{server.name} exited with code {server.process.returncode}")
        try:
            status, answer = post(server.url(path), body, headers, timeout=2)
            if status in (200, 201):
                return answer
            raise SystemExit(f"{server.name} answered {status}: {answer[:300]!r}")
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{server.name} did not answer within {timeout:.0f} s")


def mock_command(*extra: str) -> list[str]:
    return [sys.executable, "-m", "mockserver.cli", "serve", "--host", HOST, "--port", "{port}", *extra]


# -- wrk --------------------------------------------------------------------------------------------------------


@dataclass
class Run:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    server_cpu_us: float  # server CPU time per request, all its processes
    errors: str = ""


@dataclass
class Target:
    label: str
    server: Server
    path: str
    script: Path
    runs: list[Run] = field(default_factory=list)


def lua_script(directory: Path, name: str, body: Any, headers: dict[str, str]) -> Path:
    lines = ['wrk.method = "POST"', 'wrk.headers["Content-Type"] = "application/json"']
    lines += [f'wrk.headers["{key}"] = "{value}"' for key, value in headers.items()]
    lines.append(f"wrk.body = '{json.dumps(body, separators=(',', ':'))}'")
    path = directory / f"{name}.lua"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def varying_lua_script(directory: Path, name: str, body: dict[str, Any], headers: dict[str, str]) -> Path:
    """Like `lua_script`, but each request's variables carry a new, unused `nonce`: the same query,
    never the same request (so no answer is given again from the GraphQL answer memo)."""
    template = json.dumps({**body, "variables": {**body["variables"], "nonce": 0}}, separators=(",", ":"))
    template = template.replace('"nonce":0}', '"nonce":%d}')
    lines = ['wrk.method = "POST"', 'wrk.headers["Content-Type"] = "application/json"']
    lines += [f'wrk.headers["{key}"] = "{value}"' for key, value in headers.items()]
    lines += [
        f"local template = [[{template}]]",
        "local counter = 0",
        "request = function()",
        "  counter = counter + 1",
        "  return wrk.format(nil, nil, nil, string.format(template, counter))",
        "end",
    ]
    path = directory / f"{name}.lua"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def milliseconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(wrk: str, target: Target, seconds: int) -> Run:
    pids = target.server.pids()
    before = cpu_seconds(pids)
    command = [
        wrk,
        "-t2",
        "-c32",
        f"-d{seconds}s",
        "--latency",
        "-s",
        str(target.script),
        target.server.url(target.path),
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    used = cpu_seconds(pids) - before
    total = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    errors = "; ".join(line.strip() for line in output.splitlines() if "Non-2xx" in line or "Socket errors" in line)
    return Run(
        requests_per_second=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
        p50_ms=milliseconds(re.search(r"50%\s+([\d.]+\w+)", output).group(1)),  # type: ignore[union-attr]
        p99_ms=milliseconds(re.search(r"99%\s+([\d.]+\w+)", output).group(1)),  # type: ignore[union-attr]
        server_cpu_us=used / max(total, 1) * 1e6,
        errors=errors,
    )


def bare_app_module(directory: Path, body: bytes) -> None:
    """A Flask app with one handler that returns refund-mock's own calculate answer, as fixed bytes."""
    (directory / "bare_calculate.json").write_bytes(body)
    (directory / "bare_flask.py").write_text(
        '"""The ceiling: Flask routing the same URL to a handler that returns a fixed body."""\n'
        "from pathlib import Path\n\n"
        "from flask import Flask, Response\n\n"
        'BODY = (Path(__file__).parent / "bare_calculate.json").read_bytes()\n'
        'app = Flask("bare")\n\n\n'
        '@app.post("/admin/api/2020-10/orders/<int:order_id>/refunds/calculate.json")\n'
        "def calculate(order_id: int) -> Response:\n"
        '    return Response(BODY, content_type="application/json; charset=utf-8")\n',
        encoding="utf-8",
    )


# -- section: http -------------------------------------------------------------------------------------------------


def http(options: argparse.Namespace) -> None:
    wrk = ensure_wrk()
    prism = ensure_prism()
    seconds = 3 if options.quick else 10
    rounds = 2
    heading(
        f"http: wrk -t2 -c32 -d{seconds}s --latency, {rounds} rounds A/B/A/B; refund-mock and the bare app "
        f"under granian, {WORKERS} workers, {BLOCKING_THREADS} threads each"
    )
    with tempfile.TemporaryDirectory(prefix="refund-mock-bench-") as temporary, ExitStack() as stack:
        work = Path(temporary)
        shopify_lua = lua_script(work, "shopify", SHOPIFY_BODY, SHOPIFY_HEADERS)
        bigcommerce_lua = lua_script(work, "bigcommerce", BIGCOMMERCE_BODY, BIGCOMMERCE_HEADERS)
        workers = ["--workers", str(WORKERS)]
        mock = stack.enter_context(running("refund-mock", mock_command(*workers)))
        no_journal = stack.enter_context(running("journal off", mock_command(*workers, "--journal-size", "0")))
        validating = stack.enter_context(running("responses validated", mock_command(*workers, "--validate-responses")))
        prism_server = stack.enter_context(
            running(
                "Prism",
                [
                    str(prism),
                    "mock",
                    "-h",
                    HOST,
                    "-p",
                    "{port}",
                    "-v",
                    "silent",
                    str(ROOT / "specs/shopify-2020-10.yaml"),
                ],
            )
        )
        answer = wait_until_answering(mock, SHOPIFY_PATH, SHOPIFY_BODY, SHOPIFY_HEADERS)
        for server in (no_journal, validating):
            assert wait_until_answering(server, SHOPIFY_PATH, SHOPIFY_BODY, SHOPIFY_HEADERS) == answer
        wait_until_answering(mock, BIGCOMMERCE_PATH, BIGCOMMERCE_BODY, BIGCOMMERCE_HEADERS)
        prism_answer = wait_until_answering(prism_server, SHOPIFY_PATH, SHOPIFY_BODY, SHOPIFY_HEADERS)
        bare_app_module(work, answer)
        bare_command = [sys.executable, "-m", "granian", "--interface", "wsgi", "--host", HOST, "--port", "{port}"]
        bare_command += ["--workers", str(WORKERS), "--blocking-threads", str(BLOCKING_THREADS), "--no-ws"]
        bare_command += ["--log-level", "warning", "bare_flask:app"]
        bare = stack.enter_context(running("bare Flask", bare_command, env={"PYTHONPATH": str(work)}))
        assert wait_until_answering(bare, SHOPIFY_PATH, SHOPIFY_BODY, SHOPIFY_HEADERS) == answer
        print(
            f"the computed quote ({len(answer)} bytes) is what the bare app returns; "
            f"Prism answers its example ({len(prism_answer)} bytes)"
        )

        targets = {
            "mock": Target("refund-mock, Shopify calculate", mock, SHOPIFY_PATH, shopify_lua),
            "prism": Target(
                "Prism 5 -v silent, same request (static example)", prism_server, SHOPIFY_PATH, shopify_lua
            ),
            "bare": Target("bare Flask handler, same server", bare, SHOPIFY_PATH, shopify_lua),
            "no_journal": Target("refund-mock, journal off", no_journal, SHOPIFY_PATH, shopify_lua),
            "validating": Target("refund-mock, responses validated", validating, SHOPIFY_PATH, shopify_lua),
            "bigcommerce": Target("refund-mock, BigCommerce quote", mock, BIGCOMMERCE_PATH, bigcommerce_lua),
        }
        for target in targets.values():  # warm-up: JIT, caches, threads
            run_wrk(wrk, target, 2)
        load_before, busy_before, clock_before = os.getloadavg()[0], machine_busy_seconds(), time.monotonic()
        run_rounds(wrk, targets, seconds, rounds, label_width=50)
        elapsed = time.monotonic() - clock_before
        busy = machine_busy_seconds() - busy_before
    RESULTS["http"] = {name: target for name, target in targets.items()}
    RESULTS["load"] = {
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg()[0],
        "machine_busy_share": busy / elapsed / (os.cpu_count() or 1),
        "elapsed": elapsed,
    }
    print_http_table(targets)


def ratio(targets: dict[str, Target], numerator: str, denominator: str) -> float:
    """The median over rounds of the per-round ratio (each round ran both targets back to back)."""
    pairs = zip(targets[numerator].runs, targets[denominator].runs, strict=True)
    return statistics.median(a.requests_per_second / b.requests_per_second for a, b in pairs)


def run_rounds(
    wrk: str, targets: dict[str, Target], seconds: int, rounds: int, *, label_width: int | None = None
) -> None:
    """`rounds` rounds A/B/...: each target runs once per round, so a ratio compares runs made side by
    side. With `label_width`, each run is printed as it ends."""
    for round_number in range(1, rounds + 1):
        for target in targets.values():
            run = run_wrk(wrk, target, seconds)
            target.runs.append(run)
            if label_width is not None:
                print(
                    f"round {round_number}  {target.label:<{label_width}} {run.requests_per_second:>8,.0f} req/s"
                    f"  p50 {run.p50_ms:6.2f} ms  p99 {run.p99_ms:7.2f} ms  server CPU {run.server_cpu_us:5.0f} us/req"
                    + (f"  ({run.errors})" if run.errors else ""),
                    flush=True,
                )


def median_run(target: Target) -> Run:
    return Run(
        statistics.median(run.requests_per_second for run in target.runs),
        statistics.median(run.p50_ms for run in target.runs),
        statistics.median(run.p99_ms for run in target.runs),
        statistics.median(run.server_cpu_us for run in target.runs),
        "; ".join(sorted({run.errors for run in target.runs if run.errors})),
    )


def print_http_table(targets: dict[str, Target]) -> None:
    print()
    print(f"| {'target (median of rounds)':<50} | {'req/s':>8} | {'p50':>8} | {'p99':>9} | {'server CPU/req':>14} |")
    print(f"|{'-' * 52}|{'-' * 10}:|{'-' * 9}:|{'-' * 10}:|{'-' * 15}:|")
    for target in targets.values():
        run = median_run(target)
        print(
            f"| {target.label:<50} | {run.requests_per_second:>8,.0f} | {run.p50_ms:>5.2f} ms | {run.p99_ms:>6.2f} ms |"
            f" {run.server_cpu_us:>11,.0f} us |" + (f" {run.errors}" if run.errors else "")
        )


# -- section: startup ------------------------------------------------------------------------------------------------


def startup(options: argparse.Namespace) -> None:
    tries = 3 if options.quick else 5
    heading(
        f"start-up: launch of `refund-mock serve` to its first 200 on calculate (committed fixtures), {tries} tries"
    )
    figures: dict[str, float] = {}
    for label, extra in (
        ("refund-mock serve", []),
        (f"refund-mock serve --workers {WORKERS}", ["--workers", str(WORKERS)]),
    ):
        times = []
        for _ in range(tries):
            started = time.perf_counter()
            with running(label, mock_command(*extra)) as server:
                wait_until_answering(server, SHOPIFY_PATH, SHOPIFY_BODY, SHOPIFY_HEADERS)
                times.append(time.perf_counter() - started)
        figures[label] = statistics.median(times)
        print(f"{label:<34} median {figures[label]:.2f} s  (tries: {', '.join(f'{t:.2f}' for t in times)})", flush=True)
    RESULTS["startup"] = figures


# -- section: memory ------------------------------------------------------------------------------------------------


def memory(options: argparse.Namespace) -> None:
    wrk = ensure_wrk()
    per_platform = 500 if options.quick else 5_000
    heading(f"memory: {2 * per_platform:,} generated orders loaded, after wrk traffic over all of them")
    with tempfile.TemporaryDirectory(prefix="refund-mock-bench-") as temporary:
        work = Path(temporary)
        started = time.perf_counter()
        command = [sys.executable, "-m", "mockserver.cli", "fixtures", "generate", "--count", str(per_platform)]
        command += ["--seed", "3", "--currencies", "USD,EUR,JPY,KWD", "--no-quotes", "--out", str(work / "fixtures")]
        subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        generation_seconds = time.perf_counter() - started
        RESULTS["generation_cli"] = 2 * per_platform / generation_seconds
        print(
            f"`refund-mock fixtures generate --count {per_platform:,}` (both platforms, JSON files): "
            f"{generation_seconds:.1f} s, {RESULTS['generation_cli']:,.0f} orders/s end to end",
            flush=True,
        )
        orders = sorted(int(path.stem) for path in (work / "fixtures" / "shopify" / "orders").glob("*.json"))
        lines = {}
        for order_id in orders:
            document = json.loads((work / "fixtures" / "shopify" / "orders" / f"{order_id}.json").read_text())
            lines[order_id] = document["order"]["line_items"][0]["id"]
        script = work / "many.lua"
        script.write_text(
            "local orders = {" + ",".join(f'{{"{o}","{lines[o]}"}}' for o in orders) + "}\n"
            'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
            'wrk.headers["X-Shopify-Access-Token"] = "bench-token"\n'
            "request = function()\n"
            "  local pick = orders[math.random(#orders)]\n"
            '  local body = \'{"refund":{"refund_line_items":[{"line_item_id":\' .. pick[2] .. \',"quantity":1}]}}\'\n'
            '  local path = "/admin/api/2020-10/orders/" .. pick[1] .. "/refunds/calculate.json"\n'
            "  return wrk.format(nil, path, nil, body)\n"
            "end\n",
            encoding="utf-8",
        )
        figures = {}
        for label, extra in (
            ("refund-mock serve", []),
            (f"refund-mock serve --workers {WORKERS}", ["--workers", str(WORKERS)]),
        ):
            command = mock_command("--fixtures", str(work / "fixtures"), *extra)
            started = time.perf_counter()
            with running(label, command) as server:
                wait_until_answering(
                    server, SHOPIFY_PATH.replace(str(SHOPIFY_ORDER), str(orders[0])), {"refund": {}}, SHOPIFY_HEADERS
                )
                loaded = time.perf_counter() - started
                output = subprocess.run(
                    [wrk, "-t2", "-c32", "-d10s", "-s", str(script), server.url("/")], capture_output=True, text=True
                ).stdout
                served = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
                rss, pss = memory_of(server.pids())
                figures[label] = (rss, pss)
                print(
                    f"{label:<34} up in {loaded:.1f} s; after {served:,} quotes on random orders: "
                    f"RSS {rss / 2**20:.0f} MiB (all processes), PSS {pss / 2**20:.0f} MiB",
                    flush=True,
                )
    RESULTS["memory"] = figures
    RESULTS["memory_orders"] = 2 * per_platform


# -- section: summary ------------------------------------------------------------------------------------------------


def summary(options: argparse.Namespace) -> None:
    heading("summary: figures against the issue's targets")
    rows: list[tuple[str, str, str, str]] = []

    def row(measure: str, value: str, target: str, met: bool | None) -> None:
        rows.append((measure, value, target, "" if met is None else ("yes" if met else "NO")))

    targets: dict[str, Target] | None = RESULTS.get("http")
    if targets:
        mock = median_run(targets["mock"])
        for name in ("mock", "bigcommerce", "prism", "bare", "no_journal", "validating"):
            run = median_run(targets[name])
            row(
                f"{targets[name].label}: req/s, p50, p99",
                f"{run.requests_per_second:,.0f}, {run.p50_ms:.1f} ms, {run.p99_ms:.1f} ms",
                "",
                None,
            )
        vs_prism, vs_bare = ratio(targets, "mock", "prism"), ratio(targets, "mock", "bare")
        row(
            "refund-mock / Prism (req/s, per round)",
            f"{vs_prism:.2f}x",
            f">= {TARGETS['vs_prism']:.0f}x",
            vs_prism >= TARGETS["vs_prism"],
        )
        row(
            "refund-mock / bare Flask, same server",
            f"{vs_bare:.2f}x",
            f">= {TARGETS['vs_bare']}x",
            vs_bare >= TARGETS["vs_bare"],
        )
        row(
            "refund-mock p99 at 32 connections",
            f"{mock.p99_ms:.1f} ms",
            f"<= {TARGETS['p99_ms']:.0f} ms",
            mock.p99_ms <= TARGETS["p99_ms"],
        )
        journal = 1 - ratio(targets, "mock", "no_journal")
        row(
            "journal on: throughput lost vs off",
            f"{journal:.1%}",
            f"<= {TARGETS['journal_cost']:.0%}",
            journal <= TARGETS["journal_cost"],
        )
        validating = 1 - ratio(targets, "validating", "mock")
        row("response validation on: throughput lost", f"{validating:.1%}", "measured", None)
        cpu_mock, cpu_off = median_run(targets["mock"]).server_cpu_us, median_run(targets["no_journal"]).server_cpu_us
        row(
            "journal on: server CPU per request vs off",
            f"+{cpu_mock - cpu_off:.0f} us ({cpu_mock / cpu_off - 1:+.1%})",
            "",
            None,
        )
    graphql_targets: dict[str, Target] | None = RESULTS.get("graphql")
    if graphql_targets:
        share = ratio(graphql_targets, "graphql", "rest")
        row(
            "GraphQL suggestedRefund / REST calculate (req/s)",
            f"{share:.2f}x",
            f">= {TARGETS['graphql_vs_rest']}x",
            share >= TARGETS["graphql_vs_rest"],
        )
        executed = ratio(graphql_targets, "executed", "rest")
        row("...each request different (executed every time)", f"{executed:.2f}x", "measured", None)
    for label, seconds in RESULTS.get("startup", {}).items():
        row(
            f"start-up to first 200: {label}",
            f"{seconds:.2f} s",
            f"<= {TARGETS['startup_s']} s",
            seconds <= TARGETS["startup_s"],
        )
    for label, (rss, pss) in RESULTS.get("memory", {}).items():
        mib = rss / 2**20
        row(
            f"resident memory, {RESULTS['memory_orders']:,} orders: {label}",
            f"{mib:.0f} MiB RSS ({pss / 2**20:.0f} MiB PSS)",
            f"<= {TARGETS['memory_mib']:.0f} MB",
            mib * 1.048576 <= TARGETS["memory_mib"],
        )
    if "generation_cli" in RESULTS:
        row(
            "fixture generation, `fixtures generate` end to end", f"{RESULTS['generation_cli']:,.0f} orders/s", "", None
        )
    if "generate_quotes" in RESULTS:
        rate = RESULTS["generate_quotes"]
        row(
            "`fixtures generate`, 3,000 Shopify orders with quotes, end to end (median of the runs)",
            f"{rate:,.0f} orders/s",
            ">= 2,000/s",
            rate >= 2_000,
        )
    if not rows:
        print("(run the http, startup and memory sections first)")
        return
    width = max(len(measure) for measure, *_ in rows)
    print(f"| {'measure':<{width}} | {'value':<34} | {'target':<9} | met |")
    print(f"|{'-' * (width + 2)}|{'-' * 36}|{'-' * 11}|-----|")
    for measure, value, target, met in rows:
        print(f"| {measure:<{width}} | {value:<34} | {target:<9} | {met:<3} |")
    load = RESULTS.get("load")
    if load:
        print(
            f"\nmachine: {os.cpu_count()} CPUs; load average {load['loadavg_before']:.1f} before the HTTP rounds, "
            f"{load['loadavg_after']:.1f} after; during them the machine's CPUs were "
            f"{load['machine_busy_share']:.0%} busy (wrk, the server under test and anything else running)"
        )


# -- section: graphql ---------------------------------------------------------------------------------------------


def graphql(options: argparse.Namespace) -> None:
    """suggestedRefund through the GraphQL endpoint against REST calculate, same order, same server."""
    wrk = ensure_wrk()
    seconds = 3 if options.quick else 10
    rounds = 2
    heading(
        f"graphql: wrk -t2 -c32 -d{seconds}s --latency, {rounds} rounds A/B/A/B; REST calculate and GraphQL "
        f"suggestedRefund on order {SHOPIFY_ORDER} (same lines, all shipping), one refund-mock, {WORKERS} workers"
    )
    with tempfile.TemporaryDirectory(prefix="refund-mock-bench-") as temporary, ExitStack() as stack:
        work = Path(temporary)
        rest_lua = lua_script(work, "rest", SHOPIFY_BODY, SHOPIFY_HEADERS)
        graphql_lua = lua_script(work, "graphql", GRAPHQL_BODY, SHOPIFY_HEADERS)
        executed_lua = varying_lua_script(work, "graphql-executed", GRAPHQL_BODY, SHOPIFY_HEADERS)
        mock = stack.enter_context(running("refund-mock", mock_command("--workers", str(WORKERS))))
        rest_answer = json.loads(wait_until_answering(mock, SHOPIFY_PATH, SHOPIFY_BODY, SHOPIFY_HEADERS))["refund"]
        graphql_answer = json.loads(wait_until_answering(mock, GRAPHQL_PATH, GRAPHQL_BODY, SHOPIFY_HEADERS))
        suggested = graphql_answer["data"]["order"]["suggestedRefund"]
        rest_amounts = [t["amount"] for t in rest_answer["transactions"]]
        graphql_amounts = [t["amountSet"]["shopMoney"]["amount"] for t in suggested["suggestedTransactions"]]
        assert [float(a) for a in rest_amounts] == [float(a) for a in graphql_amounts], (rest_amounts, graphql_amounts)
        print(f"both answer the same suggested transactions: {', '.join(rest_amounts)}")
        targets = {
            "rest": Target("REST calculate", mock, SHOPIFY_PATH, rest_lua),
            "graphql": Target("GraphQL suggestedRefund", mock, GRAPHQL_PATH, graphql_lua),
            "executed": Target("GraphQL, executed every time", mock, GRAPHQL_PATH, executed_lua),
        }
        for target in targets.values():
            run_wrk(wrk, target, 2)  # warm-up
        run_rounds(wrk, targets, seconds, rounds)
    for target in targets.values():
        run = median_run(target)
        print(
            f"{target.label:<26} {run.requests_per_second:>8,.0f} req/s  p50 {run.p50_ms:.1f} ms  "
            f"p99 {run.p99_ms:.1f} ms  server CPU {run.server_cpu_us:.0f} us/req {run.errors}"
        )
    share = ratio(targets, "graphql", "rest")
    executed = ratio(targets, "executed", "rest")
    print(f"GraphQL / REST throughput (median of rounds): {share:.2f} (target >= {TARGETS['graphql_vs_rest']})")
    print(
        f"...when every request differs (each one executed, none answered from the memo): {executed:.2f}; "
        "wrk repeats one request, which the memo answers while the order is unchanged"
    )
    RESULTS["graphql"] = targets


def sections() -> dict[str, Callable[[argparse.Namespace], None]]:
    return {"http": http, "graphql": graphql, "startup": startup, "memory": memory, "summary": summary}
