"""What a client reads back after a refund, as BigCommerce shows it: statuses, money types, ids, links.

Through the strict app over the starter fixtures (every answer checked against the spec). The
expected behaviour comes from BigCommerce's documents: the V2 order's `custom_status` beside
`status` (orders.v2 `order_Resp`), V3 request money declared `type: number` (orders.v3 `Amount`,
`PaymentRequest.amount`, `MerchantOverride`), transactions numbered by the store (orders.v3
`Transaction.id`, a refund payment's `transaction_id` naming one), and the V2 order's resource
links (`https://api.bigcommerce.com/stores/{store_hash}/v2/orders/{id}/coupons`).
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.bigcommerce.bigcommerce_orders import LineSpec, OrderSpec, build_order

TOKEN = {"X-Auth-Token": "any-token"}
STORE = "abc123"
PINNED = "k3x9rt2m0q"  # order 101's store


def quote(client: FlaskClient, order_id: int, body: Any, store: str = STORE) -> Any:
    return client.post(f"/stores/{store}/v3/orders/{order_id}/payment_actions/refund_quotes", json=body, headers=TOKEN)


def refund(client: FlaskClient, order_id: int, body: Any, store: str = STORE) -> Any:
    return client.post(f"/stores/{store}/v3/orders/{order_id}/payment_actions/refunds", json=body, headers=TOKEN)


def get(client: FlaskClient, path: str, store: str = STORE) -> Any:
    response = client.get(f"/stores/{store}{path}", headers=TOKEN)
    assert response.status_code in (200, 204), response.get_json()
    return response.get_json()


def paid_back(client: FlaskClient, order_id: int, items: list[dict[str, Any]], store: str = STORE) -> Any:
    """Quote `items`, then refund them with the quote's last method (the original tenders)."""
    quoted = quote(client, order_id, {"items": items}, store)
    assert quoted.status_code == 201, quoted.get_json()
    method = quoted.get_json()["data"]["refund_methods"][-1]
    payments = [{"provider_id": option["provider_id"], "amount": option["amount"]} for option in method]
    return refund(client, order_id, {"items": items, "payments": payments}, store)


# -- custom_status follows status ---------------------------------------------------------------


def test_custom_status_follows_status_through_partial_and_full_refunds(client: FlaskClient) -> None:
    before = get(client, "/v2/orders/100")
    assert (before["status"], before["custom_status"]) == ("Awaiting Fulfillment", "Awaiting Fulfillment")
    created = paid_back(client, 100, [{"item_type": "PRODUCT", "item_id": 201, "quantity": 1}])
    assert created.status_code == 201
    partly = get(client, "/v2/orders/100")
    assert (partly["status_id"], partly["status"], partly["custom_status"]) == (
        14,
        "Partially Refunded",
        "Partially Refunded",
    )
    left = Decimal(partly["total_inc_tax"]) - Decimal(partly["refunded_amount"])
    rest = paid_back(client, 100, [{"item_type": "ORDER", "item_id": 100, "amount": float(left)}])
    assert rest.status_code == 201, rest.get_json()
    refunded = get(client, "/v2/orders/100")
    assert (refunded["status_id"], refunded["status"], refunded["custom_status"]) == (4, "Refunded", "Refunded")


def test_a_failed_refund_leaves_custom_status_alone(client: FlaskClient) -> None:
    too_many = [{"item_type": "PRODUCT", "item_id": 201, "quantity": 9}]
    response = refund(client, 100, {"items": too_many, "payments": [{"provider_id": "custom", "amount": 1}]})
    assert response.status_code == 422
    assert get(client, "/v2/orders/100")["custom_status"] == "Awaiting Fulfillment"


# -- V3 money is a JSON number ----------------------------------------------------------------

