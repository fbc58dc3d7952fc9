"""The fixture generators: reproducible, valid against the specs, consistent to the cent, covering every case.

These tests work on generated documents in memory; `test_generator_cli.py` covers the command,
the files it writes, and the quotes against a running server.
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.bigcommerce import consistency as bigcommerce_consistency
from mockserver.bigcommerce import generator as bigcommerce_generator
from mockserver.generation import (
    SHOP_ZONES,
    GeneratorSettings,
    SettingsError,
    nice_amount,
    nice_price,
)
from mockserver.generation import _summer_time as summer_time
from mockserver.money import quantum
from mockserver.openapi import data_dir, load_spec, violations_of
from mockserver.shopify import consistency as shopify_consistency
from mockserver.shopify import generator as shopify_generator

CURRENCIES = ("USD", "EUR", "JPY", "KWD")
RUN = GeneratorSettings(seed=2024, currencies=CURRENCIES)
PLATFORMS: dict[str, tuple[ModuleType, Callable[[dict[str, Any]], list[tuple[str, str]]], str, str]] = {
    "shopify": (shopify_generator, shopify_consistency.problems, "shopify-2020-10.yaml", "ShopifyFixtureDocument"),
    "bigcommerce": (
        bigcommerce_generator,
        bigcommerce_consistency.problems,
        "bigcommerce-v3.yaml",
        "BigCommerceFixtureDocument",
    ),
}


@pytest.fixture(scope="module", params=sorted(PLATFORMS))
def platform(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def five_hundred() -> dict[str, list[dict[str, Any]]]:
    """500 orders per platform in four currencies (zero-, two- and three-decimal), made once."""
    return {name: list(module.generate(RUN, 500)) for name, (module, *_) in PLATFORMS.items()}


def canonical(document: dict[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, ensure_ascii=False)


# -- reproducibility ----------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_orders(platform: str) -> None:
    module = PLATFORMS[platform][0]
    first = [canonical(document) for document in module.generate(RUN, 30)]
    again = [canonical(document) for document in module.generate(RUN, 30)]
    assert first == again


def test_a_different_seed_gives_different_orders(platform: str) -> None:
    module = PLATFORMS[platform][0]
    one = list(module.generate(RUN, 30))
    other = list(module.generate(GeneratorSettings(seed=RUN.seed + 1, currencies=CURRENCIES), 30))
    differing = sum(
        canonical(a["order"]) != canonical(b["order"]) and canonical(a["transactions"]) != canonical(b["transactions"])
        for a, b in zip(one, other, strict=True)
    )
    assert differing == 30
    customers = {json.dumps(d["order"].get("billing_address"), sort_keys=True) for d in one}
    others = {json.dumps(d["order"].get("billing_address"), sort_keys=True) for d in other}
    assert customers.isdisjoint(others), "another seed should draw other customers from Faker"


def test_an_order_does_not_depend_on_how_many_are_made(platform: str) -> None:
    """The first orders of a long run are the orders of a short one (each order has its own random source)."""
    module = PLATFORMS[platform][0]
    short = [canonical(document) for document in module.generate(RUN, 5)]
    long = [canonical(document) for document in module.generate(RUN, 12)]
    assert long[:5] == short


def test_the_locale_is_honoured(platform: str) -> None:
    module = PLATFORMS[platform][0]
    german = list(module.generate(GeneratorSettings(seed=3, locale="de_DE", currencies=("EUR",)), 10))
    japanese = list(module.generate(GeneratorSettings(seed=3, locale="ja_JP", currencies=("JPY",)), 10))

    def countries(documents: list[dict[str, Any]]) -> set[str]:
        address_key = "country_code" if platform == "shopify" else "country_iso2"
        return {document["order"]["billing_address"][address_key] for document in documents}

    assert countries(german) == {"DE"}
    assert countries(japanese) == {"JP"}
    names = "".join(document["order"]["billing_address"]["last_name"] for document in japanese)
    assert any("\u3040" <= char <= "\u9fff" for char in names), "ja_JP names are written in Japanese"


def test_unknown_locale_or_currency_is_refused() -> None:
    with pytest.raises(SettingsError, match="locale"):
        GeneratorSettings(locale="xx_YY")
    with pytest.raises(SettingsError, match="currency 'ABC'"):
        GeneratorSettings(currencies=("USD", "ABC"))


# -- validity and consistency of 500 orders ---------------------------------------------------------


def test_every_order_of_500_matches_the_spec_fixture_schema(
    platform: str, five_hundred: dict[str, list[dict[str, Any]]]
) -> None:
    _, _, spec_file, schema = PLATFORMS[platform]
    validator = load_spec(data_dir("specs") / spec_file).schema(schema)
    invalid = {}
    for document in five_hundred[platform]:
        violations = violations_of(validator, document, "document")
        if violations:
            invalid[document["order"]["id"]] = violations[:3]
    assert invalid == {}


def test_every_order_of_500_passes_the_consistency_rules(
    platform: str, five_hundred: dict[str, list[dict[str, Any]]]
) -> None:
    problems = PLATFORMS[platform][1]
    inconsistent = {}
    for document in five_hundred[platform]:
        found = problems(document)
        if found:
            inconsistent[document["order"]["id"]] = found[:3]
    assert inconsistent == {}


def test_500_orders_show_every_case_of_the_issue(platform: str, five_hundred: dict[str, list[dict[str, Any]]]) -> None:
    module = PLATFORMS[platform][0]
    seen: Counter[str] = Counter()
    for document in five_hundred[platform]:
        seen.update(module.cases(document))
    wanted = set(module.REQUIRED_CASES) | {f"currency:{code}" for code in CURRENCIES}
    assert wanted - set(seen) == set()
    assert {case for case in seen if case.startswith("lines:")} == {f"lines:{n}" for n in range(1, 9)}
    assert {case for case in seen if case.startswith("quantity:")} == {f"quantity:{n}" for n in range(1, 6)}


def test_ids_are_unique_across_orders(platform: str, five_hundred: dict[str, list[dict[str, Any]]]) -> None:
    """Order, line, transaction and refund ids never repeat, so refunds index cleanly across orders."""
    documents = five_hundred[platform]
    if platform == "shopify":
        groups = {
            "orders": [d["order"]["id"] for d in documents],
            "lines": [line["id"] for d in documents for line in d["order"]["line_items"]],
            "transactions": [t["id"] for d in documents for t in d["transactions"]],
            "refunds": [r["id"] for d in documents for r in d["order"]["refunds"]],
        }
    else:
        groups = {
            "orders": [d["order"]["id"] for d in documents],
            "products": [p["id"] for d in documents for p in d["products"]],
            "transactions": [t["id"] for d in documents for t in d["transactions"]],
            "refunds": [r["id"] for d in documents for r in d["refunds"]],
            "payments": [p["id"] for d in documents for r in d["refunds"] for p in r["payments"]],
        }
    for name, ids in groups.items():
        assert len(ids) == len(set(ids)), f"{name} ids repeat"


def test_generated_ids_stay_clear_of_the_hand_written_orders(platform: str) -> None:
    """Every id a run can give (up to ten million orders) lies above the starter orders' ids."""
    module = PLATFORMS[platform][0]
    folder = data_dir("fixtures") / platform
    hand_written = {
        int(path.stem) for path in (folder / "orders").glob("*.json") if not (folder / "quotes" / path.name).exists()
    }
    generated = {module.order_id(document) for document in module.generate(RUN, 20)}
    assert hand_written and generated.isdisjoint(hand_written)
    assert max(hand_written) < module.ORDER_ID_BASE + 1
    assert module.order_id(module.generate_order(RUN, 10**7)) == module.ORDER_ID_BASE + 10**7


