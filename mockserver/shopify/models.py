"""The Shopify refund engine: reading fixture documents, quotes (calculate) and refunds (create).

Plain Python, no HTTP. A fixture document is `{"order": <Order>, "transactions": [...]}` in
Shopify's own shapes; the engine reads its figures, validates a refund request against the state
the document is in, and (for create) changes the document in place. Every rule Shopify leaves
unwritten is chosen here and described in the spec's `x-mock-note`s.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from functools import cached_property
from typing import Any

import orjson

from mockserver.money import (
    ZERO,
    counterpart,
    cumulative_share,
    format_money,
    minor_unit,
    parse_money,
    quantum,
    round_money,
    unit_share,
)
from mockserver.platform import FixtureOrder
from mockserver.shopify.exceptions import (
    AmountAboveRefundable,
    CurrencyMismatch,
    CurrencyRequired,
    LocationRequired,
    MoreThanFulfillable,
    MoreThanPurchased,
    MoreThanRefundableQuantity,
    NothingToRefund,
    OrderMismatch,
    ParentNotOnOrder,
    PresentmentCurrencyRequired,
    ShippingAboveRefundable,
    TooManyDecimals,
    UnknownLineItem,
    Unprocessable,
)

DEFAULT_LIST_LIMIT = 50
RESTOCKING = ("return", "cancel")
PAYMENT_KINDS = ("capture", "sale")
FIRST_MOCK_ID = 9_000_000_000_000  # far above the ids of the docs shop and of the starter fixtures
# The location calculate suggests when neither the order, its fulfillments, its earlier refunds nor
# the fixture's `shop.primary_location_id` name one: every Shopify shop has at least one location.
DEFAULT_LOCATION_ID = 1
SHOP_MONEY = "shop_money"
PRESENTMENT_MONEY = "presentment_money"
LEGACY_RESTOCK = "legacy_restock"
NextId = Callable[[str, int], int]


# -- reading fixture documents --------------------------------------------------------------


def read_fixture(document: dict[str, Any]) -> FixtureOrder:
    """A fixture document (`{"order": ..., "transactions": [...]}`) as the store keeps it."""
    return FixtureOrder(order_id=int(document["order"]["id"]), document=document)


def refunds_of(document: dict[str, Any]) -> list[tuple[int, str, dict[str, Any]]]:
    """Every refund inside a fixture document, for the store's cross-order index."""
    return [(refund["id"], refund["created_at"], refund) for refund in document["order"].get("refunds", [])]


def find_refund(document: dict[str, Any], refund_id: int) -> dict[str, Any] | None:
    """The refund with this id on this order; a refund of another order is not found."""
    return next((refund for refund in document["order"].get("refunds", []) if refund["id"] == refund_id), None)


def parse_fields(text: str | None) -> list[str] | None:
    """`"id, note"` -> `["id", "note"]`; no names at all means every field."""
    if text is None:
        return None
    names = [name.strip() for name in text.split(",") if name.strip()]
    return names or None