ONE_SHIRT = {"item_type": "PRODUCT", "item_id": 201, "quantity": 1}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"items": [{"item_type": "SHIPPING", "item_id": 301, "amount": "8.00"}]}, "items.0.amount"),
        ({"items": [ONE_SHIRT, {"item_type": "ORDER", "item_id": 100, "amount": "1"}]}, "items.1.amount"),
        ({"items": [{"item_type": "FEE", "item_id": 401, "amount": "1.50"}]}, "items.0.amount"),
        ({"items": [{**ONE_SHIRT, "adjustments": [{"amount": "-1.00"}]}]}, "items.0.adjustments.0.amount"),
        ({"tax_adjustment_amount": "0"}, "tax_adjustment_amount"),
    ],
)
def test_a_quote_with_string_money_is_a_422_naming_the_field(
    client: FlaskClient, body: dict[str, Any], field: str
) -> None:
    response = quote(client, 100, body)
    assert response.status_code == 422
    error = response.get_json()
    assert (error["status"], error["title"]) == (422, "JSON data is missing or invalid")
    assert error["errors"] == {field: "must be a number"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda body: body["payments"][0].update(amount="23.52"), "payments.0.amount"),
        (lambda body: body["items"][0].update(amount="23.52"), "items.0.amount"),
        (
            lambda body: body.update(merchant_calculated_override={"total_amount": "23.52", "total_tax": 1.92}),
            "merchant_calculated_override.total_amount",
        ),
        (
            lambda body: body.update(merchant_calculated_override={"total_amount": 23.52, "total_tax": "1.92"}),
            "merchant_calculated_override.total_tax",
        ),
    ],
)
def test_a_refund_with_string_money_is_a_422_in_data_and_changes_nothing(
    client: FlaskClient, change: Any, field: str
) -> None:
    body: dict[str, Any] = {
        "items": [{"item_type": "ORDER", "item_id": 100, "amount": 23.52}],
        "payments": [{"provider_id": "braintree", "amount": 23.52}],
    }
    assert quote(client, 100, {"items": body["items"]}).status_code == 201  # the number form is fine
    before = (get(client, "/v2/orders/100"), get(client, "/v3/orders/100/transactions"))
    change(body)
    response = refund(client, 100, body)
    assert response.status_code == 422
    [error] = response.get_json()["data"]
    assert (error["status"], error["title"]) == (422, "JSON data is missing or invalid")
    assert error["errors"] == {field: "must be a number"}
    assert (get(client, "/v2/orders/100"), get(client, "/v3/orders/100/transactions")) == before
    assert get(client, "/v3/orders/100/payment_actions/refunds")["data"] == []


def test_v2_money_stays_four_decimal_strings_after_a_refund(client: FlaskClient) -> None:
    assert paid_back(client, 100, [ONE_SHIRT]).status_code == 201
    order = get(client, "/v2/orders/100")
    assert order["refunded_amount"] == "23.5200" and order["total_inc_tax"] == "105.5600"


# -- ids: store-wide, one per object --------------------------------------------------------------


def _order_with_ids(order_id: int, transaction_ids: list[int]) -> dict[str, Any]:
    """A USD order paid by stripe in as many captures as `transaction_ids`, with those ids."""
    spec = OrderSpec(
        "USD", "USD", False, False, (LineSpec(1000, 4, Decimal(0), 0),), 0, 0, 0, 0, Decimal(0), ("stripe",), 0
    )
    document = build_order(spec, order_id=order_id)
    [payment] = document["transactions"]
    parts = len(transaction_ids)
    document["transactions"] = [
        {**copy.deepcopy(payment), "id": transaction_id, "amount": 40 / parts} for transaction_id in transaction_ids
    ]
    return document


def load(client: FlaskClient, document: dict[str, Any]) -> None:
    response = client.post("/__mock/bigcommerce/orders", json=document)
    assert response.status_code == 201, response.get_json()


def every_id(client: FlaskClient, order_ids: list[int]) -> list[int]:
    """Every refund, refund payment and transaction id the store shows for these orders."""
    ids: list[int] = []
    for order_id in order_ids:
        store = PINNED if order_id == 101 else STORE
        ids += [row["id"] for row in get(client, f"/v3/orders/{order_id}/transactions", store)["data"]]
        for created in get(client, f"/v3/orders/{order_id}/payment_actions/refunds", store)["data"]:
            ids += [created["id"], *(payment["id"] for payment in created["payments"])]
    return ids