def test_shopify_earlier_refunds_leave_what_the_engine_says_is_left(
    five_hundred: dict[str, list[dict[str, Any]]],
) -> None:
    """Money refunded so far plus a quote for everything left is exactly what was paid, per the engine."""
    from mockserver.shopify import models

    checked = 0
    for document in five_hundred["shopify"]:
        order = document["order"]
        if not order["refunds"]:
            continue
        paid = sum(Decimal(t["amount"]) for t in document["transactions"] if t["kind"] in ("sale", "capture"))
        refunded = sum(Decimal(t["amount"]) for t in document["transactions"] if t["kind"] == "refund")
        discrepancies = sum(
            Decimal(adjustment["amount"])
            for refund in order["refunds"]
            for adjustment in refund["order_adjustments"]
            if adjustment["kind"] == "refund_discrepancy"
        )
        quote = models.calculate(document, shopify_generator.everything_left(document))["refund"]
        lines = quote["refund_line_items"]
        left = sum(Decimal(line["subtotal"]) for line in lines) + Decimal(quote["shipping"]["amount"])
        if not order["taxes_included"]:
            left += sum(Decimal(line["total_tax"]) for line in lines) + Decimal(quote["shipping"]["tax"])
        assert refunded + discrepancies + left == paid, order["id"]
        checked += 1
    assert checked > 40


