"""Shopify's official Python SDK (ShopifyAPI), unchanged, against the mock: calculate, refund, read back.

The only thing a team changes to test against refund-mock is where the SDK points: the
`site` of its resources, which is how ActiveResource clients are pointed at another host
(`shopify.Session` insists on `*.myshopify.com` over HTTPS).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from mockserver.pytest_plugin import RefundMock

shopify = pytest.importorskip("shopify", reason="ShopifyAPI is a test dependency (pip install 'refund-mock[test]')")

ORDER_ID = 3012450010102  # USD, paid with a 50.00 gift card and a card: two suggested transactions
TOKEN = "shpat_sdk_test"


@pytest.fixture
def sdk(refund_mock: RefundMock) -> Iterator[None]:
    session = shopify.Session("refund-mock.myshopify.com", "2020-10", TOKEN)
    shopify.ShopifyResource.activate_session(session)
    shopify.ShopifyResource.site = refund_mock.url("shopify")
    try:
        yield
    finally:
        shopify.ShopifyResource.clear_session()


def test_calculate_then_save_the_suggested_refund_then_read_it_back(sdk: None, refund_mock: RefundMock) -> None:
    order = shopify.Order.find(ORDER_ID)
    line = order.line_items[0]
    assert order.financial_status == "paid" and order.refunds == []

    calculated = shopify.Refund.calculate(
        ORDER_ID,
        shipping={"full_refund": True},
        refund_line_items=[{"line_item_id": line.id, "quantity": 1, "restock_type": "no_restock"}],
    )
    suggested = [(t.parent_id, Decimal(t.amount)) for t in calculated.transactions]
    assert [t.kind for t in calculated.transactions] == ["suggested_refund"] * len(suggested)
    assert sum(amount for _, amount in suggested) == Decimal(calculated.refund_line_items[0].subtotal) + Decimal(
        calculated.refund_line_items[0].total_tax
    )

    # The documented way to create it: the calculated refund, its transactions' kind set to "refund".
    for transaction in calculated.transactions:
        transaction.kind = "refund"
    assert calculated.save(), calculated.errors.full_messages()
    assert calculated.id is not None

    created = {(t.parent_id, Decimal(t.amount)) for t in calculated.transactions}
    assert created == {(parent, amount) for parent, amount in suggested if amount > 0}
    assert [(item.line_item_id, item.quantity) for item in calculated.refund_line_items] == [(line.id, 1)]

    read = shopify.Refund.find(calculated.id, order_id=ORDER_ID)
    stored = read.to_dict()
    assert stored == {key: calculated.to_dict()[key] for key in stored}, "read back differs from what was created"
    assert [refund.id for refund in shopify.Refund.find(order_id=ORDER_ID)] == [calculated.id]

    order = shopify.Order.find(ORDER_ID)
    assert order.financial_status == "partially_refunded"
    assert [refund.id for refund in order.refunds] == [calculated.id]
    kinds = [(t.kind, t.parent_id) for t in shopify.Transaction.find(order_id=ORDER_ID) if t.kind == "refund"]
    assert sorted(kinds) == sorted(("refund", parent) for parent, amount in suggested if amount > 0)

    sent = [entry["operationId"] for entry in refund_mock.requests()]
    assert sent == [
        "getOrder",
        "calculateRefund",
        "createRefund",
        "getRefund",
        "listRefunds",
        "getOrder",
        "listTransactions",
    ]


def test_the_sdk_surfaces_the_mock_s_documented_422(sdk: None) -> None:
    from pyactiveresource.connection import ResourceInvalid

    too_many = [{"line_item_id": 10020000001, "quantity": 99}]
    with pytest.raises(ResourceInvalid, match="cannot refund more items than were purchased"):
        shopify.Refund.calculate(ORDER_ID, refund_line_items=too_many)
    refund = shopify.Refund({"order_id": ORDER_ID, "refund_line_items": too_many})
    assert not refund.save()
    assert any("cannot refund more items than were purchased" in message for message in refund.errors.full_messages())


def test_the_sdk_pages_through_refunds_by_the_link_header_and_reads_the_call_limit(sdk: None) -> None:
    """The SDK's PaginatedCollection follows `Link` (rel="next"/"previous"); `shopify.Limits` parses
    `X-Shopify-Shop-Api-Call-Limit` as used/bucket."""
    order_id = 3012450010101  # one refund in the fixture
    money_only = {"parent_id": 4210000001, "amount": "1.00", "kind": "refund", "gateway": "bogus"}
    for note in ("second", "third"):
        assert shopify.Refund({"order_id": order_id, "note": note, "transactions": [money_only]}).save()

    first = shopify.Refund.find(order_id=order_id, limit=2)
    assert len(first) == 2 and first.has_next_page() and not first.has_previous_page()
    second = first.next_page()
    assert [refund.note for refund in second] == ["third"]
    assert not second.has_next_page() and second.has_previous_page()
    assert [refund.id for refund in second.previous_page()] == [refund.id for refund in first]
    pages = shopify.PaginatedIterator(shopify.Refund.find(order_id=order_id, limit=1))
    every = [refund.note for page in pages for refund in page]
    assert len(every) == 3 and every[1:] == ["second", "third"]

    assert shopify.Limits.credit_limit() == 40
    assert 0 < shopify.Limits.credit_used() <= 40