def select_fields(resource: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    """Shopify's `fields` parameter: keep only the named top-level fields, in the resource's order."""
    if fields is None:
        return resource
    wanted = set(fields)
    return {key: value for key, value in resource.items() if key in wanted}


def _money(value: Any) -> Decimal:
    """A money field of a document (string, or number inside refund lines); absent counts as zero."""
    return ZERO if value is None else Decimal(str(value))


def _sum(items: Iterable[dict[str, Any]], key: str) -> Decimal:
    return sum((_money(item.get(key)) for item in items), ZERO)


def _figure(item: dict[str, Any], key: str, side: str) -> Decimal:
    """One side (`shop_money` or `presentment_money`) of a money field, read from its `*_set`.

    Presentment money is the order's own figure, never a conversion; a field without a
    `*_set` (a hand-written single-currency fixture) is read from the plain shop-money field.
    """
    money = item.get(f"{key}_set")
    if type(money) is dict:
        part = money.get(side)
        if type(part) is dict and part.get("amount") is not None:
            return Decimal(str(part["amount"]))
    return _money(item.get(key))


def _figures_sum(items: Iterable[dict[str, Any]], key: str, side: str) -> Decimal:
    return sum((_figure(item, key, side) for item in items), ZERO)


# -- the order as the engine sees it ----------------------------------------------------------


@dataclass
class LineFigures:
    """One line item's money and unit counts, as they stand before the refund being computed."""

    line: dict[str, Any]
    quantity: int
    price: Decimal
    line_discount: Decimal  # allocations of `each`/`one` discounts: lower discounted_price
    cart_discount: Decimal  # allocations of `across` discounts: total_cart_discount_amount
    tax: Decimal
    refunded: int  # units refunded by earlier refunds
    refunded_subtotal: Decimal
    refunded_tax: Decimal
    returned: int  # units refunded earlier with restock_type return
    fulfilled: int
    fulfillable: int

    @property
    def net(self) -> Decimal:
        """What the line's units cost after every discount, before tax."""
        return self.price * self.quantity - self.line_discount - self.cart_discount


@dataclass
class Parent:
    """A successful capture or sale: money that can be refunded."""

    transaction: dict[str, Any]
    room: Decimal  # its amount minus the successful refunds against it

    @property
    def id(self) -> int:
        return self.transaction["id"]


class OrderFigures:
    """Read-only figures of one fixture document.

    Computed from the document alone and never changed afterwards, so the figures of a stored
    version can serve every quote on it (`figures_of`, kept by the store with the document).
    """

    def __init__(self, document: dict[str, Any], side: str = PRESENTMENT_MONEY):
        self.document = document
        self.order: dict[str, Any] = document["order"]
        self.transactions: list[dict[str, Any]] = document["transactions"]
        self.shop_currency: str = self.order["currency"]
        self.presentment_currency: str = self.order.get("presentment_currency") or self.shop_currency
        self.multi_currency = self.presentment_currency != self.shop_currency
        self.side = side
        # the currency of every figure read here: refunds are computed in presentment money
        self.currency: str = self.presentment_currency if side == PRESENTMENT_MONEY else self.shop_currency
        self.taxes_included = bool(self.order.get("taxes_included", False))
        refunds = self.order.get("refunds") or []
        self.refund_lines = [line for refund in refunds for line in refund.get("refund_line_items", [])]
        self.adjustments = [adjustment for refund in refunds for adjustment in refund.get("order_adjustments", [])]

    @cached_property
    def lines(self) -> dict[int, LineFigures]:
        """Each line's figures, by line item id (computed on first use: shipping-only readers skip them)."""
        return {line["id"]: self._line(line) for line in self.order.get("line_items", [])}

    def _line(self, line: dict[str, Any]) -> LineFigures:
        methods = [app.get("allocation_method") for app in self.order.get("discount_applications") or []]
        line_discount = cart_discount = ZERO
        for allocation in line.get("discount_allocations") or []:
            index = allocation.get("discount_application_index")
            across = index is not None and index < len(methods) and methods[index] == "across"
            if across:
                cart_discount += _figure(allocation, "amount", self.side)
            else:
                line_discount += _figure(allocation, "amount", self.side)
        earlier = [refunded for refunded in self.refund_lines if refunded["line_item_id"] == line["id"]]
        return LineFigures(
            line=line,
            quantity=int(line["quantity"]),
            price=_figure(line, "price", self.side),
            line_discount=line_discount,
            cart_discount=cart_discount,
            tax=_figures_sum(line.get("tax_lines") or [], "price", self.side),
            refunded=sum(int(refunded["quantity"]) for refunded in earlier),
            refunded_subtotal=_figures_sum(earlier, "subtotal", self.side),
            refunded_tax=_figures_sum(earlier, "total_tax", self.side),
            returned=sum(int(refunded["quantity"]) for refunded in earlier if refunded.get("restock_type") == "return"),
            fulfilled=self._fulfilled_units(line),
            fulfillable=int(line.get("fulfillable_quantity", line["quantity"]) or 0),
        )

    def _fulfilled_units(self, line: dict[str, Any]) -> int:
        shipped = sum(
            int(item.get("quantity", 0))
            for fulfillment in self.order.get("fulfillments") or []
            if fulfillment.get("status") == "success"
            for item in fulfillment.get("line_items") or []
            if item.get("id") == line["id"]
        )
        if line.get("fulfillment_status") == "fulfilled":
            shipped = max(shipped, int(line["quantity"]))
        return min(shipped, int(line["quantity"]))

    @cached_property
    def unit_prices(self) -> dict[int, tuple[str, str]]:
        """Each line's unit price and discounted unit price, as calculate writes them."""
        currency = self.currency
        return {
            line_id: (_text(line.price, currency), _text(_discounted_unit_price(line, currency), currency))
            for line_id, line in self.lines.items()
        }

    # -- shipping ------------------------------------------------------------------------

    @cached_property
    def shipping_paid(self) -> Decimal:
        lines = self.order.get("shipping_lines") or []
        side = self.side
        return sum(
            (
                _figure(line, "price", side) - _figures_sum(line.get("discount_allocations") or [], "amount", side)
                for line in lines
            ),
            ZERO,
        )

    @cached_property
    def shipping_tax(self) -> Decimal:
        lines = self.order.get("shipping_lines") or []
        return sum((_figures_sum(line.get("tax_lines") or [], "price", self.side) for line in lines), ZERO)

    def _shipping_adjustments(self) -> list[dict[str, Any]]:
        return [adjustment for adjustment in self.adjustments if adjustment.get("kind") == "shipping_refund"]

    @cached_property
    def shipping_refunded(self) -> Decimal:
        return -_figures_sum(self._shipping_adjustments(), "amount", self.side)

    @cached_property
    def shipping_tax_refunded(self) -> Decimal:
        return -_figures_sum(self._shipping_adjustments(), "tax_amount", self.side)

    # -- payments ------------------------------------------------------------------------

    def parents(self) -> list[Parent]:
        """Successful captures and sales, oldest first, with what each has left to refund."""
        return list(self._parents)

    @cached_property
    def _parents(self) -> tuple[Parent, ...]:
        refunded: dict[int, Decimal] = {}
        for transaction in self.transactions:
            if transaction["kind"] == "refund" and transaction["status"] == "success" and transaction.get("parent_id"):
                parent_id = transaction["parent_id"]
                refunded[parent_id] = refunded.get(parent_id, ZERO) + _money(transaction["amount"])
        payments = [t for t in self.transactions if t["kind"] in PAYMENT_KINDS and t["status"] == "success"]
        payments.sort(key=_processing_order)
        return tuple(Parent(t, _money(t["amount"]) - refunded.get(t["id"], ZERO)) for t in payments)

    def location_for(self, line: LineFigures, restock_type: str) -> int | None:
        """A suitable location when the request names none (Shopify: "returns a suitable location ID")."""
        fulfillments = self.order.get("fulfillments") or []
        if restock_type == "return":
            for fulfillment in fulfillments:
                shipped = any(item.get("id") == line.line["id"] for item in fulfillment.get("line_items") or [])
                if fulfillment.get("status") == "success" and shipped and fulfillment.get("location_id"):
                    return fulfillment["location_id"]
        candidates = [self.order.get("location_id")]
        candidates += [f.get("location_id") for f in fulfillments if f.get("status") == "success"]
        candidates += [f.get("location_id") for f in fulfillments]
        candidates += [refunded.get("location_id") for refunded in self.refund_lines]
        candidates.append((self.document.get("shop") or {}).get("primary_location_id"))
        return next((candidate for candidate in candidates if candidate), DEFAULT_LOCATION_ID)

    def shop_amounts(self) -> dict[int, Decimal]:
        """Each transaction's amount in shop money (what `in_shop_currency=true` shows).

        Transactions are in presentment money. A payment's shop amount is its counterpart in the
        order's `total_price_set` (shop money split by the payments' presentment amounts, oldest
        first); a refund's is its counterpart in its parent's shop amount, so refunding a payment
        in full returns exactly the shop money it took.
        """
        order = self.order
        if not self.multi_currency:
            return {t["id"]: _money(t["amount"]) for t in self.transactions}
        whole = _figure(order, "total_price", PRESENTMENT_MONEY)
        total = _figure(order, "total_price", SHOP_MONEY)
        shop, presentment = self.shop_currency, self.presentment_currency
        amounts: dict[int, Decimal] = {}
        paid = ZERO
        for parent in self.parents():
            amount = _money(parent.transaction["amount"])
            amounts[parent.id] = counterpart(amount, paid, whole, presentment, total, shop)
            paid += amount
        refunded: dict[int, Decimal] = {}
        for transaction in self.transactions:
            amount = _money(transaction["amount"])
            parent_id = transaction.get("parent_id")
            if transaction["kind"] == "refund" and transaction["status"] == "success" and parent_id in amounts:
                parent = next(t for t in self.transactions if t["id"] == parent_id)
                before = refunded.get(parent_id, ZERO)
                amounts[transaction["id"]] = counterpart(
                    amount, before, _money(parent["amount"]), presentment, amounts[parent_id], shop
                )
                refunded[parent_id] = before + amount
            elif transaction["id"] not in amounts:
                amounts[transaction["id"]] = counterpart(amount, ZERO, whole, presentment, total, shop)
        return amounts


def shop_money_transactions(document: dict[str, Any]) -> dict[int, tuple[str, str]]:
    """Each transaction's (amount, currency) in shop money, for `in_shop_currency=true`."""
    figures = OrderFigures(document)
    currency = figures.shop_currency
    return {
        transaction_id: (_text(amount, currency), currency) for transaction_id, amount in figures.shop_amounts().items()
    }


def _processing_order(transaction: dict[str, Any]) -> tuple[datetime, int]:
    text = transaction.get("processed_at") or transaction.get("created_at")
    try:
        moment = datetime.fromisoformat(text) if text else None
    except ValueError:
        moment = None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment or datetime.min.replace(tzinfo=UTC), transaction["id"])


