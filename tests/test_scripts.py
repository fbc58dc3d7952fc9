"""The repository's scripts read the paths a user gives them from where the user is, not from the
repository (`cd my-project && ../refund-mock/scripts/serve --fixtures my-fixtures`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES_DIR, REPO_ROOT
from tests.test_serve import free_port, stop, wait_for_health

# The scripts run with the project's .venv (and would create it otherwise): only under scripts/test.
pytestmark = pytest.mark.skipif(
    Path(sys.prefix).resolve() != (REPO_ROOT / ".venv").resolve(), reason="needs the project's .venv (scripts/test)"
)


def test_scripts_serve_reads_relative_paths_from_the_callers_directory(tmp_path: Path) -> None:
    orders = tmp_path / "my-fixtures" / "shopify" / "orders"
    orders.mkdir(parents=True)
    shutil.copy(FIXTURES_DIR / "shopify" / "orders" / "3012450010101.json", orders)
    port = free_port()
    command = [str(REPO_ROOT / "scripts" / "serve"), "--fixtures", "my-fixtures", "--state", "my.sqlite3"]
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        health = wait_for_health(f"http://127.0.0.1:{port}", process, timeout=120)
    finally:
        stop(process)
    assert health["platforms"] == {"shopify": {"orders": 1}, "bigcommerce": {"orders": 0}}  # my-fixtures, not ours
    assert (tmp_path / "my.sqlite3").is_file()  # the state file where the user asked for it
    assert not (REPO_ROOT / "my.sqlite3").exists()


def test_scripts_test_reads_test_paths_from_the_callers_directory() -> None:
    finished = subprocess.run(
        [str(REPO_ROOT / "scripts" / "test"), "--collect-only", "-q", "test_money.py"],
        cwd=REPO_ROOT / "tests",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "tests/test_money.py::" in finished.stdout
