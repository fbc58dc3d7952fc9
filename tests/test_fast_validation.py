"""The quick (jsonschema_rs) copy of each schema gives exactly jsonschema's verdicts.

Every request is validated by the quick copy first and by jsonschema only when the copy refuses,
so a copy that accepted something jsonschema refuses would let an invalid request through. These
tests hold the two side by side on the specs' own examples, the committed fixtures and mutations
of them near the edges the keywords care about (bounds, patterns, formats, types, missing fields).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.openapi import SchemaValidator, Spec, data_dir, load_spec, violations_of
from tests.conftest import FIXTURES_DIR

SPEC_FILES = ("shopify-2020-10.yaml", "bigcommerce-v3.yaml", "admin.yaml")
FIXTURE_SCHEMAS = {"shopify": "ShopifyFixtureDocument", "bigcommerce": "BigCommerceFixtureDocument"}

EDGE_STRINGS = [
    "",
    "a",
    "USD",
    "usd",
    "12.34",
    "12.345",
    "12.34\n",
    "\u0661\u0662.\u0663\u0664",  # Arabic-Indic digits: Python's \\d takes them, ECMA's does not
    "-1.00",
    "2020-11-02T10:14:05-05:00",
    "2020-11-02t10:14:05z",
    "2020-13-02T10:14:05Z",
    "2020-11-02 10:14:05",
    "https://example.com/a?b=c",
    "not a uri",
    "no_restock",
    "return",
    "PRODUCT",
    "x" * 300,
    "\U0001f600",
]
EDGE_NUMBERS = [0, 1, -1, 0.5, 1.0, -0.0, 2, 100, 2**31, 2**53 + 1, 2**63, 10**30, 0.1, 0.30000000000000004, 1e300]


def json_values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.sampled_from(EDGE_NUMBERS),
        st.integers(min_value=-(10**6), max_value=10**6),
        st.floats(allow_nan=False, allow_infinity=False, width=64),
        st.sampled_from(EDGE_STRINGS),
        st.text(max_size=12),
    )
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=3),
            st.dictionaries(st.sampled_from(["id", "amount", "x"]), children, max_size=3),
        ),
        max_leaves=6,
    )


def paths_in(document: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(document, dict):
        for key, value in document.items():
            found.extend(paths_in(value, (*prefix, key)))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found.extend(paths_in(value, (*prefix, index)))
    return found


def mutated(document: Any, path: tuple[Any, ...], action: str, value: Any) -> Any:
    """`document` with the node at `path` replaced, removed, or given an extra property."""
    if not path:
        return value
    result = copy.deepcopy(document)
    parent = result
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if action == "delete":
        del parent[last]
    elif action == "extend" and isinstance(parent[last], dict):
        parent[last]["unexpected_field"] = value
    else:
        parent[last] = value
    return result


def specs() -> dict[str, Spec]:
    return {name: load_spec(data_dir("specs") / name) for name in SPEC_FILES}


def seeds() -> list[tuple[str, Any, SchemaValidator]]:
    """(label, a valid or nearly valid instance, its validator) from examples and fixtures."""
    loaded = specs()
    found: list[tuple[str, Any, SchemaValidator]] = []
    for spec in loaded.values():
        found.extend(spec.iter_examples())
    for platform, schema in FIXTURE_SCHEMAS.items():
        spec = loaded["shopify-2020-10.yaml" if platform == "shopify" else "bigcommerce-v3.yaml"]
        for path in sorted((FIXTURES_DIR / platform / "orders").glob("*.json"))[:3]:
            found.append((f"fixture {path.name}", json.loads(path.read_text(encoding="utf-8")), spec.schema(schema)))
    for spec in loaded.values():
        for operation in spec.operations.values():
            empty: dict[str, dict[str, Any]] = {"path": {}, "query": {}, "header": {}}
            found.append((f"{operation.operation_id} parameters", empty, operation.parameter_validator))
            if operation.body_validator is not None:
                found.append((f"{operation.operation_id} body", {}, operation.body_validator))
    return found


SEEDS = seeds()


def same_verdict(validator: SchemaValidator, instance: Any) -> None:
    assert validator.quick is not None
    try:
        quick = validator.quick.is_valid(instance)
    except Exception:  # lone surrogates and the like: the quick copy declines, jsonschema decides alone
        return
    assert quick == validator.detailed.is_valid(instance), json.dumps(instance)[:400]


def test_every_spec_schema_has_a_quick_copy() -> None:
    """Schemas the copy cannot reproduce are still validated (by jsonschema alone), only slower."""
    missing = [
        f"{name} {pointer}"
        for name, spec in specs().items()
        for pointer, validator in spec._validators.items()
        if validator.quick is None
    ]
    assert missing == []


@pytest.mark.parametrize(("label", "instance", "validator"), SEEDS, ids=[seed[0] for seed in SEEDS])
def test_the_seeds_get_the_same_verdict(label: str, instance: Any, validator: SchemaValidator) -> None:
    same_verdict(validator, instance)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutations_get_the_same_verdict(data: st.DataObject) -> None:
    _, seed, validator = data.draw(st.sampled_from(SEEDS))
    path = data.draw(st.sampled_from(paths_in(seed)))
    action = data.draw(st.sampled_from(["replace", "delete", "extend"]))
    if action == "delete" and not path:
        action = "replace"
    instance = mutated(seed, path, action, data.draw(json_values()))
    same_verdict(validator, instance)


def test_an_invalid_body_still_gets_jsonschemas_detailed_violations() -> None:
    calculate = specs()["shopify-2020-10.yaml"].operations["calculateRefund"]
    body = {"refund": {"refund_line_items": [{"line_item_id": "ten", "quantity": 0}]}}
    assert calculate.body_validator is not None and not calculate.body_validator.is_valid(body)
    fields = {violation.field for violation in violations_of(calculate.body_validator, body, "body")}
    assert {"refund.refund_line_items.0.line_item_id", "refund.refund_line_items.0.quantity"} <= fields


def test_when_the_quick_copy_cannot_take_an_instance_jsonschema_decides() -> None:
    """jsonschema_rs raises on some Python values (a lone surrogate, which JSON allows as `"\\ud800"`)."""
    validator = copy.copy(specs()["admin.yaml"].schema("Error"))

    class Refuses:
        def is_valid(self, instance: Any) -> bool:
            raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")

    validator.quick = Refuses()
    assert not validator.surely_valid({"status": 422, "message": "\ud800"})
    assert validator.is_valid({"status": 422, "message": "\ud800"})
    assert [error.validator for error in validator.iter_errors({"status": "422", "message": "m"})] == ["type"]
