"""Schemathesis fuzzes the GraphQL Admin endpoint from the SDL the mock executes, in-process and
through `refund-mock fuzz --platform shopify-graphql` against a live server: no failure."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from click.testing import CliRunner
from contract_support import CONTRACT_SEED

from mockserver.app import MockConfig, create_app, server_of
from mockserver.cli import main
from mockserver.fuzz import CONTRACT_TOKEN, build_config, contract_tokens, run_graphql_contract
from tests.live_server import live_server


@pytest.mark.parametrize("version", ["2025-01", "2026-04"])
def test_schemathesis_finds_nothing_in_process(version: str, record_contract_run: Callable[[str], None]) -> None:
    app = create_app(MockConfig(tokens=contract_tokens(), validate_responses=True))
    try:
        run = run_graphql_contract(config=build_config(seed=CONTRACT_SEED), app=app, version=version)
    finally:
        server_of(app).store.close()
    record_contract_run(f"in-process  {run.headline()}")
    assert run.errors == [], run.report()
    assert run.failures == [], run.report()
    assert run.operations_tested == run.operations_total == 4, run.headline()  # order, refund, node, refundCreate
    assert run.cases.get("fuzzing", 0) > 0


def test_refund_mock_fuzz_checks_a_graphql_server() -> None:
    app = create_app(MockConfig(tokens=contract_tokens()))
    try:
        with live_server(app) as url:
            result = CliRunner().invoke(
                main,
                [
                    "fuzz",
                    "--platform",
                    "shopify-graphql",
                    "--api-version",
                    "2026-01",
                    "--url",
                    url,
                    "--token",
                    CONTRACT_TOKEN,
                    "--max-examples",
                    "5",
                    "--seed",
                    str(CONTRACT_SEED),
                ],
                catch_exceptions=False,
            )
    finally:
        server_of(app).store.close()
    assert result.exit_code == 0, result.output
    assert "/admin/api/2026-01/graphql.json" in result.output
    assert "shopify-graphql-2026-01: " in result.output and ", passed;" in result.output
