"""`refund-mock record`: copy a store's orders into fixture documents, through its read endpoints.

Shopify: the order and its transactions (`{"order", "transactions"}`). BigCommerce: the V2 order,
its products, shipping addresses and fees, the V3 transactions and refunds. The documents are
what `serve --fixtures DIR` loads and `fixtures validate` checks, written to
`DIR/<platform>/orders/<order id>.json`.

Every request goes through `http.StoreClient`, which sends nothing but reads.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from mockserver.contract.anonymize import Anonymizer
from mockserver.contract.http import Answer, StoreClient

PAGE_SIZE = 250  # the largest page both platforms' list endpoints give
CANONICAL_BIGCOMMERCE = "https://api.bigcommerce.com"


class RecordError(Exception):
    """A store's answer that cannot become a fixture document (names the order and the request)."""


@dataclass
class Recording:
    written: list[Path] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def _expect(answer: Answer, what: str, *statuses: int) -> Any:
    if answer.status not in (statuses or (200,)):
        excerpt = answer.text[:300].strip()
        raise RecordError(f"{what} answered {answer.status}{': ' + excerpt if excerpt else ''}")
    return answer.body


def store_hash_of(url: str) -> str | None:
    """`https://api.bigcommerce.com/stores/abc123` -> `abc123` (None when the URL has no hash)."""
    parts = urlsplit(url).path.strip("/").split("/")
    return parts[parts.index("stores") + 1] if "stores" in parts[:-1] else None


# -- Shopify -----------------------------------------------------------------------------------


def shopify_order(client: StoreClient, order_id: int) -> dict[str, Any]:
    order = _expect(client.get(f"/orders/{order_id}.json"), f"order {order_id}: GET /orders/{order_id}.json")
    path = f"/orders/{order_id}/transactions.json"
    transactions = _expect(client.get(path), f"order {order_id}: GET {path}")
    if not isinstance(order, dict) or not isinstance(order.get("order"), dict):
        raise RecordError(f"order {order_id}: GET /orders/{order_id}.json has no `order` object")
    if not isinstance(transactions, dict) or not isinstance(transactions.get("transactions"), list):
        raise RecordError(f"order {order_id}: GET {path} has no `transactions` list")
    return {"order": order["order"], "transactions": transactions["transactions"]}


def shopify_order_ids(client: StoreClient, since: str, limit: int) -> list[int]:
    """The ids of `limit` orders created at or after `since`, any status, in Shopify's order.

    Shopify pages with cursors: the next page's `page_info` is in the `Link` header. (Its
    documented list parameters have no sort order, so none is sent.)
    """
    ids: list[int] = []
    params: dict[str, Any] = {"status": "any", "created_at_min": since, "fields": "id"}
    while len(ids) < limit:
        params["limit"] = min(PAGE_SIZE, limit - len(ids))
        answer = client.get("/orders.json", params)
        body = _expect(answer, "GET /orders.json")
        page = [int(order["id"]) for order in (body or {}).get("orders", [])]
        ids.extend(page)
        cursor = _next_page_info(answer.headers.get("Link", ""))
        if not page or cursor is None:
            break
        params = {"limit": params["limit"], "page_info": cursor, "fields": "id"}  # a cursor takes no filters
    return ids[:limit]


def _next_page_info(link: str) -> str | None:
    for part in link.split(","):
        if 'rel="next"' in part and "<" in part:
            url = part[part.index("<") + 1 : part.index(">")]
            values = parse_qs(urlsplit(url).query).get("page_info")
            return values[0] if values else None
    return None


# -- BigCommerce -------------------------------------------------------------------------------


def _pages(
    client: StoreClient, path: str, what: str, read_page: Callable[[Any, int, str], tuple[list[Any], bool]]
) -> list[Any]:
    """Every item of a paged list (`page` and `limit`), page after page while `read_page` says more
    follow; 204 means none."""
    items: list[Any] = []
    page = 1
    while True:
        answer = client.get(path, {"page": page, "limit": PAGE_SIZE})
        if answer.status == 204:
            return items
        found, more = read_page(_expect(answer, what), page, what)
        items.extend(found)
        if not more:
            return items
        page += 1


def _v2_page(body: Any, page: int, what: str) -> tuple[list[Any], bool]:
    """A V2 list page: the list itself; a full page may have another after it."""
    if isinstance(body, dict) and len(body) == 1 and isinstance(next(iter(body.values())), list):
        body = next(iter(body.values()))  # a wrapped list (`{"fees": [...]}`, as one doc example shows)
    if not isinstance(body, list):
        raise RecordError(f"{what} is not a list")
    return body, len(body) >= PAGE_SIZE


