"""Shopify handlers: one short function per operationId. They read the request, ask the engine
(`models`) or the store, and render the answer; no money rule lives here."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from mockserver.platform import Handler, Reply, RequestContext
from mockserver.shopify import models, pagination
from mockserver.shopify.exceptions import NotFound
from mockserver.store import StoredOrder, Transaction

PLATFORM_NAME = "shopify"
BASE_PATH = "/admin/api/2020-10"


def _stored(context: RequestContext) -> StoredOrder:
    """The order in the path as stored now, or Shopify's 404."""
    stored = context.store.get_order(PLATFORM_NAME, context.path_params["order_id"])
    if stored is None:
        raise NotFound()
    return stored


def _document(context: RequestContext) -> dict[str, Any]:
    """The fixture document of the order in the path, or Shopify's 404."""
    return _stored(context).document


def _fields(context: RequestContext) -> list[str] | None:
    return models.parse_fields(context.query.get("fields"))


def get_order(context: RequestContext) -> Reply:
    order = _document(context)["order"]
    return Reply(200, {"order": models.select_fields(order, _fields(context))})


def list_transactions(context: RequestContext) -> Reply:
    transactions = _document(context)["transactions"]
    since_id = context.query.get("since_id")
    if since_id is not None:
        transactions = [transaction for transaction in transactions if transaction["id"] > since_id]
    fields = _fields(context)
    return Reply(200, {"transactions": [models.select_fields(transaction, fields) for transaction in transactions]})


def list_refunds(context: RequestContext) -> Reply:
    """One page of the order's refunds, oldest first, with Shopify's `Link` header (pagination)."""
    order_id = context.path_params["order_id"]
    refunds = _document(context)["order"].get("refunds", [])
    page = pagination.paginate(
        refunds,
        owner=order_id,
        query=context.query,
        sent=[name for name, _ in parse_qsl(context.environ.get("QUERY_STRING", ""), keep_blank_values=True)],
        filters={"in_shop_currency": context.query.get("in_shop_currency", False)},
        limit=context.query.get("limit", models.DEFAULT_LIST_LIMIT),
        url=f"{context.base_url}{BASE_PATH}/orders/{order_id}/refunds.json",
    )
    fields = _fields(context)
    headers = {"Link": page.link} if page.link else {}
    return Reply(200, {"refunds": [models.select_fields(refund, fields) for refund in page.items]}, headers)


def get_refund(context: RequestContext) -> Reply:
    refund = models.find_refund(_document(context), context.path_params["refund_id"])
    if refund is None:
        raise NotFound()
    return Reply(200, {"refund": models.select_fields(refund, _fields(context))})


def calculate_refund(context: RequestContext) -> Reply:
    stored = _stored(context)
    figures = stored.derive("shopify.figures", models.figures_of)  # once per stored version of the order
    return Reply(200, models.calculate(stored.document, context.body["refund"], figures))


def create_refund(context: RequestContext) -> Reply:
    order_id = context.path_params["order_id"]
    request = context.body["refund"]

    def change(document: dict[str, Any], transaction: Transaction) -> models.CreatedRefund:
        created = models.create_refund(document, request, transaction.next_id)
        transaction.save_refund(created.refund_id, created.refund["created_at"], created.refund)
        return created

    try:
        created = context.store.update_order(PLATFORM_NAME, order_id, change)
    except KeyError as missing:
        if missing.args != (order_id,):  # not the store's "no such order": a bug, let it show
            raise
        raise NotFound() from missing
    location = f"{context.base_url}{BASE_PATH}/orders/{order_id}/refunds/{created.refund_id}.json"
    return Reply(201, {"refund": created.refund}, {"Location": location})


HANDLERS: dict[str, Handler] = {
    "calculateRefund": calculate_refund,
    "createRefund": create_refund,
    "listRefunds": list_refunds,
    "getRefund": get_refund,
    "getOrder": get_order,
    "listTransactions": list_transactions,
}
