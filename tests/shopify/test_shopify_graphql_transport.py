"""How GraphQL requests travel: `application/graphql` bodies, and `X-Request-Id` on every answer.

Shopify takes the document itself as the body with `Content-Type: application/graphql` (its
earlier GraphQL Admin docs' curl examples send it so) beside the JSON body every client library
sends; and every Shopify answer carries `X-Request-Id` (reference: shopify.md, response headers),
which Shopify's clients quote in their error messages, refusals included.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from graphql_support import data, graphql_url, order_gid, post
from shopify_support import BASE, TOKEN_HEADERS

from mockserver.app import server_of
from mockserver.shopify.graphql.throttle import LocalCostBuckets

ORDER_ID = 3012450010102  # fixture order #1102 (tests/shopify: test_shopify_graphql_protocol.py reads its name)
NAME_DOCUMENT = f'{{ order(id: "{order_gid(ORDER_ID)}") {{ name displayFinancialStatus }} }}'
GRAPHQL_HEADERS = {**TOKEN_HEADERS, "Content-Type": "application/graphql"}
MISSING_QUERY = {"errors": {"query": "Required parameter missing or invalid"}}  # Shopify's 400 for no `query`


def post_document(client: FlaskClient, document: str | bytes, content_type: str = "application/graphql") -> object:
    return client.post(graphql_url(), data=document, headers={**TOKEN_HEADERS, "Content-Type": content_type})


# -- application/graphql ----------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["application/graphql", "application/graphql; charset=utf-8"])
def test_a_document_sent_as_application_graphql_answers_as_the_json_request(
    shopify_client: FlaskClient, content_type: str
) -> None:
    as_json = data(shopify_client, NAME_DOCUMENT)
    response = post_document(shopify_client, NAME_DOCUMENT, content_type)
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["data"] == as_json == {"order": {"name": "#1102", "displayFinancialStatus": "PAID"}}
    assert answer["extensions"]["cost"]["requestedQueryCost"] == 1  # one object: Shopify's cost rules
    assert response.headers["X-Shopify-API-Version"] == "2025-01"


def test_a_refund_created_through_an_application_graphql_body_is_listed_by_rest(shopify_client: FlaskClient) -> None:
    before = shopify_client.get(f"{BASE}/orders/{ORDER_ID}/refunds.json", headers=TOKEN_HEADERS).get_json()["refunds"]
    mutation = (
        "mutation { refundCreate(input: {"
        f' orderId: "{order_gid(ORDER_ID)}",'
        ' refundLineItems: [{lineItemId: "gid://shopify/LineItem/10020000001", quantity: 1}]'
        " }) { refund { legacyResourceId } userErrors { field message } } }"
    )
    response = post_document(shopify_client, mutation)
    created = response.get_json()["data"]["refundCreate"]
    assert created["userErrors"] == []
    after = shopify_client.get(f"{BASE}/orders/{ORDER_ID}/refunds.json", headers=TOKEN_HEADERS).get_json()["refunds"]
    assert [refund["id"] for refund in after] == [refund["id"] for refund in before] + [
        int(created["refund"]["legacyResourceId"])
    ]


def test_an_application_graphql_syntax_error_is_a_graphql_error(shopify_client: FlaskClient) -> None:
    response = post_document(shopify_client, "{ order(id: ")
    assert response.status_code == 200
    [error] = response.get_json()["errors"]
    assert error["locations"] == [{"line": 1, "column": 13}]
    assert "data" not in response.get_json()


@pytest.mark.parametrize("body", [b"", b"  \n "])
def test_an_empty_application_graphql_body_is_shopify_s_400(shopify_client: FlaskClient, body: bytes) -> None:
    response = post_document(shopify_client, body)
    assert response.status_code == 400
    # Shopify's 400 for no `query`, with the mock's reason after it (as for an empty JSON body)
    expected = f"{MISSING_QUERY['errors']['query']}: the request body is empty"
    assert response.get_json() == {"errors": {"query": expected}}


def test_an_application_graphql_body_that_is_not_utf8_is_a_400(shopify_client: FlaskClient) -> None:
    response = post_document(shopify_client, b"{ order(id: \xff) { id } }")
    assert response.status_code == 400
    assert response.get_json() == {
        "errors": {"query": "Required parameter missing or invalid: the request body is not UTF-8 text"}
    }


def test_another_media_type_is_a_415_naming_both_accepted_ones(shopify_client: FlaskClient) -> None:
    response = post_document(shopify_client, NAME_DOCUMENT, "text/plain")
    assert response.status_code == 415
    assert response.get_json() == {
        "errors": "The Content-Type header must be application/json or application/graphql, not text/plain."
    }


def test_rest_endpoints_still_take_only_json(shopify_client: FlaskClient) -> None:
    response = shopify_client.post(
        f"{BASE}/orders/{ORDER_ID}/refunds/calculate.json", data="{}", headers=GRAPHQL_HEADERS
    )
    assert response.status_code == 415
    message = "The Content-Type header must be application/json, not application/graphql."
    assert response.get_json() == {"errors": message}


# -- X-Request-Id -----------------------------------------------------------------------------------


def request_id(response: object) -> str:
    sent = response.headers.get("X-Request-Id")  # type: ignore[attr-defined]
    assert sent is not None, f"{response.status_code} without X-Request-Id"  # type: ignore[attr-defined]
    uuid.UUID(sent)  # uuid-shaped, as Shopify's
    return sent


def test_every_graphql_answer_carries_a_request_id(make_shopify_app: Callable[..., Flask]) -> None:
    app = make_shopify_app(extra={"throttle": True}, max_body_bytes=4096)
    client = app.test_client()
    answers = {
        "executed": post(client, NAME_DOCUMENT),
        "a GraphQL error": post(client, "{ order(id: "),
        "application/graphql": post_document(client, NAME_DOCUMENT),
        "no query": client.post(graphql_url(), json={"variables": {}}, headers=TOKEN_HEADERS),
        "not JSON": client.post(graphql_url(), data="{", headers={**TOKEN_HEADERS, "Content-Type": "application/json"}),
        "no token": post(client, NAME_DOCUMENT, headers={}),
        "another media type": post_document(client, NAME_DOCUMENT, "text/plain"),
        "too large": post_document(client, "{" + " " * 5000 + "}"),
        "GET": client.get(graphql_url(), headers=TOKEN_HEADERS),
    }
    server_of(app).graphql_cost_buckets = LocalCostBuckets(capacity=0.5, restore_rate=1e-9)
    answers["THROTTLED"] = post(client, NAME_DOCUMENT)
    statuses = {name: response.status_code for name, response in answers.items()}
    assert statuses == {
        "executed": 200,
        "a GraphQL error": 200,
        "application/graphql": 200,
        "no query": 400,
        "not JSON": 400,
        "no token": 401,
        "another media type": 415,
        "too large": 413,
        "GET": 405,
        "THROTTLED": 200,
    }
    assert answers["THROTTLED"].get_json()["errors"][0]["extensions"]["code"] == "THROTTLED"
    ids = [request_id(response) for response in answers.values()]
    assert len(set(ids)) == len(ids)  # one per answer
    for name, response in answers.items():
        assert "X-Shopify-Shop-Api-Call-Limit" not in response.headers, name  # GraphQL is priced by cost
        assert response.headers["X-Shopify-API-Version"] == "2025-01", name
