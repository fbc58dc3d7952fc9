"""Helpers for the GraphQL Admin tests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask.testing import FlaskClient
from shopify_support import TOKEN_HEADERS

DEFAULT_VERSION = "2025-01"


def graphql_url(version: str = DEFAULT_VERSION) -> str:
    return f"/admin/api/{version}/graphql.json"


def post(
    client: FlaskClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    version: str = DEFAULT_VERSION,
    headers: dict[str, str] | None = None,
) -> Any:
    """POST a GraphQL request; returns the Flask response (the answer is HTTP 200 unless the request is)."""
    return client.post(
        graphql_url(version),
        json={"query": query, "variables": variables},
        headers=TOKEN_HEADERS if headers is None else headers,
    )


def run(client: FlaskClient, query: str, variables: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
    """The answer's JSON, after checking it is HTTP 200 and carries the cost extension."""
    response = post(client, query, variables, **kwargs)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert set(body["extensions"]["cost"]) == {"requestedQueryCost", "actualQueryCost", "throttleStatus"}
    return body


def data(client: FlaskClient, query: str, variables: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
    """The answer's `data`, after checking there were no errors."""
    body = run(client, query, variables, **kwargs)
    assert "errors" not in body, body["errors"]
    return body["data"]


def shop(bag: dict[str, Any]) -> Decimal:
    """The shop-currency amount of a MoneyBag."""
    return Decimal(bag["shopMoney"]["amount"])


def order_gid(order_id: int) -> str:
    return f"gid://shopify/Order/{order_id}"


def line_gid(line_id: int) -> str:
    return f"gid://shopify/LineItem/{line_id}"


def transaction_gid(transaction_id: int) -> str:
    return f"gid://shopify/OrderTransaction/{transaction_id}"
