"""Property tests over generated orders and random refund sequences, through the strict app.

Every request goes through the HTTP pipeline of an app that checks each response against the
spec (a violation raises), so these also prove that every quote, refund and error validates.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.app import MockConfig, create_app, server_of
from mockserver.bigcommerce import PLATFORM
from mockserver.money import quantum
from tests.bigcommerce.bigcommerce_orders import (
    LineSpec,
    OrderSpec,
    all_refundable_pieces,
    as_items,
    build_order,
    expected_totals,
    order_specs,
    v3,
)
from tests.conftest import FIXTURES_DIR

TOKEN = {"X-Auth-Token": "any-token"}
STORE = "propstore"
PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


@dataclass
class Mock:
    """A strict app (no fixtures) and a client, shared by a module's generated orders."""

    app: Flask
    client: FlaskClient

    def load(self, document: dict[str, Any]) -> int:
        return server_of(self.app).load_order(PLATFORM, document, baseline=True)

    def quote(self, order_id: int, body: dict[str, Any]) -> Any:
        path = f"/stores/{STORE}/v3/orders/{order_id}/payment_actions/refund_quotes"
        return self.client.post(path, json=body, headers=TOKEN)

    def refund(self, order_id: int, body: dict[str, Any]) -> Any:
        path = f"/stores/{STORE}/v3/orders/{order_id}/payment_actions/refunds"
        return self.client.post(path, json=body, headers=TOKEN)

    def get(self, path: str) -> Any:
        return self.client.get(f"/stores/{STORE}{path}", headers=TOKEN).get_json()


@pytest.fixture(scope="module")
def mock() -> Iterator[Mock]:
    app = create_app(MockConfig(fixtures_dir=FIXTURES_DIR, strict_responses=True, load_fixtures=False))
    app.testing = True
    yield Mock(app, app.test_client())
    server_of(app).store.close()


def money(value: Any) -> Decimal:
    return Decimal(str(value))


def payments_for(method: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"provider_id": option["provider_id"], "amount": option["amount"]} for option in method]


def refund_like_the_quote(mock: Mock, order_id: int, items: list[dict[str, Any]], choice: int) -> dict[str, Any]:
    """Quote, pay with one of the quote's methods, and check the refund repeats the quote."""
    quoted = mock.quote(order_id, {"items": items})
    assert quoted.status_code == 201, quoted.get_json()
    quote = quoted.get_json()["data"]
    method = quote["refund_methods"][choice % len(quote["refund_methods"])]
    assert sum(money(option["amount"]) for option in method) == money(quote["total_refund_amount"])
    created = mock.refund(order_id, {"items": items, "payments": payments_for(method)})
    assert created.status_code == 201, created.get_json()
    refund = created.get_json()["data"]
    assert money(refund["total_amount"]) == money(quote["total_refund_amount"])
    assert money(refund["total_tax"]) == money(quote["total_refund_tax_amount"])
    return refund


def in_minor_units(amount: Decimal, currency: str) -> bool:
    return amount == amount.quantize(quantum(currency))


def check_no_cent_lost(mock: Mock, order_id: int, document: dict[str, Any]) -> Decimal:
    """The order's refunded total, its refunds and its refund transactions all agree."""
    order = mock.get(f"/v2/orders/{order_id}")
    refunds = mock.get(f"/v3/orders/{order_id}/payment_actions/refunds")["data"]
    refunded = sum((money(refund["total_amount"]) for refund in refunds), Decimal(0))
    assert money(order["refunded_amount"]) == refunded
    assert refunded <= money(order["total_inc_tax"])
    transactions = mock.get(f"/v3/orders/{order_id}/transactions")["data"]
    refund_transactions = [t for t in transactions if t["event"] == "refund"]
    assert sum((money(t["amount"]) for t in refund_transactions), Decimal(0)) == refunded
    paid: dict[str, Decimal] = {}
    for transaction in transactions:
        if transaction["event"] == "purchase":
            paid[transaction["gateway"]] = paid.get(transaction["gateway"], Decimal(0)) + money(transaction["amount"])
    for gateway, amount in paid.items():
        if gateway == "storecredit":
            continue  # store credit can also be issued as new credit, beyond what was redeemed
        back = sum((money(t["amount"]) for t in refund_transactions if t["gateway"] == gateway), Decimal(0))
        assert back <= amount, f"{gateway} refunded {back} of {amount}"
    currency = document["order"]["default_currency_code"]
    assert all(in_minor_units(money(refund["total_amount"]), currency) for refund in refunds)
    for product in mock.get(f"/v2/orders/{order_id}/products"):
        assert 0 <= product["quantity_refunded"] <= product["quantity"]
    return refunded


