"""`node(id:)` for the line items and transactions of an order, as Shopify's `Node` interface gives
them: the figures are those of Shopify's documented order 450789469 and its documented
transactions (reference samples `order-2022docs-450789469.json`,
`transactions-2022docs-order-450789469.json`)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from flask.testing import FlaskClient
from graphql_support import data, line_gid, transaction_gid
from shopify_support import TOKEN_HEADERS, read_sample

NODE = """
query($id: ID!) {
  node(id: $id) {
    __typename id
    ... on LineItem { name quantity originalUnitPriceSet { shopMoney { amount currencyCode } } }
    ... on OrderTransaction { kind status gateway amountSet { shopMoney { amount } } }
  }
}
"""


def node(client: FlaskClient, gid: str) -> object:
    return data(client, NODE, {"id": gid})["node"]


def test_a_line_item_by_its_global_id(docs_client: FlaskClient, samples_dir: Path) -> None:
    documented = read_sample(samples_dir, "order-2022docs-450789469.json")
    order = documented.get("order", documented)
    for line in order["line_items"]:
        found = node(docs_client, line_gid(line["id"]))
        assert found == {
            "__typename": "LineItem",
            "id": line_gid(line["id"]),
            "name": line["name"],  # "IPod Nano - 8gb - red"
            "quantity": line["quantity"],
            "originalUnitPriceSet": {"shopMoney": {"amount": "199.0", "currencyCode": "USD"}},
        }
        assert Decimal(found["originalUnitPriceSet"]["shopMoney"]["amount"]) == Decimal(line["price"])


def test_a_transaction_by_its_global_id(docs_client: FlaskClient, samples_dir: Path) -> None:
    documented = read_sample(samples_dir, "transactions-2022docs-order-450789469.json")
    for transaction in documented.get("transactions", documented):
        found = node(docs_client, transaction_gid(transaction["id"]))
        assert (found["__typename"], found["id"]) == ("OrderTransaction", transaction_gid(transaction["id"]))
        assert (found["kind"], found["status"], found["gateway"]) == (
            transaction["kind"].upper(),  # CAPTURE, AUTHORIZATION, REFUND
            transaction["status"].upper(),
            transaction["gateway"],
        )
        assert Decimal(found["amountSet"]["shopMoney"]["amount"]) == Decimal(transaction["amount"])


def test_an_id_no_order_holds_is_null(docs_client: FlaskClient) -> None:
    assert node(docs_client, line_gid(1)) is None
    assert node(docs_client, transaction_gid(1)) is None


def test_a_line_item_read_by_node_follows_a_refund(docs_client: FlaskClient) -> None:
    # line 518995019: the one the documented calculate example refunds, so one unit is left
    query = "query($id: ID!) { node(id: $id) { ... on LineItem { refundableQuantity } } }"
    assert data(docs_client, query, {"id": line_gid(518995019)})["node"] == {"refundableQuantity": 1}
    mutation = "mutation($input: RefundInput!) { refundCreate(input: $input) { userErrors { field message } } }"
    refund_input = {
        "orderId": "gid://shopify/Order/450789469",
        "refundLineItems": [{"lineItemId": line_gid(518995019), "quantity": 1}],
    }
    assert data(docs_client, mutation, {"input": refund_input})["refundCreate"]["userErrors"] == []
    assert data(docs_client, query, {"id": line_gid(518995019)})["node"] == {"refundableQuantity": 0}


def test_node_reads_the_session_s_own_copy(shopify_client: FlaskClient) -> None:
    """In a named session a line read by node shows that session's refunds, and only there."""
    query = "query($id: ID!) { node(id: $id) { ... on LineItem { refundableQuantity } } }"
    line = {"id": line_gid(10010000001)}
    in_session = {**TOKEN_HEADERS, "X-Mock-Session": "node-test"}
    before = data(shopify_client, query, line)["node"]["refundableQuantity"]
    refund_input = {
        "orderId": "gid://shopify/Order/3012450010101",
        "refundLineItems": [{"lineItemId": line_gid(10010000001), "quantity": 1}],
    }
    mutation = "mutation($input: RefundInput!) { refundCreate(input: $input) { userErrors { message } } }"
    created = data(shopify_client, mutation, {"input": refund_input}, headers=in_session)
    assert created["refundCreate"]["userErrors"] == []
    assert data(shopify_client, query, line, headers=in_session)["node"] == {"refundableQuantity": before - 1}
    assert data(shopify_client, query, line)["node"] == {"refundableQuantity": before}  # the baseline


def test_a_transaction_made_after_an_earlier_lookup_is_found(docs_client: FlaskClient) -> None:
    """Lookups read an index made at the first one; a refund made afterwards is in it at once."""
    assert node(docs_client, transaction_gid(1)) is None  # the first lookup along transactions
    mutation = """
    mutation($input: RefundInput!) {
      refundCreate(input: $input) { refund { transactions(first: 5) { nodes { id } } } userErrors { message } }
    }
    """
    refund_input = {
        "orderId": "gid://shopify/Order/450789469",
        "refundLineItems": [{"lineItemId": line_gid(518995019), "quantity": 1}],
        "transactions": [
            {
                "orderId": "gid://shopify/Order/450789469",
                "parentId": transaction_gid(801038806),  # the documented capture (41.94 left on it)
                "amount": "10.00",
                "gateway": "bogus",
                "kind": "REFUND",
            }
        ],
    }
    created = data(docs_client, mutation, {"input": refund_input})["refundCreate"]
    assert created["userErrors"] == []
    [made] = created["refund"]["transactions"]["nodes"]
    found = node(docs_client, made["id"])
    assert (found["__typename"], found["kind"], found["amountSet"]["shopMoney"]["amount"]) == (
        "OrderTransaction",
        "REFUND",
        "10.0",
    )