def _v3_page(body: Any, page: int, what: str) -> tuple[list[Any], bool]:
    """A V3 list page: its `data`; `meta.pagination.total_pages` says whether more follow."""
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise RecordError(f"{what} has no `data` list")
    pagination = (body.get("meta") or {}).get("pagination") or {}
    return body["data"], page < int(pagination.get("total_pages") or 1)


def bigcommerce_order(client: StoreClient, order_id: int, store_hash: str | None) -> dict[str, Any]:
    where = f"order {order_id}: GET /v2/orders/{order_id}"
    order = _expect(client.get(f"/v2/orders/{order_id}"), where)
    if not isinstance(order, dict):
        raise RecordError(f"{where} is not an object")
    document: dict[str, Any] = {"order": _canonical_links(order, store_hash)}
    for resource in ("products", "shipping_addresses", "fees"):
        path = f"/v2/orders/{order_id}/{resource}"
        document[resource] = _pages(client, path, f"order {order_id}: GET {path}", _v2_page)
    for address in document["shipping_addresses"]:  # each links its `shipping_quotes`
        if isinstance(address, dict):
            _canonical_links(address, store_hash)
    path = f"/v3/orders/{order_id}/transactions"
    document["transactions"] = _pages(client, path, f"order {order_id}: GET {path}", _v3_page)
    path = f"/v3/orders/{order_id}/payment_actions/refunds"
    refunds = _expect(client.get(path), f"order {order_id}: GET {path}")
    document["refunds"] = list((refunds or {}).get("data") or [])
    return document


def _canonical_links(order: dict[str, Any], store_hash: str | None) -> dict[str, Any]:
    """Sub-resource links (of an order or a shipping address) as BigCommerce writes them,
    wherever the order was read from (a store served elsewhere, such as another refund-mock,
    points them at itself)."""
    if store_hash is None:
        return order
    for value in order.values():
        is_link = isinstance(value, dict) and set(value) == {"url", "resource"} and isinstance(value["resource"], str)
        if is_link and not str(value["url"]).startswith(f"{CANONICAL_BIGCOMMERCE}/"):
            value["url"] = f"{CANONICAL_BIGCOMMERCE}/stores/{store_hash}/v2{value['resource']}"
    return order


def bigcommerce_order_ids(client: StoreClient, since: str, limit: int) -> list[int]:
    """The ids of the first `limit` orders created at or after `since`, oldest first."""
    ids: list[int] = []
    page = 1
    while len(ids) < limit:
        params = {"min_date_created": since, "sort": "date_created:asc", "page": page, "limit": PAGE_SIZE}
        answer = client.get("/v2/orders", params)
        if answer.status == 204:
            break
        body = _expect(answer, "GET /v2/orders")
        batch = [int(order["id"]) for order in body or []]
        ids.extend(batch)
        if len(batch) < PAGE_SIZE:
            break
        page += 1
    return ids[:limit]


# -- the run -----------------------------------------------------------------------------------


def order_ids(client: StoreClient, since: str, limit: int) -> list[int]:
    if client.platform == "shopify":
        return shopify_order_ids(client, since, limit)
    return bigcommerce_order_ids(client, since, limit)


def read_order(client: StoreClient, order_id: int) -> dict[str, Any]:
    if client.platform == "shopify":
        return shopify_order(client, order_id)
    return bigcommerce_order(client, order_id, store_hash_of(client.base_url))


def documents(
    client: StoreClient, ids: list[int], failures: list[str], progress: Callable[[str], None]
) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, order_id in enumerate(ids, start=1):
        try:
            document = read_order(client, order_id)
        except RecordError as error:
            failures.append(str(error))
            progress(f"[{number}/{len(ids)}] {error}")
            continue
        progress(f"[{number}/{len(ids)}] order {order_id} read")
        yield order_id, document


def record_orders(
    client: StoreClient,
    ids: list[int],
    out: Path,
    *,
    anonymizer: Anonymizer | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> Recording:
    """Read each order and write its fixture document to `out/<platform>/orders/<id>.json`."""
    recording = Recording()
    folder = out / client.platform / "orders"
    folder.mkdir(parents=True, exist_ok=True)
    for order_id, document in documents(client, ids, recording.failures, progress):
        if anonymizer is not None:
            document = anonymizer.document(document)
        recording.written.append(write_document(folder / f"{order_id}.json", document))
    return recording


def write_document(path: Path, document: dict[str, Any]) -> Path:
    """Write whole or not at all: a temporary file beside it, then a rename."""
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".refund-mock-record-", suffix=".json")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
