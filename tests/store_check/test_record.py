"""`refund-mock record` against a store: the documents equal its orders, validate and load;
`--anonymize` replaces people's data and nothing else."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from store_check_support import FIXTURES_DIR, Store, record, run, served_orders

from mockserver.app import MockConfig, create_app, server_of
from mockserver.contract.anonymize import PERSONAL

PLATFORMS = ["shopify", "bigcommerce"]
LINKS = ("products", "shipping_addresses", "coupons", "fees")


def recorded(out: Path, platform: str) -> dict[int, dict[str, Any]]:
    return {
        int(path.stem): json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((out / platform / "orders").glob("*.json"))
    }


def without_link_urls(document: dict[str, Any]) -> dict[str, Any]:
    """A BigCommerce order's sub-resource links point at whichever server sent the order (the
    store here points them at itself); record writes them as BigCommerce does. Only their `url`
    is set aside; `resource` is compared."""
    copy = json.loads(json.dumps(document))
    for name in LINKS:
        link = copy["order"].get(name)
        if isinstance(link, dict) and "url" in link:
            link["url"] = "(link)"
    for address in copy.get("shipping_addresses") or []:
        link = address.get("shipping_quotes")
        if isinstance(link, dict) and "url" in link:
            link["url"] = "(link)"
    copy.pop("store_hash", None)
    # A Shopify fixture's optional `shop` block (the shop's primary location) is not part of the
    # order or transactions endpoints that record reads; without it calculate falls back to a default.
    copy.pop("shop", None)
    return copy


@pytest.mark.parametrize("platform", PLATFORMS)
def test_record_gives_documents_equal_to_the_stores_orders(store: Store, tmp_path: Path, platform: str) -> None:
    result = record(store, platform, tmp_path)
    assert result.exit_code == 0, result.output + result.stderr
    expected = served_orders(platform)
    documents = recorded(tmp_path, platform)
    assert sorted(documents) == sorted(expected)
    for order_id, document in documents.items():
        assert without_link_urls(document) == without_link_urls(expected[order_id]), order_id
    assert f"[{len(expected)}/{len(expected)}] order" in result.stderr  # progress goes to stderr


def test_bigcommerce_links_are_written_as_bigcommerce_writes_them(store: Store, tmp_path: Path) -> None:
    assert record(store, "bigcommerce", tmp_path, orders=[100]).exit_code == 0
    document = recorded(tmp_path, "bigcommerce")[100]
    assert document["order"]["products"] == {
        "url": "https://api.bigcommerce.com/stores/abc123/v2/orders/100/products",
        "resource": "/orders/100/products",
    }
    quotes = document["shipping_addresses"][0]["shipping_quotes"]
    assert quotes["url"] == f"https://api.bigcommerce.com/stores/abc123/v2{quotes['resource']}"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_recorded_documents_pass_fixtures_validate_and_serve_loads_them(
    store: Store, tmp_path: Path, platform: str
) -> None:
    assert record(store, platform, tmp_path).exit_code == 0
    validated = run("fixtures", "validate", str(tmp_path))
    assert validated.exit_code == 0, validated.output
    app = create_app(MockConfig(fixtures_dir=tmp_path, strict_responses=True))
    server = server_of(app)
    try:
        assert server.fixture_errors == []
        assert sorted(server.store.order_ids(platform)) == sorted(served_orders(platform))
    finally:
        server.close()


def test_an_order_the_store_does_not_have_is_named_and_fails_the_run(store: Store, tmp_path: Path) -> None:
    result = record(store, "shopify", tmp_path, orders=[3012450010101, 999])
    assert result.exit_code == 1
    assert "order 999: GET /orders/999.json answered 404" in result.stderr
    assert (tmp_path / "shopify" / "orders" / "3012450010101.json").is_file()  # the others are kept


def test_record_needs_orders_or_since(tmp_path: Path) -> None:
    result = run(
        "record", "--platform", "shopify", "--url", "http://127.0.0.1:9", "--token", "t", "--out", str(tmp_path)
    )
    assert result.exit_code == 2
    assert "either --orders" in result.output + result.stderr


# -- --anonymize ----------------------------------------------------------------------------------

REPLACED_KEYS = set(PERSONAL) | {"latitude", "longitude"}


def leaves(node: Any, path: str = "") -> dict[str, Any]:
    """Every scalar of a document by its JSON path."""
    if isinstance(node, dict):
        found: dict[str, Any] = {}
        for key, value in node.items():
            found |= leaves(value, f"{path}.{key}")
        return found
    if isinstance(node, list):
        found = {}
        for index, value in enumerate(node):
            found |= leaves(value, f"{path}[{index}]")
        return found
    return {path: node}


def is_personal(path: str, original: dict[str, Any]) -> bool:
    key = path.rsplit(".", 1)[-1]
    if key in REPLACED_KEYS:
        return True
    if key == "name":  # a person's full name: in an object that has first_name / last_name
        return f"{path[: -len('.name')]}.first_name" in original or f"{path[: -len('.name')]}.last_name" in original
    return False


@pytest.mark.parametrize("platform", PLATFORMS)
def test_anonymize_replaces_every_name_email_and_address_and_keeps_every_other_value(
    store: Store, tmp_path: Path, platform: str
) -> None:
    result = record(store, platform, tmp_path, "--anonymize")
    assert result.exit_code == 0, result.output + result.stderr
    replaced = 0
    for order_id, expected in served_orders(platform).items():
        document = recorded(tmp_path, platform)[order_id]
        before, after = leaves(without_link_urls(expected)), leaves(without_link_urls(document))
        assert sorted(before) == sorted(after)  # same shape: nothing added, nothing dropped
        for path, value in before.items():
            if not is_personal(path, before):
                assert after[path] == value, f"order {order_id}: {path} changed"  # money, ids, dates, ...
            elif isinstance(value, str) and value.strip():
                assert after[path] != value, f"order {order_id}: {path} kept {value!r}"
                replaced += 1
        text = json.dumps(document)
        for path, value in before.items():
            key = path.rsplit(".", 1)[-1]
            if key in ("first_name", "last_name", "email", "address1", "street_1", "phone") and value:
                assert json.dumps(value) not in text, f"order {order_id}: {value!r} still appears"
    assert replaced > 50


def test_anonymize_gives_the_same_output_for_the_same_input(store: Store, tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    assert record(store, "shopify", first, "--anonymize").exit_code == 0
    assert record(store, "shopify", second, "--anonymize").exit_code == 0
    for path in sorted((first / "shopify" / "orders").glob("*.json")):
        assert path.read_bytes() == (second / "shopify" / "orders" / path.name).read_bytes()
    order = recorded(first, "shopify")[3012450010101]["order"]
    # the customer's e-mail on the order and on the customer was one e-mail, and stays one
    original = json.loads((FIXTURES_DIR / "shopify/orders/3012450010101.json").read_text())["order"]
    assert original["email"] == original["customer"]["email"]
    assert order["email"] == order["customer"]["email"] == order["contact_email"] != original["email"]
    assert (
        order["billing_address"]["name"]
        == f"{order['billing_address']['first_name']} {order['billing_address']['last_name']}"
    )


def test_anonymized_documents_still_validate(store: Store, tmp_path: Path) -> None:
    for platform in PLATFORMS:
        assert record(store, platform, tmp_path, "--anonymize").exit_code == 0
    validated = run("fixtures", "validate", str(tmp_path))
    assert validated.exit_code == 0, validated.output
