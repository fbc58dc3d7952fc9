"""BigCommerce's refund guide, step by step with `requests`, against the mock.

The guide's flow (docs/store-operations/orders/refunds): find what the order holds (V2 order
products and shipping addresses), ask for a refund quote for the items to refund (PRODUCT by
quantity; SHIPPING, ORDER and FEE by amount), pick one of the quote's `refund_methods`, create
the refund with the same items and that method's payments, then read the refund and the order.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import requests

from mockserver.pytest_plugin import RefundMock

STORE_HASH = "xxazhvt7gd"  # the guide's example store hash; unpinned fixture orders answer under any
ORDER_ID = 100  # captured with braintree; a product bought 3 times, shipping, a fee


class Store:
    """A tiny BigCommerce API client, as an integrator writes one with `requests`."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers.update(
            {"X-Auth-Token": "guide-token", "Accept": "application/json", "Content-Type": "application/json"}
        )

    def get(self, path: str, **params: Any) -> Any:
        response = self.session.get(f"{self.base_url}{path}", params=params, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, path: str, body: dict[str, Any]) -> requests.Response:
        return self.session.post(f"{self.base_url}{path}", json=body, timeout=10)


@pytest.fixture
def store(refund_mock: RefundMock) -> Store:
    return Store(refund_mock.url("bigcommerce", STORE_HASH))


def test_quote_then_refund_as_the_guide_describes(store: Store, refund_mock: RefundMock) -> None:
    # 1. What can be refunded: the order's products and shipping addresses (V2).
    order = store.get(f"/v2/orders/{ORDER_ID}")
    products = store.get(f"/v2/orders/{ORDER_ID}/products")
    addresses = store.get(f"/v2/orders/{ORDER_ID}/shipping_addresses")
    product, address = products[0], addresses[0]
    assert order["status_id"] != 14 and product["quantity"] >= 1

    # 2. A quote for one unit of the product, part of the shipping, an order-level amount and the fee.
    items = [
        {"item_type": "PRODUCT", "item_id": product["id"], "quantity": 1},
        {"item_type": "SHIPPING", "item_id": address["id"], "amount": 5},
        {"item_type": "ORDER", "item_id": ORDER_ID, "amount": 1, "reason": "Overcharged $1.00"},
        {"item_type": "FEE", "item_id": 401, "amount": 1},
    ]
    quoted = store.post(f"/v3/orders/{ORDER_ID}/payment_actions/refund_quotes", {"items": items})
    assert quoted.status_code == 201, quoted.text
    quote = quoted.json()["data"]
    total = Decimal(str(quote["total_refund_amount"]))
    assert total > 0 and quote["order_level_refund_amount"] == 1
    for method in quote["refund_methods"]:  # each inner array is one complete way to pay it back
        assert sum(Decimal(str(option["amount"])) for option in method) == total

    # 3. Refund with the same items, paid back to the card the order was paid with.
    card = next(m for m in quote["refund_methods"] if m[0]["provider_id"] not in ("storecredit", "custom"))
    payments = [{"provider_id": o["provider_id"], "amount": o["amount"], "offline": o["offline"]} for o in card]
    created = store.post(f"/v3/orders/{ORDER_ID}/payment_actions/refunds", {"items": items, "payments": payments})
    assert created.status_code == 201, created.text
    refund = created.json()["data"]
    assert Decimal(str(refund["total_amount"])) == total
    assert Decimal(str(refund["total_tax"])) == Decimal(str(quote["total_refund_tax_amount"]))
    assert [(p["provider_id"], p["amount"]) for p in refund["payments"]] == [
        (p["provider_id"], p["amount"]) for p in payments
    ]

    # 4. The refund reads back, and the order shows it.
    assert (
        store.get(f"/v3/orders/payment_actions/refunds/{refund['id']}")["data"]["total_amount"]
        == refund["total_amount"]
    )
    assert [r["id"] for r in store.get(f"/v3/orders/{ORDER_ID}/payment_actions/refunds")["data"]] == [refund["id"]]
    listed = store.get("/v3/orders/payment_actions/refunds", **{"order_id:in": ORDER_ID})["data"]
    assert [r["id"] for r in listed] == [refund["id"]]
    order = store.get(f"/v2/orders/{ORDER_ID}")
    assert order["status_id"] == 14 and order["status"] == "Partially Refunded"
    assert Decimal(order["refunded_amount"]) == total
    refunded = next(p for p in store.get(f"/v2/orders/{ORDER_ID}/products") if p["id"] == product["id"])
    assert refunded["quantity_refunded"] == product["quantity_refunded"] + 1
    assert [e["operationId"] for e in refund_mock.requests(method="POST")] == [
        "createOrderRefundQuotes",
        "createOrderRefund",
    ]


def test_payments_that_are_not_a_quoted_method_are_refused(store: Store) -> None:
    """The guide's warning: pay back exactly one of the quote's methods, or the refund is a 422."""
    items = [{"item_type": "ORDER", "item_id": ORDER_ID, "amount": 10}]
    quote = store.post(f"/v3/orders/{ORDER_ID}/payment_actions/refund_quotes", {"items": items}).json()["data"]
    card = next(m for m in quote["refund_methods"] if m[0]["provider_id"] not in ("storecredit", "custom"))
    short = [{"provider_id": card[0]["provider_id"], "amount": 9.99, "offline": False}]
    refused = store.post(f"/v3/orders/{ORDER_ID}/payment_actions/refunds", {"items": items, "payments": short})
    assert refused.status_code == 422
    [error] = refused.json()["data"]
    assert error["status"] == 422 and "payments" in error["errors"]
