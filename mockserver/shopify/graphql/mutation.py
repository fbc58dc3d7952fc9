"""`refundCreate`: the REST create through the same engine and store, with Shopify's userErrors and
the `@idempotent(key:)` directive of 2026-01 and later."""

from __future__ import annotations

from typing import Any

from graphql import FieldNode, GraphQLResolveInfo, VariableNode, value_from_ast_untyped

from mockserver.shopify import models
from mockserver.shopify.exceptions import Unprocessable
from mockserver.shopify.graphql import refunds
from mockserver.shopify.graphql.errors import access_denied, idempotency_required, invalid_id
from mockserver.shopify.graphql.values import parse_gid
from mockserver.shopify.graphql.versions import IDEMPOTENCY_REQUIRED_FROM
from mockserver.shopify.graphql.views import PLATFORM, GraphQLContext
from mockserver.store import KeyAlreadyUsed, Transaction

IDEMPOTENT = "idempotent"


def idempotency_key(info: GraphQLResolveInfo) -> str | None:
    """The `key` of an `@idempotent` directive on the field, if any."""
    node: FieldNode = info.field_nodes[0]
    for directive in node.directives or ():
        if directive.name.value != IDEMPOTENT:
            continue
        for argument in directive.arguments or ():
            if argument.name.value == "key":
                if isinstance(argument.value, VariableNode):  # the request's own variables
                    value = info.context.variables.get(argument.value.name.value)
                else:
                    value = value_from_ast_untyped(argument.value)
                return None if value is None else str(value)
    return None


def _payload(context: GraphQLContext, result: dict[str, Any]) -> dict[str, Any]:
    """The payload for a recorded result, from the state as it is now."""
    order = context.order(result["order_id"], fresh=True) if result.get("order_id") else None
    refund = order.refund_view(result["refund_id"]) if order is not None and result.get("refund_id") else None
    return {"order": order, "refund": refund, "userErrors": result.get("user_errors", [])}


def _errors(found: list[refunds.UserError]) -> list[dict[str, Any]]:
    return [{"field": error.field, "message": error.message} for error in found]


def resolve_refund_create(root: Any, info: GraphQLResolveInfo, input: dict[str, Any]) -> dict[str, Any]:
    context: GraphQLContext = info.context
    if context.granted is not None and "write_orders" not in context.granted:
        raise access_denied("refundCreate", "write_orders")
    key = idempotency_key(info)
    if key is None and context.version >= IDEMPOTENCY_REQUIRED_FROM:
        raise idempotency_required()
    if key is not None:
        recorded = context.store.recall(PLATFORM, key)
        if recorded is not None:
            return _payload(context, recorded)
    result = _create(context, input, key)
    return _payload(context, result)


def _refused(context: GraphQLContext, key: str | None, result: dict[str, Any]) -> dict[str, Any]:
    return result if key is None else context.store.remember(PLATFORM, key, result)


def _create(context: GraphQLContext, refund_input: dict[str, Any], key: str | None) -> dict[str, Any]:
    parsed = parse_gid(refund_input["orderId"])
    if parsed is None:
        raise invalid_id(refund_input["orderId"])
    order_id = parsed[1] if parsed[0] == "Order" else None
    order = context.order(order_id) if order_id is not None else None
    if order is None:
        return _refused(context, key, {"user_errors": _errors([refunds.UserError(["orderId"], refunds.ORDER_MISSING)])})
    try:
        request = refunds.refund_request(order, refund_input)
    except refunds.Refusal as refusal:
        return _refused(context, key, {"order_id": order_id, "user_errors": _errors(refusal.errors)})

    def change(document: dict[str, Any], transaction: Transaction) -> dict[str, Any]:
        created = models.create_refund(document, request, transaction.next_id)
        transaction.save_refund(created.refund_id, created.refund["created_at"], created.refund)
        result = {"order_id": order_id, "refund_id": created.refund_id}
        if key is not None:
            transaction.remember(key, result)
        return result

    try:
        return context.store.update_order(PLATFORM, order_id, change)
    except Unprocessable as error:
        refusal = refunds.create_refusal(order, request, error)
        return _refused(context, key, {"order_id": order_id, "user_errors": _errors(refusal.errors)})
    except KeyAlreadyUsed as used:
        return used.result
    except KeyError as missing:
        if missing.args != (order_id,):
            raise
        return _refused(context, key, {"user_errors": _errors([refunds.UserError(["orderId"], refunds.ORDER_MISSING)])})
