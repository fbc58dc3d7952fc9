"""The admin API for scenarios (list, add, remove), reset, and the admin token off loopback."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
import pytest
from click.testing import CliRunner
from flask import Flask
from openapi_spec_validator import validate

from mockserver.app import server_of
from mockserver.cli import check_admin_token, is_loopback, main
from tests.conftest import FIXTURES_DIR

SHOPIFY_ORDER = int(sorted((FIXTURES_DIR / "shopify" / "orders").glob("*.json"))[0].stem)
GET_ORDER = f"/admin/api/2020-10/orders/{SHOPIFY_ORDER}.json"
SHOPIFY = {"X-Shopify-Access-Token": "any-token"}
DOWN = {
    "name": "orders-down",
    "description": "getOrder fails",
    "rules": [
        {
            "match": {"platform": "shopify", "operationId": "getOrder"},
            "respond": {"status": 503, "error": {"message": "Service Unavailable"}},
        }
    ],
}


def scenario_names(client: Any, source: str | None = None) -> list[str]:
    listed = client.get("/__mock/scenarios").get_json()["scenarios"]
    return [entry["name"] for entry in listed if source is None or entry["source"] == source]


def test_listing_shows_built_ins_with_their_rules(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    listed = {entry["name"]: entry for entry in client.get("/__mock/scenarios").get_json()["scenarios"]}
    throttled = listed["shopify-rate-limited"]
    assert throttled["source"] == "builtin" and not throttled["active"] and throttled["description"]
    (rule,) = throttled["rules"]
    assert rule["answer"] == "429" and "shopify:getOrder" in rule["operations"] and rule["answered"] == 0


def test_adding_a_scenario_then_using_it(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    response = client.post("/__mock/scenarios", json=DOWN)
    assert response.status_code == 201 and response.get_json() == {"loaded": ["orders-down"]}
    assert "orders-down" in scenario_names(client, "runtime")
    answer = client.get(GET_ORDER, headers={**SHOPIFY, "X-Mock-Scenario": "orders-down"})
    assert answer.status_code == 503 and answer.get_json() == {"errors": "Service Unavailable"}
    listed = {entry["name"]: entry for entry in client.get("/__mock/scenarios").get_json()["scenarios"]}
    assert listed["orders-down"]["rules"][0]["answered"] == 1


def test_a_file_document_loads_several_scenarios(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    other = {**DOWN, "name": "orders-down-too"}
    response = client.post("/__mock/scenarios", json={"scenarios": [DOWN, other]})
    assert response.get_json() == {"loaded": ["orders-down", "orders-down-too"]}


def test_a_rejected_body_is_a_422_naming_rule_and_field_and_nothing_loads(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    broken = {
        "name": "broken",
        "rules": [
            {"respond": {"passthrough": True}},
            {
                "match": {"platform": "shopify", "operationId": "getOrder"},
                "respond": {"status": 422, "body": {"errors": {"order": 42}}},
            },
        ],
    }
    response = client.post("/__mock/scenarios", json={"scenarios": [DOWN, broken]})
    assert response.status_code == 422
    body = response.get_json()
    assert "scenario 'broken', rule 2" in body["message"] and "errors" in body["message"]
    ((field, reason),) = body["fields"].items()
    assert field.startswith("scenarios.1.rules.1.respond.body.errors")
    assert "response schema rejects" in reason and "scenario" not in reason  # the why, without the where
    assert "orders-down" not in scenario_names(client)


def test_a_structurally_wrong_document_is_a_422(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    response = client.post("/__mock/scenarios", json={"name": "x", "rules": [{"respond": {"status": "soon"}}]})
    assert response.status_code == 422
    assert response.get_json()["status"] == 422


def test_removing_run_time_scenarios(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    client.post("/__mock/scenarios", json={"scenarios": [DOWN, {**DOWN, "name": "second"}]})
    assert client.delete("/__mock/scenarios?name=second").get_json() == {"removed": ["second"]}
    missing = client.delete("/__mock/scenarios?name=second")
    assert missing.status_code == 404 and "no scenario has that name" in missing.get_json()["message"]
    builtin = client.delete("/__mock/scenarios?name=shopify-rate-limited")
    assert builtin.status_code == 404 and "start-up" in builtin.get_json()["message"]
    assert client.delete("/__mock/scenarios").get_json() == {"removed": ["orders-down"]}
    assert scenario_names(client, "runtime") == []
    assert "shopify-rate-limited" in scenario_names(client)


def test_a_run_time_scenario_can_override_a_built_in_until_reset(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    client.post("/__mock/scenarios", json={**DOWN, "name": "shopify-rate-limited"})
    headers = {**SHOPIFY, "X-Mock-Scenario": "shopify-rate-limited"}
    assert client.get(GET_ORDER, headers=headers).status_code == 503
    client.post("/__mock/reset")
    assert client.get(GET_ORDER, headers=headers).status_code == 429


def test_reset_restores_counters(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    once = {**DOWN, "rules": [{**DOWN["rules"][0], "match": {**DOWN["rules"][0]["match"], "times": 1}}]}
    client.post("/__mock/scenarios", json={**once, "active": True})
    assert client.get(GET_ORDER, headers=SHOPIFY).status_code == 503
    assert client.get(GET_ORDER, headers=SHOPIFY).status_code == 200
    client.post("/__mock/reset")
    assert client.get(GET_ORDER, headers=SHOPIFY).status_code == 200  # run-time scenarios are gone after reset


# -- the admin token ----------------------------------------------------------------------------


def test_with_a_token_the_admin_api_wants_it(make_app: Callable[..., Flask]) -> None:
    client = make_app(admin_token="s3cret").test_client()
    for method, path in [
        ("POST", "/__mock/reset"),
        ("GET", "/__mock/scenarios"),
        ("DELETE", "/__mock/requests"),
        ("GET", "/__mock/requests"),
    ]:
        refused = client.open(path, method=method)
        assert refused.status_code == 401, path
        assert "X-Mock-Admin-Token" in refused.get_json()["message"]
        assert client.open(path, method=method, headers={"X-Mock-Admin-Token": "wrong"}).status_code == 401
        assert client.open(path, method=method, headers={"X-Mock-Admin-Token": "s3cret"}).status_code == 200
    assert client.get("/__mock/health").status_code == 200  # health checks need no secret
    assert client.get(GET_ORDER, headers=SHOPIFY).status_code == 200  # the platform APIs do not change


def test_platform_tokens_do_not_collide_with_the_admin_token(make_app: Callable[..., Flask]) -> None:
    client = make_app(admin_token="s3cret", tokens={"shop": ["read_orders"]}).test_client()
    assert client.post("/__mock/reset", headers={"X-Mock-Admin-Token": "s3cret"}).status_code == 200


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("192.168.1.5", False),
        ("::", False),
        ("mock.internal", False),
    ],
)
def test_loopback_detection(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_binding_beyond_loopback_requires_a_token() -> None:
    with pytest.raises(click.UsageError, match="--admin-token"):
        check_admin_token("0.0.0.0", None)
    check_admin_token("0.0.0.0", "s3cret")
    check_admin_token("127.0.0.1", None)


def test_serve_refuses_to_start_on_all_interfaces_without_a_token() -> None:
    result = CliRunner().invoke(
        main, ["serve", "--host", "0.0.0.0", "--port", "0"], env={"REFUND_MOCK_ADMIN_TOKEN": None}
    )
    assert result.exit_code == 2
    assert "--admin-token" in result.output and "X-Mock-Admin-Token" in result.output


def test_serve_rejects_a_malformed_latency() -> None:
    result = CliRunner().invoke(main, ["serve", "--latency", "fast"])
    assert result.exit_code == 2 and "LOW-HIGH" in result.output


# -- the admin spec itself ------------------------------------------------------------------------


def test_the_admin_spec_is_valid_and_its_examples_hold(app: Flask) -> None:
    spec = server_of(app).specs["admin"]
    validate(spec.document)
    checked = 0
    for label, example, validator in spec.iter_examples():
        assert list(validator.iter_errors(example)) == [], label
        checked += 1
    assert checked >= 3


def test_the_documented_add_scenarios_example_loads(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    spec = server_of(client.application).specs["admin"]
    media = spec.operations["addScenarios"].definition["requestBody"]["content"]["application/json"]
    for name, example in media["examples"].items():
        assert client.post("/__mock/scenarios", json=example["value"]).status_code == 201, name


def test_a_method_no_route_takes_is_405_with_allow(client: Any) -> None:
    response = client.open("/__mock/scenarios", method="QUERY")
    assert response.status_code == 405
    assert response.headers["Allow"] == "DELETE, GET, POST, HEAD"
