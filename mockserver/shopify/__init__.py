"""Shopify Admin REST API 2020-10: refunds, orders and transactions.

`PLATFORM` (the handlers, the spec file, the error shapes) is built on first use: `fixtures
generate` imports the engine and the generator of this package, and would otherwise load the
request handlers, GraphQL and jsonschema it never calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mockserver.platform import Platform, built_on_first_use

if TYPE_CHECKING:
    PLATFORM: Platform

__all__ = ["PLATFORM"]


def _platform() -> Platform:
    from mockserver.shopify.consistency import problems
    from mockserver.shopify.exceptions import ShopifyErrors
    from mockserver.shopify.listing import listing_of
    from mockserver.shopify.models import balance, read_fixture, refunds_of
    from mockserver.shopify.responses import HANDLERS
    from mockserver.shopify.throttling import ShopifyRateLimit

    return Platform(
        name="shopify",
        title="Shopify Admin REST 2020-10",
        spec_file="shopify-2020-10.yaml",
        handlers=HANDLERS,
        errors=ShopifyErrors(),
        read_fixture=read_fixture,
        fixture_schema="ShopifyFixtureDocument",
        refunds_of=refunds_of,
        consistency=problems,
        balance_of=balance,
        base_path_example="/admin/api/2020-10",
        listing_of=listing_of,
        rate_limit=ShopifyRateLimit(),
    )


__getattr__ = built_on_first_use(__name__, _platform)
