"""Schemathesis runs against the mock: their shared settings, and their counts printed at the end.

Every run here uses schemathesis.toml (as `schemathesis run` from the repository and
`refund-mock fuzz` do) with a fixed seed, so CI is reproducible; `scripts/fuzz` draws new seeds.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

CONTRACT_SEED = 20201001
RUNS = pytest.StashKey[list[str]]()


@pytest.fixture
def record_contract_run(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Keep one line per run for the session's closing summary."""

    def record(line: str) -> None:
        request.config.stash.setdefault(RUNS, []).append(line)

    return record


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    lines = config.stash.get(RUNS, [])
    if lines:
        terminalreporter.write_sep("=", "schemathesis contract runs")
        for line in lines:
            terminalreporter.write_line(line)
