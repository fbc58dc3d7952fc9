"""refundCreate userErrors and suggestedRefund refusals, as Shopify sends them (messages captured
from real stores, listed in the reference notes, graphql.md 1.2), with nothing changed."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from graphql_support import data, line_gid, order_gid, run, transaction_gid
from shopify_support import BASE, TOKEN_HEADERS, fixture_documents, load_order

ORDER_ID = 3012450010102  # USD; gift card sale 50.00 (4220000001) then card sale 129.04 (4220000002)
OTHER_ORDER_ID = 3012450010104
LINE_ID = 10020000001  # 2 units

CREATE = """
mutation Create($input: RefundInput!) {
  refundCreate(input: $input) {
    refund { id }
    order { id }
    userErrors { field message }
  }
}
"""


def create(client: FlaskClient, **refund_input: Any) -> dict[str, Any]:
    payload = data(client, CREATE, {"input": {"orderId": order_gid(ORDER_ID), **refund_input}})["refundCreate"]
    return payload


def refunds_listed(client: FlaskClient, order_id: int = ORDER_ID) -> list[Any]:
    return client.get(f"{BASE}/orders/{order_id}/refunds.json", headers=TOKEN_HEADERS).get_json()["refunds"]


def refund_transaction(amount: str, parent: int = 4220000001, kind: str = "REFUND", order_id: int = ORDER_ID):
    return {
        "orderId": order_gid(order_id),
        "parentId": transaction_gid(parent),
        "amount": amount,
        "gateway": "gift_card",
        "kind": kind,
    }


def test_unknown_order(shopify_client: FlaskClient) -> None:
    payload = data(shopify_client, CREATE, {"input": {"orderId": order_gid(999)}})["refundCreate"]
    assert payload == {
        "refund": None,
        "order": None,
        "userErrors": [{"field": ["orderId"], "message": "Order does not exist"}],
    }


def test_line_of_another_order(shopify_client: FlaskClient) -> None:
    other_line = fixture_documents()[OTHER_ORDER_ID]["order"]["line_items"][0]["id"]
    payload = create(shopify_client, refundLineItems=[{"lineItemId": line_gid(other_line), "quantity": 1}])
    assert payload["refund"] is None
    assert payload["userErrors"] == [
        {"field": ["refundLineItems", "0", "lineItemId"], "message": "Line item does not exist"}
    ]
    assert refunds_listed(shopify_client) == []


def test_more_units_than_bought(shopify_client: FlaskClient) -> None:
    payload = create(shopify_client, refundLineItems=[{"lineItemId": line_gid(LINE_ID), "quantity": 3}])
    assert payload["userErrors"] == [
        {
            "field": ["refundLineItems", "0", "quantity"],
            "message": "Quantity cannot refund more items than were purchased",
        }
    ]
    assert refunds_listed(shopify_client) == []


def test_more_units_than_left(shopify_client: FlaskClient) -> None:
    lines = [{"lineItemId": line_gid(LINE_ID), "quantity": 2}]
    assert create(shopify_client, refundLineItems=lines)["userErrors"] == []
    payload = create(shopify_client, refundLineItems=[{"lineItemId": line_gid(LINE_ID), "quantity": 1}])
    assert payload["refund"] is None
    assert payload["userErrors"] == [
        {"field": ["refundLineItems"], "message": "Refund line items cannot refund more than refundable quantity"}
    ]
    assert len(refunds_listed(shopify_client)) == 1


def test_over_refund_reads_as_shopify_s_net_payment_message(shopify_client: FlaskClient) -> None:
    payload = create(shopify_client, transactions=[refund_transaction("999.00")])
    assert payload["refund"] is None
    assert payload["order"] == {"id": order_gid(ORDER_ID)}  # the order is still returned, as captured
    assert payload["userErrors"] == [
        {"field": None, "message": "Refund amount $999.00 is greater than net payment received $179.04"}
    ]
    assert refunds_listed(shopify_client) == []


def test_transaction_kind_must_be_refund(shopify_client: FlaskClient) -> None:
    payload = create(shopify_client, transactions=[refund_transaction("1.00", kind="AUTHORIZATION")])
    assert payload["userErrors"] == [{"field": None, "message": "Kind authorization is not a valid transaction"}]


@pytest.mark.parametrize("parent", [4220000099, 4240000001])
def test_parent_transaction_must_be_the_order_s(shopify_client: FlaskClient, parent: int) -> None:
    payload = create(shopify_client, transactions=[refund_transaction("1.00", parent=parent)])
    assert payload["userErrors"] == [
        {"field": ["transactions"], "message": "Transactions require a parent_id associated with the order"}
    ]
    assert refunds_listed(shopify_client) == []


def test_a_payment_beyond_one_parent_s_room_names_that_parent(shopify_client: FlaskClient) -> None:
    # 60.00 from the 50.00 gift card: within what the order received, beyond what that payment has
    payload = create(shopify_client, transactions=[refund_transaction("60.00")])
    assert payload["refund"] is None
    [error] = payload["userErrors"]
    assert error["field"] == ["transactions"]
    assert "4220000001" in error["message"] and "50.00" in error["message"]


def multi_currency_order() -> dict[str, Any]:
    document = copy.deepcopy(fixture_documents()[ORDER_ID])
    document["order"]["id"] = 3012450019999
    document["order"]["presentment_currency"] = "EUR"
    for transaction in document["transactions"]:
        transaction["order_id"] = 3012450019999
        transaction["id"] += 1000
    return document


def test_presentment_currency_rule(make_shopify_app) -> None:
    app: Flask = make_shopify_app()
    order_id = load_order(app, multi_currency_order())
    client = app.test_client()
    query_input = {
        "orderId": order_gid(order_id),
        "refundLineItems": [{"lineItemId": line_gid(LINE_ID), "quantity": 1}],
    }
    without = data(client, CREATE, {"input": query_input})["refundCreate"]
    assert without["refund"] is None
    assert [error["field"] for error in without["userErrors"]] == [["currency"]]
    wrong = data(client, CREATE, {"input": {**query_input, "currency": "USD"}})["refundCreate"]
    assert [error["field"] for error in wrong["userErrors"]] == [["currency"]]
    assert "EUR" in wrong["userErrors"][0]["message"]
    right = data(client, CREATE, {"input": {**query_input, "currency": "EUR"}})["refundCreate"]
    assert right["userErrors"] == [] and right["refund"] is not None


SUGGEST = """
query($id: ID!, $lines: [RefundLineItemInput!]) {
  order(id: $id) { suggestedRefund(refundLineItems: $lines) { amountSet { shopMoney { amount } } } }
}
"""


@pytest.mark.parametrize(
    ("line_id", "quantity", "message"),
    [
        (LINE_ID, 3, "Quantity cannot refund more items than were purchased"),
        (10040000001, 1, "Line item does not exist"),
    ],
)
def test_suggested_refund_refusals(shopify_client: FlaskClient, line_id: int, quantity: int, message: str) -> None:
    body = run(
        shopify_client,
        SUGGEST,
        {"id": order_gid(ORDER_ID), "lines": [{"lineItemId": line_gid(line_id), "quantity": quantity}]},
    )
    assert body["data"] == {"order": {"suggestedRefund": None}}
    [error] = body["errors"]
    assert error["message"] == message
    assert error["path"] == ["order", "suggestedRefund"]
    assert error["locations"]


def test_unknown_order_reads_as_null(shopify_client: FlaskClient) -> None:
    assert data(shopify_client, '{ order(id: "gid://shopify/Order/1") { id } }') == {"order": None}


def test_not_a_global_id(shopify_client: FlaskClient) -> None:
    body = run(shopify_client, '{ order(id: "450789469") { id } }')
    assert body["data"] == {"order": None}
    assert body["errors"][0]["message"] == "Invalid global id '450789469'"
