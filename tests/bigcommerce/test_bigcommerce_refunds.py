"""Quotes and refunds on the committed fixture orders: figures worked out by hand from the fixtures."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient

from mockserver.app import server_of
from mockserver.bigcommerce import PLATFORM
from tests.bigcommerce.bigcommerce_orders import LineSpec, OrderSpec, build_order

TOKEN = {"X-Auth-Token": "any-token"}
STORE = "abc123"


def quote(client: FlaskClient, order_id: int, body: dict[str, Any], store: str = STORE) -> Any:
    return client.post(f"/stores/{store}/v3/orders/{order_id}/payment_actions/refund_quotes", json=body, headers=TOKEN)


def refund(client: FlaskClient, order_id: int, body: dict[str, Any], store: str = STORE) -> Any:
    return client.post(f"/stores/{store}/v3/orders/{order_id}/payment_actions/refunds", json=body, headers=TOKEN)


def get(client: FlaskClient, path: str, **query: Any) -> Any:
    return client.get(path, headers=TOKEN, query_string=query).get_json()


def methods(body: Any) -> list[list[tuple[str, Decimal]]]:
    return [
        [(option["provider_id"], Decimal(str(option["amount"]))) for option in method]
        for method in body["data"]["refund_methods"]
    ]


def pay_with(method: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"provider_id": option["provider_id"], "amount": option["amount"]} for option in method]


# order 100 (USD, tax-exclusive 8.875%): T-shirt 201 3 x 24.00 less 7.20 discount, tax 5.75
# (paid 70.55); tote 202 paid 18.13 with wrapping 4.36 (tax 0.36); shipping 8.00 + 0.71 and
# handling 2.00 + 0.18 on address 301; fee 401 1.50 + 0.13; braintree captured 105.56.
GUIDE_LIKE_ITEMS = [
    {"item_type": "PRODUCT", "item_id": 201, "quantity": 1},
    {"item_type": "SHIPPING", "item_id": 301, "amount": 8},
    {"item_type": "FEE", "item_id": 401, "amount": 1.5},
    {"item_type": "ORDER", "item_id": 100, "amount": 1},
]


def test_quote_figures_for_product_shipping_fee_and_order_items(client: FlaskClient) -> None:
    response = quote(client, 100, {"items": GUIDE_LIKE_ITEMS})
    assert response.status_code == 201
    data = response.get_json()["data"]
    # one T-shirt: 70.55 / 3 -> 23.52 with 5.75 / 3 -> 1.92 tax; shipping 8.00 + 0.71; fee 1.50 + 0.13; order 1.00
    assert data["total_refund_amount"] == 34.86
    assert data["total_refund_tax_amount"] == 2.76
    assert data["order_level_refund_amount"] == 1
    assert (data["rounding"], data["adjustment"]) == (0, 0)
    assert data["tax_inclusive"] is False and data["is_tax_included"] is False
    assert data["order_id"] == 100
    assert methods(response.get_json()) == [
        [("storecredit", Decimal("34.86"))],
        [("custom", Decimal("34.86"))],
        [("braintree", Decimal("34.86"))],
    ]


def test_a_quote_changes_nothing(client: FlaskClient) -> None:
    before = get(client, f"/stores/{STORE}/v2/orders/100/products")
    assert quote(client, 100, {"items": GUIDE_LIKE_ITEMS}).status_code == 201
    assert get(client, f"/stores/{STORE}/v2/orders/100/products") == before
    assert get(client, f"/stores/{STORE}/v3/orders/100/payment_actions/refunds")["data"] == []


def test_refund_matches_its_quote_and_updates_the_order(client: FlaskClient) -> None:
    quoted = quote(client, 100, {"items": GUIDE_LIKE_ITEMS}).get_json()
    original = quoted["data"]["refund_methods"][2]
    response = refund(client, 100, {"items": GUIDE_LIKE_ITEMS, "payments": pay_with(original)})
    assert response.status_code == 201
    created = response.get_json()["data"]
    assert created["total_amount"] == quoted["data"]["total_refund_amount"] == 34.86
    assert created["total_tax"] == 2.76
    assert created["uses_merchant_override_values"] is False
    assert [(i["item_type"], i.get("quantity"), i["requested_amount"]) for i in created["items"]] == [
        ("PRODUCT", 1, 21.6),  # 23.52 less its 1.92 tax: the order is tax-exclusive
        ("SHIPPING", None, 8),
        ("FEE", None, 1.5),
        ("ORDER", None, 1),
    ]
    order = get(client, f"/stores/{STORE}/v2/orders/100")
    assert (order["status_id"], order["status"]) == (14, "Partially Refunded")
    assert order["payment_status"] == "partially refunded"
    assert order["refunded_amount"] == "34.8600"
    shirt = get(client, f"/stores/{STORE}/v2/orders/100/products")[0]
    assert (shirt["quantity_refunded"], shirt["is_refunded"]) == (1, False)
    transactions = get(client, f"/stores/{STORE}/v3/orders/100/transactions")["data"]
    assert transactions[-1]["event"] == "refund" and transactions[-1]["amount"] == 34.86
    assert transactions[-1]["gateway"] == "braintree"
    assert created["payments"][0]["transaction_id"] == str(transactions[-1]["id"])


def test_a_new_refund_shows_in_all_three_refund_reads(client: FlaskClient) -> None:
    body = {"items": [{"item_type": "PRODUCT", "item_id": 202, "quantity": 1}], "payments": []}
    body["payments"] = pay_with(quote(client, 100, body).get_json()["data"]["refund_methods"][0])
    created = refund(client, 100, body).get_json()["data"]
    listed = get(client, f"/stores/{STORE}/v3/orders/100/payment_actions/refunds")["data"]
    assert listed == [created]
    everything = get(client, f"/stores/{STORE}/v3/orders/payment_actions/refunds", **{"order_id:in": "100"})
    assert everything["data"] == [created]
    by_id = get(client, f"/stores/{STORE}/v3/orders/payment_actions/refunds", **{"id:in": str(created["id"])})
    assert [r["id"] for r in by_id["data"]] == [created["id"]]
    since = get(client, f"/stores/{STORE}/v3/orders/payment_actions/refunds", **{"created:min": created["created"]})
    assert created["id"] in [r["id"] for r in since["data"]]
    before = get(
        client, f"/stores/{STORE}/v3/orders/payment_actions/refunds", **{"created:max": "2025-03-01T00:00:00Z"}
    )
    assert created["id"] not in [r["id"] for r in before["data"]]
    single = get(client, f"/stores/{STORE}/v3/orders/payment_actions/refunds/{created['id']}")["data"]
    assert single["total_amount"] == created["total_amount"] and single["items"][0]["requested_amount"] is None
    assert created["id"] > 9001  # never reuses a fixture's refund id


def test_refund_ids_never_collide_with_fixture_refunds(client: FlaskClient) -> None:
    body = {"items": [{"item_type": "ORDER", "item_id": 100, "amount": 2}], "payments": []}
    body["payments"] = pay_with(quote(client, 100, body).get_json()["data"]["refund_methods"][1])
    first = refund(client, 100, body).get_json()["data"]["id"]
    second = refund(client, 100, body).get_json()["data"]["id"]
    assert 9001 < first < second  # new ids ascend, above the fixtures' refund 9001
    assert get(client, "/stores/k3x9rt2m0q/v3/orders/payment_actions/refunds/9001")["data"]["order_id"] == 101


def test_earlier_refund_counts_against_the_remaining_quantity(client: FlaskClient) -> None:
    # order 101: socks 4 x 12.00 + 0.84 tax each (paid 51.36), one pair already refunded
    pinned = "k3x9rt2m0q"
    too_many = quote(client, 101, {"items": [{"item_type": "PRODUCT", "item_id": 211, "quantity": 4}]}, pinned)
    assert too_many.status_code == 422
    assert too_many.get_json()["title"] == "Refund quantity is greater than remaining quantity"
    assert too_many.get_json()["errors"] == {"items.0.quantity": "requested 4, remaining 3"}
    rest = quote(client, 101, {"items": [{"item_type": "PRODUCT", "item_id": 211, "quantity": 3}]}, pinned)
    assert rest.get_json()["data"]["total_refund_amount"] == 38.52  # 51.36 - 12.84
    assert rest.get_json()["data"]["total_refund_tax_amount"] == 2.52


def test_over_the_remaining_amount_is_the_documented_422(client: FlaskClient) -> None:
    response = quote(client, 100, {"items": [{"item_type": "SHIPPING", "item_id": 301, "amount": 8.01}]})
    assert response.status_code == 422
    body = response.get_json()
    assert body["title"] == "Refund amount is greater than remaining amount"
    assert body["errors"] == {"items.0.amount": "requested 8.01, remaining 8.00"}


def test_order_level_amount_above_what_is_left_is_refused(client: FlaskClient) -> None:
    response = quote(client, 100, {"items": [{"item_type": "ORDER", "item_id": 100, "amount": 105.57}]})
    assert response.status_code == 422
    assert response.get_json()["title"] == "Refund amount is greater than remaining amount"
    assert "items" in response.get_json()["errors"]
    assert quote(client, 100, {"items": [{"item_type": "ORDER", "item_id": 100, "amount": 105.56}]}).status_code == 201


def test_store_credit_and_bank_deposit_order_offers_each_tender_its_share(client: FlaskClient) -> None:
    # order 102: 125.08 paid with 39.00 store credit + 86.08 bank deposit (offline)
    everything = [
        {"item_type": "PRODUCT", "item_id": 221, "quantity": 1},
        {"item_type": "PRODUCT", "item_id": 222, "quantity": 2},
        {"item_type": "SHIPPING", "item_id": 321, "amount": 12},
    ]
    body = quote(client, 102, {"items": everything}).get_json()
    assert body["data"]["total_refund_amount"] == 125.08 and body["data"]["total_refund_tax_amount"] == 7.08
    original = body["data"]["refund_methods"][2]
    assert [(o["provider_id"], o["amount"], o["offline"], o["offline_provider"]) for o in original] == [
        ("bankdeposit", 86.08, True, True),
        ("storecredit", 39, False, False),
    ]
    assert original[0]["offline_reason"] == "This is an offline payment provider."
    partial = quote(client, 102, {"items": [{"item_type": "ORDER", "item_id": 102, "amount": 50}]}).get_json()
    # 50.00 in proportion to 86.08 : 39.00 -> 34.41 + 15.59
    assert methods(partial)[2] == [("bankdeposit", Decimal("34.41")), ("storecredit", Decimal("15.59"))]


def test_offline_method_cannot_be_sent_as_online(client: FlaskClient) -> None:
    items = [{"item_type": "ORDER", "item_id": 102, "amount": 10}]
    response = refund(
        client, 102, {"items": items, "payments": [{"provider_id": "custom", "amount": 10, "offline": False}]}
    )
    assert response.status_code == 422
    assert "payments.0.offline" in response.get_json()["data"][0]["errors"]
    ok = refund(client, 102, {"items": items, "payments": [{"provider_id": "custom", "amount": 10.0, "offline": True}]})
    assert ok.status_code == 201
    assert ok.get_json()["data"]["payments"][0]["offline"] is True


def test_payments_that_match_no_refund_method_are_refused_wrapped(client: FlaskClient) -> None:
    items = [{"item_type": "PRODUCT", "item_id": 201, "quantity": 1}]
    for payments in (
        [{"provider_id": "braintree", "amount": 23.51}],
        [{"provider_id": "braintree", "amount": 20}, {"provider_id": "storecredit", "amount": 3.52}],
        [{"provider_id": "stripe", "amount": 23.52}],
    ):
        response = refund(client, 100, {"items": items, "payments": payments})
        assert response.status_code == 422
        body = response.get_json()
        assert set(body) == {"data"}
        assert "payments" in body["data"][0]["errors"]
    assert get(client, f"/stores/{STORE}/v3/orders/100/payment_actions/refunds")["data"] == []


def test_guest_order_gets_no_store_credit_and_the_documented_422(client: FlaskClient) -> None:
    # order 103: guest, tax-inclusive GBP; shirt 231 2 units paid 82.50 with 13.75 VAT inside
    items = [{"item_type": "PRODUCT", "item_id": 231, "quantity": 1}]
    body = quote(client, 103, {"items": items}).get_json()
    assert body["data"]["total_refund_amount"] == 41.25
    assert body["data"]["total_refund_tax_amount"] == 6.88  # 6.875 rounded half-up; the second unit gets 6.87
    assert body["data"]["tax_inclusive"] is True
    assert all(option["provider_id"] != "storecredit" for method in body["data"]["refund_methods"] for option in method)
    response = refund(client, 103, {"items": items, "payments": [{"provider_id": "storecredit", "amount": 41.25}]})
    assert response.status_code == 422
    assert response.get_json() == {
        "data": [
            {
                "status": 422,
                "title": "Unable to provide store credit for a guest customer.",
                "type": "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes",
            }
        ]
    }
    both = quote(client, 103, {"items": [{"item_type": "PRODUCT", "item_id": 231, "quantity": 2}]}).get_json()
    assert both["data"]["total_refund_tax_amount"] == 13.75


def test_non_default_currency_order_gets_no_store_credit(client: FlaskClient) -> None:
    # order 104: EUR on a USD store, paid 20.00 gift certificate + 133.39 adyen
    items = [{"item_type": "SHIPPING", "item_id": 341, "amount": 9.9}]
    body = quote(client, 104, {"items": items}).get_json()
    assert body["data"]["total_refund_amount"] == 11.78
    providers = [[option["provider_id"] for option in method] for method in body["data"]["refund_methods"]]
    assert providers == [["custom"], ["adyen", "giftcertificate"]]
    response = refund(client, 104, {"items": items, "payments": [{"provider_id": "storecredit", "amount": 11.78}]})
    assert response.status_code == 422
    assert "non-default currency" in response.get_json()["data"][0]["errors"]["payments"]


def test_product_deductions_lower_the_refund_and_show_as_adjustment(client: FlaskClient) -> None:
    items = [
        {
            "item_type": "PRODUCT",
            "item_id": 201,
            "quantity": 1,
            "adjustments": [{"amount": -5, "description": "Restocking"}],
        }
    ]
    data = quote(client, 100, {"items": items}).get_json()["data"]
    assert data["total_refund_amount"] == 18.52  # 23.52 - 5.00
    assert data["adjustment"] == -5
    assert data["total_refund_tax_amount"] == 1.92
    created = refund(client, 100, {"items": items, "payments": pay_with(data["refund_methods"][0])}).get_json()["data"]
    assert created["items"][0]["adjustments"] == [{"amount": -5, "description": "Restocking"}]
    too_much = [{"item_type": "PRODUCT", "item_id": 201, "quantity": 1, "adjustments": [{"amount": -30}]}]
    response = quote(client, 100, {"items": too_much})
    assert response.status_code == 422 and response.get_json()["title"] == "Refund amount was negative"


def test_amounts_are_rounded_to_the_currency_and_the_rounding_reported(client: FlaskClient) -> None:
    data = quote(client, 100, {"items": [{"item_type": "HANDLING", "item_id": 301, "amount": 1.005}]}).get_json()[
        "data"
    ]
    # 1.005 rounds half-up to 1.01; handling tax 0.18 over 2.00 -> 0.09 for 1.01
    assert data["total_refund_amount"] == 1.1
    assert data["rounding"] == 0.005


@pytest.mark.parametrize(
    ("item", "field", "needle"),
    [
        ({"item_type": "PRODUCT", "item_id": 999, "quantity": 1}, "items.0.item_id", "no product"),
        ({"item_type": "GIFT_WRAPPING", "item_id": 201, "quantity": 1}, "items.0.item_id", "gift-wrapped"),
        ({"item_type": "SHIPPING", "item_id": 1, "amount": 1}, "items.0.item_id", "shipping address"),
        ({"item_type": "FEE", "item_id": 1, "amount": 1}, "items.0.item_id", "fee"),
        ({"item_type": "ORDER", "item_id": 1234, "amount": 1}, "items.0.item_id", "order's id"),
        ({"item_type": "TAX", "item_id": 100, "amount": 1}, "items.0.item_type", "tax_adjustment_amount"),
        (
            {"item_type": "GIFT_WRAPPING", "item_id": 202, "quantity": 1, "adjustments": [{"amount": -1}]},
            "items.0.adjustments",
            "PRODUCT",
        ),
    ],
)
def test_items_the_order_cannot_refund_are_422_naming_the_field(
    client: FlaskClient, item: dict[str, Any], field: str, needle: str
) -> None:
    response = quote(client, 100, {"items": [item]})
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert list(errors) == [field] and needle in errors[field]


def test_gift_wrapping_is_refunded_per_unit(client: FlaskClient) -> None:
    data = quote(client, 100, {"items": [{"item_type": "GIFT_WRAPPING", "item_id": 202, "quantity": 1}]}).get_json()
    assert data["data"]["total_refund_amount"] == 4.36 and data["data"]["total_refund_tax_amount"] == 0.36


def test_tax_adjustment_must_equal_the_overcharge_unless_overridden(client: FlaskClient) -> None:
    refused = quote(client, 100, {"tax_adjustment_amount": 1})
    assert refused.status_code == 422
    assert "overcharged" in refused.get_json()["errors"]["tax_adjustment_amount"]
    mixed = quote(
        client, 100, {"items": [{"item_type": "ORDER", "item_id": 100, "amount": 1}], "tax_adjustment_amount": 1}
    )
    assert "mutually exclusive" in mixed.get_json()["errors"]["tax_adjustment_amount"]
    # a refund whose merchant override gives back no tax leaves the T-shirt's 1.92 overcharged
    items = [{"item_type": "PRODUCT", "item_id": 201, "quantity": 1}]
    override = {"total_amount": 21.6, "total_tax": 0}
    created = refund(
        client,
        100,
        {
            "items": items,
            "merchant_calculated_override": override,
            "payments": [{"provider_id": "braintree", "amount": 21.6}],
        },
    ).get_json()["data"]
    assert (created["total_amount"], created["total_tax"], created["uses_merchant_override_values"]) == (21.6, 0, True)
    adjustment = quote(client, 100, {"tax_adjustment_amount": 1.92}).get_json()["data"]
    assert (adjustment["total_refund_amount"], adjustment["total_refund_tax_amount"]) == (1.92, 1.92)
    tax_refund = refund(client, 100, {"tax_adjustment_amount": 1.92})
    assert tax_refund.status_code == 201
    assert tax_refund.get_json()["data"]["items"] == []
    assert tax_refund.get_json()["data"]["payments"][0]["provider_id"] == "braintree"
    assert quote(client, 100, {"tax_adjustment_amount": 1.92}).status_code == 422  # nothing overcharged any more


def test_override_payments_must_match_the_override_total(client: FlaskClient) -> None:
    items = [{"item_type": "PRODUCT", "item_id": 201, "quantity": 1}]
    override = {"total_amount": 20.0, "total_tax": 1.5}
    wrong = refund(
        client,
        100,
        {
            "items": items,
            "merchant_calculated_override": override,
            "payments": [{"provider_id": "braintree", "amount": 23.52}],
        },
    )
    assert wrong.status_code == 422
    right = refund(
        client,
        100,
        {
            "items": items,
            "merchant_calculated_override": override,
            "payments": [{"provider_id": "braintree", "amount": 20}],
        },
    )
    assert right.status_code == 201


def test_unpaid_order_cannot_be_refunded(make_app: Any) -> None:
    app = make_app()
    spec = OrderSpec(
        "USD", "USD", False, False, (LineSpec(1000, 1, Decimal("0.1"), 0),), 0, 0, 0, 0, Decimal(0), ("stripe",), 0
    )
    document = build_order(spec, order_id=777)
    document["order"]["payment_status"] = "authorized"
    server_of(app).load_order(PLATFORM, document, baseline=True)
    response = quote(app.test_client(), 777, {"items": [{"item_type": "PRODUCT", "item_id": 7772, "quantity": 1}]})
    assert response.status_code == 422
    assert "authorized" in response.get_json()["errors"]["order_id"]


def test_refunding_everything_marks_the_order_refunded(client: FlaskClient) -> None:
    pinned = "k3x9rt2m0q"
    items = [
        {"item_type": "PRODUCT", "item_id": 211, "quantity": 3},
        {"item_type": "PRODUCT", "item_id": 212, "quantity": 1},
        {"item_type": "SHIPPING", "item_id": 311, "amount": 6.95},
    ]
    data = quote(client, 101, {"items": items}, pinned).get_json()["data"]
    assert data["total_refund_amount"] == 94.11  # 106.95 - 12.84 refunded earlier
    response = refund(client, 101, {"items": items, "payments": pay_with(data["refund_methods"][-1])}, pinned)
    assert response.status_code == 201
    order = get(client, f"/stores/{pinned}/v2/orders/101")
    assert (order["status_id"], order["status"], order["payment_status"]) == (4, "Refunded", "refunded")
    assert order["refunded_amount"] == "106.9500"
    products = get(client, f"/stores/{pinned}/v2/orders/101/products")
    assert all(p["is_refunded"] and p["quantity_refunded"] == p["quantity"] for p in products)
    again = quote(client, 101, {"items": [{"item_type": "ORDER", "item_id": 101, "amount": 0.01}]}, pinned)
    assert again.status_code == 422


def test_orders_pinned_elsewhere_cannot_be_quoted_or_refunded(client: FlaskClient) -> None:
    items = [{"item_type": "PRODUCT", "item_id": 211, "quantity": 1}]
    assert quote(client, 101, {"items": items}).status_code == 404
    assert (
        refund(client, 101, {"items": items, "payments": [{"provider_id": "stripe", "amount": 12.84}]}).status_code
        == 404
    )


def test_manual_order_without_transactions(make_app: Any) -> None:
    """No transactions: GET transactions is 204, and only store credit and custom are offered."""
    app = make_app()
    spec = OrderSpec(
        "USD", "USD", False, False, (LineSpec(2500, 2, Decimal(0), 0),), 0, 0, 0, 0, Decimal(0), ("stripe",), 0
    )
    document = build_order(spec, order_id=778)
    document["transactions"] = []
    document["order"]["payment_status"] = ""
    server_of(app).load_order(PLATFORM, document, baseline=True)
    client = app.test_client()
    assert client.get(f"/stores/{STORE}/v3/orders/778/transactions", headers=TOKEN).status_code == 204
    body = quote(client, 778, {"items": [{"item_type": "PRODUCT", "item_id": 7782, "quantity": 1}]}).get_json()
    assert methods(body) == [[("storecredit", Decimal(25))], [("custom", Decimal(25))]]
    created = refund(
        client,
        778,
        {
            "tax_adjustment_amount": 0,
            "items": [{"item_type": "ORDER", "item_id": 778, "amount": 5}],
            "payments": [{"provider_id": "custom", "amount": 5}],
        },
    )
    assert created.status_code == 201
    transactions = client.get(f"/stores/{STORE}/v3/orders/778/transactions", headers=TOKEN).get_json()["data"]
    assert [(t["event"], t["gateway"], t["amount"], t["gateway_transaction_id"]) for t in transactions] == [
        ("refund", "custom", 5, None)
    ]
