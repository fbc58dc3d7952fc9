"""The objects of the GraphQL schema, read from the REST order documents the store keeps.

Each view answers its fields by name (graphql-core's default resolver reads an attribute, and
calls it with the field's arguments when it is a method), and works its figures out only when a
query asks for them. Money comes from the order's own `*_set` figures or from the engine's
computations (`mockserver.shopify.models`); nothing is converted or recomputed here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any

from graphql import GraphQLResolveInfo

from mockserver import money as money_rules
from mockserver.money import ZERO, round_money
from mockserver.shopify import models
from mockserver.shopify.graphql.errors import bad_request
from mockserver.shopify.graphql.values import (
    bag,
    bag_from_rest,
    cursor,
    cursor_position,
    decimal_text,
    gid,
    money,
    utc_text,
)

if TYPE_CHECKING:
    from mockserver.store import Store, StoredOrder

PLATFORM = "shopify"
# The engine's shop-money side of an order (multi-currency engines only): without it, every
# figure is one currency and both sides of a MoneyBag are the same.
SHOP_SIDE = getattr(models, "SHOP_MONEY", None)
counterpart = getattr(money_rules, "counterpart", None)
RESTOCKED_TYPES = ("return", "cancel", "legacy_restock")
DISCREPANCY_REASONS = {"restock": "RESTOCK", "damage": "DAMAGE", "customer": "CUSTOMER"}
NEED_FIRST_OR_LAST = "you must provide one of first or last"
SUGGESTED_LINE_ID = gid("RefundLineItem", 0)  # lines of a suggestion are not stored: they have no id yet


def _amount(value: Any) -> Decimal:
    return ZERO if value is None else Decimal(str(value))


@dataclass
class GraphQLContext:
    """What resolvers share during one request: the store, the version and the token's scopes."""

    store: Store
    version: str
    granted: frozenset[str] | None  # None: every scope
    variables: dict[str, Any] = field(default_factory=dict)  # as the request sent them
    orders: dict[int, StoredOrder] = field(default_factory=dict)  # read once per request
    missing: set[int] = field(default_factory=set)  # ids asked for that name no order
    keepable: bool = True  # False when the answer depends on more than the orders read

    def stored_order(self, order_id: int, *, fresh: bool = False) -> StoredOrder | None:
        if fresh or order_id not in self.orders:
            stored = self.store.get_order(PLATFORM, order_id)
            if stored is None:
                self.missing.add(order_id)
                return None
            self.orders[order_id] = stored
        return self.orders[order_id]

    def reads(self) -> tuple[tuple[int, Any], ...]:
        """Every order the request read, with the document read (None: it did not exist)."""
        found: list[tuple[int, Any]] = [(order_id, stored.document) for order_id, stored in self.orders.items()]
        return (*found, *((order_id, None) for order_id in self.missing if order_id not in self.orders))

    def order(self, order_id: int, *, fresh: bool = False) -> OrderView | None:
        stored = self.stored_order(order_id, fresh=fresh)
        return None if stored is None else OrderView(stored, self)


# -- connections --------------------------------------------------------------------------------