@st.composite
def partitions(draw: st.DrawFn, pieces: list[Any]) -> list[list[Any]]:
    """`pieces` shuffled and cut into consecutive groups (each a refund)."""
    shuffled = draw(st.permutations(pieces))
    cuts = draw(st.lists(st.booleans(), min_size=len(shuffled), max_size=len(shuffled)))
    groups: list[list[Any]] = [[]]
    for piece, cut in zip(shuffled, cuts, strict=True):
        if cut and groups[-1]:
            groups.append([])
        groups[-1].append(piece)
    return [group for group in groups if group]


def is_worth_nothing(mock: Mock, order_id: int, pieces: list[Any]) -> bool:
    """Whether a refund of `pieces` would be 0, which the mock refuses with a 422 (spec x-mock-note).

    Units of a line each carry their cumulative share of what was paid for it, so after a
    discount a unit can be worth 0 (a 1-yen unit of a line paid 3 yen for 4 units).
    """
    quoted = mock.quote(order_id, {"items": as_items(pieces)})
    if quoted.status_code != 422:
        return False
    body = quoted.get_json()
    assert body["errors"] == {"items": "the refund total is 0; there is nothing to refund"}, body
    refused = mock.refund(order_id, {"items": as_items(pieces), "payments": [{"provider_id": "custom", "amount": 0}]})
    assert refused.status_code == 422, refused.get_json()
    return True


def refund_everything(mock: Mock, spec: OrderSpec, data: st.DataObject) -> None:
    document = build_order(spec)
    groups = data.draw(partitions(all_refundable_pieces(document)), label="refunds")
    refund_in_groups(mock, document, groups, lambda: data.draw(st.integers(0, 3), label="refund method"))


def refund_in_groups(mock: Mock, document: dict[str, Any], groups: list[list[Any]], choose: Callable[[], int]) -> None:
    """Refund every piece of `document`, one refund per group, and check it all adds up to the order."""
    order_id = mock.load(document)
    expected = expected_totals(document)
    total = tax = shipping = handling = Decimal(0)
    per_product: dict[int, Decimal] = {}
    worth_nothing: list[Any] = []  # pieces whose refund alone would be 0, carried into the next refund
    for group in groups:
        group = worth_nothing + group
        if is_worth_nothing(mock, order_id, group):
            worth_nothing = group
            continue
        worth_nothing = []
        refund = refund_like_the_quote(mock, order_id, as_items(group), choose())
        total += money(refund["total_amount"])
        tax += money(refund["total_tax"])
        for item in refund["items"]:
            amount = money(item["requested_amount"])
            if item["item_type"] == "PRODUCT":
                per_product[item["item_id"]] = per_product.get(item["item_id"], Decimal(0)) + amount
            shipping += amount if item["item_type"] == "SHIPPING" else 0
            handling += amount if item["item_type"] == "HANDLING" else 0
    assert total == expected.total
    assert tax == expected.tax
    assert per_product == {key: value for key, value in expected.product_basis.items() if key in per_product}
    assert all(expected.product_basis[key] == 0 for key in expected.product_basis.keys() - per_product.keys())
    assert (shipping, handling) == (expected.shipping_basis, expected.handling_basis)
    assert check_no_cent_lost(mock, order_id, document) == expected.total
    order = mock.get(f"/v2/orders/{order_id}")
    assert (order["status_id"], order["payment_status"]) == (4, "refunded")
    # units left worth nothing once every minor unit is back stay unrefunded (spec x-mock-note)
    stranded = {item_id for kind, item_id, _ in worth_nothing if kind in ("PRODUCT", "GIFT_WRAPPING")}
    assert all(p["is_refunded"] or p["id"] in stranded for p in mock.get(f"/v2/orders/{order_id}/products"))
    one_more = mock.quote(order_id, {"items": [{"item_type": "ORDER", "item_id": order_id, "amount": 0.001}]})
    assert one_more.status_code == 422


