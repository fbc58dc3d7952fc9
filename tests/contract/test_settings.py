"""schemathesis.toml stays in step with the specs and the fixtures, and explains every setting."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from contract_support import REPO_ROOT, SPECS
from flask.testing import FlaskClient

from mockserver.fuzz import CONTRACT_TOKEN, SPEC_FILES, build_config, every_scope, settings_file

SETTINGS = REPO_ROOT / "schemathesis.toml"
FIXTURES = REPO_ROOT / "fixtures"


def settings() -> dict[str, Any]:
    return tomllib.loads(SETTINGS.read_text(encoding="utf-8"))


def orders(platform: str) -> list[dict[str, Any]]:
    return [
        json.loads(path.read_text(encoding="utf-8")) for path in sorted((FIXTURES / platform / "orders").glob("*.json"))
    ]


def dictionary(name: str) -> list[Any]:
    return settings()["dictionaries"][name]["values"]


def test_the_runner_reads_this_file_and_schemathesis_accepts_it() -> None:
    assert settings_file() == SETTINGS
    config = build_config(max_examples=7, seed=3)
    assert config.seed == 3
    assert config.projects.get_default().generation.max_examples == 7


def test_every_spec_has_a_project_and_every_project_a_spec() -> None:
    titles = {yaml.safe_load((REPO_ROOT / "specs" / SPEC_FILES[spec]).read_text())["info"]["title"] for spec in SPECS}
    assert {project["title"] for project in settings()["project"]} == titles


def test_the_projects_send_the_contract_token_that_has_every_scope() -> None:
    keys = [
        scheme["api_key"] for p in settings()["project"] for scheme in p.get("auth", {}).get("openapi", {}).values()
    ]
    assert keys == [CONTRACT_TOKEN, CONTRACT_TOKEN]
    assert {"read_orders", "write_orders", "store_v2_orders", "store_v2_transactions"} <= set(every_scope())


def test_every_setting_is_explained_by_a_comment() -> None:
    """Each block of settings (lines between blank lines) carries a comment."""
    blocks = SETTINGS.read_text(encoding="utf-8").split("\n\n")
    silent = [
        block
        for block in blocks
        if block.strip() and not any(line.lstrip().startswith("#") for line in block.splitlines())
    ]
    assert silent == []


def test_shopify_ids_name_the_starter_orders() -> None:
    documents = {document["order"]["id"]: document for document in orders("shopify")}
    assert set(dictionary("shopify-order-ids")) <= set(documents)
    chosen = [documents[order_id] for order_id in dictionary("shopify-order-ids")]
    lines = {line["id"] for document in chosen for line in document["order"]["line_items"]}
    assert set(dictionary("shopify-line-item-ids")) == lines
    parents = {
        t["id"]
        for document in chosen
        for t in document["transactions"]
        if t["kind"] in ("capture", "sale") and t["status"] == "success"
    }
    assert set(dictionary("shopify-parent-transaction-ids")) == parents
    locations = {f.get("location_id") for document in chosen for f in document["order"].get("fulfillments", [])}
    assert set(dictionary("shopify-location-ids")) <= locations


def test_bigcommerce_ids_name_the_starter_orders() -> None:
    documents = {document["order"]["id"]: document for document in orders("bigcommerce")}
    assert set(dictionary("bigcommerce-order-ids")) <= set(documents)
    chosen = [documents[order_id] for order_id in dictionary("bigcommerce-order-ids")]
    items = {
        item["id"]
        for document in chosen
        for key in ("products", "shipping_addresses", "fees")
        for item in document.get(key, [])
    } | set(dictionary("bigcommerce-order-ids"))
    assert set(dictionary("bigcommerce-item-ids")) == items
    assert dictionary("bigcommerce-store-hashes") == [d["store_hash"] for d in chosen if d.get("store_hash")]


def test_each_item_of_the_quote_flow_order_quotes_with_one_unit_or_a_small_amount(client: FlaskClient) -> None:
    [order_id] = dictionary("bigcommerce-order-100")
    document = next(d for d in orders("bigcommerce") if d["order"]["id"] == order_id)
    assert "store_hash" not in document, "the quotes send random store hashes"
    kinds = {"products": "PRODUCT", "shipping_addresses": "SHIPPING", "fees": "FEE"}
    items = [(kinds[key], item["id"]) for key in kinds for item in document.get(key, [])] + [("ORDER", order_id)]
    assert {item_id for _, item_id in items} == set(dictionary("bigcommerce-order-100-items"))
    for item_type, item_id in items:
        for amount in dictionary("small-amounts"):
            item = {"item_type": item_type, "item_id": item_id}
            item.update({"quantity": dictionary("one-unit")[0]} if item_type == "PRODUCT" else {"amount": amount})
            response = client.post(
                f"/stores/any/v3/orders/{order_id}/payment_actions/refund_quotes",
                json={"items": [item]},
                headers={"X-Auth-Token": CONTRACT_TOKEN},
            )
            assert response.status_code == 201, (item, response.get_json())


@pytest.mark.parametrize("spec", SPECS)
def test_specs_the_runner_loads_are_the_repository_s(spec: str) -> None:
    from mockserver.fuzz import spec_file

    assert spec_file(spec).resolve() == (REPO_ROOT / "specs" / SPEC_FILES[spec]).resolve()
    assert isinstance(spec_file(spec), Path)
