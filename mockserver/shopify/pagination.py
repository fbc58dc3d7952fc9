"""Cursor pagination as Shopify's REST lists have it since 2019-10: `limit`, then `page_info`.

A list answers at most `limit` items; when there are more (or fewer before), the `Link` header
holds the URL of the next and previous pages, each with an opaque `page_info` cursor. A request
with `page_info` may add only `limit` and `fields`: the cursor remembers everything else the first
request asked for. `page` is refused, as Shopify refuses it. No Flask here: the handler passes the
query and the base URL in.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from mockserver.shopify.exceptions import InvalidPageInfo, NotWithPageInfo, PageNotAllowed

ALLOWED_WITH_PAGE_INFO = frozenset({"limit", "fields", "page_info"})
NEXT, PREVIOUS = "next", "prev"


@dataclass(frozen=True)
class Cursor:
    """Where a page starts, and the filters of the first request (here: `in_shop_currency`)."""

    owner: int  # the order whose list this is: a cursor of another order's list is invalid
    direction: str  # NEXT: the items after `last_id`; PREVIOUS: those before it
    last_id: int
    filters: Mapping[str, Any]

    def encode(self) -> str:
        document = {"direction": self.direction, "last_id": self.last_id, "owner": self.owner, **self.filters}
        text = json.dumps(document, separators=(",", ":"), sort_keys=True)
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, owner: int, filter_names: Sequence[str]) -> Cursor:
        try:
            document = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        except (ValueError, binascii.Error):
            raise InvalidPageInfo() from None
        if (
            not isinstance(document, dict)
            or document.get("owner") != owner
            or document.get("direction") not in (NEXT, PREVIOUS)
            or type(document.get("last_id")) is not int
            or set(document) != {"direction", "last_id", "owner", *filter_names}
        ):
            raise InvalidPageInfo()
        filters = {name: document[name] for name in filter_names}
        return cls(owner, document["direction"], document["last_id"], filters)


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    filters: Mapping[str, Any]  # the filters in force (from the request, or from its cursor)
    link: str | None  # the `Link` header, when there is another page either way


def paginate(
    items: Sequence[dict[str, Any]],
    *,
    owner: int,
    query: Mapping[str, Any],
    sent: Sequence[str],
    filters: Mapping[str, Any],
    limit: int,
    url: str,
) -> Page:
    """One page of `items` (already filtered and ordered) for a list request.

    `query` holds the declared parameters as validated, `sent` the names of every query
    parameter the client sent, `filters` the request's own filter values (used when there is no
    cursor), `url` the list's absolute URL without a query.
    """
    if "page" in sent:
        raise PageNotAllowed()
    page_info = query.get("page_info")
    if page_info is None:
        start, end = 0, limit
    else:
        for name in sent:
            if name not in ALLOWED_WITH_PAGE_INFO:
                raise NotWithPageInfo(name)
        cursor = Cursor.decode(page_info, owner, sorted(filters))
        filters = cursor.filters
        ids = [item["id"] for item in items]
        if cursor.last_id not in ids:
            raise InvalidPageInfo()  # the item the cursor was cut at is gone (a reset)
        at = ids.index(cursor.last_id)
        start, end = (at + 1, at + 1 + limit) if cursor.direction == NEXT else (max(0, at - limit), at)
    chosen = list(items[start:end])
    links = []
    if chosen and start > 0:
        links.append(_link(url, limit, Cursor(owner, PREVIOUS, chosen[0]["id"], filters), "previous"))
    if chosen and end < len(items):
        links.append(_link(url, limit, Cursor(owner, NEXT, chosen[-1]["id"], filters), "next"))
    return Page(chosen, filters, ", ".join(links) or None)


def _link(url: str, limit: int, cursor: Cursor, relation: str) -> str:
    return f'<{url}?{urlencode({"limit": limit, "page_info": cursor.encode()})}>; rel="{relation}"'
