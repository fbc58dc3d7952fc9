"""The BigCommerce spec: valid OpenAPI 3.1, examples that validate, every status declared."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from mockserver.openapi import Spec, load_document, schema_validator
from tests.conftest import REPO_ROOT

SPEC_PATH = REPO_ROOT / "specs" / "bigcommerce-v3.yaml"
DECLARED_STATUSES = {"400", "401", "403", "404", "413", "415", "422", "429", "500", "501", "503"}
READ_REFUND_SCOPES = [
    "store_v2_transactions_read_only",
    "store_v2_transactions",
    "store_v2_orders_read_only",
    "store_v2_orders",
]
EXPECTED_SCOPES = {
    "createOrderRefundQuotes": ["store_v2_orders", "store_v2_transactions"],
    "createOrderRefund": ["store_v2_orders", "store_v2_transactions"],
    "getOrderRefunds": READ_REFUND_SCOPES,
    "getOrdersRefunds": READ_REFUND_SCOPES,
    "getOrderRefund": READ_REFUND_SCOPES,
    "getOrderTransactions": ["store_v2_transactions_read_only", "store_v2_transactions"],
    "getOrder": ["store_v2_orders_read_only", "store_v2_orders"],
    "getOrders": ["store_v2_orders_read_only", "store_v2_orders"],
    "getOrderProducts": ["store_v2_orders_read_only", "store_v2_orders"],
    "getOrderShippingAddresses": ["store_v2_orders_read_only", "store_v2_orders"],
    "getOrderFees": ["store_v2_orders_read_only", "store_v2_orders"],
}


@pytest.fixture(scope="module")
def spec() -> Spec:
    return Spec(SPEC_PATH)


def test_the_spec_is_valid_openapi_3_1() -> None:
    document = load_document(SPEC_PATH)
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_operation_of_the_issue_exists_with_its_path(spec: Spec) -> None:
    paths = {operation_id: (op.method, op.path) for operation_id, op in spec.operations.items()}
    base = "/stores/{store_hash}/v3/orders"
    assert paths == {
        "createOrderRefundQuotes": ("POST", f"{base}/{{order_id}}/payment_actions/refund_quotes"),
        "createOrderRefund": ("POST", f"{base}/{{order_id}}/payment_actions/refunds"),
        "getOrderRefunds": ("GET", f"{base}/{{order_id}}/payment_actions/refunds"),
        "getOrdersRefunds": ("GET", f"{base}/payment_actions/refunds"),
        "getOrderRefund": ("GET", f"{base}/payment_actions/refunds/{{refund_id}}"),
        "getOrderTransactions": ("GET", f"{base}/{{order_id}}/transactions"),
        "getOrder": ("GET", "/stores/{store_hash}/v2/orders/{order_id}"),
        "getOrders": ("GET", "/stores/{store_hash}/v2/orders"),
        "getOrderProducts": ("GET", "/stores/{store_hash}/v2/orders/{order_id}/products"),
        "getOrderShippingAddresses": ("GET", "/stores/{store_hash}/v2/orders/{order_id}/shipping_addresses"),
        "getOrderFees": ("GET", "/stores/{store_hash}/v2/orders/{order_id}/fees"),
    }


@pytest.mark.parametrize("operation_id", sorted(EXPECTED_SCOPES))
def test_each_operation_accepts_any_one_of_its_documented_scopes(spec: Spec, operation_id: str) -> None:
    operation = spec.operations[operation_id]
    alternatives = operation.required_scopes()
    assert all(len(scopes) == 1 for scopes in alternatives)
    assert sorted(scopes[0] for scopes in alternatives) == sorted(EXPECTED_SCOPES[operation_id])
    assert all(set(requirement) == {"X-Auth-Token"} for requirement in operation.security)


@pytest.mark.parametrize("operation_id", sorted(EXPECTED_SCOPES))
def test_every_status_the_server_can_send_is_declared_with_a_json_body(spec: Spec, operation_id: str) -> None:
    operation = spec.operations[operation_id]
    success = {"201"} if operation.method == "POST" else {"200"}
    declared = set(operation.response_validators)
    assert DECLARED_STATUSES | success <= declared
    for status in DECLARED_STATUSES | success:
        assert operation.response_validators[status] is not None, f"{operation_id} {status} has no JSON schema"


def test_v2_operations_declare_the_array_error_shape(spec: Spec) -> None:
    v2_error = [{"status": 404, "message": "The requested resource was not found."}]
    v3_error = {"status": 404, "title": "Not Found", "type": "x"}
    for operation_id in ("getOrder", "getOrderProducts", "getOrderShippingAddresses", "getOrderFees"):
        operation = spec.operations[operation_id]
        assert operation.response_violations(404, v2_error) == []
        assert operation.response_violations(404, v3_error) != []
    transactions = spec.operations["getOrderTransactions"]
    assert transactions.response_violations(404, v3_error) == []
    assert transactions.response_violations(404, v2_error) != []


def test_every_example_in_the_spec_validates(spec: Spec) -> None:
    checked = 0
    for label, example, validator in spec.iter_examples():
        errors = [error.message for error in validator.iter_errors(example)]
        assert not errors, f"{label}: {errors}"
        checked += 1
    assert checked >= 15


def _nested_schema_examples(node: Any, pointer: str) -> Iterator[tuple[str, Any]]:
    """(pointer of a schema, one of its `examples`) for every schema nested in components."""
    if isinstance(node, dict):
        if isinstance(node.get("examples"), list):
            for example in node["examples"]:
                yield pointer, example
        for key, value in node.items():
            if key in ("examples", "example"):
                continue
            yield from _nested_schema_examples(value, f"{pointer}/{key.replace('~', '~0').replace('/', '~1')}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _nested_schema_examples(value, f"{pointer}/{index}")


def test_property_level_examples_validate_too(spec: Spec) -> None:
    document = spec.document
    found = list(_nested_schema_examples(document["components"]["schemas"], "#/components/schemas"))
    assert len(found) > 10
    for pointer, example in found:
        errors = [error.message for error in schema_validator(document, pointer).iter_errors(example)]
        assert not errors, f"{pointer}: {example!r}: {errors}"


DOCUMENTED_ITEMS = [
    {"item_id": 75, "item_type": "PRODUCT", "quantity": 1},
    {"item_id": 79, "item_type": "SHIPPING", "amount": 10},
    {"item_type": "ORDER", "item_id": 1234, "amount": 1, "reason": "Overcharged $1.00"},
    {"item_type": "FEE", "item_id": 11, "amount": 1},
    {"item_type": "PRODUCT", "item_id": 31, "amount": 35.00, "quantity": 1, "reason": "Not the right product."},
]


@pytest.mark.parametrize("item", DOCUMENTED_ITEMS, ids=lambda item: item["item_type"])
def test_documented_items_validate_through_the_item_type_discriminator(spec: Spec, item: dict[str, Any]) -> None:
    assert not list(spec.schema("ItemsRefund").iter_errors(item))


def test_bigcommerces_literal_one_of_would_reject_documented_order_and_fee_items(spec: Spec) -> None:
    """Why the spec dispatches on item_type: the strict oneOf matches ORDER and FEE twice."""
    branches = ["QuantityBoundItem", "AmountBoundItem", "TaxExemptItem", "FeeItem"]
    literal = dict(spec.document)
    literal["$ref"] = "#/$defs/literal"
    literal["$defs"] = {"literal": {"oneOf": [{"$ref": f"#/components/schemas/{name}"} for name in branches]}}
    validator = Draft202012Validator(literal)
    assert not validator.is_valid({"item_type": "ORDER", "item_id": 1234, "amount": 1})
    assert not validator.is_valid({"item_type": "FEE", "item_id": 11, "amount": 1})
    assert spec.schema("ItemsRefund").is_valid({"item_type": "ORDER", "item_id": 1234, "amount": 1})


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"item_type": "PRODUCT", "item_id": 1}, "quantity"),
        ({"item_type": "SHIPPING", "item_id": 1, "quantity": 2}, "amount"),
        ({"item_type": "ORDER", "item_id": 1}, "amount"),
        ({"item_type": "FEE", "amount": 1}, "item_id"),
        ({"item_type": "REFUND", "item_id": 1, "amount": 1}, "item_type"),
        ({"item_type": "PRODUCT", "item_id": 1, "quantity": 1, "adjustments": [{"amount": 5}]}, "amount"),
    ],
)
def test_items_missing_their_branchs_fields_are_rejected(spec: Spec, item: dict[str, Any], field: str) -> None:
    errors = list(spec.schema("ItemsRefund").iter_errors(item))
    assert errors
    assert any(field in error.message or field in list(error.absolute_path) for error in errors)


@pytest.mark.parametrize("amount", [10, 10.5, 0, 1e3])
def test_request_money_is_a_json_number(spec: Spec, amount: Any) -> None:
    assert spec.schema("RequestAmount").is_valid(amount)


@pytest.mark.parametrize("amount", [-1, "10.50", "0", "-1.00", "ten", "1e3", True, None])
def test_request_money_rejects_negatives_strings_and_non_numbers(spec: Spec, amount: Any) -> None:
    """BigCommerce's V3 schemas declare request money `type: number`: a decimal string is not one."""
    assert not spec.schema("RequestAmount").is_valid(amount)