# -- the request ----------------------------------------------------------------------------


def _amount(value: Any, field_name: str, currency: str) -> Decimal:
    """A request amount, refused when it has more decimals than the currency has."""
    amount = parse_money(value)
    # Read the digits instead of quantizing: `quantize` raises InvalidOperation for amounts with
    # more than 28 digits (1e26 in USD), which the caller then refuses as above the maximum.
    _, digits, exponent = amount.as_tuple()
    beyond = -minor_unit(currency) - int(exponent)  # digits past the currency's decimal places
    if beyond > 0 and any(digits[-beyond:]):
        raise TooManyDecimals(field_name, currency, minor_unit(currency))
    return amount + 0  # normalise -0


@dataclass
class LineRequest:
    line_item_id: int
    quantity: int
    restock_type: str
    location_id: int | None


def _line_requests(refund: dict[str, Any]) -> list[LineRequest]:
    return [
        LineRequest(
            line_item_id=item["line_item_id"],
            quantity=item["quantity"],
            restock_type=item.get("restock_type", "no_restock"),
            location_id=item.get("location_id"),
        )
        for item in refund.get("refund_line_items") or []
    ]


# -- the quote --------------------------------------------------------------------------------


@dataclass
class QuotedLine:
    """The figures of some units of one line, with their restock instruction."""

    figures: LineFigures
    quantity: int
    restock_type: str
    location_id: int | None
    discounted_total: Decimal  # price × quantity − line-level discount share
    cart_discount: Decimal
    subtotal: Decimal
    tax: Decimal

    @property
    def line_item_id(self) -> int:
        return self.figures.line["id"]

    @property
    def line_discount(self) -> Decimal:
        return self.figures.price * self.quantity - self.discounted_total


@dataclass
class ShippingQuote:
    amount: Decimal
    tax: Decimal
    maximum_refundable: Decimal


@dataclass
class SuggestedRefund:
    parent: Parent
    amount: Decimal


@dataclass
class Quote:
    """Everything calculate answers and create records, in Decimals."""

    figures: OrderFigures
    currency: str  # the currency echoed back
    lines: list[QuotedLine]
    shipping: ShippingQuote
    suggestions: list[SuggestedRefund] = field(default_factory=list)

    @property
    def money_currency(self) -> str:
        """The currency of the quote's figures (presentment money, or shop money for a counterpart)."""
        return self.figures.currency

    @property
    def lines_value(self) -> Decimal:
        """What the refunded lines are worth to the customer (tax added unless prices include it)."""
        value = sum((line.subtotal for line in self.lines), ZERO)
        if not self.figures.taxes_included:
            value += sum((line.tax for line in self.lines), ZERO)
        return value

    @property
    def shipping_value(self) -> Decimal:
        extra = ZERO if self.figures.taxes_included else self.shipping.tax
        return self.shipping.amount + extra

    @property
    def total(self) -> Decimal:
        return self.lines_value + self.shipping_value


