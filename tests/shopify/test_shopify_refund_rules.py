"""The refund rules on the starter orders, through the strict app (every answer checked against the spec)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient
from shopify_support import BASE, TOKEN_HEADERS, fixture_documents

from mockserver.money import minor_unit

DOCUMENTS = fixture_documents()
SOCKS_ORDER = 3012450010101  # USD, sale, socks line 4 bought / 1 refunded / 3 fulfillable; bag and cards shipped
SPLIT_ORDER = 3012450010102  # USD, gift card 50.00 + card, nothing shipped, free shipping
GUEST_ORDER = 3012450010103  # USD, guest, authorization + capture, everything shipped from location 48752002
YEN_ORDER = 3012450010104
DINAR_ORDER = 3012450010105
SOCKS, BAG = 10010000001, 10010000002
POUR_OVER, COFFEE = 10020000001, 10020000002
SHOES, TEES = 10030000001, 10030000002
FULFILLABLE = {"refund_line_items": ["cannot remove more than the fulfillable quantity."]}


def order_of(order_id: int) -> dict[str, Any]:
    return DOCUMENTS[order_id]["order"]


def post(client: FlaskClient, order_id: int, endpoint: str, refund: dict[str, Any]) -> Any:
    return client.post(f"{BASE}/orders/{order_id}/{endpoint}", json={"refund": refund}, headers=TOKEN_HEADERS)


def calculate(client: FlaskClient, order_id: int, refund: dict[str, Any]) -> dict[str, Any]:
    response = post(client, order_id, "refunds/calculate.json", refund)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["refund"]


def create(client: FlaskClient, order_id: int, refund: dict[str, Any]) -> dict[str, Any]:
    response = post(client, order_id, "refunds.json", refund)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["refund"]


def refuse(client: FlaskClient, order_id: int, endpoint: str, refund: dict[str, Any]) -> dict[str, Any]:
    response = post(client, order_id, endpoint, refund)
    assert response.status_code == 422, response.get_json()
    return response.get_json()["errors"]


def current_order(client: FlaskClient, order_id: int) -> dict[str, Any]:
    return client.get(f"{BASE}/orders/{order_id}.json", headers=TOKEN_HEADERS).get_json()["order"]


def suggested_as_refund(quote: dict[str, Any]) -> list[dict[str, Any]]:
    return [{**t, "kind": "refund"} for t in quote["transactions"] if Decimal(t["amount"]) > 0]


def lines(*items: tuple[int, int, str]) -> list[dict[str, Any]]:
    return [{"line_item_id": line, "quantity": quantity, "restock_type": restock} for line, quantity, restock in items]


# -- quantities ---------------------------------------------------------------------------------


def test_more_than_purchased(shopify_client: FlaskClient) -> None:
    for endpoint in ("refunds/calculate.json", "refunds.json"):
        errors = refuse(shopify_client, SOCKS_ORDER, endpoint, {"refund_line_items": lines((SOCKS, 5, "no_restock"))})
        assert errors == {"refund_line_items.quantity": ["cannot refund more items than were purchased"]}


def test_more_than_refundable_and_fulfillable_names_both(shopify_client: FlaskClient) -> None:
    """Four socks were bought and one refunded: four more are neither refundable nor fulfillable."""
    cancel = [{"line_item_id": SOCKS, "quantity": 4, "restock_type": "cancel", "location_id": 48752001}]
    errors = refuse(shopify_client, SOCKS_ORDER, "refunds.json", {"refund_line_items": cancel})
    assert errors == {
        "refund_line_items": [
            "cannot refund more than refundable quantity",
            "cannot remove more than the fulfillable quantity.",
        ]
    }


def test_a_line_listed_twice_counts_both_times(shopify_client: FlaskClient) -> None:
    body = {"refund_line_items": lines((SOCKS, 2, "no_restock"), (SOCKS, 2, "no_restock"))}
    assert refuse(shopify_client, SOCKS_ORDER, "refunds/calculate.json", body) == {
        "refund_line_items": ["cannot refund more than refundable quantity"]
    }


def test_unknown_line_item(shopify_client: FlaskClient) -> None:
    errors = refuse(
        shopify_client, SOCKS_ORDER, "refunds/calculate.json", {"refund_line_items": lines((1, 1, "no_restock"))}
    )
    assert list(errors) == ["refund_line_items.line_item_id"]


@pytest.mark.parametrize("endpoint", ["refunds/calculate.json", "refunds.json"])
def test_unknown_order_is_404(shopify_client: FlaskClient, endpoint: str) -> None:
    response = post(shopify_client, 999999999, endpoint, {"shipping": {"full_refund": True}})
    assert response.status_code == 404
    assert response.get_json() == {"errors": "Not Found"}


# -- restock instructions -------------------------------------------------------------------------


def test_calculate_modifies_a_cancel_it_cannot_meet(shopify_client: FlaskClient) -> None:
    """The bag was shipped (nothing fulfillable): its cancel comes back as no_restock."""
    quote = calculate(shopify_client, SOCKS_ORDER, {"refund_line_items": lines((BAG, 1, "cancel"))})
    assert [
        (entry["restock_type"], entry["quantity"], entry["location_id"]) for entry in quote["refund_line_items"]
    ] == [("no_restock", 1, None)]
    assert refuse(shopify_client, SOCKS_ORDER, "refunds.json", {"refund_line_items": lines((BAG, 1, "cancel"))}) == {
        **FULFILLABLE,
        "refund_line_items.location_id": ["is required when restock_type is return or cancel"],
    }


def test_calculate_splits_a_return_beyond_the_shipped_units(shopify_client: FlaskClient) -> None:
    """The tees were shipped from location 48752002: returning them suggests that location."""
    quote = calculate(shopify_client, GUEST_ORDER, {"refund_line_items": lines((TEES, 3, "return"))})
    assert [
        (entry["restock_type"], entry["quantity"], entry["location_id"]) for entry in quote["refund_line_items"]
    ] == [("return", 3, 48752002)]
    quote = calculate(shopify_client, SPLIT_ORDER, {"refund_line_items": lines((COFFEE, 2, "return"))})
    assert [(entry["restock_type"], entry["quantity"]) for entry in quote["refund_line_items"]] == [("no_restock", 2)]


def test_cancel_location_falls_back_to_a_fulfillment_location(shopify_client: FlaskClient) -> None:
    quote = calculate(shopify_client, SOCKS_ORDER, {"refund_line_items": lines((SOCKS, 2, "cancel"))})
    assert [
        (entry["restock_type"], entry["quantity"], entry["location_id"]) for entry in quote["refund_line_items"]
    ] == [("cancel", 2, 48752001)]


def test_create_needs_a_location_to_restock(shopify_client: FlaskClient) -> None:
    errors = refuse(shopify_client, GUEST_ORDER, "refunds.json", {"refund_line_items": lines((TEES, 1, "return"))})
    assert errors == {"refund_line_items.location_id": ["is required when restock_type is return or cancel"]}


def test_cancel_lowers_fulfillable_and_return_does_not(shopify_client: FlaskClient) -> None:
    cancel = [{"line_item_id": POUR_OVER, "quantity": 2, "restock_type": "cancel", "location_id": 11}]
    refund = create(shopify_client, SPLIT_ORDER, {"refund_line_items": cancel})
    assert refund["refund_line_items"][0]["line_item"]["fulfillable_quantity"] == 2  # as it was before
    assert refund["restock"] is True
    no_restock = create(shopify_client, SPLIT_ORDER, {"refund_line_items": lines((COFFEE, 1, "no_restock"))})
    assert no_restock["restock"] is False
    by_id = {line["id"]: line for line in current_order(shopify_client, SPLIT_ORDER)["line_items"]}
    assert by_id[POUR_OVER]["fulfillable_quantity"] == 0
    assert by_id[COFFEE]["fulfillable_quantity"] == 2  # never more than the units left to refund
    returned = [{"line_item_id": TEES, "quantity": 2, "restock_type": "return", "location_id": 48752002}]
    refund = create(shopify_client, GUEST_ORDER, {"refund_line_items": returned})
    assert (refund["refund_line_items"][0]["restock_type"], refund["refund_line_items"][0]["location_id"]) == (
        "return",
        48752002,
    )
    tees = next(line for line in current_order(shopify_client, GUEST_ORDER)["line_items"] if line["id"] == TEES)
    assert tees["fulfillable_quantity"] == 0


# -- shipping and currency ----------------------------------------------------------------------


def test_shipping_above_what_is_left(shopify_client: FlaskClient) -> None:
    errors = refuse(
        shopify_client, SOCKS_ORDER, "refunds/calculate.json", {"currency": "USD", "shipping": {"amount": "7.96"}}
    )
    assert errors == {"shipping.amount": ["cannot be greater than the shipping left to refund (7.95)"]}


def test_shipping_amount_needs_a_currency_unless_it_is_zero(shopify_client: FlaskClient) -> None:
    errors = refuse(shopify_client, SOCKS_ORDER, "refunds/calculate.json", {"shipping": {"amount": 1}})
    assert list(errors) == ["currency"]
    assert calculate(shopify_client, SOCKS_ORDER, {"shipping": {"amount": 0}})["shipping"]["amount"] == "0.00"


def test_wrong_currency(shopify_client: FlaskClient) -> None:
    errors = refuse(
        shopify_client, SOCKS_ORDER, "refunds/calculate.json", {"currency": "EUR", "shipping": {"amount": 1}}
    )
    assert list(errors) == ["currency"]


def test_shipping_tax_follows_the_shipping(shopify_client: FlaskClient) -> None:
    """7.95 of shipping carries 0.71 of tax; two partial refunds add up to exactly both."""
    first = calculate(shopify_client, SOCKS_ORDER, {"currency": "USD", "shipping": {"amount": "3.00"}})
    create(
        shopify_client,
        SOCKS_ORDER,
        {"currency": "USD", "shipping": {"amount": "3.00"}, "transactions": suggested_as_refund(first)},
    )
    rest = calculate(shopify_client, SOCKS_ORDER, {"shipping": {"full_refund": True}})
    assert rest["shipping"]["amount"] == rest["shipping"]["maximum_refundable"] == "4.95"
    assert Decimal(first["shipping"]["tax"]) + Decimal(rest["shipping"]["tax"]) == Decimal("0.71")


@pytest.mark.parametrize(
    ("order_id", "amount", "field"),
    [
        (SOCKS_ORDER, "1.001", "shipping.amount"),
        (YEN_ORDER, "1.5", "shipping.amount"),
        (DINAR_ORDER, "0.0005", "shipping.amount"),
    ],
)
def test_amounts_finer_than_the_currency_are_refused(
    shopify_client: FlaskClient, order_id: int, amount: str, field: str
) -> None:
    currency = order_of(order_id)["currency"]
    errors = refuse(
        shopify_client, order_id, "refunds/calculate.json", {"currency": currency, "shipping": {"amount": amount}}
    )
    assert list(errors) == [field]
    assert str(minor_unit(currency)) in errors[field][0]


# -- transactions ---------------------------------------------------------------------------------


def test_parent_must_belong_to_the_order(shopify_client: FlaskClient) -> None:
    other_sale = DOCUMENTS[SPLIT_ORDER]["transactions"][1]["id"]
    errors = refuse(
        shopify_client,
        SOCKS_ORDER,
        "refunds.json",
        {"transactions": [{"parent_id": other_sale, "amount": "1.00", "kind": "refund"}]},
    )
    assert errors == {"transactions": ["require a parent_id associated with the order"]}
    authorization = DOCUMENTS[GUEST_ORDER]["transactions"][0]["id"]  # an authorization is not refundable money
    errors = refuse(
        shopify_client,
        GUEST_ORDER,
        "refunds.json",
        {"transactions": [{"parent_id": authorization, "amount": "1.00", "kind": "refund"}]},
    )
    assert errors == {"transactions": ["require a parent_id associated with the order"]}


def test_amount_above_the_parents_room(shopify_client: FlaskClient) -> None:
    sale = DOCUMENTS[SOCKS_ORDER]["transactions"][0]
    room = Decimal(sale["amount"]) - Decimal(DOCUMENTS[SOCKS_ORDER]["transactions"][1]["amount"])
    over = {"parent_id": sale["id"], "amount": str(room + Decimal("0.01")), "kind": "refund"}
    errors = refuse(shopify_client, SOCKS_ORDER, "refunds.json", {"transactions": [over]})
    assert list(errors) == ["transactions"] and str(room) in errors["transactions"][0]
    half = {"parent_id": sale["id"], "amount": str(room / 2 + Decimal("0.01")), "kind": "refund"}
    assert list(refuse(shopify_client, SOCKS_ORDER, "refunds.json", {"transactions": [half, half]})) == ["transactions"]


def test_a_refund_of_nothing_is_refused(shopify_client: FlaskClient) -> None:
    assert list(refuse(shopify_client, SOCKS_ORDER, "refunds.json", {"note": "nothing"})) == ["refund"]


def test_money_only_refund_records_a_discrepancy(shopify_client: FlaskClient) -> None:
    capture = DOCUMENTS[GUEST_ORDER]["transactions"][1]
    before = current_order(shopify_client, GUEST_ORDER)
    refund = create(
        shopify_client,
        GUEST_ORDER,
        {
            "discrepancy_reason": "customer",
            "transactions": [{"parent_id": capture["id"], "amount": "10.00", "kind": "refund", "gateway": "other"}],
        },
    )
    assert [(a["kind"], a["amount"], a["tax_amount"], a["reason"]) for a in refund["order_adjustments"]] == [
        ("refund_discrepancy", "-10.00", "0.00", "customer")
    ]
    assert refund["transactions"][0]["gateway"] == "bogus"  # the parent's gateway, whatever the request says
    after = current_order(shopify_client, GUEST_ORDER)
    assert after["financial_status"] == "partially_refunded"
    assert after["current_total_price"] == before["current_total_price"]


# -- payments, status and totals ------------------------------------------------------------------


def test_suggestions_fill_the_oldest_payment_first(shopify_client: FlaskClient) -> None:
    """Order 1102 was paid 50.00 by gift card, then the rest by card."""
    gift_card, card = DOCUMENTS[SPLIT_ORDER]["transactions"]
    everything = {"refund_line_items": lines((POUR_OVER, 2, "no_restock"), (COFFEE, 3, "no_restock"))}
    quote = calculate(shopify_client, SPLIT_ORDER, everything)
    assert [(t["parent_id"], t["gateway"], t["amount"], t["maximum_refundable"]) for t in quote["transactions"]] == [
        (gift_card["id"], "gift_card", gift_card["amount"], gift_card["amount"]),
        (card["id"], "shopify_payments", card["amount"], card["amount"]),
    ]
    small = calculate(shopify_client, SPLIT_ORDER, {"refund_line_items": lines((COFFEE, 1, "no_restock"))})
    assert [t["gateway"] for t in small["transactions"]] == ["gift_card", "shopify_payments"]
    assert small["transactions"][1]["amount"] == "0.00"  # the card is listed with its maximum, nothing taken
    refund = create(shopify_client, SPLIT_ORDER, {**everything, "transactions": suggested_as_refund(quote)})
    assert refund["order_adjustments"] == []
    order = current_order(shopify_client, SPLIT_ORDER)
    assert order["financial_status"] == "refunded"
    assert (order["current_total_price"], order["current_subtotal_price"], order["current_total_tax"]) == (
        "0.00",
        "0.00",
        "0.00",
    )
    assert calculate(shopify_client, SPLIT_ORDER, {})["transactions"] == []


def test_current_totals_drop_by_the_refund(shopify_client: FlaskClient) -> None:
    before = current_order(shopify_client, SOCKS_ORDER)
    request = {
        "currency": "USD",
        "refund_line_items": lines((SOCKS, 1, "no_restock")),
        "shipping": {"full_refund": True},
    }
    quote = calculate(shopify_client, SOCKS_ORDER, request)
    create(shopify_client, SOCKS_ORDER, {**request, "transactions": suggested_as_refund(quote)})
    after = current_order(shopify_client, SOCKS_ORDER)
    line = quote["refund_line_items"][0]
    shipping = quote["shipping"]

    def dropped(key: str) -> Decimal:
        return Decimal(before[key]) - Decimal(after[key])

    assert dropped("current_subtotal_price") == Decimal(line["subtotal"])
    assert dropped("current_total_tax") == Decimal(line["total_tax"]) + Decimal(shipping["tax"])
    assert dropped("current_total_discounts") == Decimal(line["total_cart_discount_amount"])
    assert dropped("current_total_price") == sum(Decimal(t["amount"]) for t in quote["transactions"])
    assert after["current_total_price_set"]["shop_money"]["amount"] == after["current_total_price"]


@pytest.mark.parametrize("order_id", [YEN_ORDER, DINAR_ORDER])
def test_zero_and_three_decimal_currencies_refund_exactly_the_total(shopify_client: FlaskClient, order_id: int) -> None:
    """Every unit one at a time, then the shipping: the money returned is the order's total to the minor unit."""
    order = order_of(order_id)
    currency = order["currency"]
    places = minor_unit(currency)
    money_back = Decimal(0)
    requests = [
        {"currency": currency, "refund_line_items": lines((line["id"], 1, "no_restock"))}
        for line in order["line_items"]
        for _ in range(line["quantity"])
    ]
    requests.append({"currency": currency, "shipping": {"full_refund": True}})
    for request in requests:
        quote = calculate(shopify_client, order_id, request)
        for entry in quote["refund_line_items"]:
            for key in ("price", "subtotal", "total_tax", "total_cart_discount_amount"):
                assert -Decimal(entry[key]).as_tuple().exponent == places, (key, entry[key])
        refund = create(shopify_client, order_id, {**request, "transactions": suggested_as_refund(quote)})
        for transaction in refund["transactions"]:
            assert -Decimal(transaction["amount"]).as_tuple().exponent == places
            money_back += Decimal(transaction["amount"])
    assert money_back == Decimal(order["total_price"])
    assert current_order(shopify_client, order_id)["financial_status"] == "refunded"
    assert len(
        shopify_client.get(f"{BASE}/orders/{order_id}/refunds.json", headers=TOKEN_HEADERS).get_json()["refunds"]
    ) == len(requests)
