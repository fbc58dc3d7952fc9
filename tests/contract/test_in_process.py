"""Schemathesis against the mock in-process (WSGI): every operation, every check, every phase."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from contract_support import CONTRACT_SEED, FLOW_LINKS, SPECS, link_names

from mockserver.app import MockConfig, create_app, server_of
from mockserver.fuzz import PHASES, build_config, contract_tokens, run_contract


@pytest.mark.parametrize("spec", SPECS)
def test_the_mock_passes_every_check_in_process(spec: str, record_contract_run: Callable[[str], None]) -> None:
    # One token with every scope: `ignored_auth` then sees a wrong token refused with 401, as
    # Shopify and BigCommerce do. (Without `tokens` the mock takes any token, by design.)
    # `validate_responses`: the server also checks each answer against its spec and flags it.
    app = create_app(MockConfig(tokens=contract_tokens(), validate_responses=True))
    try:
        run = run_contract(spec, config=build_config(seed=CONTRACT_SEED), app=app)
    finally:
        server_of(app).store.close()
    record_contract_run(f"in-process  {run.headline()}")

    assert run.errors == [], run.report()
    assert run.failures == [], run.report()
    assert run.operations_tested == run.operations_total > 0, run.headline()
    for phase in PHASES:
        assert run.cases.get(phase, 0) > 0, f"the {phase} phase generated no case: {run.headline()}"
    # Which links a sequence reaches depends on the seed (test_spec_links.py follows the refund
    # flow's links deterministically); at least one of the spec's links must be followed.
    assert FLOW_LINKS[spec] & link_names(run.links_followed), run.headline()
