"""`refund-mock verify` against a store: passes when the mock and the store agree, fails naming
the order, the request and the field when the store's order changed; sends nothing but reads."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from store_check_support import Store, record, served_orders, verify

PLATFORMS = ["shopify", "bigcommerce"]
# What record and verify may ask a store: reads, calculate and refund quotes (which create nothing)
READ_OPERATIONS = {
    ("GET", "getOrder"),
    ("GET", "listTransactions"),
    ("GET", "getOrderProducts"),
    ("GET", "getOrderShippingAddresses"),
    ("GET", "getOrderFees"),
    ("GET", "getOrderTransactions"),
    ("GET", "getOrderRefunds"),
    ("POST", "calculateRefund"),
    ("POST", "createOrderRefundQuotes"),
}


def report_of(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "verify.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("platform", PLATFORMS)
def test_verify_passes_against_the_store_it_recorded(store: Store, tmp_path: Path, platform: str) -> None:
    assert record(store, platform, tmp_path / "fixtures").exit_code == 0
    result = verify(store, platform, tmp_path / "fixtures", tmp_path)
    assert result.exit_code == 0, result.output
    report = report_of(tmp_path)
    assert report["passed"] is True
    assert sorted(order["order_id"] for order in report["orders"]) == sorted(served_orders(platform))
    asked = sum(len(order["requests"]) for order in report["orders"])
    assert asked > 2 * len(report["orders"])  # lines, shipping and everything, for most orders
    suite = ElementTree.parse(tmp_path / "verify.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("tests") == str(asked) and suite.get("failures") == "0"
    assert f"{platform} order" in result.output and "0 orders differ" in result.output
    # nothing but reads reached the store
    assert set(store.requests_seen()) <= READ_OPERATIONS


def another_tax_on_a_shopify_line(document: dict[str, Any]) -> dict[str, Any]:
    """Order 3012450010101 with a city tax of 4.5 % added to its first line (4 x 14.50)."""
    changed = copy.deepcopy(document)
    line = changed["order"]["line_items"][0]
    money = {"amount": "2.22", "currency_code": "USD"}
    line["tax_lines"].append(
        {
            "title": "City Tax",
            "price": "2.22",
            "rate": 0.045,
            "price_set": {"shop_money": money, "presentment_money": money},
            "channel_liable": False,
        }
    )
    return changed


def another_tax_on_a_bigcommerce_line(document: dict[str, Any]) -> dict[str, Any]:
    """Order 100 with a second tax on product 201 (3 x 24.00): its tax 5.75 becomes 7.19."""
    changed = copy.deepcopy(document)
    product = next(product for product in changed["products"] if product["id"] == 201)
    product.update(price_tax="2.6100", price_inc_tax="26.6100", total_tax="7.1900", total_inc_tax="79.1900")
    return changed


@pytest.mark.parametrize(
    ("platform", "order_id", "change", "request_name", "field"),
    [
        (
            "shopify",
            3012450010101,
            another_tax_on_a_shopify_line,
            "line 10010000001",
            "refund.refund_line_items[0].total_tax",
        ),
        ("bigcommerce", 100, another_tax_on_a_bigcommerce_line, "product 201", "data.total_refund_tax_amount"),
    ],
)
def test_verify_fails_naming_the_order_the_request_and_the_field_when_the_store_changed(
    store: Store, tmp_path: Path, platform: str, order_id: int, change: Any, request_name: str, field: str
) -> None:
    assert record(store, platform, tmp_path / "fixtures").exit_code == 0
    store.load(platform, change(served_orders(platform)[order_id]))  # in the store only
    result = verify(store, platform, tmp_path / "fixtures", tmp_path)
    assert result.exit_code == 1
    assert f"{platform} order {order_id}: DIFFERENT" in result.output
    assert "1 orders differ" in result.output
    failed = [order for order in report_of(tmp_path)["orders"] if not order["passed"]]
    assert [order["order_id"] for order in failed] == [order_id]
    requests = {request["name"]: request for request in failed[0]["requests"]}
    differing = [difference["field"] for difference in requests[request_name]["differences"]]
    assert field in differing
    assert requests["everything"]["differences"]  # the whole refund has that tax too
    suite = ElementTree.parse(tmp_path / "verify.xml").getroot().find("testsuite")
    assert suite is not None
    failures = [
        (case.get("classname"), case.get("name"), case.find("failure").get("message"))  # type: ignore[union-attr]
        for case in suite.iter("testcase")
        if case.find("failure") is not None
    ]
    assert (f"{platform}.order_{order_id}", request_name) in {(classname, name) for classname, name, _ in failures}
    assert any(field in message for _, name, message in failures if name == request_name)
    assert set(store.requests_seen()) <= READ_OPERATIONS


def test_verify_without_recorded_orders_says_so(store: Store, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = verify(store, "shopify", tmp_path / "empty", tmp_path)
    assert result.exit_code == 2
    assert "no shopify orders" in result.output + result.stderr
