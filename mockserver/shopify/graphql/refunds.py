"""GraphQL refund arguments and inputs in the engine's terms, and the engine's answers in GraphQL's.

`suggestedRefund(...)` and `refundCreate(input:)` are turned into the request the REST calculate
and create endpoints take, handed to the same engine (`mockserver.shopify.models`), and its
refusals become what Shopify's GraphQL API answers: `userErrors` with input paths for
`refundCreate` (messages as real stores send them where they were captured), a field error for
`suggestedRefund`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from babel.numbers import format_currency

from mockserver.money import ZERO
from mockserver.shopify import models
from mockserver.shopify.exceptions import Unprocessable
from mockserver.shopify.graphql.errors import bad_request
from mockserver.shopify.graphql.values import parse_gid
from mockserver.shopify.graphql.views import OrderView, SuggestedRefundView

ORDER_MISSING = "Order does not exist"
LINE_MISSING = "Line item does not exist"
MORE_THAN_PURCHASED = "Quantity cannot refund more items than were purchased"
PARENT_NOT_ON_ORDER = "Transactions require a parent_id associated with the order"
ABOVE_REFUNDABLE = "greater than the refundable amount"  # the engine's AmountAboveRefundable

# REST field of an engine refusal -> (GraphQL input path, the attribute name Shopify puts first)
FIELD_PATHS: dict[str, tuple[list[str] | None, str]] = {
    "refund_line_items.quantity": (["refundLineItems", "quantity"], "Quantity"),
    "refund_line_items": (["refundLineItems"], "Refund line items"),
    "refund_line_items.line_item_id": (["refundLineItems", "lineItemId"], "Line item"),
    "refund_line_items.location_id": (["refundLineItems", "locationId"], "Location"),
    "shipping.amount": (["shipping", "amount"], "Amount"),
    "currency": (["currency"], "Currency"),
    "transactions": (["transactions"], "Transactions"),
    "transactions.amount": (["transactions", "amount"], "Amount"),
    "transactions.order_id": (["transactions", "orderId"], "Order"),
    "transactions.currency": (["currency"], "Currency"),
    "refund": (None, "Refund"),
}


@dataclass
class UserError:
    field: list[str] | None
    message: str


@dataclass
class Refusal(Exception):
    """The mutation's `userErrors` (the refund is not created)."""

    errors: list[UserError] = field(default_factory=list)


def _line_id(value: str) -> int | None:
    parsed = parse_gid(value)
    return parsed[1] if parsed and parsed[0] == "LineItem" else None


def _restock(value: str | None) -> str:
    return (value or "NO_RESTOCK").lower()


def _location(value: str | None) -> int | None:
    parsed = parse_gid(value) if value else None
    return parsed[1] if parsed and parsed[0] == "Location" else None