class _LineCursor:
    """Units of one line handed out one request after another, so shares never overlap."""

    def __init__(self, figures: LineFigures, currency: str):
        self.figures = figures
        self.currency = currency
        self.taken = figures.refunded
        self.subtotal_taken = figures.refunded_subtotal
        self.tax_taken = figures.refunded_tax
        self.fulfillable = figures.fulfillable
        self.returnable = max(0, figures.fulfilled - figures.returned)

    def take(self, quantity: int, restock_type: str, location_id: int | None) -> QuotedLine:
        line, currency = self.figures, self.currency
        before, after = self.taken, self.taken + quantity
        cart = unit_share(line.cart_discount, line.quantity, before, quantity, currency)
        line_discount = unit_share(line.line_discount, line.quantity, before, quantity, currency)
        if after == line.quantity:  # the last units take what is left, so the line adds up exactly
            subtotal = max(ZERO, line.net - self.subtotal_taken)
            tax = max(ZERO, line.tax - self.tax_taken)
            discounted_total = subtotal + cart
        else:
            discounted_total = line.price * quantity - line_discount
            subtotal = discounted_total - cart
            tax = unit_share(line.tax, line.quantity, before, quantity, currency)
        self.taken = after
        self.subtotal_taken += subtotal
        self.tax_taken += tax
        if restock_type == "cancel":
            self.fulfillable -= quantity
        elif restock_type == "return":
            self.returnable -= quantity
        return QuotedLine(line, quantity, restock_type, location_id, discounted_total, cart, subtotal, tax)


def figures_of(document: dict[str, Any]) -> OrderFigures:
    """The figures of an order document (for `StoredOrder.derive`: once per stored version)."""
    return OrderFigures(document)


def build_quote(
    document: dict[str, Any], refund: dict[str, Any], *, for_create: bool, figures: OrderFigures | None = None
) -> Quote:
    """Validate a refund request against the order's current state and compute its figures.

    Calculate modifies restock instructions that cannot be met; create refuses a `cancel` above
    the fulfillable units (Shopify's documented 422) and modifies an unmeetable `return`.
    Line errors are collected so that one answer names every problem, as Shopify's does.
    `figures` are the document's own, when the caller kept them (they are read, never changed).
    """
    if figures is None:
        figures = OrderFigures(document)
    errors: list[Unprocessable] = []
    cursors: dict[int, _LineCursor] = {}
    lines: list[QuotedLine] = []
    for request in _line_requests(refund):
        line = figures.lines.get(request.line_item_id)
        if line is None:
            errors.append(UnknownLineItem(request.line_item_id))
            continue
        if request.quantity > line.quantity:
            errors.append(MoreThanPurchased())
            continue
        cursor = cursors.setdefault(request.line_item_id, _LineCursor(line, figures.currency))
        line_errors: list[Unprocessable] = []
        if request.quantity > line.quantity - cursor.taken:
            line_errors.append(MoreThanRefundableQuantity())
        if for_create and request.restock_type == "cancel" and request.quantity > cursor.fulfillable:
            line_errors.append(MoreThanFulfillable())
        if for_create and request.restock_type in RESTOCKING and request.location_id is None:
            line_errors.append(LocationRequired())
        if line_errors:
            errors.extend(line_errors)
            continue
        lines.extend(_restocked_parts(figures, cursor, request))
    shipping = _shipping_quote(figures, refund, errors)
    currency = refund.get("currency")
    if figures.multi_currency and currency is None:
        errors.append(PresentmentCurrencyRequired(figures.presentment_currency))
    elif currency is not None and currency != figures.presentment_currency:
        errors.append(CurrencyMismatch("currency", currency, figures.presentment_currency))
    if errors:
        raise Unprocessable.merge(errors)
    quote = Quote(figures, currency or figures.presentment_currency, lines, shipping)
    quote.suggestions = _suggest(figures.parents(), quote.total)
    return quote


def _restocked_parts(figures: OrderFigures, cursor: _LineCursor, request: LineRequest) -> list[QuotedLine]:
    """The request's units, the restockable ones first; the rest become `no_restock` (modified instructions)."""
    if request.restock_type == "cancel":
        meetable = min(request.quantity, max(0, cursor.fulfillable))
    elif request.restock_type == "return":
        meetable = min(request.quantity, max(0, cursor.returnable))
    else:
        meetable = request.quantity
    parts = []
    if meetable:
        location = None
        if request.restock_type in RESTOCKING:
            location = request.location_id or figures.location_for(cursor.figures, request.restock_type)
        parts.append(cursor.take(meetable, request.restock_type, location))
    if request.quantity - meetable:
        parts.append(cursor.take(request.quantity - meetable, "no_restock", None))
    return parts


def _shipping_quote(figures: OrderFigures, refund: dict[str, Any], errors: list[Unprocessable]) -> ShippingQuote:
    currency = figures.currency
    maximum = max(ZERO, figures.shipping_paid - figures.shipping_refunded)
    requested = refund.get("shipping") or {}
    amount = ZERO
    if "amount" in requested:
        try:
            amount = _amount(requested["amount"], "shipping.amount", currency)
        except Unprocessable as error:
            errors.append(error)
            amount = ZERO
        if amount > maximum:
            errors.append(ShippingAboveRefundable(format_money(maximum, currency)))
            amount = ZERO
        if amount and refund.get("currency") is None and not figures.multi_currency:
            errors.append(CurrencyRequired())
    elif requested.get("full_refund"):
        amount = maximum
    return ShippingQuote(amount, _shipping_tax_share(figures, amount, maximum), maximum)


