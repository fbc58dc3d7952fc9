"""A multi-currency order through GraphQL: a JPY shop whose customer paid in KWD.

`suggestedRefund` answers the order's own presentment figures (KWD), each MoneyBag with its
shop-money counterpart (JPY), the same figures REST calculate and create give for the same refund
(`test_shopify_multi_currency.py` works them out by hand from the order); `refundCreate` needs the
presentment currency and the refund it creates carries both monies, listed by REST.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from graphql_support import data, line_gid, order_gid, transaction_gid
from shopify_support import BASE, TOKEN_HEADERS, load_order
from test_shopify_multi_currency import LINE_ID, ORDER_ID, SALE_ID, jpy_shop_kwd_customer

SUGGEST = """
query($id: ID!, $lines: [RefundLineItemInput!]) {
  order(id: $id) {
    currencyCode presentmentCurrencyCode
    totalReceivedSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }
    suggestedRefund(refundShipping: true, refundLineItems: $lines) {
      amountSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }
      shipping { amountSet { ...Both } taxSet { ...Both } }
      refundLineItems { priceSet { ...Both } subtotalSet { ...Both } totalTaxSet { ...Both } }
      suggestedTransactions { amountSet { ...Both } maximumRefundableSet { ...Both } parentTransaction { id } }
    }
  }
}
fragment Both on MoneyBag { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }
"""
CREATE = """
mutation($input: RefundInput!) {
  refundCreate(input: $input) {
    refund {
      legacyResourceId
      totalRefundedSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }
    }
    userErrors { field message }
  }
}
"""
ONE_UNIT = [{"lineItemId": line_gid(LINE_ID), "quantity": 1, "restockType": "NO_RESTOCK"}]


def both(shop: str, presentment: str) -> dict[str, Any]:
    return {
        "shopMoney": {"amount": shop, "currencyCode": "JPY"},
        "presentmentMoney": {"amount": presentment, "currencyCode": "KWD"},
    }


@pytest.fixture
def client(shopify_app: Flask) -> FlaskClient:
    load_order(shopify_app, jpy_shop_kwd_customer())
    return shopify_app.test_client()


def test_suggested_refund_in_presentment_money_with_shop_counterparts(client: FlaskClient) -> None:
    order = data(client, SUGGEST, {"id": order_gid(ORDER_ID), "lines": ONE_UNIT})["order"]
    assert (order["currencyCode"], order["presentmentCurrencyCode"]) == ("JPY", "KWD")
    assert order["totalReceivedSet"] == both("8679.0", "17.936")
    suggested = order["suggestedRefund"]
    (line,) = suggested["refundLineItems"]
    # one unit of 7.233 KWD / 3500 JPY, half the line's tax: 0.724 KWD / 350 JPY
    assert line == {
        "priceSet": both("3500.0", "7.233"),
        "subtotalSet": both("3500.0", "7.233"),
        "totalTaxSet": both("350.0", "0.724"),
    }
    assert suggested["shipping"] == {"amountSet": both("890.0", "1.839"), "taxSet": both("89.0", "0.184")}
    (transaction,) = suggested["suggestedTransactions"]
    # 7.233 + 0.724 + 1.839 + 0.184 = 9.980 KWD; in shop money 3500 + 350 + 890 + 89 = 4829 JPY
    assert transaction["amountSet"] == both("4829.0", "9.98")
    assert transaction["maximumRefundableSet"] == both("8679.0", "17.936")
    assert transaction["parentTransaction"]["id"] == transaction_gid(SALE_ID)
    assert suggested["amountSet"] == both("4829.0", "9.98")

    # REST calculate of the same refund says the same in presentment money
    rest = client.post(
        f"{BASE}/orders/{ORDER_ID}/refunds/calculate.json",
        json={
            "refund": {
                "currency": "KWD",
                "shipping": {"full_refund": True},
                "refund_line_items": [{"line_item_id": LINE_ID, "quantity": 1, "restock_type": "no_restock"}],
            }
        },
        headers=TOKEN_HEADERS,
    ).get_json()["refund"]
    assert Decimal(rest["transactions"][0]["amount"]) == Decimal(transaction["amountSet"]["presentmentMoney"]["amount"])
    assert Decimal(rest["refund_line_items"][0]["subtotal"]) == Decimal(
        line["subtotalSet"]["presentmentMoney"]["amount"]
    )


def test_refund_create_in_the_presentment_currency_is_listed_with_both_monies(client: FlaskClient) -> None:
    refund_input = {
        "orderId": order_gid(ORDER_ID),
        "refundLineItems": ONE_UNIT,
        "shipping": {"fullRefund": True},
        "transactions": [
            {
                "orderId": order_gid(ORDER_ID),
                "parentId": transaction_gid(SALE_ID),
                "amount": "9.980",
                "gateway": "shopify_payments",
                "kind": "REFUND",
            }
        ],
    }
    without = data(client, CREATE, {"input": refund_input})["refundCreate"]
    assert [error["field"] for error in without["userErrors"]] == [["currency"]]
    payload = data(client, CREATE, {"input": {**refund_input, "currency": "KWD"}})["refundCreate"]
    assert payload["userErrors"] == []
    assert payload["refund"]["totalRefundedSet"] == both("4829.0", "9.98")
    listed = client.get(f"{BASE}/orders/{ORDER_ID}/refunds.json", headers=TOKEN_HEADERS).get_json()["refunds"]
    (refund,) = listed
    assert refund["id"] == int(payload["refund"]["legacyResourceId"])
    (line,) = refund["refund_line_items"]
    assert line["subtotal_set"] == {
        "shop_money": {"amount": "3500", "currency_code": "JPY"},
        "presentment_money": {"amount": "7.233", "currency_code": "KWD"},
    }
