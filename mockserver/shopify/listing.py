"""The order list (`GET /orders.json`): what the store keeps per order, and the query's meaning.

The store filters and sorts on small listing rows (`listing_of`), so a list of a large shop
decodes only the orders of the page it answers. No Flask here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from mockserver.shopify.exceptions import Unprocessable
from mockserver.store import OrderListing, instant_text

# `status` -> (archived, facet values) it keeps (Shopify: "open: Show only open orders. closed: Show
# only closed orders. cancelled: Show only canceled orders. any: Show orders of any status."). A
# closed order is what Shopify's admin calls archived: the store's archived flag, a column.
STATUS_FILTERS: dict[str, tuple[bool | None, dict[str, list[int]]]] = {
    "open": (False, {}),
    "closed": (True, {}),
    "cancelled": (None, {"cancelled": [1]}),
    "any": (None, {}),
}
# `financial_status` -> the order financial statuses it keeps ("unpaid: Show authorized and
# partially paid orders."; "any" keeps every order, also those without a financial status)
FINANCIAL_STATUSES: dict[str, list[str] | None] = {
    "authorized": ["authorized"],
    "pending": ["pending"],
    "paid": ["paid"],
    "partially_paid": ["partially_paid"],
    "refunded": ["refunded"],
    "voided": ["voided"],
    "partially_refunded": ["partially_refunded"],
    "unpaid": ["authorized", "partially_paid"],
    "any": None,
}
# The filters of a first request, carried by its page cursors (names as in the query)
FILTER_NAMES = ("ids", "since_id", "status", "financial_status", "created_at_min", "created_at_max")


def listing_of(document: dict[str, Any]) -> OrderListing:
    """The order's creation time, whether it is closed (archived) or cancelled, its financial status."""
    order = document["order"]
    return OrderListing(
        created_at=_stored_instant(order.get("created_at")),
        facets={
            "cancelled": int(order.get("cancelled_at") is not None),
            "financial_status": order.get("financial_status"),
        },
        archived=order.get("closed_at") is not None,
    )


def _stored_instant(text: Any) -> str:
    """An order's `created_at` as the store compares it ("" when missing or unreadable: first)."""
    if not isinstance(text, str):
        return ""
    try:
        return instant_text(datetime.fromisoformat(text))
    except (ValueError, OverflowError):
        return ""


def request_filters(query: Mapping[str, Any]) -> dict[str, Any]:
    """The list filters of a first request (validated values), as its cursors will carry them."""
    return {name: query.get(name) for name in FILTER_NAMES}


def store_query(filters: Mapping[str, Any]) -> dict[str, Any]:
    """`Store.list_order_ids` arguments for the filters; a date Shopify would not read is a 422.

    Newest first (by `created_at`, then id), as Shopify lists orders; with `since_id`, by id
    from the lowest above it, as Shopify answers `since_id` requests.
    """
    archived, status_facets = STATUS_FILTERS[filters.get("status") or "open"]
    facets: dict[str, list[Any]] = dict(status_facets)
    financial = FINANCIAL_STATUSES[filters.get("financial_status") or "any"]
    if financial is not None:
        facets["financial_status"] = financial
    since_id = filters.get("since_id")
    ids = filters.get("ids")
    return {
        "ids": [int(part) for part in ids.split(",") if part.strip()] if ids else None,
        "min_id": since_id + 1 if since_id is not None else None,
        "created_min": _bound(filters, "created_at_min"),
        "created_max": _bound(filters, "created_at_max"),
        "facets": facets,
        "archived": archived,
        "order_by": (("id", False),) if since_id is not None else (("created_at", True),),
    }


def _bound(filters: Mapping[str, Any], name: str) -> str | None:
    text = filters.get(name)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
        return instant_text(moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC))
    except (ValueError, OverflowError):
        raise Unprocessable({name: ["must be an ISO 8601 date and time, e.g. 2020-11-02T10:14:05-05:00"]}) from None