# Seen once in a clean run: 1-yen units, a 15 % discount, 4 units paid 3 yen; cumulative shares
# give the units 1, 1, 0 and 1 yen, so the third unit refunded on its own is worth nothing.
ONE_YEN_UNITS = OrderSpec(
    currency="JPY",
    store_currency="JPY",
    tax_inclusive=False,
    guest=True,
    lines=(LineSpec(unit_minor=1, quantity=4, rate=Decimal(0), wrapping_minor=0),),
    discount_percent=15,
    shipping_minor=0,
    handling_minor=0,
    fee_minor=0,
    rate=Decimal(0),
    gateways=("stripe",),
    store_credit_percent=0,
)


def refund_units(mock: Mock, order_id: int, product_id: int, quantity: int) -> Any:
    items = [{"item_type": "PRODUCT", "item_id": product_id, "quantity": quantity}]
    return mock.quote(order_id, {"items": items})


def test_a_unit_worth_nothing_is_refused_alone_and_refunded_with_a_unit_worth_something(mock: Mock) -> None:
    document = build_order(ONE_YEN_UNITS)
    order_id = mock.load(document)
    product_id = document["products"][0]["id"]
    assert document["products"][0]["discounted_total_inc_tax"] == "3.0000"  # 4 x 1 yen less 1 yen discount
    for _ in range(2):
        item = {"item_type": "PRODUCT", "item_id": product_id, "quantity": 1}
        assert refund_like_the_quote(mock, order_id, [item], 0)["total_amount"] == 1
    alone = refund_units(mock, order_id, product_id, 1)
    assert alone.status_code == 422
    assert alone.get_json()["errors"] == {"items": "the refund total is 0; there is nothing to refund"}
    refused = mock.refund(
        order_id,
        {
            "items": [{"item_type": "PRODUCT", "item_id": product_id, "quantity": 1}],
            "payments": [{"provider_id": "custom", "amount": 0}],
        },
    )
    assert refused.status_code == 422
    assert mock.get(f"/v2/orders/{order_id}/products")[0]["quantity_refunded"] == 2  # state unchanged
    item = {"item_type": "PRODUCT", "item_id": product_id, "quantity": 2}
    assert refund_like_the_quote(mock, order_id, [item], 0)["total_amount"] == 1
    product = mock.get(f"/v2/orders/{order_id}/products")[0]
    assert (product["quantity_refunded"], product["is_refunded"]) == (4, True)
    assert mock.get(f"/v2/orders/{order_id}")["payment_status"] == "refunded"


def test_refunding_one_yen_units_one_by_one_returns_exactly_the_order(mock: Mock) -> None:
    """The clean-run failure, made explicit: the third unit's own refund is refused, so it goes with the fourth."""
    document = build_order(ONE_YEN_UNITS)
    groups = [[piece] for piece in all_refundable_pieces(document)]
    refund_in_groups(mock, document, groups, lambda: 0)


def test_a_last_unit_worth_nothing_stays_unrefunded_once_the_money_is_back(mock: Mock) -> None:
    # two lines of 2 x 1 yen; the 1-yen discount (15 % of 4, rounded) falls on the first line,
    # paid 1 yen for 2 units: its units carry 1 and 0 yen
    lines = (LineSpec(1, 2, Decimal(0), 0), LineSpec(1, 2, Decimal(0), 0))
    document = build_order(OrderSpec(**{**ONE_YEN_UNITS.__dict__, "lines": lines}))
    assert [p["discounted_total_inc_tax"] for p in document["products"]] == ["1.0000", "2.0000"]
    first, second = (product["id"] for product in document["products"])
    groups = [[("PRODUCT", first, 1), ("PRODUCT", second, 1)], [("PRODUCT", second, 1)], [("PRODUCT", first, 1)]]
    refund_in_groups(mock, document, groups, lambda: 0)  # the last group alone is refused
    order_id = document["order"]["id"]
    assert mock.get(f"/v2/orders/{order_id}")["payment_status"] == "refunded"
    last = refund_units(mock, order_id, first, 1)
    assert last.status_code == 422
    assert last.get_json()["errors"] == {"items": "the refund total is 0; there is nothing to refund"}
    assert [p["is_refunded"] for p in mock.get(f"/v2/orders/{order_id}/products")] == [False, True]