def _shipping_tax_share(figures: OrderFigures, amount: Decimal, maximum: Decimal) -> Decimal:
    """The shipping tax that goes with `amount`: a cumulative share by minor units, the rest at the end."""
    left = max(ZERO, figures.shipping_tax - figures.shipping_tax_refunded)
    if amount <= 0 or figures.shipping_paid <= 0:
        return ZERO
    if amount >= maximum:
        return left
    step = quantum(figures.currency)
    whole = int(figures.shipping_paid / step)
    before = int(figures.shipping_refunded / step)
    share = cumulative_share(figures.shipping_tax, before + int(amount / step), whole, figures.currency)
    return min(left, max(ZERO, share - figures.shipping_tax_refunded))


def _suggest(parents: list[Parent], total: Decimal) -> list[SuggestedRefund]:
    """Fill `total` across the parents with money left, oldest first, each up to its room."""
    suggestions = []
    left = total
    for parent in parents:
        if parent.room <= 0:
            continue
        amount = min(left, parent.room)
        suggestions.append(SuggestedRefund(parent, amount))
        left -= amount
    return suggestions


def shop_counterpart(document: dict[str, Any], quote: Quote) -> Quote:
    """The same refund in shop money: each figure split from the order's matching shop-money figure.

    The lines take the same units by the same cumulative shares, read from the shop side of
    the order's figures; the shipping amount is the counterpart of the presentment amount in
    the shop shipping paid. A single-currency order's quote is its own counterpart.
    """
    figures = quote.figures
    if not figures.multi_currency:
        return quote
    shop = OrderFigures(document, side=SHOP_MONEY)
    cursors: dict[int, _LineCursor] = {}
    lines = []
    for line in quote.lines:
        cursor = cursors.setdefault(line.line_item_id, _LineCursor(shop.lines[line.line_item_id], shop.currency))
        lines.append(cursor.take(line.quantity, line.restock_type, line.location_id))
    maximum = max(ZERO, shop.shipping_paid - shop.shipping_refunded)
    if quote.shipping.amount >= quote.shipping.maximum_refundable:
        amount = maximum if quote.shipping.amount > 0 else ZERO
    else:
        amount = counterpart(
            quote.shipping.amount,
            figures.shipping_refunded,
            figures.shipping_paid,
            figures.currency,
            shop.shipping_paid,
            shop.currency,
        )
        amount = min(maximum, amount)
    shipping = ShippingQuote(amount, _shipping_tax_share(shop, amount, maximum), maximum)
    return Quote(shop, shop.currency, lines, shipping)


# -- rendering ------------------------------------------------------------------------------


def _text(amount: Decimal, currency: str) -> str:
    """`format_money`, writing -0.00 as 0.00 (`+ 0`); one call shorter, for the dozens a quote writes."""
    return str(round_money(amount + 0, currency))


def money_set(
    amount: Decimal, currency: str, shop_amount: Decimal | None = None, shop_currency: str | None = None
) -> dict[str, dict[str, str]]:
    """A MoneySet: `amount` in presentment money and its shop-money counterpart (the same when not given)."""
    shop_amount = amount if shop_amount is None else shop_amount
    shop_currency = shop_currency or currency
    return {
        "shop_money": {"amount": _text(shop_amount, shop_currency), "currency_code": shop_currency},
        "presentment_money": {"amount": _text(amount, currency), "currency_code": currency},
    }


def render_calculation(quote: Quote) -> dict[str, Any]:
    """The calculate answer, in Shopify's shapes (money as strings, presentment money)."""
    currency = quote.money_currency
    unit_prices = quote.figures.unit_prices
    return {
        "refund": {
            "shipping": {
                "amount": _text(quote.shipping.amount, currency),
                "tax": _text(quote.shipping.tax, currency),
                "maximum_refundable": _text(quote.shipping.maximum_refundable, currency),
            },
            "duties": [],
            "total_duties_set": money_set(ZERO, currency, ZERO, quote.figures.shop_currency),
            "refund_line_items": [
                {
                    "quantity": line.quantity,
                    "line_item_id": line.line_item_id,
                    "location_id": line.location_id,
                    "restock_type": line.restock_type,
                    "price": unit_prices[line.line_item_id][0],
                    "subtotal": _text(line.subtotal, currency),
                    "total_tax": _text(line.tax, currency),
                    "discounted_price": unit_prices[line.line_item_id][1],
                    "discounted_total_price": _text(line.discounted_total, currency),
                    "total_cart_discount_amount": _text(line.cart_discount, currency),
                }
                for line in quote.lines
            ],
            "transactions": suggested_transactions(quote),
            "currency": quote.currency,
        }
    }


def suggested_transactions(quote: Quote) -> list[dict[str, Any]]:
    """calculate's `transactions`: the suggested refund of each parent, as Shopify writes them
    (also read alone by the generator, which refunds what calculate suggests)."""
    currency = quote.money_currency
    order_id = quote.figures.order["id"]
    return [
        {
            "order_id": order_id,
            "kind": "suggested_refund",
            "gateway": suggestion.parent.transaction.get("gateway", ""),
            "parent_id": suggestion.parent.id,
            "amount": _text(suggestion.amount, currency),
            "currency": suggestion.parent.transaction.get("currency") or currency,
            "maximum_refundable": _text(suggestion.parent.room, currency),
        }
        for suggestion in quote.suggestions
    ]


def _discounted_unit_price(line: LineFigures, currency: str) -> Decimal:
    if line.quantity <= 0:
        return line.price
    return line.price - cumulative_share(line.line_discount, 1, line.quantity, currency)


