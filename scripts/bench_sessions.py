"""The `sessions` section of scripts/bench: what isolated sessions cost (mockserver.sessions).

(a) Fresh state: the time from a test asking for a fresh state to the first answer in it. With
    sessions a test just names a new session (the `refund_mock_session` fixture does), so it is
    the time of the first request of a never-seen session; beside it, the same request in a
    session already made, and the way without sessions: `POST /__mock/reset`, then the request.
    Over one keep-alive connection to `serve --workers 2`; target: under 5 ms.
(b) Throughput with 100 active sessions against none: the same Shopify calculate, by wrk, once
    without a session header and once with each request naming one of 100 sessions (each of
    which has made a refund of its own on another order), A/B/A/B in the same run; target: at
    most 5 % lower.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench_http import (
    HOST,
    RESULTS,
    SHOPIFY_BODY,
    SHOPIFY_HEADERS,
    SHOPIFY_PATH,
    WORKERS,
    Target,
    ensure_wrk,
    heading,
    lua_script,
    median_run,
    mock_command,
    ratio,
    run_rounds,
    run_wrk,
    running,
    wait_until_answering,
)

FRESH_TARGET_MS = 5.0
THROUGHPUT_TARGET = 0.95  # sessions / none, at least
ACTIVE_SESSIONS = 100
OTHER_ORDER = 3012450010102  # each session refunds a unit of this order, so it holds state of its own
OTHER_REFUND = {"refund": {"refund_line_items": [{"line_item_id": 10020000001, "quantity": 1}]}}


def call(connection: http.client.HTTPConnection, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
    sent = {**headers, "Content-Type": "application/json"}
    connection.request(method, path, body=None if body is None else json.dumps(body).encode(), headers=sent)
    response = connection.getresponse()
    data = response.read()
    if response.status >= 300:
        raise SystemExit(f"{method} {path} answered {response.status}: {data[:300]!r}")
    return json.loads(data)


def timed(connection: http.client.HTTPConnection, steps: list[tuple[str, str, Any, dict[str, str]]]) -> float:
    started = time.perf_counter()
    for method, path, body, headers in steps:
        call(connection, method, path, body, headers)
    return (time.perf_counter() - started) * 1000


def make_refund(connection: http.client.HTTPConnection, headers: dict[str, str]) -> None:
    base = f"/admin/api/2020-10/orders/{OTHER_ORDER}/refunds"
    quote = call(connection, "POST", f"{base}/calculate.json", OTHER_REFUND, headers)["refund"]
    transactions = [{**t, "kind": "refund"} for t in quote["transactions"] if t["amount"] != "0.00"]
    refund = {"refund": {"refund_line_items": quote["refund_line_items"], "transactions": transactions}}
    call(connection, "POST", f"{base}.json", refund, headers)


def session_lua(directory: Path, body: Any, headers: dict[str, str], count: int) -> Path:
    """Like `lua_script`, each request naming the next of `count` sessions in turn."""
    path = lua_script(directory, "sessions", body, headers)
    path.write_text(
        path.read_text(encoding="utf-8")
        + "local counter = 0\n"
        + "request = function()\n"
        + "  counter = counter + 1\n"
        + f'  wrk.headers["X-Mock-Session"] = "bench-" .. (counter % {count})\n'
        + "  return wrk.format()\n"
        + "end\n",
        encoding="utf-8",
    )
    return path


def sessions(options: argparse.Namespace) -> None:
    tries = 50 if options.quick else 200
    seconds = 3 if options.quick else 10
    rounds = 2
    heading(
        f"sessions: (a) fresh state to first answer, {tries} tries over one keep-alive connection; "
        f"(b) wrk -t2 -c32 -d{seconds}s, {rounds} rounds A/B/A/B, {ACTIVE_SESSIONS} active sessions against none; "
        f"refund-mock --workers {WORKERS}, Shopify calculate"
    )
    wrk = ensure_wrk()
    with tempfile.TemporaryDirectory(prefix="refund-mock-bench-") as temporary, ExitStack() as stack:
        work = Path(temporary)
        mock = stack.enter_context(running("refund-mock", mock_command("--workers", str(WORKERS))))
        wait_until_answering(mock, SHOPIFY_PATH, SHOPIFY_BODY, SHOPIFY_HEADERS)
        connection = http.client.HTTPConnection(HOST, mock.port, timeout=10)
        calculate = ("POST", SHOPIFY_PATH, SHOPIFY_BODY, SHOPIFY_HEADERS)
        for _ in range(20):  # warm-up: each worker's caches
            call(connection, *calculate)
        figures: dict[str, list[float]] = {"new session": [], "existing session": [], "reset, then the request": []}
        for number in range(tries):
            new = {**SHOPIFY_HEADERS, "X-Mock-Session": f"fresh-{number}"}
            figures["new session"].append(timed(connection, [("POST", SHOPIFY_PATH, SHOPIFY_BODY, new)]))
            figures["existing session"].append(timed(connection, [("POST", SHOPIFY_PATH, SHOPIFY_BODY, new)]))
            figures["reset, then the request"].append(
                timed(connection, [("POST", "/__mock/reset", None, {}), calculate])
            )
        for label, times in figures.items():
            ordered = sorted(times)
            p95 = ordered[int(len(ordered) * 0.95) - 1]
            print(f"  {label:<26} median {statistics.median(times):6.2f} ms  p95 {p95:6.2f} ms", flush=True)
        fresh = statistics.median(figures["new session"])
        verdict = "meets" if fresh < FRESH_TARGET_MS else "misses"
        print(f"fresh state to first answer: {fresh:.2f} ms median ({verdict} the {FRESH_TARGET_MS:.0f} ms target)")

        # 100 sessions, each holding a refund of its own; the default session holds one too, so
        # both sides quote the same order state and the difference is what sessions cost
        make_refund(connection, SHOPIFY_HEADERS)
        for number in range(ACTIVE_SESSIONS):
            make_refund(connection, {**SHOPIFY_HEADERS, "X-Mock-Session": f"bench-{number}"})
        connection.close()
        targets = {
            "none": Target(
                "no session (default)", mock, SHOPIFY_PATH, lua_script(work, "none", SHOPIFY_BODY, SHOPIFY_HEADERS)
            ),
            "sessions": Target(
                f"{ACTIVE_SESSIONS} sessions in turn",
                mock,
                SHOPIFY_PATH,
                session_lua(work, SHOPIFY_BODY, SHOPIFY_HEADERS, ACTIVE_SESSIONS),
            ),
        }
        for target in targets.values():
            run_wrk(wrk, target, 2)  # warm-up
        run_rounds(wrk, targets, seconds, rounds, label_width=28)
    for target in targets.values():
        run = median_run(target)
        print(f"  {target.label:<28} {run.requests_per_second:>8,.0f} req/s (median of rounds)")
    cpu = statistics.median(
        b.server_cpu_us / a.server_cpu_us for a, b in zip(targets["none"].runs, targets["sessions"].runs, strict=True)
    )
    print(f"server CPU per request with {ACTIVE_SESSIONS} sessions / none: {cpu:.3f} (what a busy machine moves least)")
    share = ratio(targets, "sessions", "none")
    verdict = "meets" if share >= THROUGHPUT_TARGET else "misses"
    print(
        f"throughput with {ACTIVE_SESSIONS} active sessions / none: {share:.3f} "
        f"({verdict} the target: at most {1 - THROUGHPUT_TARGET:.0%} lower)"
    )
    RESULTS["sessions"] = {"fresh_ms": fresh, "throughput_ratio": share, "cpu_ratio": cpu}
