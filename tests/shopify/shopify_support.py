"""Helpers shared by the Shopify tests (pytest fixtures live in conftest.py)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from flask import Flask

from mockserver.app import server_of
from mockserver.shopify import PLATFORM
from tests.conftest import starter_order_paths

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES_DIR = REPO_ROOT / "fixtures"
SPEC_PATH = REPO_ROOT / "specs" / "shopify-2020-10.yaml"
BASE = "/admin/api/2020-10"
TOKEN_HEADERS = {"X-Shopify-Access-Token": "shpat_test"}
DOCS_ORDER_ID = 450789469
DOCS_SHIPPING_PRICE = "5.00"  # the documented calculate examples refund 5.00 of shipping


def read_sample(samples_dir: Path, name: str) -> Any:
    return json.loads((samples_dir / name).read_text(encoding="utf-8"))


def build_docs_order_document(samples_dir: Path) -> dict[str, Any]:
    """Order 450789469 with its transactions, its shipping line priced as the calculate examples show."""
    order = copy.deepcopy(read_sample(samples_dir, "order-2022docs-450789469.json")["order"])
    transactions = read_sample(samples_dir, "transactions-2022docs-order-450789469.json")["transactions"]
    for line in order["shipping_lines"]:
        for key in ("price", "discounted_price"):
            line[key] = DOCS_SHIPPING_PRICE
            for money in line[f"{key}_set"].values():
                money["amount"] = DOCS_SHIPPING_PRICE
    return {"order": order, "transactions": copy.deepcopy(transactions)}


def load_order(app: Flask, document: dict[str, Any]) -> int:
    """Load a fixture document into a running app, after checking it against the fixture schema."""
    server = server_of(app)
    assert server.fixture_violations(PLATFORM, document) == []
    return server.load_order(PLATFORM, copy.deepcopy(document), baseline=True)


def fixture_documents() -> dict[int, dict[str, Any]]:
    """The committed hand-written starter fixtures, by order id (generated ones are checked by `fixtures validate`)."""
    documents = {}
    for path in starter_order_paths("shopify"):
        document = json.loads(path.read_text(encoding="utf-8"))
        documents[document["order"]["id"]] = document
    return documents