def test_a_refund_never_reuses_another_orders_transaction_id(client: FlaskClient) -> None:
    # A real store numbers transactions as they happen: order 901's capture came after order 900's.
    load(client, _order_with_ids(900, [20]))
    load(client, _order_with_ids(901, [21, 22]))
    created = paid_back(client, 900, [{"item_type": "PRODUCT", "item_id": 9002, "quantity": 1}])
    assert created.status_code == 201
    new_transaction = get(client, "/v3/orders/900/transactions")["data"][-1]
    assert new_transaction["event"] == "refund"
    assert new_transaction["id"] not in (21, 22)
    assert created.get_json()["data"]["payments"][0]["transaction_id"] == str(new_transaction["id"])
    ids = every_id(client, [100, 101, 900, 901])
    assert len(ids) == len(set(ids)), sorted(ids)


def test_a_refund_its_payments_and_their_transactions_each_get_their_own_id(client: FlaskClient) -> None:
    # order 102 paid by bank deposit and store credit: its tender method has two payments
    quoted = quote(client, 102, {"items": [{"item_type": "ORDER", "item_id": 102, "amount": 50}]}).get_json()
    method = quoted["data"]["refund_methods"][-1]
    assert len(method) == 2
    payments = [{"provider_id": o["provider_id"], "amount": o["amount"], "offline": o["offline"]} for o in method]
    body = {"items": [{"item_type": "ORDER", "item_id": 102, "amount": 50}], "payments": payments}
    created = refund(client, 102, body).get_json()["data"]
    transaction_ids = [int(payment["transaction_id"]) for payment in created["payments"]]
    own = [created["id"], *(payment["id"] for payment in created["payments"]), *transaction_ids]
    assert len(set(own)) == 5, own
    ids = every_id(client, [100, 101, 102, 103, 104])
    assert len(ids) == len(set(ids)), sorted(ids)


def test_a_refund_and_its_transaction_never_share_an_id(client: FlaskClient) -> None:
    # The capture's id is the one above the store's highest refund id (9001, order 101's).
    load(client, _order_with_ids(902, [9001]))
    before = set(every_id(client, [100, 101, 102, 103, 104, 902]))
    created = paid_back(client, 902, [{"item_type": "PRODUCT", "item_id": 9022, "quantity": 1}]).get_json()["data"]
    [payment] = created["payments"]
    new = {created["id"], payment["id"], int(payment["transaction_id"])}
    assert len(new) == 3 and new.isdisjoint(before), (new, sorted(before))


def test_ids_stay_unique_after_a_reset(client: FlaskClient) -> None:
    first = paid_back(client, 100, [ONE_SHIRT]).get_json()["data"]
    assert client.post("/__mock/reset").status_code == 200
    again = paid_back(client, 100, [ONE_SHIRT]).get_json()["data"]
    assert again["id"] == first["id"]  # a reset starts the run over, as the fixtures are
    ids = every_id(client, [100, 101, 102, 103, 104])
    assert len(ids) == len(set(ids)), sorted(ids)


# -- V2 links name the store asked ----------------------------------------------------------------


@pytest.mark.parametrize(("order_id", "store"), [(100, STORE), (100, "otherstore"), (101, PINNED)])
def test_v2_order_links_carry_the_requests_store_hash(client: FlaskClient, order_id: int, store: str) -> None:
    order = get(client, f"/v2/orders/{order_id}", store)
    linked = {"products", "shipping_addresses", "coupons"} | ({"fees"} if order_id == 100 else set())
    assert linked <= set(order)  # every V2 order links these; order 100's fixture adds `fees`
    for resource in linked:
        link = order[resource]
        assert link["resource"] == f"/orders/{order_id}/{resource}"
        assert link["url"] == f"http://localhost/stores/{store}/v2/orders/{order_id}/{resource}"
        if resource != "coupons":  # the mock serves no coupons list
            followed = client.get(link["url"].removeprefix("http://localhost"), headers=TOKEN)
            assert followed.status_code == 200 and isinstance(followed.get_json(), list)


