"""BigCommerce: V3 refund quotes and refunds, with the V2 order reads they rely on."""

from __future__ import annotations

from typing import Any

from mockserver.bigcommerce.consistency import problems
from mockserver.bigcommerce.exceptions import BigCommerceErrors
from mockserver.bigcommerce.models import ids_in, refunds_of
from mockserver.bigcommerce.responses import HANDLERS
from mockserver.bigcommerce.throttling import BigCommerceRateLimit
from mockserver.platform import FixtureOrder, Platform


def read_fixture(document: dict[str, Any]) -> FixtureOrder:
    """A fixture document's order id and, when it pins one, its store hash."""
    return FixtureOrder(int(document["order"]["id"]), document, document.get("store_hash"))


PLATFORM = Platform(
    name="bigcommerce",
    title="BigCommerce V3 payment actions (refunds) and V2 orders",
    spec_file="bigcommerce-v3.yaml",
    handlers=HANDLERS,
    errors=BigCommerceErrors(),
    read_fixture=read_fixture,
    fixture_schema="BigCommerceFixtureDocument",
    refunds_of=refunds_of,
    consistency=problems,
    base_path_example="/stores/{store_hash}/v3",
    ids_in=ids_in,
    rate_limit=BigCommerceRateLimit(),
)

__all__ = ["PLATFORM"]
