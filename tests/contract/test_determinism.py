"""A contract run's requests depend on its seed and the code under test, not on what ran before it.

Hypothesis mixes into its draws constants it collects from every local module imported so far;
before `seed_only_generation`, the BigCommerce run with the CI seed made 179 to 355 stateful
cases depending on which contract runs had imported their modules first, and an unrelated edit
made it follow none of the spec's links.
"""

from __future__ import annotations

import importlib
import io
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from contract_support import CONTRACT_SEED

from mockserver.app import MockConfig, create_app, server_of
from mockserver.fuzz import build_config, contract_tokens, run_contract

Request = tuple[str, str, str, bytes]
# Literals of the kinds the BigCommerce spec asks for (ids, quantities, amounts, store hashes,
# reasons): what a newly imported module of ours would add to Hypothesis' pool.
NEW_MODULE_SOURCE = """
ORDER_IDS = (100, 101, 102, 103, 104, 201, 202, 301, 401, 7, 42, 9999)
AMOUNTS = (0.5, 1.25, 19.99, 250.0)
WORDS = ("k3x9rt2m0q", "refund", "PRODUCT", "SHIPPING", "FEE", "ORDER", "damaged", "x", "ab12")
"""


def recorded(app: Any, sent: list[Request]) -> Callable[..., Any]:
    """`app`, noting each request's method, path, query and body before it answers."""

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        sent.append((environ["REQUEST_METHOD"], environ["PATH_INFO"], environ.get("QUERY_STRING", ""), body))
        return app(environ, start_response)

    return wsgi


def requests_of_a_run(spec: str) -> tuple[list[Request], str]:
    """The requests a small run with the CI seed sends, and its headline without the time taken."""
    app = create_app(MockConfig(tokens=contract_tokens(), validate_responses=True))
    sent: list[Request] = []
    try:
        config = build_config(seed=CONTRACT_SEED, max_examples=2)
        # The drawn phases only: the examples are the spec's own, and the coverage phase's
        # hundreds of cases would triple the test's time.
        config.projects.default.phases.examples.enabled = False
        config.projects.default.phases.coverage.enabled = False
        run = run_contract(spec, config=config, app=recorded(app, sent))
    finally:
        server_of(app).store.close()
    run.seconds = 0.0
    return sent, run.headline()


def test_a_seed_sends_the_same_requests_after_new_modules_are_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, first_headline = requests_of_a_run("bigcommerce")

    # Between two runs, a module of ours is imported, as a Shopify or GraphQL run imports theirs.
    (tmp_path / "freshly_imported_literals.py").write_text(NEW_MODULE_SOURCE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("freshly_imported_literals")
    try:
        second, second_headline = requests_of_a_run("bigcommerce")
    finally:
        sys.modules.pop("freshly_imported_literals", None)
    assert second_headline == first_headline
    assert len(second) == len(first)
    assert second == first
