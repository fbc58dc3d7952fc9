"""The built-in scenarios: each answers with the platform's documented status, headers and body.

Bodies are compared with the platforms' own error classes (one source for each message), checked
against the spec's response schema, and every header they send must be declared by the spec.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from mockserver.app import MockConfig, create_app, server_of
from mockserver.bigcommerce import exceptions as bigcommerce
from mockserver.cli import main
from mockserver.openapi import Operation, Spec
from mockserver.shopify import exceptions as shopify
from tests.conftest import FIXTURES_DIR

SHOPIFY_ORDER = int(sorted((FIXTURES_DIR / "shopify" / "orders").glob("*.json"))[0].stem)
BIGCOMMERCE_ORDER = int(sorted((FIXTURES_DIR / "bigcommerce" / "orders").glob("*.json"))[0].stem)
SHOPIFY = f"/admin/api/2020-10/orders/{SHOPIFY_ORDER}"
BIGCOMMERCE = f"/stores/abc123/v3/orders/{BIGCOMMERCE_ORDER}"
BIGCOMMERCE_V2 = f"/stores/abc123/v2/orders/{BIGCOMMERCE_ORDER}"
SHOPIFY_REFUND = {"refund": {"shipping": {"full_refund": True}}}
BIGCOMMERCE_QUOTE = {"items": [{"item_type": "ORDER", "item_id": BIGCOMMERCE_ORDER, "amount": 1}]}
BIGCOMMERCE_REFUND = {
    **BIGCOMMERCE_QUOTE,
    "payments": [{"provider_id": "storecredit", "amount": 1, "offline": False}],
}


@dataclass(frozen=True)
class Case:
    scenario: str
    platform: str
    method: str
    path: str
    operation_id: str
    status: int
    body: Any  # the platform's own rendering of the documented error
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = None


CASES = [
    Case(
        "shopify-over-quantity",
        "shopify",
        "POST",
        f"{SHOPIFY}/refunds.json",
        "createRefund",
        422,
        shopify.MoreThanPurchased().body,
        json=SHOPIFY_REFUND,
    ),
    Case(
        "shopify-not-fulfillable",
        "shopify",
        "POST",
        f"{SHOPIFY}/refunds.json",
        "createRefund",
        422,
        shopify.MoreThanFulfillable().body,
        json=SHOPIFY_REFUND,
    ),
    Case(
        "shopify-parent-id-not-on-order",
        "shopify",
        "POST",
        f"{SHOPIFY}/refunds.json",
        "createRefund",
        422,
        shopify.ParentNotOnOrder().body,
        json=SHOPIFY_REFUND,
    ),
    Case(
        "shopify-missing-scope",
        "shopify",
        "POST",
        f"{SHOPIFY}/refunds/calculate.json",
        "calculateRefund",
        403,
        shopify.MissingScope("write_orders").body,
        json=SHOPIFY_REFUND,
    ),
    Case(
        "shopify-missing-scope",
        "shopify",
        "GET",
        f"{SHOPIFY}.json",
        "getOrder",
        403,
        shopify.MissingScope("read_orders").body,
    ),
    Case(
        "shopify-rate-limited",
        "shopify",
        "GET",
        f"{SHOPIFY}/transactions.json",
        "listTransactions",
        429,
        shopify.Throttled().body,
        {"Retry-After": "2.0", "X-Shopify-Shop-Api-Call-Limit": "40/40"},
    ),
    Case(
        "shopify-server-error",
        "shopify",
        "GET",
        f"{SHOPIFY}/refunds.json",
        "listRefunds",
        500,
        shopify.UnexpectedError().body,
    ),
    Case(
        "bigcommerce-amount-greater-than-remaining",
        "bigcommerce",
        "POST",
        f"{BIGCOMMERCE}/payment_actions/refund_quotes",
        "createOrderRefundQuotes",
        422,
        bigcommerce.BigCommerceError(422, "Refund amount is greater than remaining amount").body,
        json=BIGCOMMERCE_QUOTE,
    ),
    Case(
        "bigcommerce-amount-greater-than-remaining",
        "bigcommerce",
        "POST",
        f"{BIGCOMMERCE}/payment_actions/refunds",
        "createOrderRefund",
        422,
        bigcommerce.BigCommerceError(422, "Refund amount is greater than remaining amount").in_data().body,
        json=BIGCOMMERCE_REFUND,
    ),
    Case(
        "bigcommerce-guest-store-credit",
        "bigcommerce",
        "POST",
        f"{BIGCOMMERCE}/payment_actions/refunds",
        "createOrderRefund",
        422,
        bigcommerce.GuestStoreCredit().in_data().body,
        json=BIGCOMMERCE_REFUND,
    ),
    Case(
        "bigcommerce-tax-service-unavailable",
        "bigcommerce",
        "POST",
        f"{BIGCOMMERCE}/payment_actions/refunds",
        "createOrderRefund",
        503,
        bigcommerce.TaxServiceGoneAway(1).body,
        json=BIGCOMMERCE_REFUND,
    ),
    Case(
        "bigcommerce-missing-scope",
        "bigcommerce",
        "GET",
        f"{BIGCOMMERCE}/transactions",
        "getOrderTransactions",
        403,
        bigcommerce.BigCommerceError(403, bigcommerce.FORBIDDEN_TITLE).body,
    ),
    Case(
        "bigcommerce-missing-scope",
        "bigcommerce",
        "GET",
        BIGCOMMERCE_V2,
        "getOrder",
        403,
        bigcommerce.BigCommerceError(403, bigcommerce.FORBIDDEN_TITLE).as_v2().body,
    ),
    Case(
        "bigcommerce-rate-limited",
        "bigcommerce",
        "GET",
        f"{BIGCOMMERCE}/payment_actions/refunds",
        "getOrderRefunds",
        429,
        bigcommerce.BigCommerceError(429, bigcommerce.RateLimited().title).body,
        bigcommerce.RateLimited().headers,
    ),
    Case(
        "bigcommerce-rate-limited",
        "bigcommerce",
        "GET",
        f"{BIGCOMMERCE_V2}/products",
        "getOrderProducts",
        429,
        bigcommerce.BigCommerceError(429, bigcommerce.RateLimited().title).as_v2().body,
        bigcommerce.RateLimited().headers,
    ),
]
REQUIRED = {
    "shopify-over-quantity",
    "shopify-not-fulfillable",
    "shopify-parent-id-not-on-order",
    "shopify-missing-scope",
    "shopify-rate-limited",
    "shopify-server-error",
    "bigcommerce-amount-greater-than-remaining",
    "bigcommerce-guest-store-credit",
    "bigcommerce-tax-service-unavailable",
    "bigcommerce-missing-scope",
    "bigcommerce-rate-limited",
}
TOKEN_HEADERS = {"shopify": "X-Shopify-Access-Token", "bigcommerce": "X-Auth-Token"}


@pytest.fixture(scope="module")
def app() -> Iterator[Flask]:
    """One strict app for the module: scripted and Prism-style answers change no state."""
    built = create_app(MockConfig(fixtures_dir=FIXTURES_DIR, strict_responses=True))
    built.testing = True
    yield built
    server_of(built).store.close()


@pytest.fixture(scope="module")
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def declared_headers(spec: Spec, operation: Operation, status: int) -> set[str]:
    response: Any = operation.definition["responses"][str(status)]
    while "$ref" in response:
        target: Any = spec.document
        for token in response["$ref"].lstrip("#/").split("/"):
            target = target[token]
        response = target
    return {name.lower() for name in response.get("headers", {})}


def test_every_required_built_in_is_loaded(app: Flask) -> None:
    server = server_of(app)
    assert server.scenarios.problems == []
    builtins = {scenario.name for scenario in server.scenarios.all() if scenario.source == "builtin"}
    assert builtins >= REQUIRED
    assert {case.scenario for case in CASES} == REQUIRED  # every one is exercised below
    assert not any(scenario.active for scenario in server.scenarios.all())


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case.scenario}-{case.operation_id}")
def test_built_in_answers_with_the_documented_status_headers_and_body(client: FlaskClient, case: Case) -> None:
    headers = {TOKEN_HEADERS[case.platform]: "any-token", "X-Mock-Scenario": case.scenario}
    response = client.open(case.path, method=case.method, json=case.json, headers=headers)
    assert response.status_code == case.status, response.get_data(as_text=True)
    assert response.get_json() == case.body
    for name, value in case.headers.items():
        assert response.headers.get(name) == value, name


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case.scenario}-{case.operation_id}")
def test_built_in_bodies_and_headers_are_declared_by_the_spec(app: Flask, case: Case) -> None:
    server = server_of(app)
    spec = server.specs[case.platform]
    operation = spec.operations[case.operation_id]
    assert operation.response_violations(case.status, case.body) == []
    assert {name.lower() for name in case.headers} <= declared_headers(spec, operation, case.status)


def test_the_same_request_without_the_header_is_computed(client: FlaskClient) -> None:
    response = client.get(f"{SHOPIFY}.json", headers={"X-Shopify-Access-Token": "t"})
    assert response.status_code == 200
    assert response.get_json()["order"]["id"] == SHOPIFY_ORDER


def test_cli_lists_one_line_per_scenario() -> None:
    result = CliRunner().invoke(main, ["scenarios", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    names = [line.split()[0] for line in lines]
    assert set(names) >= REQUIRED
    assert len(lines) == len(names) == len(set(names))
    assert all(len(line.split(maxsplit=1)) == 2 for line in lines)  # each has a description


def test_cli_lists_and_checks_a_scenario_file(tmp_path: Path) -> None:
    good = FIXTURES_DIR / "scenarios" / "example.yaml"
    result = CliRunner().invoke(main, ["scenarios", "list", str(good)])
    assert result.exit_code == 0, result.output
    assert "[example.yaml]" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nrules:\n  - respond: {status: 999, body: {}}\n")
    result = CliRunner().invoke(main, ["scenarios", "list", str(bad)])
    assert result.exit_code == 1
    assert "bad.yaml" in result.output and "respond.status" in result.output


def test_serve_refuses_a_bad_scenario_file_before_listening(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nrules:\n  - match: {operationId: noSuchOperation}\n    respond: {passthrough: true}\n")
    result = CliRunner().invoke(main, ["serve", "--port", "0", "--scenarios", str(bad)])
    assert result.exit_code == 1
    assert "scenario file refused: bad.yaml: scenario 'bad', rule 1:" in result.output
    assert "noSuchOperation" in result.output
