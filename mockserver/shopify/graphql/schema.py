"""The executable schema of each served version: the SDL files, with scalars and root resolvers."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from graphql import (
    FloatValueNode,
    GraphQLResolveInfo,
    GraphQLSchema,
    IntValueNode,
    StringValueNode,
    ValueNode,
    build_schema,
    extend_schema,
    parse,
)

from mockserver.openapi import data_dir
from mockserver.shopify.graphql import mutation
from mockserver.shopify.graphql.errors import access_denied, invalid_id
from mockserver.shopify.graphql.values import decimal_text, parse_gid
from mockserver.shopify.graphql.versions import SCHEMA_STEPS, schema_step
from mockserver.shopify.graphql.views import GraphQLContext, LineItemView, OrderView, RefundView, TransactionView

READ_SCOPES = ("read_orders", "write_orders")


def sdl_path(step: str) -> Any:
    return data_dir("specs") / f"shopify-admin-{step}.graphql"


def _decimal_input(value: Any) -> Decimal:
    """A `Money` or `Decimal` input: a decimal string (or a JSON number, which Shopify also takes)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise TypeError(f"Money must be a decimal string, not {value!r}")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise TypeError(f"{value!r} is not a valid decimal") from None
    if not amount.is_finite():
        raise TypeError(f"{value!r} is not a valid decimal")
    return amount


def _decimal_literal(node: ValueNode, _variables: Any = None) -> Decimal:
    if isinstance(node, StringValueNode | IntValueNode | FloatValueNode):
        return _decimal_input(node.value)
    raise TypeError("Money must be a decimal string")


def _decimal_output(value: Any) -> str:
    return decimal_text(value if isinstance(value, Decimal) else Decimal(str(value)))


def _unsigned_output(value: Any) -> str:
    return str(int(value))


def _unsigned_input(value: Any) -> int:
    number = int(str(value))
    if number < 0:
        raise TypeError("UnsignedInt64 must not be negative")
    return number


def _set_scalar(scalar: Any, output: Any, value: Any, literal: Any = None) -> None:
    """Give a scalar of the SDL its coercions (graphql-core 3.2 names and 3.3 names alike)."""
    for name in ("serialize", "coerce_output_value"):
        if hasattr(scalar, name):
            setattr(scalar, name, output)
    for name in ("parse_value", "coerce_input_value"):
        if hasattr(scalar, name):
            setattr(scalar, name, value)
    if literal is not None:
        for name in ("parse_literal", "coerce_input_literal"):
            if hasattr(scalar, name):
                setattr(scalar, name, literal)


def _configure(schema: GraphQLSchema) -> GraphQLSchema:
    for name in ("Decimal", "Money"):
        _set_scalar(schema.type_map[name], _decimal_output, _decimal_input, _decimal_literal)
    _set_scalar(schema.type_map["UnsignedInt64"], _unsigned_output, _unsigned_input)
    query = schema.query_type
    assert query is not None and schema.mutation_type is not None
    query.fields["order"].resolve = resolve_order
    query.fields["refund"].resolve = resolve_refund
    query.fields["node"].resolve = resolve_node
    schema.mutation_type.fields["refundCreate"].resolve = mutation.resolve_refund_create
    schema.type_map["Node"].resolve_type = _node_type  # type: ignore[attr-defined]
    schema.type_map["SuggestedRefundMethod"].resolve_type = lambda value, *_: "SuggestedStoreCreditRefund"  # type: ignore[attr-defined]
    return schema


@cache
def schema_for(version: str) -> GraphQLSchema:
    """The schema of a served version: 2025-01's SDL and the additions of every later step up to it."""
    step = schema_step(version)
    schema = build_schema(sdl_path(SCHEMA_STEPS[0]).read_text(encoding="utf-8"))
    for later in SCHEMA_STEPS[1:]:
        if later <= step:
            schema = extend_schema(schema, parse(sdl_path(later).read_text(encoding="utf-8")))
    return _configure(schema)


# -- root fields ----------------------------------------------------------------------------------


def require_scope(context: GraphQLContext, field_name: str, scopes: tuple[str, ...], named: str) -> None:
    if context.granted is not None and not any(scope in context.granted for scope in scopes):
        raise access_denied(field_name, named)


def _rest_id(value: str, type_name: str) -> int | None:
    """The REST id in a global id of `type_name`; None for another type; an error when not an id."""
    parsed = parse_gid(value)
    if parsed is None:
        raise invalid_id(value)
    return parsed[1] if parsed[0] == type_name else None


def resolve_order(root: Any, info: GraphQLResolveInfo, id: str) -> OrderView | None:
    context: GraphQLContext = info.context
    require_scope(context, "order", READ_SCOPES, "read_orders")
    order_id = _rest_id(id, "Order")
    return None if order_id is None else context.order(order_id)


def find_refund(context: GraphQLContext, refund_id: int) -> RefundView | None:
    indexed = context.store.list_refunds("shopify", refund_ids=[refund_id])
    if not indexed:
        context.keepable = False  # a refund of this id may yet be created, on any order
        return None
    order = context.order(indexed[0]["order_id"])
    return None if order is None else order.refund_view(refund_id)


def resolve_refund(root: Any, info: GraphQLResolveInfo, id: str) -> RefundView | None:
    context: GraphQLContext = info.context
    require_scope(context, "refund", READ_SCOPES, "read_orders")
    refund_id = _rest_id(id, "Refund")
    return None if refund_id is None else find_refund(context, refund_id)


def resolve_node(root: Any, info: GraphQLResolveInfo, id: str) -> Any:
    context: GraphQLContext = info.context
    require_scope(context, "node", READ_SCOPES, "read_orders")
    parsed = parse_gid(id)
    if parsed is None:
        raise invalid_id(id)
    type_name, rest_id = parsed
    if type_name == "Order":
        return context.order(rest_id)
    if type_name == "Refund":
        return find_refund(context, rest_id)
    if type_name in HELD_BY_ORDERS:
        return find_held(context, type_name, rest_id)
    return None


# Node types that live inside an order document: where, and the view of one by its REST id
HELD_BY_ORDERS: dict[str, tuple[str, str]] = {
    "LineItem": ("$.order.line_items", "line_view"),
    "OrderTransaction": ("$.transactions", "transaction_view"),
}


def find_held(context: GraphQLContext, type_name: str, rest_id: int) -> Any:
    """A line item or transaction by its REST id, read from the order that holds it."""
    array_path, view_of = HELD_BY_ORDERS[type_name]
    order_id = context.store.order_holding("shopify", array_path, rest_id)
    order = None if order_id is None else context.order(order_id)
    if order is None:
        context.keepable = False  # an order holding it may yet be loaded
        return None
    return getattr(order, view_of)(rest_id)


def _node_type(value: Any, *_: Any) -> str:
    return NODE_TYPES.get(type(value), "Order")


NODE_TYPES = {OrderView: "Order", RefundView: "Refund", LineItemView: "LineItem", TransactionView: "OrderTransaction"}
