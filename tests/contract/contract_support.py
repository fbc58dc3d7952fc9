"""Helpers for the contract tests: the seed, the phases each spec must run, and live servers."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from mockserver.fuzz import contract_tokens

REPO_ROOT = Path(__file__).resolve().parents[2]
CONTRACT_SEED = 20201001  # fixed in CI so a failure reproduces; scripts/fuzz draws new seeds
SPECS = ("shopify", "bigcommerce", "admin")
# Links the specs declare: the refund flow, from the calculation or quote to the reads, and the
# admin API's reset -> health and scenario add -> list / remove.
FLOW_LINKS = {
    "shopify": {"CalculateFirstLine", "CreateQuotedRefund", "GetCreatedRefund", "ListOrderRefunds"},
    "bigcommerce": {
        "QuoteFirstProduct",
        "RefundAsQuoted",
        "GetRefundById",
        "GetRefundsOfOrder",
        "ReadProductsAfterRefund",
    },
    "admin": {"HealthAfterReset", "ListScenarios", "RemoveAddedScenario", "DeleteLoadedOrder"},
}


def link_names(transitions: list[str]) -> set[str]:
    """`POST /a -> [201] GetCreatedRefund -> GET /b` -> `GetCreatedRefund`."""
    return {found.group(1) for found in (re.search(r"\] (\S+) -> ", text) for text in transitions) if found}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def console_script(name: str) -> list[str]:
    """The command of a console script installed beside this interpreter (the project's venv)."""
    beside = Path(sys.executable).with_name(name)
    if beside.exists():
        return [str(beside)]
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed; run scripts/test, which installs the test extras")
    return [found]


@contextmanager
def serve_subprocess(workdir: Path) -> Iterator[str]:
    """`refund-mock serve` on a free loopback port with a contract token file; yields its URL."""
    tokens = workdir / "tokens.yaml"
    tokens.write_text(yaml.safe_dump(contract_tokens()), encoding="utf-8")
    port = free_port()
    log = open(workdir / "serve.log", "w", encoding="utf-8")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [*console_script("refund-mock"), "serve", "--host", "127.0.0.1", "--port", str(port), "--tokens", str(tokens)],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process, workdir / "serve.log")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"refund-mock serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/__mock/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"refund-mock serve did not answer within {timeout:.0f}s:\n{log.read_text()}")
