"""Shopify's documented refund figures through GraphQL: `suggestedRefund` gives what REST calculate
gives for the documented order 450789469 (reference samples), and `refundCreate` from a
suggestion is listed by REST (and a REST refund is read by GraphQL)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from graphql_support import data, line_gid, order_gid, shop, transaction_gid
from shopify_support import BASE, DOCS_ORDER_ID, TOKEN_HEADERS, read_sample

SUGGEST = """
query Suggest($id: ID!, $lines: [RefundLineItemInput!], $shipping: Boolean, $amount: Money) {
  order(id: $id) {
    suggestedRefund(refundLineItems: $lines, refundShipping: $shipping, shippingAmount: $amount) {
      amountSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }
      subtotalSet { shopMoney { amount } }
      discountedSubtotalSet { shopMoney { amount } }
      totalCartDiscountAmountSet { shopMoney { amount } }
      totalTaxSet { shopMoney { amount } }
      maximumRefundableSet { shopMoney { amount } }
      shipping {
        amountSet { shopMoney { amount } }
        taxSet { shopMoney { amount } }
        maximumRefundableSet { shopMoney { amount } }
      }
      refundLineItems {
        quantity restockType
        lineItem { id }
        priceSet { shopMoney { amount } }
        subtotalSet { shopMoney { amount } }
        totalTaxSet { shopMoney { amount } }
      }
      suggestedTransactions {
        kind gateway
        amountSet { shopMoney { amount currencyCode } }
        maximumRefundableSet { shopMoney { amount } }
        parentTransaction { id legacyResourceId: id }
      }
    }
  }
}
"""

CREATE = """
mutation Create($input: RefundInput!) {
  refundCreate(input: $input) {
    refund { id legacyResourceId note totalRefundedSet { shopMoney { amount currencyCode } } }
    order { displayFinancialStatus totalRefundedSet { shopMoney { amount } } }
    userErrors { field message }
  }
}
"""


def suggest(client: FlaskClient, **variables: Any) -> dict[str, Any]:
    return data(client, SUGGEST, {"id": order_gid(DOCS_ORDER_ID), **variables})["order"]["suggestedRefund"]


def rest_calculate(client: FlaskClient, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"{BASE}/orders/{DOCS_ORDER_ID}/refunds/calculate.json", json=body, headers=TOKEN_HEADERS)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["refund"]


def test_documented_line_and_shipping_figures_match_rest_calculate(docs_client: FlaskClient, samples_dir: Path) -> None:
    request = read_sample(samples_dir, "calculate-request-2020-10-line-item-and-shipping.json")["refund"]
    documented = read_sample(samples_dir, "calculate-response-2022docs-line-item-and-shipping.json")["refund"]
    line = request["refund_line_items"][0]
    suggested = suggest(
        docs_client,
        lines=[
            {"lineItemId": line_gid(line["line_item_id"]), "quantity": line["quantity"], "restockType": "NO_RESTOCK"}
        ],
        shipping=True,
    )
    rest = rest_calculate(docs_client, {"refund": request})

    # the documented figures (calculate response of the docs), through GraphQL
    [graphql_line] = suggested["refundLineItems"]
    [documented_line] = documented["refund_line_items"]
    assert graphql_line["lineItem"]["id"] == line_gid(documented_line["line_item_id"])
    assert (graphql_line["quantity"], graphql_line["restockType"]) == (1, "NO_RESTOCK")
    assert shop(graphql_line["priceSet"]) == Decimal(documented_line["price"])  # 199.00
    assert shop(graphql_line["subtotalSet"]) == Decimal(documented_line["subtotal"])  # 195.67
    assert shop(graphql_line["totalTaxSet"]) == Decimal(documented_line["total_tax"])  # 3.98
    assert shop(suggested["totalCartDiscountAmountSet"]) == Decimal(documented_line["total_cart_discount_amount"])
    assert shop(suggested["discountedSubtotalSet"]) == Decimal(documented_line["subtotal"])
    assert shop(suggested["subtotalSet"]) == Decimal(documented_line["discounted_total_price"])
    shipping = suggested["shipping"]
    assert shop(shipping["amountSet"]) == Decimal(documented["shipping"]["amount"])  # 5.00
    assert shop(shipping["taxSet"]) == Decimal(documented["shipping"]["tax"])
    assert shop(shipping["maximumRefundableSet"]) == Decimal(documented["shipping"]["maximum_refundable"])
    [transaction] = suggested["suggestedTransactions"]
    [documented_transaction] = documented["transactions"]
    assert transaction["kind"] == "SUGGESTED_REFUND"
    assert transaction["gateway"] == documented_transaction["gateway"]
    assert transaction["parentTransaction"]["id"] == transaction_gid(documented_transaction["parent_id"])
    assert shop(transaction["amountSet"]) == Decimal(documented_transaction["amount"])  # 41.94, capped
    assert shop(transaction["maximumRefundableSet"]) == Decimal(documented_transaction["maximum_refundable"])
    assert shop(suggested["amountSet"]) == Decimal("41.94")

    # ...and REST calculate on the same state says the same
    assert shop(graphql_line["subtotalSet"]) == Decimal(rest["refund_line_items"][0]["subtotal"])
    assert shop(shipping["amountSet"]) == Decimal(rest["shipping"]["amount"])
    assert shop(transaction["amountSet"]) == Decimal(rest["transactions"][0]["amount"])

    # Decimal as Shopify writes it: a string, trailing zeros dropped but one
    assert graphql_line["subtotalSet"]["shopMoney"]["amount"] == "195.67"
    assert graphql_line["priceSet"]["shopMoney"]["amount"] == "199.0"
    assert shipping["amountSet"]["shopMoney"]["amount"] == "5.0"
    assert suggested["amountSet"]["shopMoney"]["currencyCode"] == "USD"


def test_documented_partial_shipping(docs_client: FlaskClient, samples_dir: Path) -> None:
    documented = read_sample(samples_dir, "calculate-response-2022docs-partial-shipping.json")["refund"]
    suggested = suggest(docs_client, amount="2.0")
    assert suggested["refundLineItems"] == []
    assert shop(suggested["shipping"]["amountSet"]) == Decimal(documented["shipping"]["amount"])  # 2.00
    assert shop(suggested["shipping"]["maximumRefundableSet"]) == Decimal(documented["shipping"]["maximum_refundable"])
    [transaction] = suggested["suggestedTransactions"]
    assert shop(transaction["amountSet"]) == Decimal(documented["transactions"][0]["amount"])
    assert shop(transaction["maximumRefundableSet"]) == Decimal(documented["transactions"][0]["maximum_refundable"])


def test_refund_created_from_a_suggestion_is_listed_by_rest(docs_client: FlaskClient) -> None:
    lines = [{"lineItemId": line_gid(518995019), "quantity": 1, "restockType": "NO_RESTOCK"}]
    suggested = suggest(docs_client, lines=lines, shipping=True)
    transactions = [
        {
            "orderId": order_gid(DOCS_ORDER_ID),
            "parentId": t["parentTransaction"]["id"],
            "amount": t["amountSet"]["shopMoney"]["amount"],
            "gateway": t["gateway"],
            "kind": "REFUND",
        }
        for t in suggested["suggestedTransactions"]
    ]
    refund_input = {
        "orderId": order_gid(DOCS_ORDER_ID),
        "note": "wrong size",
        "refundLineItems": lines,
        "shipping": {"fullRefund": True},
        "transactions": transactions,
    }
    payload = data(docs_client, CREATE, {"input": refund_input})["refundCreate"]
    assert payload["userErrors"] == []
    refund = payload["refund"]
    assert refund["id"] == f"gid://shopify/Refund/{refund['legacyResourceId']}"
    assert refund["totalRefundedSet"]["shopMoney"] == {"amount": "41.94", "currencyCode": "USD"}
    # the capture (250.94) was already refunded 209.00: these 41.94 refund the rest of it
    assert payload["order"]["displayFinancialStatus"] == "REFUNDED"

    listed = docs_client.get(f"{BASE}/orders/{DOCS_ORDER_ID}/refunds.json", headers=TOKEN_HEADERS).get_json()["refunds"]
    created = next(r for r in listed if r["id"] == int(refund["legacyResourceId"]))
    assert created["note"] == "wrong size"
    assert [(line["line_item_id"], line["quantity"], line["subtotal"]) for line in created["refund_line_items"]] == [
        (518995019, 1, 195.67)
    ]
    assert [(t["parent_id"], t["amount"], t["kind"]) for t in created["transactions"]] == [
        (801038806, "41.94", "refund")
    ]
    order = docs_client.get(f"{BASE}/orders/{DOCS_ORDER_ID}.json", headers=TOKEN_HEADERS).get_json()["order"]
    assert order["financial_status"] == "refunded"

    # the same unit cannot be refunded twice, whichever API asks
    again = suggest_error(docs_client, lines)
    assert "cannot refund more than refundable quantity" in again


def suggest_error(client: FlaskClient, lines: list[dict[str, Any]]) -> str:
    from graphql_support import run

    body = run(client, SUGGEST, {"id": order_gid(DOCS_ORDER_ID), "lines": lines})
    assert body["data"]["order"]["suggestedRefund"] is None
    return body["errors"][0]["message"]


READ_BACK = """
query Read($id: ID!) {
  order(id: $id) {
    displayFinancialStatus
    totalRefundedSet { shopMoney { amount } }
    refunds { id legacyResourceId note
      refundLineItems(first: 10) { nodes { quantity restockType lineItem { id } subtotalSet { shopMoney { amount } } } }
      transactions(first: 10) {
        nodes { kind status gateway amountSet { shopMoney { amount } } parentTransaction { id } }
      }
    }
    lineItems(first: 10) { nodes { id refundableQuantity currentQuantity } }
  }
}
"""


def test_a_rest_refund_is_read_through_graphql(docs_client: FlaskClient, samples_dir: Path) -> None:
    request = read_sample(samples_dir, "create-refund-request-2020-10-line-item-return.json")
    response = docs_client.post(f"{BASE}/orders/{DOCS_ORDER_ID}/refunds.json", json=request, headers=TOKEN_HEADERS)
    assert response.status_code == 201, response.get_json()
    rest_refund = response.get_json()["refund"]

    order = data(docs_client, READ_BACK, {"id": order_gid(DOCS_ORDER_ID)})["order"]
    read = next(r for r in order["refunds"] if r["legacyResourceId"] == str(rest_refund["id"]))
    assert read["id"] == f"gid://shopify/Refund/{rest_refund['id']}"
    assert read["note"] == "wrong size"
    [line] = read["refundLineItems"]["nodes"]
    assert (line["lineItem"]["id"], line["quantity"], line["restockType"]) == (line_gid(518995019), 1, "NO_RESTOCK")
    assert line["subtotalSet"]["shopMoney"]["amount"] == "195.67"
    [transaction] = read["transactions"]["nodes"]
    assert (transaction["kind"], transaction["status"], transaction["gateway"]) == ("REFUND", "SUCCESS", "bogus")
    assert transaction["amountSet"]["shopMoney"]["amount"] == "41.94"
    assert transaction["parentTransaction"]["id"] == transaction_gid(801038806)
    rest_order = docs_client.get(f"{BASE}/orders/{DOCS_ORDER_ID}.json", headers=TOKEN_HEADERS).get_json()["order"]
    assert order["displayFinancialStatus"] == rest_order["financial_status"].upper()
    refundable = {item["id"]: item["refundableQuantity"] for item in order["lineItems"]["nodes"]}
    assert refundable[line_gid(518995019)] == 0

    by_id = data(docs_client, "query($id: ID!) { refund(id: $id) { note order { id } } }", {"id": read["id"]})
    assert by_id["refund"] == {"note": "wrong size", "order": {"id": order_gid(DOCS_ORDER_ID)}}
