"""`refund-mock fuzz`: passes against the mock, and fails readably against a copy that lies."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from contract_support import CONTRACT_SEED
from flask import Flask, Response, request

from mockserver.app import MockConfig, create_app, server_of
from mockserver.cli import main
from mockserver.fuzz import CONTRACT_TOKEN, contract_tokens
from tests.live_server import live_server

ORDER_PATH = re.compile(r"/admin/api/2020-10/orders/\d+\.json")


@pytest.fixture
def serve() -> Iterator[Callable[[Flask], str]]:
    """Serve apps on free loopback ports for the test's duration."""
    stack: list[tuple[Flask, object]] = []

    def start(app: Flask) -> str:
        context = live_server(app)
        stack.append((app, context))
        return context.__enter__()

    yield start
    for app, context in reversed(stack):
        context.__exit__(None, None, None)  # type: ignore[attr-defined]
        server_of(app).store.close()


def fuzz(*arguments: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["fuzz", *arguments, "--seed", str(CONTRACT_SEED)], catch_exceptions=False)
    return result.exit_code, result.output


def broken_copy() -> Flask:
    """The mock, but its order reads carry a `financial_status` that the spec's enum does not have."""
    app = create_app(MockConfig(tokens=contract_tokens()))

    @app.after_request
    def wrong_body(response: Response) -> Response:
        if request.method == "GET" and response.status_code == 200 and ORDER_PATH.fullmatch(request.path):
            document = json.loads(response.get_data())
            if "order" in document:
                document["order"]["financial_status"] = "paid in full"
                response.set_data(json.dumps(document))
        return response

    return app


def test_fuzz_passes_against_the_mock_and_writes_a_junit_report(
    serve: Callable[[Flask], str], tmp_path: Path, record_contract_run: Callable[[str], None]
) -> None:
    url = serve(create_app(MockConfig(tokens=contract_tokens())))
    code, output = fuzz(
        "--platform",
        "bigcommerce",
        "--url",
        url,
        "--token",
        CONTRACT_TOKEN,
        "--max-examples",
        "5",
        "--report",
        "junit",
        str(tmp_path),
    )
    record_contract_run("fuzz        " + next(line for line in output.splitlines() if line.startswith("bigcommerce:")))

    assert code == 0, output
    assert re.search(r"bigcommerce: \d+ cases \(.*\), passed;", output), output
    suites = ElementTree.parse(tmp_path / "bigcommerce-junit.xml").getroot()
    cases = list(suites.iter("testcase"))
    assert cases and not any(case.find("failure") is not None for case in cases)


def test_fuzz_fails_against_a_copy_that_serves_a_wrong_body(serve: Callable[[Flask], str], tmp_path: Path) -> None:
    url = serve(broken_copy())
    code, output = fuzz(
        "--platform",
        "shopify",
        "--url",
        url,
        "--token",
        CONTRACT_TOKEN,
        "--max-examples",
        "5",
        "--report",
        "ndjson",
        str(tmp_path),
    )

    assert code == 1, output
    headline = next(line for line in output.splitlines() if line.startswith("shopify:"))
    assert re.search(r"[1-9]\d* failures?,", headline), headline
    # the wrong order is served by getOrder and, as a list of them, by listOrders: either may be first
    found = re.search(r"\d+\. GET /admin/api/2020-10/orders/\{order_id\}\.json", output)
    assert found is not None, output
    failure = output[found.start() :]
    assert "Response violates schema" in failure
    assert '"paid in full" is not one of' in failure
    curl = re.search(r"curl -X GET .*/admin/api/2020-10/orders/\d+\.json\S*", failure)
    assert curl is not None, failure
    assert '-H "X-Shopify-Access-Token: $TOKEN"' in failure  # pasteable, without printing the token
    events = [json.loads(line) for line in (tmp_path / "shopify.ndjson").read_text().splitlines()]
    assert any("paid in full" in json.dumps(event) for event in events)