@PROPERTY_SETTINGS
@given(spec=order_specs(), data=st.data())
def test_refunding_everything_in_any_partition_returns_exactly_the_order(
    mock: Mock, spec: OrderSpec, data: st.DataObject
) -> None:
    refund_everything(mock, spec, data)


@settings(PROPERTY_SETTINGS, max_examples=25)
@given(spec=order_specs(currencies=["JPY", "KWD"]), data=st.data())
def test_zero_and_three_decimal_currencies_add_up_exactly(mock: Mock, spec: OrderSpec, data: st.DataObject) -> None:
    refund_everything(mock, spec, data)


@st.composite
def requests(draw: st.DrawFn, document: dict[str, Any]) -> list[dict[str, Any]]:
    """Random refund requests, some asking for more than is left."""
    order_id = document["order"]["id"]
    step = quantum(document["order"]["default_currency_code"])
    choices: list[dict[str, Any]] = []
    for product in document["products"]:
        quantity = draw(st.integers(1, product["quantity"] + 1))
        choices.append({"item_type": "PRODUCT", "item_id": product["id"], "quantity": quantity})
    address = document["shipping_addresses"][0]
    shipping = money(address["cost_inc_tax"])
    amount = (shipping * draw(st.sampled_from([Decimal("0.25"), Decimal("0.5"), Decimal("1.1")]))).quantize(step)
    choices.append({"item_type": "SHIPPING", "item_id": address["id"], "amount": v3(amount)})
    total = money(document["order"]["total_inc_tax"])
    order_amount = (total * draw(st.sampled_from([Decimal("0.1"), Decimal("0.3"), Decimal("0.7")]))).quantize(step)
    choices.append({"item_type": "ORDER", "item_id": order_id, "amount": v3(order_amount)})
    count = draw(st.integers(1, 6))
    return [
        {"items": draw(st.lists(st.sampled_from(choices), min_size=1, max_size=3)), "choice": draw(st.integers(0, 3))}
        for _ in range(count)
    ]


@PROPERTY_SETTINGS
@given(spec=order_specs(), data=st.data())
def test_random_refund_sequences_never_exceed_what_was_paid(mock: Mock, spec: OrderSpec, data: st.DataObject) -> None:
    document = build_order(spec)
    order_id = mock.load(document)
    left = {product["id"]: product["quantity"] for product in document["products"]}
    for request in data.draw(requests(document), label="requests"):
        asked: dict[int, int] = {}
        for item in request["items"]:
            if item["item_type"] == "PRODUCT":
                asked[item["item_id"]] = asked.get(item["item_id"], 0) + item["quantity"]
        before = mock.get(f"/v3/orders/{order_id}/payment_actions/refunds")["data"]
        quoted = mock.quote(order_id, {"items": request["items"]})
        if any(quantity > left[product] for product, quantity in asked.items()):
            assert quoted.status_code == 422  # for the quantity, or an item before it
            assert quoted.get_json()["title"].startswith("Refund ")
        if quoted.status_code == 422:
            body = quoted.get_json()
            attempt = mock.refund(
                order_id, {"items": request["items"], "payments": [{"provider_id": "custom", "amount": 1}]}
            )
            assert attempt.status_code == 422
            assert attempt.get_json()["data"][0]["title"] == body["title"]
            assert mock.get(f"/v3/orders/{order_id}/payment_actions/refunds")["data"] == before
            continue
        assert quoted.status_code == 201
        refund_like_the_quote(mock, order_id, request["items"], request["choice"])
        for product, quantity in asked.items():
            left[product] -= quantity
        check_no_cent_lost(mock, order_id, document)
    # whatever is left can be refunded to the cent, and not a minor unit more
    order = mock.get(f"/v2/orders/{order_id}")
    remaining = money(order["total_inc_tax"]) - money(order["refunded_amount"])
    step = quantum(document["order"]["default_currency_code"])
    if remaining > 0:
        over = mock.quote(
            order_id, {"items": [{"item_type": "ORDER", "item_id": order_id, "amount": v3(remaining + step)}]}
        )
        assert over.status_code == 422
        refund_like_the_quote(mock, order_id, [{"item_type": "ORDER", "item_id": order_id, "amount": v3(remaining)}], 1)
    assert check_no_cent_lost(mock, order_id, document) == money(order["total_inc_tax"])
    assert mock.get(f"/v2/orders/{order_id}")["status_id"] == 4