def calculate(document: dict[str, Any], refund: dict[str, Any], figures: OrderFigures | None = None) -> dict[str, Any]:
    """calculateRefund: the quote for `refund` on the order as it stands; nothing is changed."""
    return render_calculation(build_quote(document, refund, for_create=False, figures=figures))


# -- creating a refund ----------------------------------------------------------------------


@dataclass
class RequestedTransaction:
    parent: Parent
    amount: Decimal


def _requested_transactions(figures: OrderFigures, refund: dict[str, Any]) -> list[RequestedTransaction]:
    """The request's transactions checked against their parents; amounts of zero are dropped."""
    parents = {parent.id: parent for parent in figures.parents()}
    order_id = figures.order["id"]
    errors: list[Unprocessable] = []
    accepted: list[RequestedTransaction] = []
    per_parent: dict[int, Decimal] = {}
    for item in refund.get("transactions") or []:
        parent = parents.get(item["parent_id"])
        if parent is None:
            errors.append(ParentNotOnOrder())
            continue
        currency = parent.transaction.get("currency") or figures.currency
        if item.get("order_id") not in (None, order_id):
            errors.append(OrderMismatch())
        if item.get("currency") not in (None, currency):
            errors.append(CurrencyMismatch("transactions.currency", item["currency"], currency))
        try:
            amount = _amount(item["amount"], "transactions.amount", currency)
        except Unprocessable as error:
            errors.append(error)
            continue
        per_parent[parent.id] = per_parent.get(parent.id, ZERO) + amount
        if per_parent[parent.id] > parent.room:
            errors.append(AmountAboveRefundable(parent.id, format_money(max(ZERO, parent.room), currency)))
        if amount > 0:
            accepted.append(RequestedTransaction(parent, amount))
    if errors:
        raise Unprocessable.merge(errors)
    return accepted


def _timestamp(order: dict[str, Any], now: datetime | None) -> str:
    """Now, in the shop's offset (taken from the order's created_at), as Shopify writes it."""
    moment = now or datetime.now(UTC)
    offset = timedelta(0)
    try:
        created = datetime.fromisoformat(order.get("created_at") or "")
        offset = created.utcoffset() or timedelta(0)
    except ValueError:
        pass
    return moment.astimezone(timezone(offset)).isoformat(timespec="seconds")


def _copy(value: Any) -> Any:
    """A deep copy of a JSON value (a line item to snapshot), twice as fast as `copy.deepcopy`:
    only its dicts and lists are copied, the other values of JSON cannot change."""
    if type(value) is dict:
        return {key: _copy(child) for key, child in value.items()}
    if type(value) is list:
        return [_copy(child) for child in value]
    return copy.deepcopy(value) if isinstance(value, dict | list) else value


# `"id": <integer>` in orjson's compact text. It is a key when a `{` or `,` comes before it (a
# quote inside a string is escaped, `\"`), and an integer when `,` or `}` ends its digits (not a
# float, nor an exponent). The pattern starts with the literal, which the regex engine finds fast.
_ID_FIELD = re.compile(rb'"id":(\d+)(?=[,}])')
_KEY_START = frozenset(b"{,")


def _first_id(document: dict[str, Any]) -> int:
    """Ids above every id the document holds, so new ids never meet fixture ids.

    Read from the document's JSON text, faster than walking its objects (a create reads the
    whole order); a document orjson refuses (an integer beyond 64 bits) is walked.
    """
    try:
        text = orjson.dumps(document)
    except TypeError:  # orjson.JSONEncodeError
        return max(FIRST_MOCK_ID, _highest_id(document) + 1)
    found = (int(match[1]) for match in _ID_FIELD.finditer(text) if text[match.start() - 1] in _KEY_START)
    return max(FIRST_MOCK_ID, max(found, default=0) + 1)


def _highest_id(document: dict[str, Any]) -> int:
    highest = 0
    pending: list[Any] = [document]  # a stack rather than recursion: a document may nest deeply
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            value = node.get("id")
            if isinstance(value, int) and not isinstance(value, bool) and value > highest:
                highest = value
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return highest


@dataclass
class CreatedRefund:
    refund: dict[str, Any]
    order_id: int

    @property
    def refund_id(self) -> int:
        return self.refund["id"]


def create_refund(
    document: dict[str, Any],
    refund_request: dict[str, Any],
    next_id: NextId,
    now: datetime | None = None,
    figures: OrderFigures | None = None,
) -> CreatedRefund:
    """createRefund: validate, record the refund and change the order, all on `document` in place.

    A pure function of the document (plus new ids and the clock), so the store can run it again
    on fresh state when another writer saved the order first. Figures are presentment money; each
    `*_set` also carries its shop-money counterpart (`shop_counterpart`). `figures`: the
    document's own as it stands, when the caller kept them (the generator, which calculated first).
    """
    quote = build_quote(document, refund_request, for_create=True, figures=figures)
    figures = quote.figures
    transactions = _requested_transactions(figures, refund_request)
    money_out = sum((item.amount for item in transactions), ZERO)
    if not quote.lines and quote.shipping.amount <= 0 and money_out <= 0:
        raise NothingToRefund()
    shop = shop_counterpart(document, quote)

    order = figures.order
    start = _first_id(document)
    refund_id = next_id("shopify.refund", start)
    created_at = _timestamp(order, now)
    snapshots = {line.line_item_id: _copy(line.figures.line) for line in quote.lines}
    legacy = refund_request.get("restock") is True
    requested_types = [item.get("restock_type") for item in refund_request.get("refund_line_items") or []]

    refund: dict[str, Any] = {
        "id": refund_id,
        "order_id": order["id"],
        "created_at": created_at,
        "note": refund_request.get("note"),
        "user_id": None,
        "processed_at": created_at,
        "restock": refund_request.get("restock", any(line.restock_type in RESTOCKING for line in quote.lines)),
        "duties": [],
        "total_duties_set": _pair(ZERO, ZERO, quote, shop),
        "admin_graphql_api_id": f"gid://shopify/Refund/{refund_id}",
        "refund_line_items": [
            _refund_line(line, shop_line, quote, shop, snapshots, next_id, start)
            for line, shop_line in zip(quote.lines, shop.lines, strict=True)
        ],
        "transactions": [_refund_transaction(figures, item, created_at, next_id, start) for item in transactions],
    }
    if legacy and all(kind is None for kind in requested_types):
        _mark_legacy_restock(figures, refund["refund_line_items"], _line_requests(refund_request))
    refund["order_adjustments"] = _adjustments(
        quote, shop, refund_request, transactions, refund["transactions"], refund_id, next_id, start
    )
    _apply(document, quote, shop, refund)
    return CreatedRefund(refund, order["id"])


