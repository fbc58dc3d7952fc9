"""Requests and files meant to freeze the server or blow up its memory, against a real `refund-mock serve`.

Each answer is checked as a client sees it: the status, the platform's own error shape, and the
words (never Python's: "maximum recursion depth", "sys.set_int_max_str_digits"). Memory is read
from /proc (the peak resident size, VmHWM, of every process of the server). Linux only.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.test_pipeline import BIGCOMMERCE, SHOPIFY, PlatformCase, assert_platform_error
from tests.test_scenarios import SCENARIO_ALIAS_BOMB
from tests.test_serve import free_port, stop, wait_for_health
from tests.test_workers import workers_of

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")

MIB = 1 << 20
LIMIT = MIB  # the default --max body size
STREAMED = 128 * MIB  # what the chunked client is ready to send


# -- a real server, its output kept in a file (a long request line logged must never fill a pipe) ---------


class Served:
    def __init__(self, base: str, process: subprocess.Popen[str]):
        self.base = base
        self.process = process
        host, _, port = base.removeprefix("http://").partition(":")
        self.address = (host, int(port))

    def pids(self) -> list[int]:
        """The server and its worker processes (granian's, under --workers)."""
        return [self.process.pid, *workers_of(self.process.pid)]

    def reset_peaks(self) -> None:
        """Start each process's VmHWM again from its current size (proc(5): clear_refs, 5), so that an
        earlier test's peak cannot hide this one's."""
        for pid in self.pids():
            with contextlib.suppress(OSError):  # a process that just ended
                Path(f"/proc/{pid}/clear_refs").write_text("5")

    def peak_kib(self) -> dict[int, int]:
        """VmHWM (peak resident set) of each process of the server, in KiB."""
        peaks = {}
        for pid in self.pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            peaks[pid] = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
        return peaks


def serve(tmp_path: Path, *arguments: str) -> Iterator[Served]:
    port = free_port()
    log = open(tmp_path / f"serve-{port}.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver.cli", "serve", "--port", str(port), *arguments],
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(base, process)
        yield Served(base, process)
    finally:
        stop(process)
        log.close()


@pytest.fixture(scope="module")
def single(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve(tmp_path_factory.mktemp("single"))


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve(tmp_path_factory.mktemp("workers"), "--workers", "1")


@pytest.fixture(params=["single", "workers"])
def server(request: pytest.FixtureRequest) -> Served:
    return request.getfixturevalue(request.param)


# -- raw HTTP/1.1, since the point is what a client library would not send -------------------------------


def read_response(sock: socket.socket, received: bytes = b"", deadline: float | None = None) -> tuple[int, Any]:
    """(status, JSON body) of one response; the body is read to its Content-Length."""
    deadline = deadline or time.monotonic() + 60
    while b"\r\n\r\n" not in received:
        received += receive(sock, deadline)
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        body += receive(sock, deadline)
    assert headers.get("content-type", "").startswith("application/json"), (lines[0], headers, body[:200])
    return int(lines[0].split()[1]), json.loads(body[:length])


def receive(sock: socket.socket, deadline: float) -> bytes:
    sock.settimeout(max(0.1, deadline - time.monotonic()))
    data = sock.recv(65536)
    if not data:
        raise AssertionError("the server closed the connection without a complete answer")
    return data


def request(served: Served, head: str, body: bytes = b"") -> tuple[int, Any]:
    with socket.create_connection(served.address, timeout=60) as sock:
        sock.sendall(head.encode("latin-1") + body)
        return read_response(sock)


def stream_chunked(served: Served, path: str, headers: dict[str, str], total: int) -> tuple[int, Any]:
    """POST a chunked body of up to `total` bytes, sending while the server reads, until it answers.

    Sends and reads without blocking: a server that stops reading after its answer must not
    leave the client stuck in a send.
    """
    head = f"POST {path} HTTP/1.1\r\nHost: {served.address[0]}\r\nContent-Type: application/json\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    head += "Transfer-Encoding: chunked\r\n\r\n"
    piece = b" " * (64 * 1024)
    chunk = b"%x\r\n" % len(piece) + piece + b"\r\n"
    deadline = time.monotonic() + 120
    with socket.create_connection(served.address, timeout=60) as sock:
        sock.sendall(head.encode("latin-1"))
        pending, sent = chunk, 0
        while time.monotonic() < deadline:
            readable, writable, _ = select.select([sock], [sock] if pending else [], [], 1)
            if readable:
                return read_response(sock, b"", deadline)
            if writable:
                try:
                    count = sock.send(pending)
                except (BrokenPipeError, ConnectionResetError):
                    return read_response(sock, b"", deadline)
                pending = pending[count:]
                if not pending and sent < total:
                    sent += len(piece)
                    pending = chunk if sent < total else b"0\r\n\r\n"  # then the last chunk, and wait
        raise AssertionError("no answer in time")


ORDER = {"shopify": 3012450010102, "bigcommerce": 100}


def quote_path(case: PlatformCase) -> str:
    return case.quote_path.format(id=ORDER[case.name])


# -- 3. chunked bodies: read to the limit, not whole ------------------------------------------------------


@pytest.mark.parametrize("case", [SHOPIFY, BIGCOMMERCE, None], ids=["shopify", "bigcommerce", "admin"])
def test_a_huge_chunked_body_is_refused_at_the_limit_without_reading_it_whole(
    server: Served, case: PlatformCase | None
) -> None:
    path = quote_path(case) if case else "/__mock/scenarios"
    server.reset_peaks()
    before = server.peak_kib()
    status, body = stream_chunked(server, path, case.headers() if case else {}, STREAMED)
    after = server.peak_kib()
    assert status == 413
    if case:
        assert_platform_error(case, 413, body)
    else:
        assert body == {"status": 413, "message": f"The request body is larger than {LIMIT} bytes"}
    growth = max(after[pid] - before.get(pid, after[pid]) for pid in after) * 1024
    # reading it whole grew the server by twice the body (258-316 MiB); reading to the limit, by a few MiB
    assert growth < STREAMED // 4, f"the server grew by {growth / MIB:.0f} MiB for a {STREAMED // MIB} MiB body"


# -- 7. over-long URLs and headers: the platform's JSON shape, not an HTML page ---------------------------


def get_head(path: str, extra: str = "", token: str = "X-Shopify-Access-Token: t\r\n") -> str:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{token}{extra}Connection: close\r\n\r\n"


SHOPIFY_ORDER_PATH = f"/admin/api/2020-10/orders/{ORDER['shopify']}.json"
V2_ORDER_PATH = "/stores/abc123/v2/orders/100"


@pytest.mark.parametrize("length", [40_000, 70_000], ids=["past-the-mock-limit", "past-the-server-limit"])
def test_an_over_long_url_is_414_in_the_platform_shape(single: Served, length: int) -> None:
    status, body = request(single, get_head(f"{SHOPIFY_ORDER_PATH}?fields={'a' * length}"))
    assert status == 414
    assert body == {"errors": "The request URL is longer than 32768 bytes"}
    status, body = request(single, get_head(f"{V2_ORDER_PATH}?x={'a' * length}", token="X-Auth-Token: t\r\n"))
    assert status == 414
    assert body == [{"status": 414, "message": "The request URL is longer than 32768 bytes"}]


def test_an_over_long_url_is_414_in_the_platform_shape_under_workers(workers: Served) -> None:
    """granian's own limit (64 KiB) answers with an empty body; below it the mock answers first."""
    status, body = request(workers, get_head(f"{SHOPIFY_ORDER_PATH}?fields={'a' * 40_000}"))
    assert status == 414
    assert body == {"errors": "The request URL is longer than 32768 bytes"}


def test_an_over_long_header_line_is_431_in_the_platform_shape(single: Served) -> None:
    status, body = request(single, get_head(V2_ORDER_PATH, f"X-Big: {'a' * 70_000}\r\n", "X-Auth-Token: t\r\n"))
    assert status == 431
    assert body == [
        {"status": 431, "message": "The request header fields are too large: a header line is longer than 65536 bytes"}
    ]


def test_too_many_header_fields_is_431_in_the_platform_shape(single: Served) -> None:
    extra = "".join(f"X-Field-{index}: {index}\r\n" for index in range(120))
    status, body = request(single, get_head("/__mock/requests", extra, token=""))
    assert status == 431
    assert body == {
        "status": 431,
        "message": "The request header fields are too large: there are more than 100 header fields",
    }


# -- 2. alias bombs: refused at start, naming the file and line -------------------------------------------


def run_cli(*arguments: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a process of its own; the timeout only stops a hang from holding the suite."""
    return subprocess.run(
        [sys.executable, "-m", "mockserver.cli", *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


@pytest.mark.parametrize("command", [["scenarios", "list"], ["serve", "--port", "0", "--scenarios"]])
def test_an_alias_bomb_scenario_file_is_refused_by_the_cli(tmp_path: Path, command: list[str]) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(SCENARIO_ALIAS_BOMB)
    result = run_cli(*command, str(bomb))
    assert result.returncode != 0
    assert "bomb.yaml:7: YAML aliases (*a) are not accepted" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_alias_bomb_tokens_file_is_refused_at_start(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text("scopes: &s [read_orders, write_orders]\nci-token: *s\n")
    result = run_cli("serve", "--port", "0", "--tokens", str(tokens))
    assert result.returncode == 2
    assert f"{tokens}:2: YAML aliases (*s) are not accepted" in result.stderr
    assert "Traceback" not in result.stderr