def test_kwd_and_jpy_amounts_keep_their_minor_units(mock: Mock) -> None:
    for currency, unit, expected_total, expected_tax in (
        ("JPY", 1001, 3303, 300),  # 3 units of 1001 yen at 10%: tax 300.3 -> 300; one unit 1101.1 -> 1101
        ("KWD", 3335, 11.006, 1.001),  # 3 x 3.335 KWD at 10%: tax 1.0005 -> 1.001 (half-up, 3 decimals)
    ):
        spec = OrderSpec(
            currency,
            currency,
            False,
            False,
            (LineSpec(unit, 3, Decimal("0.1"), 0),),
            0,
            0,
            0,
            0,
            Decimal(0),
            ("stripe",),
            0,
        )
        document = build_order(spec)
        order_id = mock.load(document)
        product_id = document["products"][0]["id"]
        whole = mock.quote(order_id, {"items": [{"item_type": "PRODUCT", "item_id": product_id, "quantity": 3}]})
        data = whole.get_json()["data"]
        assert (data["total_refund_amount"], data["total_refund_tax_amount"]) == (expected_total, expected_tax)
        one = mock.quote(
            order_id, {"items": [{"item_type": "PRODUCT", "item_id": product_id, "quantity": 1}]}
        ).get_json()
        amount = money(one["data"]["total_refund_amount"])
        assert amount == amount.quantize(quantum(currency))
        if currency == "JPY":
            assert isinstance(one["data"]["total_refund_amount"], int)
            fraction = mock.quote(order_id, {"items": [{"item_type": "ORDER", "item_id": order_id, "amount": 10.5}]})
            assert fraction.get_json()["data"]["total_refund_amount"] == 11  # rounded half-up to whole yen
            assert fraction.get_json()["data"]["rounding"] == 0.5


def test_second_online_gateway_in_one_method_must_be_offline(mock: Mock) -> None:
    spec = OrderSpec(
        "USD",
        "USD",
        False,
        False,
        (LineSpec(3000, 1, Decimal(0), 0),),
        0,
        0,
        0,
        0,
        Decimal(0),
        ("stripe", "braintree"),
        0,
    )
    document = build_order(spec)
    order_id = mock.load(document)
    data = mock.quote(order_id, {"items": [{"item_type": "ORDER", "item_id": order_id, "amount": 30}]}).get_json()[
        "data"
    ]
    original = data["refund_methods"][-1]
    assert [(o["provider_id"], o["amount"], o["offline"], o["offline_reason"]) for o in original] == [
        ("stripe", 20, False, ""),
        ("braintree", 10, True, "Multiple online refunds are not available"),
    ]


# -- concurrency ----------------------------------------------------------------------------


