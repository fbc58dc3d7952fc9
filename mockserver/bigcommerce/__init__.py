"""BigCommerce: V3 refund quotes and refunds, with the V2 order reads they rely on.

`PLATFORM` (the handlers, the spec file, the error shapes) is built on first use: `fixtures
generate` imports the engine and the generator of this package, and would otherwise load the
request handlers it never calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mockserver.platform import FixtureOrder, Platform, built_on_first_use

if TYPE_CHECKING:
    PLATFORM: Platform

__all__ = ["PLATFORM"]


def read_fixture(document: dict[str, Any]) -> FixtureOrder:
    """A fixture document's order id and, when it pins one, its store hash."""
    return FixtureOrder(int(document["order"]["id"]), document, document.get("store_hash"))


def _platform() -> Platform:
    from mockserver.bigcommerce.consistency import problems
    from mockserver.bigcommerce.exceptions import BigCommerceErrors
    from mockserver.bigcommerce.listing import listing_of
    from mockserver.bigcommerce.models import balance, ids_in, refunds_of
    from mockserver.bigcommerce.responses import HANDLERS
    from mockserver.bigcommerce.throttling import BigCommerceRateLimit

    return Platform(
        name="bigcommerce",
        title="BigCommerce V3 payment actions (refunds) and V2 orders",
        spec_file="bigcommerce-v3.yaml",
        handlers=HANDLERS,
        errors=BigCommerceErrors(),
        read_fixture=read_fixture,
        fixture_schema="BigCommerceFixtureDocument",
        refunds_of=refunds_of,
        consistency=problems,
        balance_of=balance,
        base_path_example="/stores/{store_hash}/v3",
        listing_of=listing_of,
        ids_in=ids_in,
        rate_limit=BigCommerceRateLimit(),
    )


__getattr__ = built_on_first_use(__name__, _platform)