def test_generated_orders_links_follow_the_request_too(client: FlaskClient, app: Any) -> None:
    generated = app.test_client()  # over every committed fixture, generated orders included
    order = generated.get(f"/stores/{STORE}/v2/orders/5001", headers=TOKEN).get_json()
    assert all(f"/stores/{STORE}/v2/" in order[name]["url"] for name in ("products", "coupons", "shipping_addresses"))
    addresses = generated.get(f"/stores/{STORE}/v2/orders/5001/shipping_addresses", headers=TOKEN).get_json()
    for address in addresses:
        assert address["shipping_quotes"]["url"].startswith(f"http://localhost/stores/{STORE}/v2/orders/5001/")


# -- ?include=fees ------------------------------------------------------------------------------


def test_include_fees_gives_the_fees_whose_ids_fee_items_name(client: FlaskClient) -> None:
    """orders.v2 `order_Shared.fees`: a link, or with `?include=fees` the array of the order's fees."""
    order = client.get(f"/stores/{STORE}/v2/orders/100?include=fees", headers=TOKEN).get_json()
    [fee] = order["fees"]
    assert (fee["id"], fee["cost_ex_tax"], fee["cost_inc_tax"]) == (401, "1.5000", "1.6300")
    assert quote(client, 100, {"items": [{"item_type": "FEE", "item_id": fee["id"], "amount": 1.5}]}).status_code == 201
    both = client.get(f"/stores/{STORE}/v2/orders/100?include=consignments,fees", headers=TOKEN).get_json()
    assert both["fees"] == order["fees"]
    without = client.get(f"/stores/{STORE}/v2/orders/103?include=fees", headers=TOKEN).get_json()
    assert without["fees"] == []
    assert get(client, "/v2/orders/100")["fees"]["resource"] == "/orders/100/fees"  # a link otherwise


# -- a refund transaction reads like the order's other transactions -------------------------------


def test_a_refund_transaction_has_every_field_and_names_the_tenders_instrument(client: FlaskClient) -> None:
    """orders.v3 `Transaction`: every transaction of a list has the same fields; the refund of a
    card capture names that card and payment method (as order 101's recorded refund does)."""
    assert paid_back(client, 100, [ONE_SHIRT]).status_code == 201
    capture, back = get(client, "/v3/orders/100/transactions")["data"]
    assert back["event"] == "refund" and set(back) == set(capture)
    assert back["credit_card"] == capture["credit_card"] and back["credit_card"]["card_last4"] == "1111"
    assert back["payment_method_id"] == capture["payment_method_id"] == "braintree.credit_card"
    assert back["reference_transaction_id"] == capture["id"]
    assert (back["avs_result"], back["cvv_result"]) == ({}, {})  # a refund runs no address or CVV check


def test_offline_and_new_instrument_refund_transactions_have_every_field_too(client: FlaskClient) -> None:
    # order 102: store credit 39.00 and a bank deposit; refund to the tenders, then to `custom`
    quoted = quote(client, 102, {"items": [{"item_type": "ORDER", "item_id": 102, "amount": 50}]}).get_json()
    tenders = quoted["data"]["refund_methods"][-1]
    payments = [{"provider_id": o["provider_id"], "amount": o["amount"], "offline": o["offline"]} for o in tenders]
    body = {"items": [{"item_type": "ORDER", "item_id": 102, "amount": 50}], "payments": payments}
    assert refund(client, 102, body).status_code == 201
    custom = {"items": [{"item_type": "ORDER", "item_id": 102, "amount": 5}], "payments": []}
    custom["payments"] = [{"provider_id": "custom", "amount": 5, "offline": True}]
    assert refund(client, 102, custom).status_code == 201
    transactions = get(client, "/v3/orders/102/transactions")["data"]
    assert len({frozenset(row) for row in transactions}) == 1, [sorted(row) for row in transactions]
    by_gateway = {row["gateway"]: row for row in transactions if row["event"] == "refund"}
    assert by_gateway["bankdeposit"]["offline"] == {"display_name": "Bank Deposit"}
    assert by_gateway["bankdeposit"]["payment_method_id"] == "bankdeposit.offline"
    assert by_gateway["storecredit"]["store_credit"] is None  # the new balance is not the mock's to know
    assert (by_gateway["custom"]["method"], by_gateway["custom"]["payment_method_id"]) == ("custom", "custom.custom")
    assert by_gateway["custom"]["reference_transaction_id"] is None