def fire_together(app: Flask, order_id: int, body: dict[str, Any], count: int = 20) -> list[Any]:
    """`count` threads post the same refund at the same moment; their responses."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def worker(index: int) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post(
            f"/stores/{STORE}/v3/orders/{order_id}/payment_actions/refunds", json=body, headers=TOKEN
        )
        results[index] = (response.status_code, response.get_json())

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_twenty_concurrent_refunds_refund_exactly_what_was_paid(mock: Mock) -> None:
    # 12 units of 5.00 + 0.40 tax: twelve refunds of one unit fit, eight must be refused
    spec = OrderSpec(
        "USD", "USD", False, False, (LineSpec(500, 12, Decimal("0.08"), 0),), 0, 0, 0, 0, Decimal(0), ("stripe",), 0
    )
    document = build_order(spec)
    order_id = mock.load(document)
    product_id = document["products"][0]["id"]
    body = {
        "items": [{"item_type": "PRODUCT", "item_id": product_id, "quantity": 1}],
        "payments": [{"provider_id": "stripe", "amount": 5.4}],
    }
    results = fire_together(mock.app, order_id, body)
    statuses = sorted(status for status, _ in results)
    assert statuses == [201] * 12 + [422] * 8
    refused = [body for status, body in results if status == 422]
    assert all(body["data"][0]["title"] == "Refund quantity is greater than remaining quantity" for body in refused)
    created = [body["data"] for status, body in results if status == 201]
    assert len({refund["id"] for refund in created}) == 12
    assert check_no_cent_lost(mock, order_id, document) == Decimal("64.80")
    order = mock.get(f"/v2/orders/{order_id}")
    assert (order["status_id"], order["refunded_amount"]) == (4, "64.8000")
    assert mock.get(f"/v2/orders/{order_id}/products")[0]["quantity_refunded"] == 12
    listed = mock.get(f"/v3/orders/payment_actions/refunds?order_id:in={order_id}&limit=50")["data"]
    assert sorted(refund["id"] for refund in listed) == sorted(refund["id"] for refund in created)


def test_concurrent_order_level_refunds_stop_at_the_order_total(mock: Mock) -> None:
    spec = OrderSpec(
        "USD", "USD", False, False, (LineSpec(6480, 1, Decimal(0), 0),), 0, 0, 0, 0, Decimal(0), ("stripe",), 0
    )
    order_id = mock.load(build_order(spec))
    body = {
        "items": [{"item_type": "ORDER", "item_id": order_id, "amount": 7}],
        "payments": [{"provider_id": "custom", "amount": 7, "offline": True}],
    }
    results = fire_together(mock.app, order_id, body)
    assert sorted(status for status, _ in results) == [201] * 9 + [422] * 11  # 9 x 7.00 = 63.00 of 64.80
    order = mock.get(f"/v2/orders/{order_id}")
    assert order["refunded_amount"] == "63.0000" and order["status_id"] == 14


# -- V3 money is a JSON number; ids are the store's ---------------------------------------------


def state_of(mock: Mock, order_id: int) -> tuple[Any, ...]:
    """What a client can read of an order's refund state."""
    return (
        mock.get(f"/v2/orders/{order_id}"),
        mock.get(f"/v2/orders/{order_id}/products"),
        mock.get(f"/v3/orders/{order_id}/transactions"),
        mock.get(f"/v3/orders/{order_id}/payment_actions/refunds"),
    )


STRING_PLACES = ("items.0.amount", "payments.0.amount", "override.total_amount", "override.total_tax")