def _pair(amount: Decimal, shop_amount: Decimal, quote: Quote, shop: Quote) -> dict[str, dict[str, str]]:
    """A MoneySet of a presentment figure of `quote` and its shop-money counterpart in `shop`."""
    return money_set(amount, quote.money_currency, shop_amount, shop.money_currency)


def _refund_line(
    line: QuotedLine,
    shop_line: QuotedLine,
    quote: Quote,
    shop: Quote,
    snapshots: dict[int, dict[str, Any]],
    next_id: NextId,
    start: int,
) -> dict[str, Any]:
    """A stored refund line: `subtotal`/`total_tax` (numbers, shop money, like every plain field) and both monies."""
    return {
        "id": next_id("shopify.refund_line_item", start),
        "quantity": line.quantity,
        "line_item_id": line.line_item_id,
        "location_id": line.location_id,
        "restock_type": line.restock_type,
        "subtotal": float(shop_line.subtotal),
        "total_tax": float(shop_line.tax),
        "subtotal_set": _pair(line.subtotal, shop_line.subtotal, quote, shop),
        "total_tax_set": _pair(line.tax, shop_line.tax, quote, shop),
        "line_item": snapshots[line.line_item_id],
    }


def _mark_legacy_restock(figures: OrderFigures, lines: list[dict[str, Any]], requests: list[LineRequest]) -> None:
    """The deprecated `restock: true` (lines naming no `restock_type`): Shopify records `legacy_restock`.

    The location is the one the request names for the line, else a suitable one.
    """
    named = {request.line_item_id: request.location_id for request in requests if request.location_id}
    for line in lines:
        line["restock_type"] = LEGACY_RESTOCK
        line_id = line["line_item_id"]
        line["location_id"] = named.get(line_id) or figures.location_for(figures.lines[line_id], "cancel")


def _refund_transaction(
    figures: OrderFigures, item: RequestedTransaction, created_at: str, next_id: NextId, start: int
) -> dict[str, Any]:
    order = figures.order
    parent = item.parent.transaction
    currency = parent.get("currency") or figures.currency
    gateway = parent.get("gateway", "")
    amount = _text(item.amount, currency)
    transaction_id = next_id("shopify.transaction", start)
    message = (
        "Bogus Gateway: Forced success"
        if gateway == "bogus"
        else f"Refunded {amount} from {gateway or 'manual'} gateway"
    )
    return {
        "id": transaction_id,
        "order_id": order["id"],
        "kind": "refund",
        "gateway": gateway,
        "status": "success",
        "message": message,
        "created_at": created_at,
        "test": bool(parent.get("test", False)),
        "authorization": None,
        "location_id": None,
        "user_id": None,
        "parent_id": parent["id"],
        "processed_at": created_at,
        "device_id": None,
        "error_code": None,
        "source_name": "refund-mock",
        "receipt": {},
        "amount": amount,
        "currency": currency,
        "admin_graphql_api_id": f"gid://shopify/OrderTransaction/{transaction_id}",
    }


def _shop_money_out(figures: OrderFigures, created: list[dict[str, Any]]) -> Decimal:
    """The shop money of the refund's new transactions (as `in_shop_currency` will show them)."""
    if not figures.multi_currency:
        return sum((_money(transaction["amount"]) for transaction in created), ZERO)
    with_new = OrderFigures({"order": figures.order, "transactions": [*figures.transactions, *created]})
    amounts = with_new.shop_amounts()
    return sum((amounts[transaction["id"]] for transaction in created), ZERO)


def _adjustments(
    quote: Quote,
    shop: Quote,
    request: dict[str, Any],
    transactions: list[RequestedTransaction],
    created: list[dict[str, Any]],
    refund_id: int,
    next_id: NextId,
    start: int,
) -> list[dict[str, Any]]:
    """A `shipping_refund` for refunded shipping; a `refund_discrepancy` when money and items differ.

    Whether there is a discrepancy is decided in presentment money (the money the customer
    gets back); its shop figure is the shop value of the items less the shop money refunded.
    """
    order_id = quote.figures.order["id"]
    shop_currency = shop.money_currency
    adjustments = []

    def adjustment(
        kind: str, amount: Decimal, tax: Decimal, shop_amount: Decimal, shop_tax: Decimal, reason: str
    ) -> dict[str, Any]:
        return {
            "id": next_id("shopify.order_adjustment", start),
            "order_id": order_id,
            "refund_id": refund_id,
            "amount": _text(shop_amount, shop_currency),
            "tax_amount": _text(shop_tax, shop_currency),
            "kind": kind,
            "reason": reason,
            "amount_set": _pair(amount, shop_amount, quote, shop),
            "tax_amount_set": _pair(tax, shop_tax, quote, shop),
        }

    if quote.shipping.amount > 0 or quote.shipping.tax > 0:
        adjustments.append(
            adjustment(
                "shipping_refund",
                -quote.shipping.amount,
                -quote.shipping.tax,
                -shop.shipping.amount,
                -shop.shipping.tax,
                "Shipping refund",
            )
        )
    money_out = sum((item.amount for item in transactions), ZERO)
    discrepancy = quote.total - money_out
    if discrepancy:
        shop_discrepancy = shop.total - _shop_money_out(quote.figures, created)
        reason = request.get("discrepancy_reason") or "Refund discrepancy"
        adjustments.append(adjustment("refund_discrepancy", discrepancy, ZERO, shop_discrepancy, ZERO, reason))
    return adjustments