@pytest.mark.parametrize(
    "schema", ["RequestAmount", "RequestSignedAmount", "TaxAdjustmentAmount", "RefundItemAdjustment"]
)
def test_every_v3_request_money_schema_is_a_number_only(spec: Spec, schema: str) -> None:
    definition = spec.document["components"]["schemas"][schema]
    definition = definition["properties"]["amount"] if schema == "RefundItemAdjustment" else definition
    assert definition["type"] == "number"


def test_money_types_v3_numbers_v2_strings(spec: Spec) -> None:
    schemas = spec.document["components"]["schemas"]
    assert schemas["Amount"]["type"] == "number"
    assert schemas["Refund"]["properties"]["total_tax"]["type"] == "number"
    assert schemas["Order"]["properties"]["total_inc_tax"] == {"$ref": "#/components/schemas/V2Money"}
    assert schemas["V2Money"]["type"] == "string"


def test_created_refund_links_to_its_reads(spec: Spec) -> None:
    links = spec.operations["createOrderRefund"].definition["responses"]["201"]["links"]
    targets = {link["operationId"]: link["parameters"] for link in links.values()}
    assert targets["getOrderRefund"] == {
        "store_hash": "$request.path.store_hash",
        "refund_id": "$response.body#/data/id",
    }
    assert targets["getOrderRefunds"]["order_id"] == "$request.path.order_id"


def test_fixture_documents_match_the_fixture_schema(spec: Spec) -> None:
    validator = spec.schema("BigCommerceFixtureDocument")
    paths = sorted((REPO_ROOT / "fixtures" / "bigcommerce" / "orders").glob("*.json"))
    assert len(paths) >= 4
    for path in paths:
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(json.loads(path.read_text()))]
        assert not errors, f"{path.name}: {errors}"


def test_fixture_schema_tolerates_fields_it_does_not_list(spec: Spec) -> None:
    document = _first_fixture()
    document["order"]["some_future_field"] = {"nested": True}
    document["products"][0]["another_one"] = 3
    assert spec.schema("BigCommerceFixtureDocument").is_valid(document)


def _first_fixture() -> dict[str, Any]:
    path: Path = sorted((REPO_ROOT / "fixtures" / "bigcommerce" / "orders").glob("*.json"))[0]
    return json.loads(path.read_text())
