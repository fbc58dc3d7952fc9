"""Shopify's official Python SDK (ShopifyAPI), unchanged, through the GraphQL Admin API of the mock:
suggest a refund, create it from the suggestion, read it back (by GraphQL and by the SDK's REST).

As for REST, the only thing a team changes is where the SDK points: the resources' `site`. The
SDK's `shopify.GraphQL()` posts to `<site>/graphql.json` with the session's access token.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from mockserver.pytest_plugin import RefundMock

shopify = pytest.importorskip("shopify", reason="ShopifyAPI is a test dependency (pip install 'refund-mock[test]')")

ORDER_ID = 3012450010102  # USD, paid with a 50.00 gift card and a card
ORDER_GID = f"gid://shopify/Order/{ORDER_ID}"
TOKEN = "shpat_sdk_test"
VERSION = "2025-01"

SUGGEST = """
query Suggest($id: ID!, $lines: [RefundLineItemInput!]) {
  order(id: $id) {
    lineItems(first: 10) { nodes { id refundableQuantity } }
    suggestedRefund(refundLineItems: $lines, refundShipping: true) {
      amountSet { shopMoney { amount currencyCode } }
      refundLineItems { lineItem { id } quantity restockType }
      suggestedTransactions { gateway amountSet { shopMoney { amount } } parentTransaction { id } }
    }
  }
}
"""
CREATE = """
mutation Create($input: RefundInput!) {
  refundCreate(input: $input) {
    refund { id legacyResourceId totalRefundedSet { shopMoney { amount } } }
    userErrors { field message }
  }
}
"""
READ = """
query Read($id: ID!) {
  order(id: $id) {
    displayFinancialStatus
    refunds { id refundLineItems(first: 5) { nodes { quantity lineItem { id } } } }
  }
}
"""


@pytest.fixture
def graphql(refund_mock: RefundMock) -> Iterator[Any]:
    session = shopify.Session("refund-mock.myshopify.com", VERSION, TOKEN)
    shopify.ShopifyResource.activate_session(session)
    shopify.ShopifyResource.site = f"{refund_mock.base_url}/admin/api/{VERSION}"
    try:
        yield lambda query, variables: json.loads(shopify.GraphQL().execute(query, variables))
    finally:
        shopify.ShopifyResource.clear_session()


def test_suggest_create_and_read_back_with_the_official_sdk(graphql: Any, refund_mock: RefundMock) -> None:
    first = graphql(SUGGEST, {"id": ORDER_GID})["data"]["order"]
    line = first["lineItems"]["nodes"][0]
    assert line["refundableQuantity"] == 2

    lines = [{"lineItemId": line["id"], "quantity": 1, "restockType": "NO_RESTOCK"}]
    suggested = graphql(SUGGEST, {"id": ORDER_GID, "lines": lines})["data"]["order"]["suggestedRefund"]
    total = Decimal(suggested["amountSet"]["shopMoney"]["amount"])
    assert total > 0
    transactions = [
        {
            "orderId": ORDER_GID,
            "parentId": t["parentTransaction"]["id"],
            "amount": t["amountSet"]["shopMoney"]["amount"],
            "gateway": t["gateway"],
            "kind": "REFUND",
        }
        for t in suggested["suggestedTransactions"]
        if Decimal(t["amountSet"]["shopMoney"]["amount"]) > 0
    ]
    created = graphql(
        CREATE,
        {
            "input": {
                "orderId": ORDER_GID,
                "refundLineItems": lines,
                "shipping": {"fullRefund": True},
                "transactions": transactions,
            }
        },
    )["data"]["refundCreate"]
    assert created["userErrors"] == []
    assert Decimal(created["refund"]["totalRefundedSet"]["shopMoney"]["amount"]) == total

    read = graphql(READ, {"id": ORDER_GID})["data"]["order"]
    assert read["displayFinancialStatus"] == "PARTIALLY_REFUNDED"
    assert [refund["id"] for refund in read["refunds"]] == [created["refund"]["id"]]
    assert read["refunds"][0]["refundLineItems"]["nodes"] == [{"quantity": 1, "lineItem": {"id": line["id"]}}]

    # the SDK's REST resources see the same refund
    shopify.ShopifyResource.site = refund_mock.url("shopify")
    rest = shopify.Refund.find(int(created["refund"]["legacyResourceId"]), order_id=ORDER_ID)
    assert [(item.line_item_id, item.quantity) for item in rest.refund_line_items] == [
        (int(line["id"].rsplit("/", 1)[1]), 1)
    ]
    assert [entry["operationId"] for entry in refund_mock.requests()] == ["graphqlAdmin"] * 4 + ["getRefund"]