def test_bigcommerce_earlier_refunds_leave_what_the_engine_says_is_left(
    five_hundred: dict[str, list[dict[str, Any]]],
) -> None:
    from mockserver.bigcommerce import models

    checked = 0
    for document in five_hundred["bigcommerce"]:
        if not document["refunds"]:
            continue
        total = Decimal(document["order"]["total_inc_tax"])
        refunded = Decimal(document["order"]["refunded_amount"])
        request = bigcommerce_generator.everything_left(document)
        quoted = models.quote(document, request)["total_refund_amount"] if request["items"] else 0
        left = Decimal(str(quoted))
        assert refunded + left == total, document["order"]["id"]
        checked += 1
    assert checked > 40


# -- the consistency rules catch what is wrong --------------------------------------------------------


def first(documents: list[dict[str, Any]], wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    return copy.deepcopy(next(document for document in documents if wanted(document)))


def add_cent(text: str) -> str:
    value = Decimal(text)
    return str(value + quantum("USD") if value.as_tuple().exponent == -2 else value + 1)


SHOPIFY_BREAKAGES: list[tuple[str, Callable[[dict[str, Any]], bool], Callable[[dict[str, Any]], None], str]] = [
    (
        "a line's price",
        lambda d: d["order"]["currency"] == "USD",
        lambda d: d["order"]["line_items"][0].update(price=add_cent(d["order"]["line_items"][0]["price"])),
        "$.order.total_line_items_price",
    ),
    (
        "a cart discount allocation",
        lambda d: any(a["allocation_method"] == "across" for a in d["order"]["discount_applications"]),
        lambda d: next(
            allocation
            for line in d["order"]["line_items"]
            for allocation in line["discount_allocations"]
            if d["order"]["discount_applications"][allocation["discount_application_index"]]["allocation_method"]
            == "across"
        ).update(amount="0.00"),
        "$.order.discount_codes[",
    ),
    (
        "a line's tax",
        lambda d: any(line["tax_lines"] for line in d["order"]["line_items"]) and d["order"]["currency"] == "USD",
        lambda d: next(line for line in d["order"]["line_items"] if line["tax_lines"])["tax_lines"][0].update(
            price="0.00"
        ),
        "$.order.total_tax",
    ),
    (
        "a payment",
        lambda d: d["order"]["currency"] == "USD",
        lambda d: next(t for t in d["transactions"] if t["kind"] in ("sale", "capture")).update(
            amount=add_cent(next(t for t in d["transactions"] if t["kind"] in ("sale", "capture"))["amount"])
        ),
        "$.transactions",
    ),
    (
        "a refund transaction",
        lambda d: bool(d["order"]["refunds"]) and d["order"]["currency"] == "USD",
        lambda d: d["order"]["refunds"][0]["transactions"][0].update(amount="0.01"),
        "$.order.refunds[0].transactions",
    ),
    (
        "the financial status",
        lambda d: d["order"]["financial_status"] == "partially_refunded",
        lambda d: d["order"].update(financial_status="paid"),
        "$.order.financial_status",
    ),
    (
        "the current total",
        lambda d: bool(d["order"]["refunds"]),
        lambda d: d["order"].update(current_total_price=d["order"]["total_price"]),
        "$.order.current_total_price",
    ),
    (
        "a fulfilled line",
        lambda d: bool(d["order"]["fulfillments"]),
        lambda d: d["order"]["fulfillments"][0]["line_items"][0].update(quantity=99),
        "$.order.line_items[",
    ),
    (
        "JPY decimals",
        lambda d: d["order"]["currency"] == "JPY",
        lambda d: d["order"].update(total_tax=d["order"]["total_tax"] + ".00"),
        "$.order.total_tax",
    ),
]


@pytest.mark.parametrize(
    ("what", "wanted", "break_it", "path"), SHOPIFY_BREAKAGES, ids=[b[0] for b in SHOPIFY_BREAKAGES]
)
def test_shopify_rules_name_the_broken_figure(
    five_hundred: dict[str, list[dict[str, Any]]],
    what: str,
    wanted: Callable[[dict[str, Any]], bool],
    break_it: Callable[[dict[str, Any]], None],
    path: str,
) -> None:
    document = first(five_hundred["shopify"], wanted)
    assert shopify_consistency.problems(document) == []
    break_it(document)
    found = shopify_consistency.problems(document)
    assert any(where.startswith(path) for where, _ in found), found


BIGCOMMERCE_BREAKAGES: list[tuple[str, Callable[[dict[str, Any]], bool], Callable[[dict[str, Any]], None], str]] = [
    (
        "a product's tax",
        lambda d: d["order"]["currency_code"] == "USD",
        lambda d: d["products"][0].update(total_tax=add_cent(d["products"][0]["total_tax"])),
        "$.products[0].total_tax",
    ),
    (
        "an order discount allocation",
        lambda d: any(x["target"] == "order" for p in d["products"] for x in p["applied_discounts"]),
        lambda d: next(x for p in d["products"] for x in p["applied_discounts"] if x["target"] == "order").update(
            amount="0.0000"
        ),
        "$.order.discount_amount",
    ),
    (
        "the shipping cost",
        lambda d: Decimal(d["shipping_addresses"][0]["cost_ex_tax"]) > 0,
        lambda d: d["shipping_addresses"][0].update(
            cost_ex_tax="0.0000", cost_inc_tax=d["shipping_addresses"][0]["cost_tax"]
        ),
        "$.order.shipping_cost_ex_tax",
    ),
    (
        "a tender",
        lambda d: True,
        lambda d: d["transactions"][-1].update(amount=d["transactions"][-1]["amount"] + 1),
        "$.transactions",
    ),
    (
        "store credit",
        lambda d: any(t["gateway"] == "storecredit" for t in d["transactions"]),
        lambda d: d["order"].update(store_credit_amount="0.0000"),
        "$.order.store_credit_amount",
    ),
    (
        "refunded units",
        lambda d: any(p["quantity_refunded"] for p in d["products"]),
        lambda d: next(p for p in d["products"] if p["quantity_refunded"]).update(quantity_refunded=0),
        "$.products[",
    ),
    (
        "a refund payment",
        lambda d: bool(d["refunds"]),
        lambda d: d["refunds"][0]["payments"][0].update(amount=d["refunds"][0]["payments"][0]["amount"] + 1),
        "$.refunds[0]",
    ),
    (
        "the refunded amount",
        lambda d: bool(d["refunds"]),
        lambda d: d["order"].update(refunded_amount="0.0000"),
        "$.order.refunded_amount",
    ),
    (
        "the payment status",
        lambda d: d["order"]["payment_status"] == "refunded",
        lambda d: d["order"].update(payment_status="partially refunded"),
        "$.order.payment_status",
    ),
    (
        "KWD decimals",
        lambda d: d["order"]["currency_code"] == "KWD",
        lambda d: d["order"].update(total_tax=str(Decimal(d["order"]["total_tax"]) + Decimal("0.0001"))),
        "$.order.total_tax",
    ),
]


@pytest.mark.parametrize(
    ("what", "wanted", "break_it", "path"), BIGCOMMERCE_BREAKAGES, ids=[b[0] for b in BIGCOMMERCE_BREAKAGES]
)
def test_bigcommerce_rules_name_the_broken_figure(
    five_hundred: dict[str, list[dict[str, Any]]],
    what: str,
    wanted: Callable[[dict[str, Any]], bool],
    break_it: Callable[[dict[str, Any]], None],
    path: str,
) -> None:
    document = first(five_hundred["bigcommerce"], wanted)
    assert bigcommerce_consistency.problems(document) == []
    break_it(document)
    found = bigcommerce_consistency.problems(document)
    assert any(where.startswith(path) for where, _ in found), found


# -- money and time properties -------------------------------------------------------------------------

CURRENCY_CODES = st.sampled_from(["USD", "EUR", "GBP", "JPY", "KRW", "KWD", "BHD", "CAD", "CHF"])


@given(usd=st.decimals(min_value=Decimal("0.5"), max_value=Decimal(5000), places=2), currency=CURRENCY_CODES)
def test_shelf_prices_are_positive_whole_minor_units(usd: Decimal, currency: str) -> None:
    for style in range(3):
        price = nice_price(usd, currency, style)
        assert price > 0
        assert price == price.quantize(quantum(currency))
    amount = nice_amount(usd, currency)
    assert amount > 0 and amount == amount.quantize(quantum(currency))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from([1, 2]),
    index=st.integers(min_value=1, max_value=10**6),
    currencies=st.lists(CURRENCY_CODES, min_size=1, max_size=3, unique=True),
)
def test_any_order_adds_up_to_the_cent(seed: int, index: int, currencies: list[str]) -> None:
    """Whatever the order and currency, every split sums exactly and every rule holds (refunds included)."""
    run = GeneratorSettings(seed=seed, currencies=tuple(currencies))
    for module, problems, *_ in PLATFORMS.values():
        document = module.generate_order(run, index)
        assert problems(document) == [], module.order_id(document)


