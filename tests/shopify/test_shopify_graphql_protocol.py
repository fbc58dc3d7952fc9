"""The GraphQL endpoint as a client meets it: versions, auth and scopes, GraphQL errors, cost,
throttling and idempotency keys."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from graphql_support import data, graphql_url, line_gid, order_gid, post, run
from shopify_support import BASE, TOKEN_HEADERS

from mockserver.app import server_of
from mockserver.shopify.graphql.throttle import LocalCostBuckets

ORDER_ID = 3012450010102
LINE_ID = 10020000001
NAME_QUERY = "query($id: ID!) { order(id: $id) { name } }"
VARIABLES = {"id": order_gid(ORDER_ID)}


@pytest.mark.parametrize(
    ("asked", "answered"),
    [
        ("2025-01", "2025-01"),
        ("2025-07", "2025-07"),
        ("2026-10", "2026-10"),
        ("2024-10", "2025-01"),  # too old: falls forward to the oldest served version
        ("2025-02", "2025-01"),  # not a release
        ("2027-01", "2025-01"),
        ("unstable", "2025-01"),
    ],
)
def test_every_answer_names_the_version_that_answered(shopify_client: FlaskClient, asked: str, answered: str) -> None:
    response = post(shopify_client, NAME_QUERY, VARIABLES, version=asked)
    assert response.status_code == 200
    assert response.headers["X-Shopify-API-Version"] == answered
    assert response.get_json()["data"] == {"order": {"name": "#1102"}}


def test_a_path_that_is_no_version_is_not_found(shopify_client: FlaskClient) -> None:
    response = post(shopify_client, NAME_QUERY, VARIABLES, version="latest")
    assert (response.status_code, response.get_json()) == (404, {"errors": "Not Found"})


def test_no_token_is_shopify_s_401(shopify_client: FlaskClient) -> None:
    response = post(shopify_client, NAME_QUERY, VARIABLES, headers={}, version="2024-07")
    assert response.status_code == 401
    assert response.headers["X-Shopify-API-Version"] == "2025-01"
    assert response.get_json() == {
        "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
    }


def test_a_body_without_query_is_shopify_s_400(shopify_client: FlaskClient) -> None:
    response = shopify_client.post(graphql_url("2026-07"), json={"variables": {}}, headers=TOKEN_HEADERS)
    assert response.status_code == 400
    assert response.headers["X-Shopify-API-Version"] == "2026-07"
    assert response.get_json() == {"errors": {"query": "Required parameter missing or invalid"}}


def test_scopes_are_checked_per_field(make_shopify_app: Callable[..., Flask]) -> None:
    app = make_shopify_app(tokens={"reader": ["read_orders"], "writer": ["write_orders"], "none": []})
    client = app.test_client()
    reader = {"X-Shopify-Access-Token": "reader"}
    assert data(client, NAME_QUERY, VARIABLES, headers=reader) == {"order": {"name": "#1102"}}
    body = run(
        client,
        'mutation { refundCreate(input: {orderId: "gid://shopify/Order/3012450010102"}) { userErrors { message } } }',
        headers=reader,
    )
    assert body["data"] == {"refundCreate": None}
    [error] = body["errors"]
    assert error["message"] == "Access denied for refundCreate field. Required access: `write_orders` access scope."
    assert error["extensions"]["code"] == "ACCESS_DENIED"
    assert error["path"] == ["refundCreate"]
    body = run(client, NAME_QUERY, VARIABLES, headers={"X-Shopify-Access-Token": "none"})
    assert body["data"] == {"order": None}
    assert body["errors"][0]["extensions"]["requiredAccess"] == "`read_orders` access scope."
    assert data(client, NAME_QUERY, VARIABLES, headers={"X-Shopify-Access-Token": "writer"})["order"]["name"] == "#1102"
    unknown = post(client, NAME_QUERY, VARIABLES, headers={"X-Shopify-Access-Token": "stranger"})
    assert unknown.status_code == 401


@pytest.mark.parametrize(
    ("query", "message", "code"),
    [
        (
            '{ order(id: "gid://shopify/Order/1") { colour } }',
            "Field 'colour' doesn't exist on type 'Order'",
            "undefinedField",
        ),
        ("{ order { id } }", "Field 'order' is missing required arguments: id", "missingRequiredArguments"),
        ('{ order(id: "x", first: 1) { id } }', "Field 'order' doesn't accept argument 'first'", "argumentNotAccepted"),
        (
            '{ order(id: "x") }',
            "Field must have selections (field 'order' returns Order but has no selections. "
            "Did you mean 'order { ... }'?)",
            "selectionMismatch",
        ),
    ],
)
def test_validation_errors_in_shopify_s_words(shopify_client: FlaskClient, query: str, message: str, code: str) -> None:
    body = run(shopify_client, query)
    assert "data" not in body
    [error] = body["errors"]
    assert (error["message"], error["extensions"]["code"]) == (message, code)
    assert error["locations"][0]["line"] == 1
    assert body["extensions"]["cost"]["actualQueryCost"] is None


def test_a_syntax_error_has_a_location(shopify_client: FlaskClient) -> None:
    body = run(shopify_client, "{ order(id: ")
    assert "data" not in body
    assert body["errors"][0]["locations"] == [{"line": 1, "column": 13}]


def test_a_missing_variable(shopify_client: FlaskClient) -> None:
    body = run(shopify_client, NAME_QUERY, {})
    assert "data" not in body
    assert body["errors"][0]["message"] == "Variable $id of type ID! was provided invalid value"


# -- cost -------------------------------------------------------------------------------------------


def test_cost_follows_shopify_s_documented_rules(shopify_app: Flask) -> None:
    server_of(shopify_app).graphql_cost_buckets = LocalCostBuckets(restore_rate=1e-9)  # nothing restored meanwhile
    shopify_client = shopify_app.test_client()
    query = """query($id: ID!) { order(id: $id) {
        name
        totalPriceSet { shopMoney { amount } }
        lineItems(first: 10) { nodes { id originalUnitPriceSet { shopMoney { amount } } } pageInfo { hasNextPage } }
    } }"""
    body = run(shopify_client, query, VARIABLES)
    cost = body["extensions"]["cost"]
    # order 1 + totalPriceSet 1 + shopMoney 1 + lineItems (2 + 10 × (originalUnitPriceSet 1 + shopMoney 1))
    assert cost["requestedQueryCost"] == 1 + 2 + 2 + 10 * 2
    # the order has 2 lines: 2 + 2 × 2
    assert cost["actualQueryCost"] == 1 + 2 + 2 + 2 * 2
    status = cost["throttleStatus"]
    assert status["maximumAvailable"] == 2000.0
    # the requested cost was taken, then what the query did not use was given back
    assert status["currentlyAvailable"] == 2000 - cost["actualQueryCost"]


def test_the_bucket_is_shopify_s_standard_one(shopify_client: FlaskClient) -> None:
    status = run(shopify_client, NAME_QUERY, VARIABLES)["extensions"]["cost"]["throttleStatus"]
    assert (status["maximumAvailable"], status["restoreRate"]) == (2000.0, 100.0)


def test_a_mutation_costs_ten(shopify_client: FlaskClient) -> None:
    body = run(
        shopify_client,
        'mutation { refundCreate(input: {orderId: "gid://shopify/Order/1"}) { userErrors { field message } } }',
    )
    # refundCreate 10 + userErrors (a list of objects) 1
    assert body["extensions"]["cost"]["requestedQueryCost"] == 11


def test_a_query_above_1000_points_is_refused(shopify_client: FlaskClient) -> None:
    query = (
        "query($id: ID!) { order(id: $id) { lineItems(first: 250) { nodes {"
        " originalUnitPriceSet { shopMoney { amount } } discountedTotalSet { shopMoney { amount } } } } } }"
    )
    body = run(shopify_client, query, VARIABLES)
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert body["extensions"]["cost"]["requestedQueryCost"] == 1 + 2 + 250 * 4


def test_throttled_in_shopify_s_shape(make_shopify_app: Callable[..., Flask]) -> None:
    app = make_shopify_app(extra={"throttle": True})
    server_of(app).graphql_cost_buckets = LocalCostBuckets(capacity=10, restore_rate=1e-9)
    client = app.test_client()
    assert data(client, NAME_QUERY, VARIABLES) == {"order": {"name": "#1102"}}  # costs 1
    query = "query($id: ID!) { order(id: $id) { lineItems(first: 5) { nodes { id } } } }"  # 1 + 2 + 5 × 0 = 3
    expensive = (
        "query($id: ID!) { order(id: $id) {"
        " lineItems(first: 5) { nodes { originalTotalSet { shopMoney { amount } } } } } }"
    )
    body = run(client, expensive, VARIABLES)  # 1 + 2 + 5 × 2 = 13: more than the bucket has
    assert body == {
        "errors": [
            {
                "message": "Throttled",
                "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
            }
        ],
        "extensions": {
            "cost": {
                "requestedQueryCost": 13,
                "actualQueryCost": None,
                "throttleStatus": {"maximumAvailable": 10, "currentlyAvailable": 9, "restoreRate": 1e-9},
            }
        },
    }
    assert "data" in run(client, query, VARIABLES)  # 3 still fits


# -- idempotency ------------------------------------------------------------------------------------

IDEMPOTENT_CREATE = """
mutation Create($input: RefundInput!, $key: String!) {
  refundCreate(input: $input) @idempotent(key: $key) {
    refund { id }
    userErrors { field message }
  }
}
"""
PLAIN_CREATE = """
mutation Create($input: RefundInput!) {
  refundCreate(input: $input) { refund { id } userErrors { field message } }
}
"""
ONE_UNIT = {"orderId": order_gid(ORDER_ID), "refundLineItems": [{"lineItemId": line_gid(LINE_ID), "quantity": 1}]}


def rest_refunds(client: FlaskClient) -> list[Any]:
    return client.get(f"{BASE}/orders/{ORDER_ID}/refunds.json", headers=TOKEN_HEADERS).get_json()["refunds"]


def test_a_repeated_key_returns_the_first_refund(shopify_client: FlaskClient) -> None:
    variables = {"input": ONE_UNIT, "key": "3f1c9a44-1d0e-4d7e-9f68-7a1bde3c2a11"}
    first = data(shopify_client, IDEMPOTENT_CREATE, variables, version="2026-01")["refundCreate"]
    again = data(shopify_client, IDEMPOTENT_CREATE, variables, version="2026-01")["refundCreate"]
    assert first["userErrors"] == [] and first == again
    assert [refund["id"] for refund in rest_refunds(shopify_client)] == [int(first["refund"]["id"].rsplit("/", 1)[1])]
    other = data(shopify_client, IDEMPOTENT_CREATE, {**variables, "key": "another"}, version="2026-01")["refundCreate"]
    assert other["refund"]["id"] != first["refund"]["id"]
    assert len(rest_refunds(shopify_client)) == 2


def test_a_repeated_key_returns_the_first_user_errors(shopify_client: FlaskClient) -> None:
    too_many = {**ONE_UNIT, "refundLineItems": [{"lineItemId": line_gid(LINE_ID), "quantity": 9}]}
    first = data(shopify_client, IDEMPOTENT_CREATE, {"input": too_many, "key": "k1"}, version="2026-04")["refundCreate"]
    assert first["refund"] is None and first["userErrors"]
    again = data(shopify_client, IDEMPOTENT_CREATE, {"input": ONE_UNIT, "key": "k1"}, version="2026-04")["refundCreate"]
    assert again == first
    assert rest_refunds(shopify_client) == []


def test_the_key_is_optional_in_2026_01_and_mandatory_from_2026_04(shopify_client: FlaskClient) -> None:
    assert data(shopify_client, PLAIN_CREATE, {"input": ONE_UNIT}, version="2026-01")["refundCreate"]["refund"]
    body = run(shopify_client, PLAIN_CREATE, {"input": ONE_UNIT}, version="2026-04")
    assert body["data"] == {"refundCreate": None}
    assert body["errors"][0]["extensions"]["reason"] == "IDEMPOTENCY_KEY_REQUIRED"
    assert len(rest_refunds(shopify_client)) == 1


def test_the_directive_does_not_exist_before_2026_01(shopify_client: FlaskClient) -> None:
    body = run(shopify_client, IDEMPOTENT_CREATE, {"input": ONE_UNIT, "key": "k"}, version="2025-10")
    assert body["errors"][0]["message"] == "Directive @idempotent is not defined"
    assert rest_refunds(shopify_client) == []


def test_processed_at_exists_from_2026_01(shopify_client: FlaskClient) -> None:
    query = 'query { __type(name: "RefundInput") { inputFields { name } } }'
    fields_2025 = {f["name"] for f in data(shopify_client, query, version="2025-10")["__type"]["inputFields"]}
    fields_2026 = {f["name"] for f in data(shopify_client, query, version="2026-01")["__type"]["inputFields"]}
    assert fields_2026 - fields_2025 == {"processedAt"}


# -- scenarios and the journal ----------------------------------------------------------------------


def test_a_scenario_rule_can_match_a_graphql_operation(shopify_app: Flask) -> None:
    client = shopify_app.test_client()
    scenario: dict[str, Any] = {
        "scenarios": [
            {
                "name": "refund-create-down",
                "active": True,
                "rules": [
                    {
                        "match": {
                            "platform": "shopify",
                            "operationId": "graphqlAdmin",
                            "body": {"/query": {"regex": "\\brefundCreate\\b"}},
                        },
                        "respond": {"status": 503, "error": {"message": "Service Unavailable"}},
                    }
                ],
            }
        ]
    }
    added = client.post("/__mock/scenarios", json=scenario)
    assert added.status_code in (200, 201), added.get_json()
    assert data(client, NAME_QUERY, VARIABLES) == {"order": {"name": "#1102"}}  # a query passes
    response = post(client, PLAIN_CREATE, {"input": ONE_UNIT})
    assert (response.status_code, response.get_json()) == (503, {"errors": "Service Unavailable"})
    named = post(client, "query Named($id: ID!) { order(id: $id) { name } }", VARIABLES)
    assert named.status_code == 200
    journal = client.get("/__mock/requests").get_json()
    assert [entry["operationId"] for entry in journal["requests"]][-3:] == ["graphqlAdmin"] * 3


def test_a_repeated_query_follows_every_change_of_state(shopify_client: FlaskClient) -> None:
    """Answers of queries are kept while the orders they read are unchanged (mockserver/shopify/graphql/memo.py)."""
    query = "query($id: ID!) { order(id: $id) { displayFinancialStatus refunds { id } } }"
    before = data(shopify_client, query, VARIABLES)
    assert (
        before == data(shopify_client, query, VARIABLES) == {"order": {"displayFinancialStatus": "PAID", "refunds": []}}
    )
    rest = {"refund": {"refund_line_items": [{"line_item_id": LINE_ID, "quantity": 1}]}}
    created = shopify_client.post(f"{BASE}/orders/{ORDER_ID}/refunds.json", json=rest, headers=TOKEN_HEADERS)
    assert created.status_code == 201
    after = data(shopify_client, query, VARIABLES)["order"]
    assert after["refunds"] == [{"id": f"gid://shopify/Refund/{created.get_json()['refund']['id']}"}]
    assert shopify_client.post("/__mock/reset").status_code == 200
    assert data(shopify_client, query, VARIABLES) == before
    again = shopify_client.post(f"{BASE}/orders/{ORDER_ID}/refunds.json", json=rest, headers=TOKEN_HEADERS)
    assert data(shopify_client, query, VARIABLES)["order"]["refunds"] == [
        {"id": f"gid://shopify/Refund/{again.get_json()['refund']['id']}"}
    ]


def test_graphql_requests_are_priced_by_cost_not_counted_as_rest_calls(make_shopify_app: Callable[..., Flask]) -> None:
    """Shopify keeps GraphQL query cost and the REST call limit apart; so does the mock (`--throttle`)."""
    app = make_shopify_app(throttle=True)
    client = app.test_client()
    for _ in range(45):  # more than the REST bucket's 40 calls
        answer = post(client, NAME_QUERY, VARIABLES)
        assert answer.status_code == 200
        assert "X-Shopify-Shop-Api-Call-Limit" not in answer.headers
    rest = client.get(f"{BASE}/orders/{ORDER_ID}.json", headers=TOKEN_HEADERS)
    assert rest.status_code == 200
    assert rest.headers["X-Shopify-Shop-Api-Call-Limit"] == "1/40"
    buckets = client.get("/__mock/rate-limits").get_json()["buckets"]
    assert {bucket["kind"] for bucket in buckets} == {"shopify-graphql", "shopify-rest"}
