"""BigCommerce handlers: one short function per operationId; they read state and render it.

No money math here: quotes and refunds are computed by `models`. V2 bodies are served bare,
V3 bodies wrapped in `{"data": ..., "meta": ...}`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from mockserver.bigcommerce import listing, models
from mockserver.bigcommerce.exceptions import (
    BigCommerceError,
    NotFound,
    OrderNotFound,
    RefundNotFound,
)
from mockserver.platform import MockHTTPError, Reply, RequestContext
from mockserver.store import StoredOrder, Transaction

PLATFORM_NAME = "bigcommerce"
DEFAULT_LIMIT = 50


# -- helpers ---------------------------------------------------------------------------------


def _visible(stored: StoredOrder | None, store_hash: str) -> bool:
    """Orders are served under every store hash unless their document pins one."""
    return stored is not None and (stored.store_hash is None or stored.store_hash == store_hash)


def _order(context: RequestContext, *, v2: bool = False) -> StoredOrder:
    order_id = context.path_params["order_id"]
    stored = context.store.get_order(PLATFORM_NAME, order_id)
    if not _visible(stored, context.path_params["store_hash"]):
        raise NotFound().as_v2() if v2 else OrderNotFound(order_id)
    assert stored is not None
    return stored


def _page(items: list[Any], context: RequestContext) -> tuple[list[Any], dict[str, Any]]:
    """One page of `items` and BigCommerce's pagination block for it."""
    page = context.query.get("page", 1)
    limit = context.query.get("limit", DEFAULT_LIMIT)
    start = (page - 1) * limit
    chosen = items[start : start + limit]
    total_pages = math.ceil(len(items) / limit)
    links = {"current": f"?page={page}&limit={limit}"}
    if page > 1:
        links["previous"] = f"?page={page - 1}&limit={limit}"
    if page < total_pages:
        links["next"] = f"?page={page + 1}&limit={limit}"
    pagination = {
        "total": len(items),
        "count": len(chosen),
        "per_page": limit,
        "current_page": page,
        "total_pages": total_pages,
        "links": links,
    }
    return chosen, pagination