def _line_requests(lines: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return [
        {
            "line_item_id": _line_id(line["lineItemId"]) or 0,
            "quantity": line["quantity"],
            "restock_type": _restock(line.get("restockType")),
            "location_id": _location(line.get("locationId")),
        }
        for line in lines or []
    ]


def user_errors_of(error: Unprocessable) -> list[UserError]:
    """An engine refusal (REST's 422 body) as GraphQL `userErrors`: "<Attribute> <REST message>"."""
    found = []
    for rest_field, messages in error.body["errors"].items():
        path, label = FIELD_PATHS.get(rest_field, ([rest_field], rest_field.replace("_", " ").capitalize()))
        found.extend(UserError(path, f"{label} {message}") for message in messages)
    return found


# -- suggestedRefund ------------------------------------------------------------------------------


def suggest(order: OrderView, args: dict[str, Any]) -> SuggestedRefundView:
    """`Order.suggestedRefund(...)`: the REST calculate quote for the same request."""
    # suggestedRefund takes no currency: it answers in the order's presentment currency
    request: dict[str, Any] = {"currency": order.presentmentCurrencyCode}
    if args.get("shippingAmount") is not None:
        request["shipping"] = {"amount": str(args["shippingAmount"])}
    elif args.get("refundShipping"):
        request["shipping"] = {"full_refund": True}
    if args.get("suggestFullRefund"):
        request["refund_line_items"] = [
            {"line_item_id": view.figures.line["id"], "quantity": view.refundableQuantity, "restock_type": "no_restock"}
            for view in order.line_views
            if view.refundableQuantity > 0
        ]
    else:
        lines = args.get("refundLineItems") or []
        unknown = [line["lineItemId"] for line in lines if _line_id(line["lineItemId"]) not in order.figures.lines]
        if unknown:
            raise bad_request(LINE_MISSING, lineItemIds=unknown)
        request["refund_line_items"] = _line_requests(lines)
    if args.get("refundDuties"):
        raise bad_request("Duty does not exist")  # the mock's orders have none
    try:
        quote = models.build_quote(order.document, request, for_create=False, figures=order.figures)
    except Unprocessable as error:
        messages = [user_error.message for user_error in user_errors_of(error)]
        raise bad_request("; ".join(messages)) from None
    return SuggestedRefundView(order, quote, store_credit=args.get("refundMethodAllocation") == "STORE_CREDIT")


# -- refundCreate ---------------------------------------------------------------------------------


def refund_request(order: OrderView, refund_input: dict[str, Any]) -> dict[str, Any]:
    """The REST create request for a `RefundInput`, or `Refusal` with Shopify's userErrors."""
    errors: list[UserError] = []
    figures = order.figures
    for index, line in enumerate(refund_input.get("refundLineItems") or []):
        line_id = _line_id(line["lineItemId"])
        known = figures.lines.get(line_id) if line_id is not None else None
        if known is None:
            errors.append(UserError(["refundLineItems", str(index), "lineItemId"], LINE_MISSING))
        elif line["quantity"] > known.quantity:
            errors.append(UserError(["refundLineItems", str(index), "quantity"], MORE_THAN_PURCHASED))
        elif line.get("restockType") == "LEGACY_RESTOCK":
            errors.append(
                UserError(["refundLineItems", str(index), "restockType"], "Restock type legacy_restock is not accepted")
            )
    transactions = []
    for item in refund_input.get("transactions") or []:
        if item["kind"] != "REFUND":
            errors.append(UserError(None, f"Kind {item['kind'].lower()} is not a valid transaction"))
            continue
        parent = parse_gid(item.get("parentId") or "")
        parent_ok = parent is not None and parent[0] == "OrderTransaction"
        if not parent_ok or parse_gid(item["orderId"]) != ("Order", order.legacyResourceId):
            errors.append(UserError(["transactions"], PARENT_NOT_ON_ORDER))
            continue
        transactions.append(
            {"parent_id": parent[1], "amount": str(item["amount"]), "kind": "refund", "gateway": item["gateway"]}
        )
    if refund_input.get("refundDuties"):
        errors.append(UserError(["refundDuties"], "Duty does not exist"))
    if any(method.get("storeCreditRefund") for method in refund_input.get("refundMethods") or []):
        errors.append(UserError(["refundMethods"], "Store credit refunds are not supported by refund-mock"))
    presentment = order.presentmentCurrencyCode
    currency = refund_input.get("currency")
    if currency is None and presentment != order.currency:
        errors.append(
            UserError(
                ["currency"],
                "Currency is required when the order's presentment currency differs from the shop currency",
            )
        )
    elif currency is not None and currency != presentment:
        errors.append(UserError(["currency"], f"Currency must be the order's presentment currency ({presentment})"))
    if errors:
        raise Refusal(errors)
    request: dict[str, Any] = {
        "currency": currency or presentment,
        "refund_line_items": _line_requests(refund_input.get("refundLineItems")),
        "transactions": transactions,
    }
    shipping = refund_input.get("shipping") or {}
    if shipping.get("amount") is not None:
        request["shipping"] = {"amount": str(shipping["amount"])}
    elif shipping.get("fullRefund"):
        request["shipping"] = {"full_refund": True}
    for key in ("note", "notify"):
        if refund_input.get(key) is not None:
            request[key] = refund_input[key]
    if refund_input.get("discrepancyReason"):
        request["discrepancy_reason"] = refund_input["discrepancyReason"].lower()
    return request


def _format(amount: Decimal, currency: str) -> str:
    return format_currency(amount, currency, locale="en_US")


def create_refusal(order: OrderView, request: dict[str, Any], error: Unprocessable) -> Refusal:
    """An engine refusal of a create as userErrors; asking for more money than the order received
    reads as Shopify's "Refund amount $X is greater than net payment received $Y"."""
    errors = []
    asked = sum((Decimal(item["amount"]) for item in request.get("transactions") or []), ZERO)
    net = order.received - order.refunded
    for rest_field, messages in error.body["errors"].items():
        for message in messages:
            single = Unprocessable({rest_field: [message]})
            if rest_field == "transactions" and ABOVE_REFUNDABLE in message and asked > net:
                text = (
                    f"Refund amount {_format(asked, order.currency)} is greater than "
                    f"net payment received {_format(net, order.currency)}"
                )
                if not any(e.message == text for e in errors):
                    errors.append(UserError(None, text))
                continue
            errors.extend(user_errors_of(single))
    return Refusal(errors)
