"""`refund-mock serve` starting and stopping as a user meets it: a port in use, SIGTERM, the banner
off loopback, a tokens file with a typo, and a kept `--state` file."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.test_serve import free_port, start_serve, stop, wait_for_health

SERVE = [sys.executable, "-m", "mockserver.cli", "serve"]
ORDER = 3012450010102  # a committed Shopify fixture: two lines, a gift card and a card
LINE = {"line_item_id": 10020000001, "quantity": 1, "restock_type": "no_restock"}
SHOPIFY = {"X-Shopify-Access-Token": "startup-test", "Content-Type": "application/json"}


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A loopback port another program listens on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


@pytest.mark.parametrize("extra", [[], ["--workers", "2"]], ids=["single-process", "workers"])
def test_a_port_in_use_is_one_clear_line_before_anything_is_announced(busy_port: int, extra: list[str]) -> None:
    finished = subprocess.run([*SERVE, "--port", str(busy_port), *extra], capture_output=True, text=True, timeout=60)
    assert finished.returncode == 1
    assert finished.stdout == ""  # no banner announcing a server that is not there
    lines = finished.stderr.strip().splitlines()
    assert len(lines) == 1, finished.stderr
    assert f"port {busy_port}" in lines[0] and "already in use" in lines[0] and "--port" in lines[0]


def run_folder_entries(tmp: Path) -> list[str]:
    return sorted(path.name for path in tmp.iterdir())


def test_sigterm_removes_the_temporary_state_as_ctrl_c_does(tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    base, process = start_serve(env={"TMPDIR": str(tmp)})
    try:
        wait_for_health(base, process)
        assert run_folder_entries(tmp)  # the temporary state lives there while serving
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    finally:
        stop(process)
    assert run_folder_entries(tmp) == []
    assert process.returncode == 0


def test_sigterm_while_the_workers_start_stops_within_a_docker_stop_grace_and_cleans_up(tmp_path: Path) -> None:
    """`docker stop -t 8`: SIGTERM, then SIGKILL 8 s later. Sent as soon as the banner is out, while the
    workers still build their app: a worker must not ignore it (granian would wait 10 s to kill it)."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    _, process = start_serve("--workers", "2", env={"TMPDIR": str(tmp)})
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if "admin API" in line:
                break
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=8)
        except subprocess.TimeoutExpired:
            process.kill()  # what docker does at the end of its grace period
            process.wait()
    finally:
        stop(process)
    assert run_folder_entries(tmp) == []


def test_a_worker_stops_on_sigterm_while_it_builds_its_app() -> None:
    """The handler a forked worker inherits from granian's supervisor only flags the supervisor's loop."""
    script = (
        "import signal, os\n"
        "signal.signal(signal.SIGTERM, lambda *_: None)\n"  # what granian's supervisor leaves a forked worker
        "from mockserver import wsgi\n"
        "os.environ.pop(wsgi.SETTINGS_VARIABLE, None)\n"
        "try:\n    wsgi.create_worker_app()\nexcept RuntimeError:\n    pass\n"
        "print(signal.getsignal(signal.SIGTERM) is signal.SIG_DFL)\n"
    )
    finished = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert finished.stdout.strip() == "True", finished.stderr


def banner_of(*arguments: str, env: dict[str, str] | None = None) -> tuple[str, str]:
    """(base URL, everything serve printed) of a server started and stopped at once."""
    base, process = start_serve(*arguments, env=env)
    try:
        wait_for_health(base, process)
    finally:
        stop(process)
    return base, process.stdout.read() if process.stdout else ""


