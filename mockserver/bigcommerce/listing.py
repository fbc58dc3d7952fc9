"""The V2 order list (`GET /v2/orders`): what the store keeps per order, and the query's meaning.

The store filters and sorts on small listing rows (`listing_of`), so a list of a large store
decodes only the orders of the page it answers. No Flask here.
"""

from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mockserver.bigcommerce.exceptions import InvalidData
from mockserver.store import OrderListing, instant_text

SORT = re.compile(r"^(?P<field>[a-z_]+)(?::(?P<direction>asc|desc))?$")
# `sort` field -> what the store sorts on (`created_at` or a facet of `listing_of`)
SORT_KEYS = {
    "id": "id",
    "date_created": "created_at",
    "date_modified": "date_modified",
    "status_id": "status_id",
    "customer_id": "customer_id",
}


def listing_of(document: dict[str, Any]) -> OrderListing:
    """The V2 order's creation time, status, customer and modification time; deleted (archived)
    orders are listed only when asked for (`is_deleted=true`)."""
    order = document["order"]
    return OrderListing(
        created_at=_stored_instant(order.get("date_created")),
        facets={
            "status_id": order.get("status_id"),
            "customer_id": order.get("customer_id"),
            "date_modified": _stored_instant(order.get("date_modified")),
        },
        archived=bool(order.get("is_deleted")),
    )


def _stored_instant(text: Any) -> str:
    """An order's RFC 2822 date as the store compares it ("" when missing or unreadable: first)."""
    if not isinstance(text, str):
        return ""
    try:
        return instant_text(parse_date(text))
    except (TypeError, ValueError, IndexError, OverflowError):
        return ""


def parse_date(text: str) -> datetime:
    """RFC 2822 (`Thu, 20 Apr 2017 11:32:00 -0400`) or ISO 8601 (`2017-04-20T11:32:00.000-04:00`,
    or a bare date), the forms BigCommerce documents for its date filters; no zone means UTC."""
    text = text.strip()
    if re.match(r"^\d{4}-\d{2}-\d{2}", text):
        return datetime.fromisoformat(text.replace("z", "Z"))
    moment = email.utils.parsedate_to_datetime(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class OrderQuery:
    """The store query a `GET /v2/orders` request asks for."""

    min_id: int | None
    max_id: int | None
    created_min: str | None
    created_max: str | None
    facets: dict[str, list[Any]]
    archived: bool
    order_by: tuple[tuple[str, bool], ...]


def order_query(query: dict[str, Any]) -> OrderQuery:
    """The validated query parameters as a store query; a date that is no date is a 422 naming it."""
    facets: dict[str, list[Any]] = {}
    if query.get("status_id") is not None:
        facets["status_id"] = [query["status_id"]]
    if query.get("customer_id") is not None:
        facets["customer_id"] = [query["customer_id"]]
    match = SORT.match(query.get("sort", "id"))
    if match is None or match["field"] not in SORT_KEYS:  # the spec's pattern keeps these out
        raise InvalidData({"sort": f"must be one of {', '.join(SORT_KEYS)}, optionally with :asc or :desc"})
    return OrderQuery(
        min_id=query.get("min_id"),
        max_id=query.get("max_id"),
        created_min=_bound(query, "min_date_created"),
        created_max=_bound(query, "max_date_created"),
        facets=facets,
        archived=bool(query.get("is_deleted", False)),
        order_by=((SORT_KEYS[match["field"]], match["direction"] == "desc"),),
    )


def _bound(query: dict[str, Any], name: str) -> str | None:
    text = query.get(name)
    if text is None:
        return None
    try:
        return instant_text(parse_date(text))
    except (TypeError, ValueError, IndexError, OverflowError):
        raise InvalidData({name: "must be a date in RFC-2822 or ISO-8601"}) from None