def connection(items: Sequence[Any], args: dict[str, Any], position: Callable[[Any], int]) -> dict[str, Any]:
    """A Relay connection over `items` with Shopify's `first`/`after`/`last`/`before`/`reverse`."""
    first, last = args.get("first"), args.get("last")
    if first is None and last is None:
        raise bad_request(NEED_FIRST_OR_LAST)
    ordered = list(reversed(items)) if args.get("reverse") else list(items)
    indexed = [(position(item), item) for item in ordered]
    after, before = args.get("after"), args.get("before")
    if after is not None:
        mark = cursor_position(after)
        at = next((i for i, (p, _) in enumerate(indexed) if p == mark), None)
        indexed = indexed[at + 1 :] if at is not None else []
    if before is not None:
        mark = cursor_position(before)
        at = next((i for i, (p, _) in enumerate(indexed) if p == mark), None)
        indexed = indexed[:at] if at is not None else indexed
    has_next = has_previous = False
    if first is not None:
        has_next = len(indexed) > max(first, 0)
        indexed = indexed[: max(first, 0)]
    if last is not None:
        has_previous = len(indexed) > max(last, 0)
        indexed = indexed[len(indexed) - max(last, 0) :] if last > 0 else []
    edges = [{"cursor": cursor(p), "node": item} for p, item in indexed]
    return {
        "edges": edges,
        "nodes": [item for _, item in indexed],
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": has_previous or (after is not None and bool(edges)),
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


# -- the order --------------------------------------------------------------------------------


class OrderView:
    """`Order`."""

    def __init__(self, stored: StoredOrder, context: GraphQLContext):
        self.stored = stored
        self.context = context
        self.document = stored.document
        self.order: dict[str, Any] = stored.document["order"]
        self.currency: str = self.order["currency"]

    @cached_property
    def figures(self) -> models.OrderFigures:
        return self.stored.derive("shopify.figures", models.figures_of)

    @cached_property
    def presentment(self) -> str:
        return self.order.get("presentment_currency") or self.currency

    @cached_property
    def multi_currency(self) -> bool:
        """Whether the order's figures come in two currencies (and the engine computes both)."""
        return self.presentment != self.currency and SHOP_SIDE is not None and counterpart is not None

    @cached_property
    def shop_figures(self) -> models.OrderFigures:
        """The order's figures in shop money (the same as `figures` for a one-currency order)."""
        if not self.multi_currency:
            return self.figures
        return self.stored.derive("shopify.shop_figures", _shop_figures)

    @cached_property
    def shop_amounts(self) -> dict[int, Decimal]:
        """Each transaction's amount in shop money (the engine's counterparts on multi-currency orders)."""
        if self.multi_currency:
            return self.figures.shop_amounts()
        return {t["id"]: _amount(t.get("amount")) for t in self.document["transactions"]}

    def pair(self, presentment: Decimal, shop: Decimal | None = None) -> dict[str, Any]:
        """A MoneyBag of a presentment figure and its shop-money counterpart."""
        if not self.multi_currency or shop is None:
            amount = round_money(presentment, self.currency)
            return bag(amount, self.currency)
        shop_amount = round_money(shop, self.currency)
        return bag(shop_amount, self.currency, round_money(presentment, self.presentment), self.presentment)

    def sum_bags(self, items: list[dict[str, Any]], key: str) -> dict[str, Any]:
        """The sum of a money field over REST items, side by side."""
        bags = [bag_from_rest(item.get(f"{key}_set"), _amount(item.get(key)), self.currency) for item in items]
        shop = sum((Decimal(b["shopMoney"]["amount"]) for b in bags), ZERO)
        presentment = sum((Decimal(b["presentmentMoney"]["amount"]) for b in bags), ZERO)
        return self.pair(presentment, shop)

    def _bag(self, key: str) -> dict[str, Any] | None:
        """A money field of the REST order (`key` and `key_set`) as a `MoneyBag`; None when absent."""
        if self.order.get(f"{key}_set") is None and self.order.get(key) is None:
            return None
        return bag_from_rest(self.order.get(f"{key}_set"), _amount(self.order.get(key)), self.currency)

    def _shop_bag(self, amount: Decimal) -> dict[str, Any]:
        return self.pair(amount, amount)

    # identity and state
    @property
    def id(self) -> str:
        return gid("Order", self.order["id"])

    @property
    def legacyResourceId(self) -> int:
        return self.order["id"]

    @property
    def name(self) -> str:
        return self.order.get("name") or f"#{self.order.get('order_number', self.order['id'])}"

    @property
    def note(self) -> str | None:
        return self.order.get("note")

    @property
    def email(self) -> str | None:
        return self.order.get("email")

    @property
    def createdAt(self) -> str | None:
        return utc_text(self.order.get("created_at"))

    @property
    def updatedAt(self) -> str | None:
        return utc_text(self.order.get("updated_at") or self.order.get("created_at"))

    @property
    def processedAt(self) -> str | None:
        return utc_text(self.order.get("processed_at") or self.order.get("created_at"))

    @property
    def cancelledAt(self) -> str | None:
        return utc_text(self.order.get("cancelled_at"))

    @property
    def closedAt(self) -> str | None:
        return utc_text(self.order.get("closed_at"))

    @property
    def closed(self) -> bool:
        return self.order.get("closed_at") is not None

    @property
    def test(self) -> bool:
        return bool(self.order.get("test", False))

    @property
    def taxesIncluded(self) -> bool:
        return bool(self.order.get("taxes_included", False))

    @property
    def currencyCode(self) -> str:
        return self.currency

    @property
    def presentmentCurrencyCode(self) -> str:
        return self.presentment

    @property
    def displayFinancialStatus(self) -> str | None:
        status = self.order.get("financial_status")
        return status.upper() if status else None

    @property
    def paymentGatewayNames(self) -> list[str]:
        return list(self.order.get("payment_gateway_names") or [])

    @property
    def tags(self) -> list[str]:
        text = self.order.get("tags") or ""
        return [tag.strip() for tag in text.split(",") if tag.strip()]

    # money, as the REST order carries it
    @property
    def totalPriceSet(self) -> dict[str, Any]:
        return self._bag("total_price") or self._shop_bag(ZERO)

    @property
    def originalTotalPriceSet(self) -> dict[str, Any]:
        return self.totalPriceSet

    @property
    def subtotalPriceSet(self) -> dict[str, Any] | None:
        return self._bag("subtotal_price")

    @property
    def totalTaxSet(self) -> dict[str, Any] | None:
        return self._bag("total_tax")

    @property
    def totalDiscountsSet(self) -> dict[str, Any] | None:
        return self._bag("total_discounts")

    @property
    def totalShippingPriceSet(self) -> dict[str, Any]:
        paid = self.pair(self.figures.shipping_paid, self.shop_figures.shipping_paid)
        return self._bag("total_shipping_price") or paid

    @property
    def currentSubtotalPriceSet(self) -> dict[str, Any]:
        return self._bag("current_subtotal_price") or self.subtotalPriceSet or self._shop_bag(ZERO)

    @property
    def currentTotalPriceSet(self) -> dict[str, Any]:
        return self._bag("current_total_price") or self.totalPriceSet

    @property
    def currentTotalTaxSet(self) -> dict[str, Any]:
        return self._bag("current_total_tax") or self.totalTaxSet or self._shop_bag(ZERO)

    @property
    def currentTotalDiscountsSet(self) -> dict[str, Any]:
        return self._bag("current_total_discounts") or self.totalDiscountsSet or self._shop_bag(ZERO)

    @property
    def currentTotalDutiesSet(self) -> None:
        return None  # the mock's orders carry no duties

    # money, computed by the engine from the transactions and refunds
    @cached_property
    def received(self) -> Decimal:
        """What the customer paid (presentment money: transactions are in it)."""
        return models.money_received(self.document["transactions"])

    @cached_property
    def refunded(self) -> Decimal:
        return models.money_refunded(self.document["transactions"])

    def _shop_sum(self, kinds: tuple[str, ...]) -> Decimal:
        amounts = self.shop_amounts
        return sum(
            (
                amounts.get(t["id"], ZERO)
                for t in self.document["transactions"]
                if t["kind"] in kinds and t.get("status") == "success"
            ),
            ZERO,
        )

    @property
    def totalReceivedSet(self) -> dict[str, Any]:
        return self.pair(self.received, self._shop_sum(models.PAYMENT_KINDS))

    @property
    def totalRefundedSet(self) -> dict[str, Any]:
        return self.pair(self.refunded, self._shop_sum(("refund",)))

    @property
    def netPaymentSet(self) -> dict[str, Any]:
        shop = self._shop_sum(models.PAYMENT_KINDS) - self._shop_sum(("refund",))
        return self.pair(self.received - self.refunded, shop)

    @property
    def totalOutstandingSet(self) -> dict[str, Any]:
        current = self.currentTotalPriceSet
        net = self.netPaymentSet
        return self.pair(
            _amount(current["presentmentMoney"]["amount"]) - _amount(net["presentmentMoney"]["amount"]),
            _amount(current["shopMoney"]["amount"]) - _amount(net["shopMoney"]["amount"]),
        )

    @property
    def totalRefundedShippingSet(self) -> dict[str, Any]:
        return self.pair(self.figures.shipping_refunded, self.shop_figures.shipping_refunded)

    @property
    def currentShippingPriceSet(self) -> dict[str, Any]:
        presentment, shop = self.figures, self.shop_figures
        return self.pair(
            max(ZERO, presentment.shipping_paid - presentment.shipping_refunded),
            max(ZERO, shop.shipping_paid - shop.shipping_refunded),
        )

    @property
    def refundDiscrepancySet(self) -> dict[str, Any]:
        found = [a for a in self.figures.adjustments if a.get("kind") == "refund_discrepancy"]
        return self.sum_bags(found, "amount")

    @property
    def totalCapturableSet(self) -> dict[str, Any]:
        views = [view for view in self._transactions() if view.uncaptured]
        return self.pair(sum((v.uncaptured for v in views), ZERO), sum((v.shop_uncaptured for v in views), ZERO))

    @property
    def refundable(self) -> bool:
        return any(parent.room > 0 for parent in self.figures.parents())

    @property
    def capturable(self) -> bool:
        return any(view.uncaptured > 0 for view in self._transactions())

    @property
    def fullyPaid(self) -> bool:
        return self.received >= _amount(self.totalPriceSet["shopMoney"]["amount"])

    @property
    def unpaid(self) -> bool:
        return self.received <= 0

    # lines, shipping, transactions, refunds
    @cached_property
    def line_views(self) -> list[LineItemView]:
        return [LineItemView(self, figures) for figures in self.figures.lines.values()]

    def line_view(self, line_id: int) -> LineItemView | None:
        figures = self.figures.lines.get(line_id)
        return None if figures is None else LineItemView(self, figures)

    @property
    def subtotalLineItemsQuantity(self) -> int:
        return sum(view.quantity for view in self.line_views)

    @property
    def currentSubtotalLineItemsQuantity(self) -> int:
        return sum(view.currentQuantity for view in self.line_views)

    def lineItems(self, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
        return connection(self.line_views, args, lambda view: view.figures.line["id"])

    @property
    def taxLines(self) -> list[dict[str, Any]]:
        return [tax_line(line, self.currency) for line in self.order.get("tax_lines") or []]

    def _shipping_lines(self) -> list[dict[str, Any]]:
        return [shipping_line(line, self.currency) for line in self.order.get("shipping_lines") or []]

    @property
    def shippingLine(self) -> dict[str, Any] | None:
        lines = self._shipping_lines()
        return lines[0] if lines else None

    def shippingLines(self, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
        lines = self.order.get("shipping_lines") or []
        views = self._shipping_lines()
        positions = {
            id(view): line.get("id") or index for index, (line, view) in enumerate(zip(lines, views, strict=True))
        }
        return connection(views, args, lambda view: positions[id(view)])

    def _transactions(self) -> list[TransactionView]:
        return [TransactionView(self, transaction) for transaction in self.document["transactions"]]

    def transaction_view(self, transaction_id: int) -> TransactionView | None:
        found = next((t for t in self.document["transactions"] if t["id"] == transaction_id), None)
        return None if found is None else TransactionView(self, found)

    def transactions(
        self,
        info: GraphQLResolveInfo,
        first: int | None = None,
        capturable: bool | None = None,
        manuallyResolvable: bool | None = None,
    ) -> list[TransactionView]:
        views = self._transactions()
        if capturable is not None:
            views = [view for view in views if (view.uncaptured > 0) is capturable]
        return views if first is None else views[: max(first, 0)]

    def refunds(self, info: GraphQLResolveInfo, first: int | None = None) -> list[RefundView]:
        views = [RefundView(self, refund) for refund in self.order.get("refunds") or []]
        return views if first is None else views[: max(first, 0)]

    def refund_view(self, refund_id: int) -> RefundView | None:
        found = models.find_refund(self.document, refund_id)
        return None if found is None else RefundView(self, found)

    def suggestedRefund(self, info: GraphQLResolveInfo, **args: Any) -> SuggestedRefundView:
        from mockserver.shopify.graphql.refunds import suggest

        return suggest(self, args)


def _shop_figures(document: dict[str, Any]) -> models.OrderFigures:
    return models.OrderFigures(document, side=SHOP_SIDE)  # type: ignore[call-arg]


def tax_line(line: dict[str, Any], currency: str) -> dict[str, Any]:
    rate = line.get("rate")
    return {
        "title": line.get("title") or "",
        "rate": rate,
        "ratePercentage": None if rate is None else float(Decimal(str(rate)) * 100),
        "priceSet": bag_from_rest(line.get("price_set"), _amount(line.get("price")), currency),
        "channelLiable": line.get("channel_liable"),
    }


def shipping_line(line: dict[str, Any], currency: str) -> dict[str, Any]:
    price = _amount(line.get("price"))
    discounted = _amount(line.get("discounted_price", line.get("price")))
    return {
        "id": gid("ShippingLine", line["id"]) if line.get("id") else None,
        "title": line.get("title") or "",
        "code": line.get("code"),
        "source": line.get("source"),
        "carrierIdentifier": line.get("carrier_identifier"),
        "isRemoved": False,
        "originalPriceSet": bag_from_rest(line.get("price_set"), price, currency),
        "discountedPriceSet": bag_from_rest(line.get("discounted_price_set"), discounted, currency),
        "currentDiscountedPriceSet": bag_from_rest(line.get("discounted_price_set"), discounted, currency),
        "taxLines": [tax_line(tax, currency) for tax in line.get("tax_lines") or []],
    }


# -- line items -------------------------------------------------------------------------------


class LineItemView:
    """`LineItem`: a line of the order with its units as they stand now."""

    def __init__(self, order: OrderView, figures: models.LineFigures):
        self.order_view = order
        self.figures = figures
        self.line = figures.line
        self.currency = order.currency

    def _scaled(self, key: str, fallback: Decimal, factor: int = 1) -> dict[str, Any]:
        found = bag_from_rest(self.line.get(f"{key}_set"), fallback, self.currency)
        if factor == 1:
            return found
        for side in found.values():
            side["amount"] = decimal_text(Decimal(side["amount"]) * factor)
        return found

    @property
    def id(self) -> str:
        return gid("LineItem", self.line["id"])

    @property
    def name(self) -> str:
        return self.line.get("name") or self.line.get("title") or ""

    @property
    def title(self) -> str:
        return self.line.get("title") or self.name

    @property
    def sku(self) -> str | None:
        return self.line.get("sku") or None

    @property
    def vendor(self) -> str | None:
        return self.line.get("vendor")

    @property
    def variantTitle(self) -> str | None:
        return self.line.get("variant_title")

    @property
    def quantity(self) -> int:
        return self.figures.quantity

    @property
    def currentQuantity(self) -> int:
        return max(0, self.figures.quantity - self.figures.refunded)

    @property
    def refundableQuantity(self) -> int:
        return self.currentQuantity

    @property
    def fulfillableQuantity(self) -> int:
        return max(0, self.figures.fulfillable)

    @property
    def unfulfilledQuantity(self) -> int:
        return max(0, self.figures.fulfillable)

    @property
    def requiresShipping(self) -> bool:
        return bool(self.line.get("requires_shipping", True))

    @property
    def taxable(self) -> bool:
        return bool(self.line.get("taxable", True))

    @property
    def isGiftCard(self) -> bool:
        return bool(self.line.get("gift_card", False))

    @property
    def restockable(self) -> bool:
        return bool(self.line.get("product_exists", True)) and not self.isGiftCard

    @property
    def originalUnitPriceSet(self) -> dict[str, Any]:
        return self._scaled("price", self.figures.price)

    @property
    def originalTotalSet(self) -> dict[str, Any]:
        return self._scaled("price", self.figures.price, self.figures.quantity)

    @cached_property
    def shop_line(self) -> models.LineFigures:
        return self.order_view.shop_figures.lines[self.line["id"]]

    @property
    def discountedUnitPriceSet(self) -> dict[str, Any]:
        order = self.order_view
        presentment = Decimal(order.figures.unit_prices[self.line["id"]][1])
        return order.pair(presentment, Decimal(order.shop_figures.unit_prices[self.line["id"]][1]))

    @property
    def discountedTotalSet(self) -> dict[str, Any]:
        presentment, shop = self.figures, self.shop_line
        return self.order_view.pair(
            presentment.price * presentment.quantity - presentment.line_discount,
            shop.price * shop.quantity - shop.line_discount,
        )

    @property
    def discountedUnitPriceAfterAllDiscountsSet(self) -> dict[str, Any]:
        quantity = self.figures.quantity or 1
        order = self.order_view
        return order.pair(
            round_money(self.figures.net / quantity, order.presentment),
            round_money(self.shop_line.net / quantity, order.currency),
        )

    @property
    def totalDiscountSet(self) -> dict[str, Any]:
        return bag_from_rest(
            self.line.get("total_discount_set"), _amount(self.line.get("total_discount")), self.currency
        )

    @property
    def discountAllocations(self) -> list[dict[str, Any]]:
        return [
            {"allocatedAmountSet": bag_from_rest(a.get("amount_set"), _amount(a.get("amount")), self.currency)}
            for a in self.line.get("discount_allocations") or []
        ]

    def taxLines(self, info: GraphQLResolveInfo, first: int | None = None) -> list[dict[str, Any]]:
        lines = [tax_line(line, self.currency) for line in self.line.get("tax_lines") or []]
        return lines if first is None else lines[: max(first, 0)]


# -- transactions -----------------------------------------------------------------------------


class TransactionView:
    """`OrderTransaction`."""

    def __init__(self, order: OrderView, transaction: dict[str, Any]):
        self.order_view = order
        self.transaction = transaction
        self.currency = transaction.get("currency") or order.currency

    @property
    def id(self) -> str:
        return gid("OrderTransaction", self.transaction["id"])

    @property
    def kind(self) -> str:
        return self.transaction["kind"].upper()

    @property
    def status(self) -> str:
        return (self.transaction.get("status") or "unknown").upper()

    @property
    def gateway(self) -> str | None:
        return self.transaction.get("gateway")

    @property
    def formattedGateway(self) -> str | None:
        gateway = self.transaction.get("gateway")
        return gateway.replace("_", " ").title() if gateway else None

    @property
    def amountSet(self) -> dict[str, Any]:
        if self.transaction.get("amount_set"):
            return bag_from_rest(self.transaction["amount_set"], _amount(self.transaction.get("amount")), self.currency)
        amount = _amount(self.transaction.get("amount"))
        return self.order_view.pair(amount, self.order_view.shop_amounts.get(self.transaction["id"], amount))

    @property
    def authorizationCode(self) -> str | None:
        return self.transaction.get("authorization")

    @property
    def accountNumber(self) -> str | None:
        return (self.transaction.get("payment_details") or {}).get("credit_card_number")

    @property
    def createdAt(self) -> str | None:
        return utc_text(self.transaction.get("created_at"))

    @property
    def processedAt(self) -> str | None:
        return utc_text(self.transaction.get("processed_at"))

    @property
    def test(self) -> bool:
        return bool(self.transaction.get("test", False))

    @property
    def maximumRefundableV2(self) -> None:
        return None  # only suggested refunds carry it

    @property
    def multiCapturable(self) -> bool:
        return False

    @cached_property
    def uncaptured(self) -> Decimal:
        """What is left of a successful authorization after its captures and voids."""
        transaction = self.transaction
        if transaction["kind"] != "authorization" or transaction.get("status") != "success":
            return ZERO
        children = [
            t
            for t in self.order_view.document["transactions"]
            if t.get("parent_id") == transaction["id"] and t.get("status") == "success"
        ]
        if any(child["kind"] == "void" for child in children):
            return ZERO
        captured = sum((_amount(child["amount"]) for child in children if child["kind"] == "capture"), ZERO)
        return max(ZERO, _amount(transaction["amount"]) - captured)

    @cached_property
    def shop_uncaptured(self) -> Decimal:
        """`uncaptured` in shop money."""
        if not self.uncaptured:
            return ZERO
        amounts = self.order_view.shop_amounts
        captured = sum(
            (
                amounts.get(t["id"], ZERO)
                for t in self.order_view.document["transactions"]
                if t.get("parent_id") == self.transaction["id"]
                and t["kind"] == "capture"
                and t.get("status") == "success"
            ),
            ZERO,
        )
        return max(ZERO, amounts.get(self.transaction["id"], ZERO) - captured)

    @property
    def manuallyCapturable(self) -> bool:
        return self.uncaptured > 0

    @property
    def totalUnsettledSet(self) -> dict[str, Any]:
        order = self.order_view
        if self.transaction["kind"] in models.PAYMENT_KINDS:
            room = next((p.room for p in order.figures.parents() if p.id == self.transaction["id"]), ZERO)
            amounts = order.shop_amounts
            refunded = sum(
                (
                    amounts.get(t["id"], ZERO)
                    for t in order.document["transactions"]
                    if t.get("parent_id") == self.transaction["id"]
                    and t["kind"] == "refund"
                    and t.get("status") == "success"
                ),
                ZERO,
            )
            return order.pair(room, amounts.get(self.transaction["id"], ZERO) - refunded)
        return order.pair(self.uncaptured, self.shop_uncaptured)

    @property
    def parentTransaction(self) -> TransactionView | None:
        parent_id = self.transaction.get("parent_id")
        return None if not parent_id else self.order_view.transaction_view(parent_id)

    @property
    def order(self) -> OrderView:
        return self.order_view


# -- refunds ----------------------------------------------------------------------------------


class RefundView:
    """`Refund`: a stored refund as REST lists it."""

    def __init__(self, order: OrderView, refund: dict[str, Any]):
        self.order_view = order
        self.refund = refund
        self.currency = order.currency

    @property
    def id(self) -> str:
        return gid("Refund", self.refund["id"])

    @property
    def legacyResourceId(self) -> int:
        return self.refund["id"]

    @property
    def note(self) -> str | None:
        return self.refund.get("note")

    @property
    def createdAt(self) -> str | None:
        return utc_text(self.refund.get("created_at"))

    @property
    def updatedAt(self) -> str | None:
        return utc_text(self.refund.get("processed_at") or self.refund.get("created_at"))

    @property
    def processedAt(self) -> str | None:
        return utc_text(self.refund.get("processed_at") or self.refund.get("created_at"))

    @property
    def order(self) -> OrderView:
        return self.order_view

    def _transactions(self) -> list[TransactionView]:
        return [TransactionView(self.order_view, t) for t in self.refund.get("transactions") or []]

    @property
    def totalRefundedSet(self) -> dict[str, Any]:
        transactions = self.refund.get("transactions") or []
        total = models.money_refunded(transactions)
        amounts = self.order_view.shop_amounts
        shop = sum(
            (amounts.get(t["id"], _amount(t.get("amount"))) for t in transactions if t.get("status") == "success"), ZERO
        )
        return self.order_view.pair(total, shop)

    def transactions(self, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
        return connection(self._transactions(), args, lambda view: view.transaction["id"])

    def refundLineItems(self, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
        views = [
            RefundLineItemView.stored(self.order_view, line) for line in self.refund.get("refund_line_items") or []
        ]
        return connection(views, args, lambda view: view.position)

    def orderAdjustments(self, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
        adjustments = [adjustment_view(a, self.currency) for a in self.refund.get("order_adjustments") or []]
        ids = [a.get("id") or index for index, a in enumerate(self.refund.get("order_adjustments") or [])]
        positions = {id(view): position for view, position in zip(adjustments, ids, strict=True)}
        return connection(adjustments, args, lambda view: positions[id(view)])

    def refundShippingLines(self, info: GraphQLResolveInfo, **args: Any) -> dict[str, Any]:
        shipping = self.order_view.shippingLine
        lines = []
        for index, adjustment in enumerate(self.refund.get("order_adjustments") or []):
            if adjustment.get("kind") != "shipping_refund":
                continue
            lines.append(
                {
                    "position": adjustment.get("id") or index,
                    "id": gid("RefundShippingLine", adjustment.get("id") or index),
                    "shippingLine": shipping,
                    "subtotalAmountSet": _negated(
                        bag_from_rest(adjustment.get("amount_set"), _amount(adjustment.get("amount")), self.currency)
                    ),
                    "taxAmountSet": _negated(
                        bag_from_rest(
                            adjustment.get("tax_amount_set"), _amount(adjustment.get("tax_amount")), self.currency
                        )
                    ),
                }
            )
        return connection(lines, args, lambda line: line["position"])


def _negated(money_bag: dict[str, Any]) -> dict[str, Any]:
    return {side: money(-Decimal(value["amount"]), value["currencyCode"]) for side, value in money_bag.items()}


def adjustment_view(adjustment: dict[str, Any], currency: str) -> dict[str, Any]:
    reason_text = (adjustment.get("reason") or "").lower()
    if adjustment.get("kind") == "shipping_refund":
        reason = None
    else:
        reason = DISCREPANCY_REASONS.get(reason_text, "REFUND_DISCREPANCY")
    return {
        "id": gid("OrderAdjustment", adjustment.get("id") or 0),
        "amountSet": bag_from_rest(adjustment.get("amount_set"), _amount(adjustment.get("amount")), currency),
        "taxAmountSet": bag_from_rest(
            adjustment.get("tax_amount_set"), _amount(adjustment.get("tax_amount")), currency
        ),
        "reason": reason,
    }


@dataclass
class RefundLineItemView:
    """`RefundLineItem`, of a stored refund or of a suggestion."""

    order_view: OrderView
    line_item_id: int
    quantity: int
    restock_type: str
    location_id: int | None
    priceSet: dict[str, Any]
    subtotalSet: dict[str, Any]
    totalTaxSet: dict[str, Any]
    position: int
    stored_id: int | None = None

    @classmethod
    def stored(cls, order: OrderView, line: dict[str, Any]) -> RefundLineItemView:
        snapshot = line.get("line_item") or {}
        figures = order.figures.lines.get(line["line_item_id"])
        price = (
            _amount(snapshot.get("price")) if snapshot.get("price") is not None else figures.price if figures else ZERO
        )
        currency = order.currency
        return cls(
            order_view=order,
            line_item_id=line["line_item_id"],
            quantity=int(line["quantity"]),
            restock_type=line.get("restock_type") or "no_restock",
            location_id=line.get("location_id"),
            priceSet=bag_from_rest(snapshot.get("price_set"), price, currency),
            subtotalSet=bag_from_rest(line.get("subtotal_set"), _amount(line.get("subtotal")), currency),
            totalTaxSet=bag_from_rest(line.get("total_tax_set"), _amount(line.get("total_tax")), currency),
            position=line.get("id") or 0,
            stored_id=line.get("id"),
        )

    @property
    def id(self) -> str:
        return gid("RefundLineItem", self.stored_id) if self.stored_id else SUGGESTED_LINE_ID

    @property
    def lineItem(self) -> LineItemView | None:
        return self.order_view.line_view(self.line_item_id)

    @property
    def location(self) -> dict[str, Any] | None:
        if not self.location_id:
            return None
        return {"id": gid("Location", self.location_id), "legacyResourceId": self.location_id}

    @property
    def restockType(self) -> str:
        return self.restock_type.upper()

    @property
    def restocked(self) -> bool:
        return self.stored_id is not None and self.restock_type in RESTOCKED_TYPES


# -- suggestions ------------------------------------------------------------------------------


@dataclass
class SuggestedRefundView:
    """`SuggestedRefund`: the engine's quote for the arguments, in GraphQL's shapes.

    The quote is in the order's presentment money; each figure's shop-money side is the engine's
    counterpart of the same refund (`models.shop_counterpart`), as a created refund's `*_set`s are.
    """

    order_view: OrderView
    quote: models.Quote
    store_credit: bool = False

    @cached_property
    def shop(self) -> models.Quote:
        if not self.order_view.multi_currency:
            return self.quote
        return models.shop_counterpart(self.order_view.document, self.quote)  # type: ignore[attr-defined]

    def _pair(self, presentment: Decimal, shop: Decimal) -> dict[str, Any]:
        return self.order_view.pair(presentment, shop)

    @cached_property
    def parent_shop(self) -> dict[int, tuple[Decimal, Decimal]]:
        """Each suggestion's (amount, maximum refundable) in shop money."""
        order = self.order_view
        found = {}
        for suggestion in self.quote.suggestions:
            parent = suggestion.parent
            if not order.multi_currency:
                found[parent.id] = (suggestion.amount, parent.room)
                continue
            whole = _amount(parent.transaction["amount"])
            refunded = whole - parent.room
            shop_whole = order.shop_amounts.get(parent.id, ZERO)
            currency = order.presentment
            shop_room = counterpart(parent.room, refunded, whole, currency, shop_whole, order.currency)
            shop_amount = counterpart(suggestion.amount, refunded, whole, currency, shop_whole, order.currency)
            found[parent.id] = (shop_amount, shop_room)
        return found

    @cached_property
    def amount_totals(self) -> tuple[Decimal, Decimal]:
        if self.store_credit:
            return min(self.quote.total, self.maximums[0]), min(self.shop.total, self.maximums[1])
        presentment = sum((suggestion.amount for suggestion in self.quote.suggestions), ZERO)
        return presentment, sum((self.parent_shop[s.parent.id][0] for s in self.quote.suggestions), ZERO)

    @cached_property
    def maximums(self) -> tuple[Decimal, Decimal]:
        parents = self.quote.figures.parents()
        presentment = sum((max(ZERO, parent.room) for parent in parents), ZERO)
        if not self.order_view.multi_currency:
            return presentment, presentment
        order = self.order_view
        shop = ZERO
        for parent in parents:
            whole = _amount(parent.transaction["amount"])
            shop_whole = order.shop_amounts.get(parent.id, ZERO)
            room = max(ZERO, parent.room)
            shop += counterpart(room, whole - parent.room, whole, order.presentment, shop_whole, order.currency)
        return presentment, shop

    @property
    def amountSet(self) -> dict[str, Any]:
        return self._pair(*self.amount_totals)

    @property
    def amount(self) -> Decimal:
        return self.amount_totals[0]

    @property
    def maximumRefundableSet(self) -> dict[str, Any]:
        return self._pair(*self.maximums)

    @property
    def maximumRefundable(self) -> Decimal:
        return self.maximums[0]

    @staticmethod
    def _subtotal(quote: models.Quote) -> Decimal:
        """The lines' prices after line-level discounts, before the cart discount."""
        return sum((line.discounted_total for line in quote.lines), ZERO)

    @staticmethod
    def _cart_discount(quote: models.Quote) -> Decimal:
        return sum((line.cart_discount for line in quote.lines), ZERO)

    @staticmethod
    def _tax(quote: models.Quote) -> Decimal:
        return sum((line.tax for line in quote.lines), ZERO) + quote.shipping.tax

    @property
    def subtotalSet(self) -> dict[str, Any]:
        return self._pair(self._subtotal(self.quote), self._subtotal(self.shop))

    @property
    def subtotal(self) -> Decimal:
        return self._subtotal(self.quote)

    @property
    def discountedSubtotalSet(self) -> dict[str, Any]:
        return self._pair(
            self._subtotal(self.quote) - self._cart_discount(self.quote),
            self._subtotal(self.shop) - self._cart_discount(self.shop),
        )

    @property
    def totalCartDiscountAmountSet(self) -> dict[str, Any]:
        return self._pair(self._cart_discount(self.quote), self._cart_discount(self.shop))

    @property
    def totalTaxSet(self) -> dict[str, Any]:
        return self._pair(self._tax(self.quote), self._tax(self.shop))

    @property
    def totalTaxes(self) -> Decimal:
        return self._tax(self.quote)

    @property
    def totalDutiesSet(self) -> dict[str, Any]:
        return self._pair(ZERO, ZERO)

    @property
    def refundDuties(self) -> list[Any]:
        return []

    @property
    def shipping(self) -> dict[str, Any]:
        presentment, shop = self.quote.shipping, self.shop.shipping
        return {
            "amountSet": self._pair(presentment.amount, shop.amount),
            "amount": presentment.amount,
            "maximumRefundableSet": self._pair(presentment.maximum_refundable, shop.maximum_refundable),
            "maximumRefundable": presentment.maximum_refundable,
            "taxSet": self._pair(presentment.tax, shop.tax),
            "tax": presentment.tax,
        }

    @property
    def refundLineItems(self) -> list[RefundLineItemView]:
        unit_prices = self.quote.figures.unit_prices
        shop_prices = self.shop.figures.unit_prices
        return [
            RefundLineItemView(
                order_view=self.order_view,
                line_item_id=line.line_item_id,
                quantity=line.quantity,
                restock_type=line.restock_type,
                location_id=line.location_id,
                priceSet=self._pair(
                    Decimal(unit_prices[line.line_item_id][0]), Decimal(shop_prices[line.line_item_id][0])
                ),
                subtotalSet=self._pair(line.subtotal, shop_line.subtotal),
                totalTaxSet=self._pair(line.tax, shop_line.tax),
                position=index,
            )
            for index, (line, shop_line) in enumerate(zip(self.quote.lines, self.shop.lines, strict=True))
        ]

    @property
    def suggestedTransactions(self) -> list[dict[str, Any]]:
        if self.store_credit:
            return []
        suggestions = []
        for suggestion in self.quote.suggestions:
            parent = suggestion.parent.transaction
            gateway = parent.get("gateway")
            shop_amount, shop_room = self.parent_shop[suggestion.parent.id]
            suggestions.append(
                {
                    "accountNumber": (parent.get("payment_details") or {}).get("credit_card_number"),
                    "amountSet": self._pair(suggestion.amount, shop_amount),
                    "amount": suggestion.amount,
                    "formattedGateway": gateway.replace("_", " ").title() if gateway else None,
                    "gateway": gateway,
                    "kind": "SUGGESTED_REFUND",
                    "maximumRefundableSet": self._pair(suggestion.parent.room, shop_room),
                    "maximumRefundable": suggestion.parent.room,
                    "parentTransaction": TransactionView(self.order_view, parent),
                }
            )
        return suggestions

    @property
    def suggestedRefundMethods(self) -> list[dict[str, Any]]:
        if not self.store_credit:
            return []
        return [
            {
                "__typename": "SuggestedStoreCreditRefund",
                "amount": self.amountSet,
                "maximumRefundable": self.maximumRefundableSet,
                "expiresAt": None,
            }
        ]


__all__ = ["GraphQLContext", "LineItemView", "OrderView", "RefundView", "TransactionView", "money"]
