"""The Schemathesis CLI against `refund-mock serve` over HTTP, on each spec, with `--checks all`.

The server is started as a user starts it (the console script, a free loopback port) and the
CLI runs from the repository root, so it reads schemathesis.toml exactly as a user's run would.
The admin spec runs last: its fuzzing adds scenarios and resets state, which must not change
what the platform runs see.
"""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from contract_support import CONTRACT_SEED, REPO_ROOT, SPECS, console_script, serve_subprocess

from mockserver.fuzz import SPEC_FILES

SUMMARY = re.compile(r"^\s*(\d+) generated, (.+)$", re.MULTILINE)


@pytest.fixture(scope="module")
def live_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_subprocess(tmp_path_factory.mktemp("serve")) as url:
        yield url


@pytest.mark.parametrize("spec", SPECS)
def test_schemathesis_cli_passes_against_the_live_server(
    spec: str, live_url: str, tmp_path: Path, record_contract_run: Callable[[str], None]
) -> None:
    junit = tmp_path / f"{spec}.xml"
    command = [
        *console_script("schemathesis"),
        "--no-color",
        "run",
        f"specs/{SPEC_FILES[spec]}",
        "--url",
        live_url,
        "--checks",
        "all",
        "--seed",
        str(CONTRACT_SEED),
        "--report",
        "junit",
        "--report-junit-path",
        str(junit),
    ]
    finished = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    output = finished.stdout + finished.stderr
    summary = SUMMARY.search(output)
    assert summary is not None, output[-3000:]
    generated, outcome = int(summary.group(1)), summary.group(2).strip()
    record_contract_run(
        f"live CLI    {spec}: {generated} generated, {outcome} (schemathesis --checks all, seed {CONTRACT_SEED})"
    )

    assert finished.returncode == 0, output[-6000:]
    assert generated > 0 and outcome.startswith(f"{generated} passed"), output[-6000:]
    suites = ElementTree.parse(junit).getroot()
    assert sum(int(suite.get("failures", 0)) + int(suite.get("errors", 0)) for suite in suites.iter("testsuite")) == 0
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert re.search(rf"✅ {phase}", output), f"phase {phase} did not pass:\n{output[-3000:]}"