def _utc_text(value: str) -> str:
    """An RFC 3339 date-time as the store indexes refunds: UTC, `+00:00`."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return models.iso_utc(moment)


def _with_transaction(refunds: list[dict[str, Any]], transaction_id: str | None) -> list[dict[str, Any]]:
    if transaction_id is None:
        return refunds
    return [
        refund
        for refund in refunds
        if any(str(payment.get("transaction_id")) == transaction_id for payment in refund.get("payments", []))
    ]


# -- V2 order reads -----------------------------------------------------------------------


ORDER_LINKS = ("products", "shipping_addresses", "coupons")  # every V2 order carries these


def _v2_prefix(context: RequestContext) -> str:
    return f"{context.base_url}/stores/{context.path_params['store_hash']}/v2"


def _linked(row: dict[str, Any], prefix: str) -> dict[str, Any]:
    """`row` with each `{url, resource}` link pointing at this mock under the request's store hash.

    Fixture documents carry whatever host and store hash they were written with (a literal
    `store_hash`, the generator's own); a client follows the url it is given, so it must name
    the store the client asked.
    """
    links = {
        key: {**value, "url": prefix + value["resource"]}
        for key, value in row.items()
        if isinstance(value, dict) and isinstance(value.get("resource"), str) and "url" in value
    }
    return {**row, **links} if links else row


def _v2_order(context: RequestContext, stored: StoredOrder) -> dict[str, Any]:
    """The V2 order as `GET /v2/orders/{id}` shows it: its links point at this mock and this store.

    Shallow: only top-level keys are replaced, so the shared stored document stays as it is."""
    order = dict(stored.document["order"])
    for resource in ORDER_LINKS:
        path = f"/orders/{order['id']}/{resource}"
        order[resource] = {"url": "", "resource": path}
    if "fees" in (context.query.get("include") or []):
        order["fees"] = list(stored.document.get("fees") or [])
    return _linked(order, _v2_prefix(context))


def get_order(context: RequestContext) -> Reply:
    return Reply(200, _v2_order(context, _order(context, v2=True)))


def get_orders(context: RequestContext) -> Reply:
    """One page of the store's orders, filtered, sorted and cut by the store; 204 when none is left.

    The page's ids come from the listing query; documents are read for those orders alone."""
    try:
        query = listing.order_query(context.query)
    except BigCommerceError as error:
        raise error.as_v2() from None
    limit = context.query.get("limit", DEFAULT_LIMIT)
    ids = context.store.list_order_ids(
        PLATFORM_NAME,
        min_id=query.min_id,
        max_id=query.max_id,
        created_min=query.created_min,
        created_max=query.created_max,
        facets=query.facets,
        archived=query.archived,
        store_hash=context.path_params["store_hash"],
        order_by=query.order_by,
        limit=limit,
        offset=(context.query.get("page", 1) - 1) * limit,
    )
    orders = [context.store.get_order(PLATFORM_NAME, order_id) for order_id in ids]
    shown = [_v2_order(context, stored) for stored in orders if stored is not None]  # None: reset meanwhile
    if not shown:
        return Reply(204, None)
    return Reply(200, shown)


def get_order_products(context: RequestContext) -> Reply:
    stored = _order(context, v2=True)
    products, _ = _page(stored.document.get("products", []), context)
    return Reply(200, products)


def get_order_shipping_addresses(context: RequestContext) -> Reply:
    stored = _order(context, v2=True)
    addresses, _ = _page(stored.document.get("shipping_addresses", []), context)
    prefix = _v2_prefix(context)
    return Reply(200, [_linked(address, prefix) for address in addresses])


def get_order_fees(context: RequestContext) -> Reply:
    stored = _order(context, v2=True)
    fees, _ = _page(stored.document.get("fees", []), context)
    return Reply(200, fees)


# -- V3 reads --------------------------------------------------------------------------------


def get_order_transactions(context: RequestContext) -> Reply:
    stored = _order(context)
    transactions = stored.document.get("transactions", [])
    if not transactions:
        return Reply(204, None)
    chosen, pagination = _page(transactions, context)
    return Reply(200, {"data": chosen, "meta": {"pagination": pagination}})


def get_order_refunds(context: RequestContext) -> Reply:
    stored = _order(context)
    refunds = sorted(stored.document.get("refunds", []), key=lambda refund: refund["id"])
    refunds = _with_transaction(refunds, context.query.get("transaction_id"))
    return Reply(200, {"data": refunds, "meta": {}})


def get_orders_refunds(context: RequestContext) -> Reply:
    query = context.query
    created_min = query.get("created:min")
    created_max = query.get("created:max")
    refunds = context.store.list_refunds(
        PLATFORM_NAME,
        order_ids=query.get("order_id:in"),
        refund_ids=query.get("id:in"),
        created_min=_utc_text(created_min) if created_min else None,
        created_max=_utc_text(created_max) if created_max else None,
    )
    visible = _visibility(context)
    refunds = [refund for refund in refunds if visible(refund["order_id"])]
    refunds = _with_transaction(refunds, query.get("transaction_id"))
    chosen, pagination = _page(refunds, context)
    return Reply(200, {"data": chosen, "meta": {"pagination": pagination}})


def _visibility(context: RequestContext) -> Callable[[int], bool]:
    """Whether an order id is served under this request's store hash (looked up once per order)."""
    seen: dict[int, bool] = {}

    def visible(order_id: int) -> bool:
        if order_id not in seen:
            stored = context.store.get_order(PLATFORM_NAME, order_id)
            seen[order_id] = _visible(stored, context.path_params["store_hash"])
        return seen[order_id]

    return visible


def get_order_refund(context: RequestContext) -> Reply:
    refund_id = context.path_params["refund_id"]
    found = context.store.list_refunds(PLATFORM_NAME, refund_ids=[refund_id])
    stored = context.store.get_order(PLATFORM_NAME, found[0]["order_id"]) if found else None
    if not found or stored is None or not _visible(stored, context.path_params["store_hash"]):
        raise RefundNotFound(refund_id)
    currency = models.OrderView(stored.document).currency
    return Reply(200, {"data": models.single_refund_view(found[0], currency), "meta": {}})


# -- V3 writes -------------------------------------------------------------------------------


def create_order_refund_quotes(context: RequestContext) -> Reply:
    stored = _order(context)
    view = stored.derive("bigcommerce.view", models.view_of)  # once per stored version of the order
    return Reply(201, {"data": models.quote(stored.document, context.body, view), "meta": {}})


def create_order_refund(context: RequestContext) -> Reply:
    """Refund through the store, so that refunds on one order run one after another."""
    stored = _order(context)
    now = datetime.now(UTC)

    def change(document: dict[str, Any], transaction: Transaction) -> dict[str, Any]:
        refund = models.create_refund(document, context.body, _StoreIds(transaction), now=now)
        transaction.save_refund(refund["id"], refund["created"], refund)
        return refund

    try:
        refund = context.store.update_order(PLATFORM_NAME, stored.order_id, change)
    except MockHTTPError as error:
        raise _in_data(error) from None
    except KeyError as error:  # the order went away meanwhile (a reset)
        raise OrderNotFound(stored.order_id) from error
    return Reply(201, {"data": refund, "meta": {}})


class _StoreIds:
    """New ids for a refund, its payments and their transactions: one store-wide sequence.

    Its floor is the highest refund, payment or transaction id of every loaded order
    (`models.ids_in`), so a new transaction never reuses another order's id, and the refund,
    each payment and each transaction get ids of their own: a client that takes one for
    another gets a wrong lookup here, not a lucky match.
    """

    def __init__(self, transaction: Transaction):
        self.transaction = transaction

    def next_id(self, name: str, start: int = 1) -> int:
        return self.transaction.next_id(models.STORE_ID_SEQUENCE, start)


def _in_data(error: MockHTTPError) -> MockHTTPError:
    """createOrderRefund's 422s are wrapped in `data`, as BigCommerce documents them."""
    if isinstance(error, BigCommerceError) and error.status == 422:
        return error.in_data()
    return error


HANDLERS: dict[str, Callable[[RequestContext], Reply]] = {
    "createOrderRefundQuotes": create_order_refund_quotes,
    "createOrderRefund": create_order_refund,
    "getOrderRefunds": get_order_refunds,
    "getOrdersRefunds": get_orders_refunds,
    "getOrderRefund": get_order_refund,
    "getOrderTransactions": get_order_transactions,
    "getOrder": get_order,
    "getOrders": get_orders,
    "getOrderProducts": get_order_products,
    "getOrderShippingAddresses": get_order_shipping_addresses,
    "getOrderFees": get_order_fees,
}