def primary_ipv4_address() -> str | None:
    """The address this machine sends from (a UDP connect sends nothing), found without the server's code."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") else address


def test_all_interfaces_without_tokens_warns_and_prints_usable_urls() -> None:
    base, output = banner_of("--host", "0.0.0.0", "--admin-token", "s3cret")
    port = base.rsplit(":", 1)[1]
    assert "0.0.0.0:" not in output  # not a URL anyone can use
    assert f"http://127.0.0.1:{port}/admin/api/2020-10" in output
    address = primary_ipv4_address()
    if address is not None:
        assert f"http://{address}:{port}" in output
    assert "any non-empty token is accepted" in output and "--tokens" in output


def test_with_tokens_there_is_no_warning(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text(yaml.safe_dump({"frontend-token": ["read_orders", "write_orders"]}), encoding="utf-8")
    _, output = banner_of("--host", "0.0.0.0", "--admin-token", "s3cret", "--tokens", str(tokens))
    assert "any non-empty token is accepted" not in output


def test_an_ipv6_host_is_printed_in_brackets() -> None:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    port = free_port()
    process = subprocess.Popen(
        [*SERVE, "--host", "::1", "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        wait_for_health(f"http://[::1]:{port}", process)
    finally:
        stop(process)
    output = process.stdout.read() if process.stdout else ""
    assert f"http://[::1]:{port}/admin/api/2020-10" in output


def test_a_tokens_file_with_an_unknown_scope_is_refused_naming_it_and_the_valid_ones(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text(yaml.safe_dump({"frontend-token": ["read_orders", "write_order"]}), encoding="utf-8")
    finished = subprocess.run(
        [*SERVE, "--port", str(free_port()), "--tokens", str(tokens)], capture_output=True, text=True, timeout=60
    )
    assert finished.returncode == 1 and finished.stdout == ""
    assert "'write_order'" in finished.stderr
    # the scopes the specs' operations ask for (shopify-2020-10.yaml, bigcommerce-v3.yaml)
    for scope in ("read_orders", "write_orders", "store_v2_orders", "store_v2_transactions_read_only"):
        assert scope in finished.stderr


def call(base: str, method: str, path: str, body: object = None) -> tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method, headers=SHOPIFY)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def refund_one_unit(base: str) -> int:
    orders = f"/admin/api/2020-10/orders/{ORDER}"
    status, quote = call(base, "POST", f"{orders}/refunds/calculate.json", {"refund": {"refund_line_items": [LINE]}})
    assert status == 200, quote
    transactions = [
        {"parent_id": t["parent_id"], "amount": t["amount"], "kind": "refund", "gateway": t["gateway"]}
        for t in quote["refund"]["transactions"]
        if t["amount"] != "0.00"
    ]
    refund = {"refund": {"refund_line_items": [LINE], "transactions": transactions}}
    status, created = call(base, "POST", f"{orders}/refunds.json", refund)
    assert status == 201, created
    return created["refund"]["id"]


def refund_ids(base: str) -> list[int]:
    listed = call(base, "GET", f"/admin/api/2020-10/orders/{ORDER}/refunds.json")[1]
    return [refund["id"] for refund in listed["refunds"]]


def test_a_kept_state_file_is_announced_and_fresh_state_starts_over(tmp_path: Path) -> None:
    state = tmp_path / "mock.sqlite3"
    base, process = start_serve("--state", str(state))
    try:
        wait_for_health(base, process)
        before = refund_ids(base)
        refund = refund_one_unit(base)
    finally:
        stop(process)
    first_output = process.stdout.read() if process.stdout else ""
    assert "state kept" not in first_output  # a new state file keeps nothing

    base, process = start_serve("--state", str(state))
    try:
        wait_for_health(base, process)
        assert refund in refund_ids(base)  # the state file won over the fixtures...
    finally:
        stop(process)
    output = process.stdout.read() if process.stdout else ""
    assert f"state kept from {state}" in output and "--fresh-state" in output  # ...and the banner says so

    base, process = start_serve("--state", str(state), "--fresh-state")
    try:
        wait_for_health(base, process)
        assert refund_ids(base) == before  # back to the fixtures
    finally:
        stop(process)
    assert "state kept" not in (process.stdout.read() if process.stdout else "")


def test_fresh_state_without_a_state_file_is_a_usage_error() -> None:
    finished = subprocess.run([*SERVE, "--port", "0", "--fresh-state"], capture_output=True, text=True, timeout=60)
    assert finished.returncode == 2 and "--fresh-state goes with --state" in finished.stderr


def test_the_state_notice_counts_only_what_the_file_held(tmp_path: Path) -> None:
    """Started against an empty file (as `touch mock.sqlite3` leaves it), nothing was kept."""
    state = tmp_path / "mock.sqlite3"
    state.touch()
    _, output = banner_of("--state", str(state))
    assert "state kept" not in output