def zone_data_available() -> bool:
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo("America/New_York")
    except Exception:
        return False
    return True


@pytest.mark.skipif(not zone_data_available(), reason="this machine has no IANA time zone data to compare with")
def test_shop_time_zones_follow_the_iana_rules() -> None:
    """The written-out daylight-saving rules give the offsets the tz database gives, 2020-2030."""
    from zoneinfo import ZoneInfo

    minute = timedelta(minutes=1)
    for zones in SHOP_ZONES.values():
        for zone in zones:
            reference = ZoneInfo(zone.name)
            moments = [datetime(2020, 1, 1, tzinfo=UTC) + timedelta(hours=29 * step) for step in range(3400)]
            if zone.dst:
                for year in range(2020, 2031):
                    for switch in summer_time(zone.dst, zone.standard_minutes, year):
                        moments += [switch - minute, switch, switch + minute]
            for moment in moments:
                assert zone.offset(moment) == moment.astimezone(reference).utcoffset(), (zone.name, moment)


def test_timestamps_carry_the_shops_offset() -> None:
    documents = list(shopify_generator.generate(GeneratorSettings(seed=5, currencies=("JPY",)), 5))
    assert all(document["order"]["created_at"].endswith("+09:00") for document in documents)
    bigcommerce = next(bigcommerce_generator.generate(GeneratorSettings(seed=5, currencies=("JPY",)), 1))
    assert bigcommerce["order"]["date_created"].endswith("+0000"), "BigCommerce V2 dates are in UTC"


