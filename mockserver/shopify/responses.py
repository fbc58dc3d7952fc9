"""Shopify handlers: one short function per operationId. They read the request, ask the engine
(`models`) or the store, and render the answer; no money rule lives here."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from mockserver.platform import Handler, Reply, RequestContext
from mockserver.shopify import models, pagination
from mockserver.shopify.exceptions import NotFound
from mockserver.shopify.graphql import graphql_admin
from mockserver.store import StoredOrder, Transaction

PLATFORM_NAME = "shopify"
BASE_PATH = "/admin/api/2020-10"
# One store-wide sequence for every object a refund creates (the refund, its lines, transactions
# and adjustments): each gets an id of its own, never another object's or another order's.
ID_SEQUENCE = "shopify.ids"


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


def _in_shop_currency(context: RequestContext, document: dict[str, Any]) -> dict[int, tuple[str, str]] | None:
    """`in_shop_currency=true`: each transaction's amount and currency in shop money (None: as stored)."""
    if not context.query.get("in_shop_currency"):
        return None
    return models.shop_money_transactions(document)


def _shown(transaction: dict[str, Any], shop: dict[int, tuple[str, str]] | None) -> dict[str, Any]:
    if shop is None or transaction["id"] not in shop:
        return transaction
    amount, currency = shop[transaction["id"]]
    return {**transaction, "amount": amount, "currency": currency}


def _refund_shown(refund: dict[str, Any], shop: dict[int, tuple[str, str]] | None) -> dict[str, Any]:
    if shop is None:
        return refund
    return {**refund, "transactions": [_shown(transaction, shop) for transaction in refund.get("transactions", [])]}


def list_transactions(context: RequestContext) -> Reply:
    document = _document(context)
    shop = _in_shop_currency(context, document)
    transactions = [_shown(transaction, shop) for transaction in document["transactions"]]
    since_id = context.query.get("since_id")
    if since_id is not None:
        transactions = [transaction for transaction in transactions if transaction["id"] > since_id]
    fields = _fields(context)
    return Reply(200, {"transactions": [models.select_fields(transaction, fields) for transaction in transactions]})


def list_refunds(context: RequestContext) -> Reply:
    """One page of the order's refunds, oldest first, with Shopify's `Link` header (pagination).

    `in_shop_currency` comes from the page's cursor when there is one: the first request's
    filters stay in force on every page."""
    order_id = context.path_params["order_id"]
    document = _document(context)
    refunds = document["order"].get("refunds", [])
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
    shop = models.shop_money_transactions(document) if page.filters["in_shop_currency"] else None
    shown = [models.select_fields(_refund_shown(refund, shop), fields) for refund in page.items]
    return Reply(200, {"refunds": shown}, {"Link": page.link} if page.link else {})


def get_refund(context: RequestContext) -> Reply:
    document = _document(context)
    refund = models.find_refund(document, context.path_params["refund_id"])
    if refund is None:
        raise NotFound()
    shown = _refund_shown(refund, _in_shop_currency(context, document))
    return Reply(200, {"refund": models.select_fields(shown, _fields(context))})


def calculate_refund(context: RequestContext) -> Reply:
    stored = _stored(context)
    figures = stored.derive("shopify.figures", models.figures_of)  # once per stored version of the order
    return Reply(200, models.calculate(stored.document, context.body["refund"], figures))


def create_refund(context: RequestContext) -> Reply:
    order_id = context.path_params["order_id"]
    request = context.body["refund"]

    def change(document: dict[str, Any], transaction: Transaction) -> models.CreatedRefund:
        created = models.create_refund(document, request, lambda _kind, start: transaction.next_id(ID_SEQUENCE, start))
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
    "graphqlAdmin": graphql_admin,
}
