"""`refund-mock serve` as a user runs it: a real process on a free loopback port."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_health(base: str, process: subprocess.Popen[str], timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited early: {process.stdout.read() if process.stdout else ''}")
        try:
            with urllib.request.urlopen(f"{base}/__mock/health", timeout=1) as response:
                return json.load(response)
        except OSError:
            time.sleep(0.1)
    raise AssertionError("serve did not answer /__mock/health in time")


def start_serve(*arguments: str, env: dict[str, str] | None = None) -> tuple[str, subprocess.Popen[str]]:
    port = free_port()
    command = [sys.executable, "-m", "mockserver.cli", "serve", "--port", str(port), *arguments]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    return f"http://127.0.0.1:{port}", process


def stop(process: subprocess.Popen[str], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def served() -> Iterator[str]:
    base, process = start_serve()
    try:
        wait_for_health(base, process)
        yield base
    finally:
        stop(process)


def get(url: str, token_header: str) -> tuple[int, object]:
    request = urllib.request.Request(url, headers={token_header: "local-token"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_serve_answers_both_platforms_with_the_committed_fixtures(served: str) -> None:
    health = json.load(urllib.request.urlopen(f"{served}/__mock/health", timeout=5))
    assert health["platforms"]["shopify"]["orders"] > 0
    assert health["platforms"]["bigcommerce"]["orders"] > 0
    assert health["fixture_errors"] == []
    repo = Path(__file__).resolve().parents[1]
    shopify_id = sorted((repo / "fixtures" / "shopify" / "orders").glob("*.json"))[0].stem
    status, body = get(f"{served}/admin/api/2020-10/orders/{shopify_id}.json", "X-Shopify-Access-Token")
    assert status == 200 and body["order"]["id"] == int(shopify_id)  # type: ignore[index]
    bigcommerce_id = sorted((repo / "fixtures" / "bigcommerce" / "orders").glob("*.json"))[0].stem
    status, body = get(f"{served}/stores/abc123/v2/orders/{bigcommerce_id}", "X-Auth-Token")
    assert status == 200 and body["id"] == int(bigcommerce_id)  # type: ignore[index]


def test_serve_prints_each_platform_base_url() -> None:
    base, process = start_serve()
    try:
        wait_for_health(base, process)
    finally:
        stop(process)
    output = process.stdout.read() if process.stdout else ""
    assert f"{base}/admin/api/2020-10" in output
    assert f"{base}/stores/" in output