def money_received(transactions: Iterable[dict[str, Any]]) -> Decimal:
    """What the customer paid: the successful captures and sales."""
    return sum(
        (_money(t["amount"]) for t in transactions if t["kind"] in PAYMENT_KINDS and t["status"] == "success"), ZERO
    )


def money_refunded(transactions: Iterable[dict[str, Any]]) -> Decimal:
    """What went back to the customer: the successful refunds."""
    return sum((_money(t["amount"]) for t in transactions if t["kind"] == "refund" and t["status"] == "success"), ZERO)


def _apply(document: dict[str, Any], quote: Quote, shop: Quote, refund: dict[str, Any]) -> None:
    """The order after the refund: refunds, transactions, status, fulfillable units, current totals."""
    order = document["order"]
    order.setdefault("refunds", []).append(refund)
    document["transactions"].extend(refund["transactions"])

    refunded_units: dict[int, int] = {}
    for line in quote.lines:
        refunded_units[line.line_item_id] = refunded_units.get(line.line_item_id, line.figures.refunded) + line.quantity
        if line.restock_type == "cancel":
            line.figures.line["fulfillable_quantity"] = (
                int(line.figures.line.get("fulfillable_quantity", 0)) - line.quantity
            )
    for line_id, refunded in refunded_units.items():
        line_item = quote.figures.lines[line_id].line
        unrefunded = int(line_item["quantity"]) - refunded
        line_item["fulfillable_quantity"] = max(0, min(int(line_item.get("fulfillable_quantity", 0)), unrefunded))

    received = money_received(document["transactions"])
    refunded_money = money_refunded(document["transactions"])
    if refunded_money > 0:
        order["financial_status"] = "refunded" if refunded_money >= received else "partially_refunded"

    for key, figure in _CURRENT_TOTALS.items():
        _lower(order, key, figure(shop), figure(quote), shop.money_currency, quote.money_currency)
    order["updated_at"] = refund["created_at"]


def _refunded_tax(quote: Quote) -> Decimal:
    return sum((line.tax for line in quote.lines), ZERO) + quote.shipping.tax


_CURRENT_TOTALS: dict[str, Callable[[Quote], Decimal]] = {
    "current_subtotal_price": lambda quote: sum((line.subtotal for line in quote.lines), ZERO),
    "current_total_tax": _refunded_tax,
    "current_total_discounts": lambda quote: sum(
        (line.cart_discount + line.line_discount for line in quote.lines), ZERO
    ),
    "current_total_price": lambda quote: quote.total,
}


def _lower(
    order: dict[str, Any], key: str, shop_by: Decimal, presentment_by: Decimal, shop_currency: str, currency: str
) -> None:
    """Lower a money field (shop money) and both monies of its `_set` (never below zero)."""
    if key in order and order[key] is not None:
        order[key] = _text(max(ZERO, _money(order[key]) - shop_by), shop_currency)
    money = order.get(f"{key}_set")
    if not isinstance(money, dict):
        return
    for side in (SHOP_MONEY, PRESENTMENT_MONEY):
        part = money.get(side)
        if not isinstance(part, dict) or part.get("amount") is None:
            continue
        code = part.get("currency_code")
        if side == SHOP_MONEY or code == shop_currency != currency:
            by, code = shop_by, shop_currency
        elif code in (None, currency):
            by, code = presentment_by, currency
        else:
            continue  # a third currency: not this order's money
        part["amount"] = _text(max(ZERO, _money(part["amount"]) - by), code)


# -- what is left (the admin API's order balances, for the dashboard) ---------------------------


def balance(document: dict[str, Any]) -> dict[str, Any]:
    """What is left to refund on an order, as the refund engine counts it: the units of each line
    not yet refunded, and the room left on the successful captures and sales (in presentment
    money, the currency refunds are made in)."""
    figures = figures_of(document)
    currency = figures.currency
    order = figures.order
    refunds = []
    for refund in order.get("refunds") or []:
        paid_back = [
            t for t in refund.get("transactions") or [] if t.get("kind") == "refund" and t.get("status") == "success"
        ]
        refunds.append(
            {
                "id": refund["id"],
                "created_at": refund.get("created_at"),
                "units": sum(int(line["quantity"]) for line in refund.get("refund_line_items") or []),
                "amount": format_money(_sum(paid_back, "amount"), currency),
                "note": refund.get("note"),
            }
        )
    return {
        "order_id": int(order["id"]),
        "name": str(order.get("name") or order["id"]),
        "currency": currency,
        "units_left": sum(max(0, line.quantity - line.refunded) for line in figures.lines.values()),
        "money_left": format_money(sum((max(ZERO, p.room) for p in figures.parents()), ZERO), currency),
        "refunds": refunds,
    }
