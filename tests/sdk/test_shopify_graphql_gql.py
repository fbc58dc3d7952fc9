"""`gql`, the GraphQL client Python teams point at Shopify's GraphQL Admin API, unchanged, against a
live mock: suggest a refund on Shopify's documented order 450789469, create it from the suggestion,
read it back (by GraphQL, and by REST).

The expected figures are those of Shopify's documented calculate response for the same request
(reference samples `calculate-request-2020-10-line-item-and-shipping.json` and
`calculate-response-2022docs-line-item-and-shipping.json`): one unit of line 518995019 and all
shipping suggest 41.94 back to the `bogus` gateway's transaction 801038806.
As with Shopify, the only things a team sets are the endpoint's URL and the access token header.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from mockserver.pytest_plugin import RefundMock
from tests.shopify.shopify_support import DOCS_ORDER_ID, build_docs_order_document, load_order

gql = pytest.importorskip("gql", reason="gql is a test dependency (pip install 'refund-mock[test]')")
from gql.transport.exceptions import TransportQueryError  # noqa: E402
from gql.transport.requests import RequestsHTTPTransport  # noqa: E402

VERSION = "2025-01"
TOKEN = "shpat_gql_test"
ORDER_GID = f"gid://shopify/Order/{DOCS_ORDER_ID}"
LINE_GID = "gid://shopify/LineItem/518995019"

SUGGEST = gql.gql(
    """
    query Suggest($id: ID!, $lines: [RefundLineItemInput!]) {
      order(id: $id) {
        suggestedRefund(refundLineItems: $lines, refundShipping: true) {
          amountSet { shopMoney { amount currencyCode } }
          shipping { amountSet { shopMoney { amount } } }
          refundLineItems { lineItem { id } quantity subtotalSet { shopMoney { amount } } }
          suggestedTransactions { gateway amountSet { shopMoney { amount } } parentTransaction { id } }
        }
      }
    }
    """
)
CREATE = gql.gql(
    """
    mutation Create($input: RefundInput!) {
      refundCreate(input: $input) {
        refund { id legacyResourceId totalRefundedSet { shopMoney { amount currencyCode } } }
        userErrors { field message }
      }
    }
    """
)
READ = gql.gql(
    """
    query Read($id: ID!) {
      order(id: $id) {
        displayFinancialStatus
        totalRefundedSet { shopMoney { amount } }
        refunds { id refundLineItems(first: 5) { nodes { quantity lineItem { id } } } }
      }
    }
    """
)


def request(document: Any, **variables: Any) -> Any:
    """A document with its variables, as gql 4 takes them."""
    return gql.GraphQLRequest(document, variable_values=variables)


@pytest.fixture
def samples_dir(reference_dir: Path) -> Path:
    folder = reference_dir / "shopify-samples"
    if not folder.is_dir():
        pytest.skip("the Shopify reference samples (../shared/reference/shopify-samples) are not present")
    return folder


@pytest.fixture
def client(refund_mock: RefundMock, samples_dir: Path) -> Iterator[Any]:
    """A gql client of the live mock, which also serves the documented order."""
    load_order(refund_mock.app, build_docs_order_document(samples_dir))
    transport = RequestsHTTPTransport(
        url=f"{refund_mock.base_url}/admin/api/{VERSION}/graphql.json",
        headers={"X-Shopify-Access-Token": TOKEN},
        retries=0,
    )
    with gql.Client(transport=transport, fetch_schema_from_transport=False) as session:
        yield session


def test_suggest_create_and_read_back_with_gql(client: Any, refund_mock: RefundMock, samples_dir: Path) -> None:
    documented = json.loads((samples_dir / "calculate-response-2022docs-line-item-and-shipping.json").read_text())
    [documented_transaction] = documented["refund"]["transactions"]

    lines = [{"lineItemId": LINE_GID, "quantity": 1, "restockType": "NO_RESTOCK"}]
    suggested = client.execute(request(SUGGEST, id=ORDER_GID, lines=lines))["order"]["suggestedRefund"]
    [transaction] = suggested["suggestedTransactions"]
    assert Decimal(transaction["amountSet"]["shopMoney"]["amount"]) == Decimal(documented_transaction["amount"])
    assert transaction["gateway"] == documented_transaction["gateway"]  # bogus
    assert (
        transaction["parentTransaction"]["id"]
        == f"gid://shopify/OrderTransaction/{documented_transaction['parent_id']}"
    )
    assert Decimal(suggested["shipping"]["amountSet"]["shopMoney"]["amount"]) == Decimal(
        documented["refund"]["shipping"]["amount"]
    )
    [line] = suggested["refundLineItems"]
    assert Decimal(line["subtotalSet"]["shopMoney"]["amount"]) == Decimal(
        documented["refund"]["refund_line_items"][0]["subtotal"]
    )

    refund_input = {
        "orderId": ORDER_GID,
        "refundLineItems": lines,
        "shipping": {"fullRefund": True},
        "transactions": [
            {
                "orderId": ORDER_GID,
                "parentId": transaction["parentTransaction"]["id"],
                "amount": transaction["amountSet"]["shopMoney"]["amount"],
                "gateway": transaction["gateway"],
                "kind": "REFUND",
            }
        ],
    }
    created = client.execute(request(CREATE, input=refund_input))["refundCreate"]
    assert created["userErrors"] == []
    refunded = created["refund"]["totalRefundedSet"]["shopMoney"]
    assert (Decimal(refunded["amount"]), refunded["currencyCode"]) == (Decimal(documented_transaction["amount"]), "USD")

    read = client.execute(request(READ, id=ORDER_GID))["order"]
    assert created["refund"]["id"] in [refund["id"] for refund in read["refunds"]]
    mine = next(refund for refund in read["refunds"] if refund["id"] == created["refund"]["id"])
    assert mine["refundLineItems"]["nodes"] == [{"quantity": 1, "lineItem": {"id": LINE_GID}}]
    # the documented suggestion was everything the payments had left (maximum_refundable 41.94)
    assert read["displayFinancialStatus"] == "REFUNDED"

    # REST lists the same refund, with the same money
    response = requests.get(
        f"{refund_mock.url('shopify')}/orders/{DOCS_ORDER_ID}/refunds/{created['refund']['legacyResourceId']}.json",
        headers={"X-Shopify-Access-Token": TOKEN},
        timeout=10,
    )
    assert response.status_code == 200
    [rest_transaction] = response.json()["refund"]["transactions"]
    assert Decimal(rest_transaction["amount"]) == Decimal(documented_transaction["amount"])


def test_gql_raises_the_mock_s_graphql_errors(client: Any) -> None:
    with pytest.raises(TransportQueryError) as raised:
        client.execute(gql.gql('{ order(id: "not-a-gid") { id } }'))
    [error] = raised.value.errors  # gql sends the document as it prints it: its locations are gql's
    assert (error["message"], error["path"], error["extensions"]) == (
        "Invalid global id 'not-a-gid'",
        ["order"],
        {"code": "BAD_REQUEST"},
    )
