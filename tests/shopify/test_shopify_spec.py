"""The Shopify spec: valid OpenAPI, its examples valid, and Shopify's real bodies accepted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate
from shopify_support import SPEC_PATH, read_sample

from mockserver.openapi import Spec, load_document

DECLARED_ERRORS = {"400", "401", "403", "404", "413", "415", "422", "429", "500", "501", "503"}
OPERATIONS = {
    "calculateRefund": ("POST", "/admin/api/2020-10/orders/{order_id}/refunds/calculate.json", "200"),
    "createRefund": ("POST", "/admin/api/2020-10/orders/{order_id}/refunds.json", "201"),
    "listRefunds": ("GET", "/admin/api/2020-10/orders/{order_id}/refunds.json", "200"),
    "getRefund": ("GET", "/admin/api/2020-10/orders/{order_id}/refunds/{refund_id}.json", "200"),
    "getOrder": ("GET", "/admin/api/2020-10/orders/{order_id}.json", "200"),
    "listTransactions": ("GET", "/admin/api/2020-10/orders/{order_id}/transactions.json", "200"),
}
# Which operation answer each reference sample is: (file-name prefix, operationId, status).
SAMPLE_RESPONSES = [
    ("calculate-response-", "calculateRefund", 200),
    ("create-refund-response-", "createRefund", 201),
    ("order-", "getOrder", 200),
    ("transactions-", "listTransactions", 200),
]


@pytest.fixture(scope="module")
def spec() -> Spec:
    return Spec(SPEC_PATH)


def test_spec_is_valid_openapi() -> None:
    validate(load_document(SPEC_PATH))


def test_operations_are_the_six_documented_ones_and_the_graphql_endpoint(spec: Spec) -> None:
    found = {op_id: (op.method, op.path) for op_id, op in spec.operations.items()}
    expected = {op_id: (method, path) for op_id, (method, path, _) in OPERATIONS.items()}
    expected["graphqlAdmin"] = ("POST", "/admin/api/{version}/graphql.json")  # GraphQL Admin, 2025-01..2026-10
    assert found == expected


@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
def test_every_operation_declares_every_status_with_a_json_body(spec: Spec, operation_id: str) -> None:
    operation = spec.operations[operation_id]
    success = OPERATIONS[operation_id][2]
    declared = set(operation.response_validators)
    assert DECLARED_ERRORS | {success} <= declared
    assert all(operation.response_validators[status] is not None for status in declared)


@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
def test_scopes_write_for_posts_read_or_write_for_gets(spec: Spec, operation_id: str) -> None:
    operation = spec.operations[operation_id]
    if operation.method == "POST":
        assert operation.required_scopes() == [["write_orders"]]
    else:
        assert operation.required_scopes() == [["read_orders"], ["write_orders"]]
    scheme = spec.security_schemes["X-Shopify-Access-Token"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "X-Shopify-Access-Token")


def test_create_links_to_the_new_refund_and_the_list(spec: Spec) -> None:
    links = spec.operations["createRefund"].definition["responses"]["201"]["links"]
    by_operation = {link["operationId"]: link["parameters"] for link in links.values()}
    assert by_operation["getRefund"] == {
        "order_id": "$request.path.order_id",
        "refund_id": "$response.body#/refund/id",
    }
    assert by_operation["listRefunds"] == {"order_id": "$request.path.order_id"}


def _examples(spec: Spec) -> list[tuple[str, Any, Any]]:
    return list(spec.iter_examples())


def test_the_spec_carries_the_documented_request_examples(spec: Spec) -> None:
    labels = {label for label, _, _ in _examples(spec)}
    assert {
        "calculateRefund request example partialShipping",
        "calculateRefund request example lineItemAndShippingWithoutCurrency",
        "calculateRefund request example lineItemAndShipping",
        "createRefund request example lineItemReturn",
        "createRefund request example shippingOnly",
    } <= labels


def test_every_example_validates_against_its_schema(spec: Spec) -> None:
    examples = _examples(spec)
    assert len(examples) >= 20
    failures = {label: error.message for label, value, validator in examples for error in validator.iter_errors(value)}
    assert failures == {}


def test_the_schemas_reject_what_shopify_would_not_send(spec: Spec) -> None:
    """The response schemas are not so loose that anything passes."""
    create = spec.operations["createRefund"]
    refund_line = {"id": 1, "quantity": 1, "line_item_id": 2, "subtotal": "195.67", "total_tax": 3.98}
    refund = {"id": 1, "order_id": 2, "created_at": "2020-11-03T10:00:00-05:00", "transactions": []}
    bad_bodies = [
        {
            "refund": {**refund, "refund_line_items": [refund_line], "order_adjustments": []}
        },  # subtotal must be a number
        {"refund": {**refund, "refund_line_items": []}},  # order_adjustments missing
        {"errors": 42},
    ]
    for body in bad_bodies:
        assert create.response_violations(201, body), body
    calculate = spec.operations["calculateRefund"]
    shipping = {"amount": 5.0, "tax": "0.00", "maximum_refundable": "5.00"}  # money must be a string here
    assert calculate.response_violations(
        200, {"refund": {"shipping": shipping, "refund_line_items": [], "transactions": [], "currency": "USD"}}
    )
    assert calculate.response_violations(404, {"errors": ""})


@pytest.mark.parametrize(("prefix", "operation_id", "status"), SAMPLE_RESPONSES)
def test_reference_responses_validate(
    spec: Spec, samples_dir: Path, prefix: str, operation_id: str, status: int
) -> None:
    files = sorted(samples_dir.glob(f"{prefix}*.json"))
    assert files, f"no reference sample starts with {prefix}"
    for path in files:
        body = read_sample(samples_dir, path.name)
        assert spec.operations[operation_id].response_violations(status, body) == [], path.name


@pytest.mark.parametrize(
    ("prefix", "operation_id"), [("calculate-request-", "calculateRefund"), ("create-refund-request-", "createRefund")]
)
def test_reference_requests_validate(spec: Spec, samples_dir: Path, prefix: str, operation_id: str) -> None:
    for path in sorted(samples_dir.glob(f"{prefix}*.json")):
        assert spec.operations[operation_id].validate_body(read_sample(samples_dir, path.name)) == [], path.name


def test_the_documented_order_is_a_valid_fixture_document(spec: Spec, docs_order_document: dict[str, Any]) -> None:
    assert list(spec.schema("ShopifyFixtureDocument").iter_errors(docs_order_document)) == []


def test_money_in_requests_is_a_number_or_a_decimal_string(spec: Spec) -> None:
    calculate = spec.operations["calculateRefund"]
    for amount in (2, 2.5, "2.50", "100.0"):
        assert calculate.validate_body({"refund": {"currency": "USD", "shipping": {"amount": amount}}}) == []
    for amount in ("two", "-1.00", -1, "1e3", None, True):
        assert calculate.validate_body({"refund": {"currency": "USD", "shipping": {"amount": amount}}}), amount
