"""The committed BigCommerce fixture orders add up to the cent, in BigCommerce's own fields.

Computed here from the raw documents, independently of the engine: what the products,
wrapping, shipping, handling and fees cost must be the order's totals, the tenders must have
paid exactly that, and earlier refunds must agree with the products, the order and the
transactions.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FIXTURES_DIR

PATHS = sorted((FIXTURES_DIR / "bigcommerce" / "orders").glob("*.json"))


def d(value: Any) -> Decimal:
    return Decimal(str(value or 0))


@pytest.fixture(params=PATHS, ids=lambda path: path.stem)
def document(request: pytest.FixtureRequest) -> dict[str, Any]:
    path: Path = request.param
    return json.loads(path.read_text(encoding="utf-8"))


def test_file_name_is_the_order_id(document: dict[str, Any]) -> None:
    assert any(path.stem == str(document["order"]["id"]) for path in PATHS)


def test_components_add_up_to_the_order_totals(document: dict[str, Any]) -> None:
    order = document["order"]
    products = document["products"]
    addresses = document["shipping_addresses"]
    fees = document.get("fees", [])
    paid = (
        sum(d(p["discounted_total_inc_tax"]) for p in products)
        + sum(d(p["wrapping_cost_inc_tax"]) for p in products)
        + sum(d(a["cost_inc_tax"]) + d(a["handling_cost_inc_tax"]) for a in addresses)
        + sum(d(f["cost_inc_tax"]) for f in fees)
    )
    tax = (
        sum(d(p["total_tax"]) + d(p["wrapping_cost_tax"]) for p in products)
        + sum(d(a["cost_tax"]) + d(a["handling_cost_tax"]) for a in addresses)
        + sum(d(f["cost_tax"]) for f in fees)
    )
    assert paid == d(order["total_inc_tax"])
    assert tax == d(order["total_tax"])
    assert d(order["total_ex_tax"]) + d(order["total_tax"]) == d(order["total_inc_tax"])
    assert sum(d(a["cost_inc_tax"]) for a in addresses) == d(order["shipping_cost_inc_tax"])
    assert sum(d(p["wrapping_cost_inc_tax"]) for p in products) == d(order["wrapping_cost_inc_tax"])
    discounts = sum(d(x["amount"]) for p in products for x in p["applied_discounts"])
    assert discounts == d(order["discount_amount"])


def test_each_product_line_is_consistent(document: dict[str, Any]) -> None:
    inclusive = document["order"].get("is_tax_inclusive_pricing", False)
    for product in document["products"]:
        discounts = sum(d(x["amount"]) for x in product["applied_discounts"])
        gross = d(product["total_inc_tax"]) if inclusive else d(product["total_ex_tax"]) + d(product["total_tax"])
        assert gross - discounts == d(product["discounted_total_inc_tax"]), product["id"]
        unit = d(product["price_inc_tax"]) if inclusive else d(product["price_ex_tax"])
        line = d(product["total_inc_tax"]) if inclusive else d(product["total_ex_tax"])
        assert unit * product["quantity"] == line, product["id"]


def test_tenders_paid_exactly_the_order_total(document: dict[str, Any]) -> None:
    paid = sum(
        d(t["amount"])
        for t in document["transactions"]
        if t["event"] in ("purchase", "capture") and t["status"] == "ok"
    )
    assert paid == d(document["order"]["total_inc_tax"])
    order = document["order"]
    by_gateway = {t["gateway"]: d(t["amount"]) for t in document["transactions"] if t["event"] == "purchase"}
    assert by_gateway.get("storecredit", Decimal(0)) == d(order["store_credit_amount"])
    assert by_gateway.get("giftcertificate", Decimal(0)) == d(order["gift_certificate_amount"])


def test_earlier_refunds_agree_with_order_products_and_transactions(document: dict[str, Any]) -> None:
    order = document["order"]
    refunds = document.get("refunds", [])
    refunded = sum(d(r["total_amount"]) for r in refunds)
    assert d(order["refunded_amount"]) == refunded
    for product in document["products"]:
        units = sum(
            item.get("quantity", 0)
            for r in refunds
            for item in r["items"]
            if item["item_type"] == "PRODUCT" and item["item_id"] == product["id"]
        )
        assert product["quantity_refunded"] == units
        assert product["is_refunded"] == (units >= product["quantity"])
    refund_transactions = {str(t["id"]): d(t["amount"]) for t in document["transactions"] if t["event"] == "refund"}
    payments = {p["transaction_id"]: d(p["amount"]) for r in refunds for p in r["payments"]}
    assert payments == refund_transactions
    for refund in refunds:
        assert sum(d(p["amount"]) for p in refund["payments"]) == d(refund["total_amount"])
    if refunded == 0:
        assert order["status_id"] not in (4, 14)
        assert order["payment_status"] in ("captured", "paid")
    elif refunded < d(order["total_inc_tax"]):
        assert (order["status_id"], order["status"], order["payment_status"]) == (
            14,
            "Partially Refunded",
            "partially refunded",
        )
    else:
        assert (order["status_id"], order["payment_status"]) == (4, "refunded")


def test_the_starter_set_covers_the_cases_the_issue_names() -> None:
    documents = [json.loads(path.read_text(encoding="utf-8")) for path in PATHS]
    orders = [document["order"] for document in documents]
    assert any(d(o["discount_amount"]) > 0 for o in orders), "an order-level discount"
    assert any(d(o["wrapping_cost_inc_tax"]) > 0 for o in orders), "gift wrapping"
    assert any(d(o["handling_cost_inc_tax"]) > 0 for o in orders), "handling"
    assert any(document.get("fees") for document in documents), "a fee"
    assert any(document.get("refunds") for document in documents), "an earlier partial refund"
    assert any(d(o["store_credit_amount"]) > 0 for o in orders), "store credit + another tender"
    assert any(o["customer_id"] == 0 for o in orders), "a guest"
    assert any(o.get("is_tax_inclusive_pricing") for o in orders), "tax-inclusive pricing"
    assert any(o["default_currency_code"] != o["store_default_currency_code"] for o in orders), "non-default currency"
    assert any("store_hash" in document for document in documents), "an order pinned to one store"