@PROPERTY_SETTINGS
@given(spec=order_specs(), data=st.data())
def test_money_as_a_number_refunds_and_the_same_money_as_a_string_changes_nothing(
    mock: Mock, spec: OrderSpec, data: st.DataObject
) -> None:
    """BigCommerce declares V3 request money `type: number`: any amount sent as a decimal string,
    in any money field, is a 422 naming that field and leaves the order as it was; the same
    amount as a number quotes and refunds to the minor unit (all five currencies, JPY and KWD
    among them)."""
    document = build_order(spec)
    order_id = mock.load(document)
    step = quantum(spec.currency)
    total = money(document["order"]["total_inc_tax"])
    amount = data.draw(st.integers(1, int(total / step)), label="minor units") * step
    text = data.draw(st.sampled_from([str(amount), f"{amount:.4f}", f"{amount}"]), label="as text")
    items = [{"item_type": "ORDER", "item_id": order_id, "amount": v3(amount)}]
    quoted = mock.quote(order_id, {"items": items})
    assert quoted.status_code == 201, quoted.get_json()
    assert money(quoted.get_json()["data"]["total_refund_amount"]) == amount
    methods = quoted.get_json()["data"]["refund_methods"]
    payments = payments_for(data.draw(st.sampled_from(methods), label="method"))
    place = data.draw(st.sampled_from(STRING_PLACES), label="string in")
    body: dict[str, Any] = {"items": [dict(items[0])], "payments": [dict(p) for p in payments]}
    if place == "items.0.amount":
        body["items"][0]["amount"] = text
    elif place == "payments.0.amount":
        body["payments"][0]["amount"] = text
    else:
        override = {"total_amount": v3(amount), "total_tax": 0}
        override[place.split(".")[1]] = text
        body["merchant_calculated_override"] = override
    field = place.replace("override.", "merchant_calculated_override.")
    before = state_of(mock, order_id)
    refused = mock.refund(order_id, body)
    assert refused.status_code == 422
    [error] = refused.get_json()["data"]
    assert error["errors"] == {field: "must be a number"}
    if place == "items.0.amount":
        quote_refused = mock.quote(order_id, {"items": body["items"]})
        assert quote_refused.status_code == 422
        assert quote_refused.get_json()["errors"] == {field: "must be a number"}
    assert state_of(mock, order_id) == before
    created = mock.refund(order_id, {"items": items, "payments": payments})
    assert created.status_code == 201, created.get_json()
    assert money(created.get_json()["data"]["total_amount"]) == amount
    check_no_cent_lost(mock, order_id, document)


STORE_TRANSACTION_IDS = iter(range(10**9, 2 * 10**9, 1000))  # a fresh stretch of ids per example


@settings(PROPERTY_SETTINGS, max_examples=25)
@given(specs=st.lists(order_specs(), min_size=2, max_size=3), data=st.data())
def test_refunds_across_orders_give_every_object_an_id_of_its_own(
    mock: Mock, specs: list[OrderSpec], data: st.DataObject
) -> None:
    """Transactions are numbered by the store as they happen, so orders' ids interleave; refunds
    on any of the orders, in any order, never reuse an id another order's transaction, refund
    or refund payment holds, and a refund, its payments and their transactions never share one."""
    documents = [build_order(spec) for spec in specs]
    next_id = next(STORE_TRANSACTION_IDS)
    for position in range(max(len(document["transactions"]) for document in documents)):
        for document in documents:  # order 1's first capture, order 2's first, ..., then the seconds
            if position < len(document["transactions"]):
                document["transactions"][position]["id"] = next_id
                next_id += 1
    order_ids = [mock.load(document) for document in documents]
    for _ in range(data.draw(st.integers(1, 5), label="refunds")):
        order_id = data.draw(st.sampled_from(order_ids), label="order")
        order = mock.get(f"/v2/orders/{order_id}")
        left = money(order["total_inc_tax"]) - money(order["refunded_amount"])
        if left <= 0:
            continue
        step = quantum(order["default_currency_code"])
        amount = data.draw(st.integers(1, int(left / step)), label="minor units") * step
        before = {i for oid in order_ids for i in ids_of(mock, oid)}
        created = refund_like_the_quote(
            mock, order_id, [{"item_type": "ORDER", "item_id": order_id, "amount": v3(amount)}], -1
        )
        new = [created["id"], *(p["id"] for p in created["payments"])]
        new += [int(p["transaction_id"]) for p in created["payments"]]
        assert len(new) == len(set(new)) and before.isdisjoint(new), (new, sorted(before))
    every = [i for oid in order_ids for i in ids_of(mock, oid)]
    assert len(every) == len(set(every)), sorted(every)


def ids_of(mock: Mock, order_id: int) -> list[int]:
    """The order's transaction, refund and refund payment ids, as a client reads them."""
    ids = [row["id"] for row in mock.get(f"/v3/orders/{order_id}/transactions")["data"]]
    for created in mock.get(f"/v3/orders/{order_id}/payment_actions/refunds")["data"]:
        ids += [created["id"], *(payment["id"] for payment in created["payments"])]
    return ids
