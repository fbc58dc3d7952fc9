"""A read-only query answers the same whether its plan runs it or graphql-core's general executor.

The plan (`mockserver.shopify.graphql.compiled`) is a shorter road through graphql-core for plain
queries; the answer a client sees must not depend on which road a request took. The expected
answer here is graphql-core's own execution of the same request (the plan switched off), data,
errors and cost alike.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from graphql import GraphQLEnumType, GraphQLNonNull, GraphQLObjectType, GraphQLScalarType, get_named_type
from graphql_support import graphql_url, line_gid, order_gid
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shopify_support import TOKEN_HEADERS

from mockserver.shopify.graphql import endpoint
from mockserver.shopify.graphql.schema import schema_for

ORDER_ID = 3012450010101  # fixture order: three lines, a discount code, two transactions, an earlier refund
VARIABLES = {"id": order_gid(ORDER_ID)}

QUERIES = {
    "suggestedRefund": (
        """query Suggest($id: ID!, $lines: [RefundLineItemInput!]) { order(id: $id) {
             suggestedRefund(refundShipping: true, refundLineItems: $lines) {
               amountSet { shopMoney { amount currencyCode } presentmentMoney { amount } }
               shipping { amountSet { shopMoney { amount } } taxSet { shopMoney { amount } } }
               refundLineItems { lineItem { id name } quantity restockType priceSet { shopMoney { amount } } }
               suggestedTransactions { gateway kind amountSet { shopMoney { amount } }
                 parentTransaction { id } } } } }""",
        {
            **VARIABLES,
            "lines": [{"lineItemId": line_gid(10010000001), "quantity": 1, "restockType": "NO_RESTOCK"}],
        },
    ),
    "aliases, fragments and __typename": (
        """query($id: ID!) { first: order(id: $id) { ...money __typename id }
             second: order(id: $id) { ... on Order { name totalReceivedSet { shopMoney { amount } } } }
             missing: order(id: "gid://shopify/Order/1") { id } }
           fragment money on Order {
             totalPriceSet { shopMoney { amount } } totalPriceSet { presentmentMoney { amount } } }""",
        VARIABLES,
    ),
    "connections and lists": (
        """query($id: ID!) { order(id: $id) {
             lineItems(first: 2) { pageInfo { hasNextPage endCursor } edges { cursor node { id quantity } } }
             transactions(first: 5) { id kind status amountSet { shopMoney { amount } } }
             refunds { id refundLineItems(first: 5) { nodes { quantity lineItem { id } } } }
             tags paymentGatewayNames } }""",
        VARIABLES,
    ),
    "a suggestion the engine refuses (an error: graphql-core's road)": (
        """query($id: ID!) { order(id: $id) { name
             suggestedRefund(refundLineItems: [{lineItemId: "gid://shopify/LineItem/10010000001", quantity: 99}]) {
               amountSet { shopMoney { amount } } } } }""",
        VARIABLES,
    ),
    "an id that is none (an error)": ('{ order(id: "nope") { id } }', None),
    "a connection without first (an error)": (
        "query($id: ID!) { order(id: $id) { lineItems { nodes { id } } } }",
        VARIABLES,
    ),
    "a variable of the wrong type": ("query($id: ID!) { order(id: $id) { id } }", {"id": 5.5}),
    "@include (graphql-core's road)": (
        "query($id: ID!, $yes: Boolean!) { order(id: $id) { id name @include(if: $yes) } }",
        {**VARIABLES, "yes": False},
    ),
    "node, an interface (graphql-core's road)": (
        "query($id: ID!) { node(id: $id) { id ... on Order { name } } }",
        VARIABLES,
    ),
}


def answer(app: Flask, query: str, variables: dict[str, Any] | None) -> tuple[int, Any]:
    response = app.test_client().post(
        graphql_url(), json={"query": query, "variables": variables}, headers=TOKEN_HEADERS
    )
    body = response.get_json()
    body["extensions"]["cost"].pop("throttleStatus")  # the bucket moves between the two requests
    return response.status_code, body


def through_both_roads(apps: tuple[Flask, Flask], query: str, variables: dict[str, Any] | None) -> tuple[Any, Any]:
    """The answer of a server with plans, and of a server executing with graphql-core alone."""
    planned = answer(apps[0], query, variables)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(endpoint, "query_plan", lambda *_: None)
        general = answer(apps[1], query, variables)
    return planned, general


@pytest.fixture
def apps(make_shopify_app: Any) -> tuple[Flask, Flask]:
    return make_shopify_app(), make_shopify_app()


@pytest.mark.parametrize("name", QUERIES)
def test_the_plan_answers_as_graphql_core_does(apps: tuple[Flask, Flask], name: str) -> None:
    query, variables = QUERIES[name]
    planned, general = through_both_roads(apps, query, variables)
    assert planned == general


def test_only_directives_and_abstract_types_leave_the_plan_s_road_before_execution() -> None:
    """(Errors leave it at run time: those queries have a plan, and graphql-core answers them.)"""
    without = {name for name in QUERIES if name.startswith(("@include", "node"))}
    for name, (query, _) in QUERIES.items():
        assert (endpoint.query_plan("2025-01", query, None) is None) == (name in without), name


# -- any selection of Order's fields ----------------------------------------------------------------


def _selection(field_type: Any, depth: int = 0) -> str:
    """A selection of every field without required arguments, two levels down."""
    named = get_named_type(field_type)
    if isinstance(named, GraphQLScalarType | GraphQLEnumType):
        return ""
    if not isinstance(named, GraphQLObjectType) or depth > 1:
        return "{ __typename }"
    inner = [
        name + _selection(child.type, depth + 1)
        for name, child in named.fields.items()
        if not any(isinstance(argument.type, GraphQLNonNull) for argument in child.args.values())
    ]
    return "{ " + " ".join(inner) + " }"


ORDER_FIELDS = {
    name: name + _selection(field.type)
    for name, field in schema_for("2025-01").type_map["Order"].fields.items()  # type: ignore[union-attr]
    if not any(isinstance(argument.type, GraphQLNonNull) for argument in field.args.values())
    and "Connection" not in str(field.type)
    and name != "suggestedRefund"
}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chosen=st.lists(st.sampled_from(sorted(ORDER_FIELDS)), min_size=1, max_size=12, unique=True))
def test_any_selection_of_order_fields_answers_alike(apps: tuple[Flask, Flask], chosen: list[str]) -> None:
    query = "query($id: ID!) { order(id: $id) { " + " ".join(ORDER_FIELDS[name] for name in chosen) + " } }"
    planned, general = through_both_roads(apps, query, VARIABLES)
    assert planned == general
    assert planned[0] == 200
