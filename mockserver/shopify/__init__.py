"""Shopify Admin REST API 2020-10: refunds, orders and transactions."""

from __future__ import annotations

from mockserver.platform import Platform
from mockserver.shopify.consistency import problems
from mockserver.shopify.exceptions import ShopifyErrors
from mockserver.shopify.models import read_fixture, refunds_of
from mockserver.shopify.responses import HANDLERS
from mockserver.shopify.throttling import ShopifyRateLimit

PLATFORM = Platform(
    name="shopify",
    title="Shopify Admin REST 2020-10",
    spec_file="shopify-2020-10.yaml",
    handlers=HANDLERS,
    errors=ShopifyErrors(),
    read_fixture=read_fixture,
    fixture_schema="ShopifyFixtureDocument",
    refunds_of=refunds_of,
    consistency=problems,
    base_path_example="/admin/api/2020-10",
    rate_limit=ShopifyRateLimit(),
)