# -- locales: the shop's country's tax, and its address format (issue 14 point 15) -------------------


def test_a_german_shop_charges_german_vat_on_every_euro_order() -> None:
    """Germany's standard VAT (Umsatzsteuer, shown as MwSt.) is 19 % (§ 12 UStG); France's TVA is 20 %."""
    documents = list(shopify_generator.generate(GeneratorSettings(seed=3, locale="de_DE", currencies=("EUR",)), 40))
    titles = {(tax["title"], tax["rate"]) for document in documents for tax in document["order"]["tax_lines"]}
    assert titles == {("MwSt.", 0.19)}


def test_a_german_bigcommerce_store_taxes_at_19_percent() -> None:
    documents = list(bigcommerce_generator.generate(GeneratorSettings(seed=3, locale="de_DE", currencies=("EUR",)), 40))
    taxed = [product for document in documents for product in document["products"] if Decimal(product["price_tax"])]
    assert taxed
    for product in taxed:
        expected = Decimal(product["price_ex_tax"]) * Decimal("0.19")
        assert abs(expected - Decimal(product["price_tax"])) <= Decimal("0.01"), product


def test_a_shop_selling_in_another_countrys_currency_keeps_that_currencys_taxes() -> None:
    """An en_US shop's EUR orders: the committed fixtures keep their German, French and Dutch taxes."""
    documents = list(shopify_generator.generate(GeneratorSettings(seed=6, locale="en_US", currencies=("EUR",)), 30))
    titles = {tax["title"] for document in documents for tax in document["order"]["tax_lines"]}
    assert titles == {"MwSt.", "TVA", "BTW"}


def test_japanese_addresses_follow_the_japanese_format() -> None:
    """Town, chome, ban and go on line 1 (e.g. 芝浦14丁目4番16号), the prefecture with its ISO 3166-2 code."""
    documents = list(shopify_generator.generate(GeneratorSettings(seed=3, locale="ja_JP", currencies=("JPY",)), 20))
    for document in documents:
        address = document["order"]["billing_address"]
        assert re.fullmatch(r"\S+\d+丁目\d+番\d+号", address["address1"]), address["address1"]
        assert "Street" not in address["address1"]
        assert re.fullmatch(r"JP-(0[1-9]|[1-3]\d|4[0-7])", address["province_code"]), address
        assert address["province"].endswith(("都", "道", "府", "県"))
        assert re.fullmatch(r"\d{3}-\d{4}", address["zip"])
    tokyo = [d["order"]["billing_address"] for d in documents if d["order"]["billing_address"]["province"] == "東京都"]
    assert all(address["province_code"] == "JP-13" for address in tokyo)
