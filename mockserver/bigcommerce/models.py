"""The BigCommerce refund engine: quotes and refunds computed from one fixture order document.

Plain Python, no HTTP. Everything refundable on an order is a `Component` (a product line, its
gift wrapping, a shipping address's shipping or handling, a fee) with the money the shopper
paid for it, the tax inside that money, and a count of units: the line's quantity, or, for
amount-bound components, the amount in the currency's minor units. Taking units uses
cumulative shares (`money.unit_share`), so refunding all units in any grouping returns
exactly what was paid and exactly its tax: no cent lost or invented.

The state lives in the document itself (BigCommerce's own fields): products'
`quantity_refunded`, the `refunds` with their items and totals, and the `refund` transactions.
"""

from __future__ import annotations

import copy
import email.utils
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

from mockserver.bigcommerce.exceptions import (
    GuestStoreCredit,
    InvalidData,
    RefundAmountGreaterThanRemaining,
    RefundAmountNegative,
    RefundQuantityGreaterThanRemaining,
)
from mockserver.money import (
    ZERO,
    cumulative_share,
    format_money,
    parse_money,
    quantum,
    round_money,
    split,
    unit_share,
)

PRODUCT = "PRODUCT"
GIFT_WRAPPING = "GIFT_WRAPPING"
SHIPPING = "SHIPPING"
HANDLING = "HANDLING"
ORDER = "ORDER"
FEE = "FEE"
TAX = "TAX"
QUANTITY_BOUND = (PRODUCT, GIFT_WRAPPING)

STORE_CREDIT = "storecredit"
CUSTOM = "custom"
OFFLINE_PROVIDERS = frozenset({"bankdeposit", "cheque", "cod", "custom", "instore", "moneyorder"})
INTERNAL_PROVIDERS = frozenset({"storecredit", "giftcertificate"})  # refunded by BigCommerce itself
OFFLINE_REASON = "This is an offline payment provider."
MULTIPLE_ONLINE_REASON = "Multiple online refunds are not available"
PROVIDER_DESCRIPTIONS = {
    "2checkout": "2Checkout",
    "adyen": "Adyen",
    "amazon": "Amazon Pay",
    "authorizenet": "Authorize.net",
    "bankdeposit": "Bank Deposit",
    "braintree": "Braintree",
    "cheque": "Check",
    "cod": "Cash on Delivery",
    "custom": "Custom",
    "giftcertificate": "Gift Certificate",
    "instore": "Pay in Store",
    "klarna": "Klarna",
    "moneyorder": "Money Order",
    "paypalexpress": "PayPal Express",
    "square": "Square",
    "storecredit": "Store Credit",
    "stripe": "Stripe",
    "testgateway": "Test Payment Gateway",
}
TRANSACTION_METHODS = {
    "storecredit": "store_credit",
    "giftcertificate": "gift_certificate",
    "custom": "custom",
}
PAID_EVENTS = frozenset({"purchase", "capture"})
# What a refund transaction repeats of the transaction that paid on the tender it goes back to.
REFUND_INSTRUMENT_FIELDS = ("offline", "custom", "payment_method_id", "payment_instrument_token", "credit_card")
# The order must be paid before it can be refunded (refund guide, "Troubleshooting").
UNREFUNDABLE_PAYMENT_STATUSES = frozenset(
    {"authorized", "pending", "capture pending", "declined", "held for review", "void", "void pending"}
)
# The kinds of id a refund asks for (the generator gives each kind its own block of an order's ids).
REFUND_SEQUENCE = "bigcommerce.refund"
PAYMENT_SEQUENCE = "bigcommerce.refund_payment"
TRANSACTION_SEQUENCE = "bigcommerce.transaction"
# The server draws all three from one store-wide sequence: every object a refund creates gets an
# id no other refund, payment or transaction of the store holds (see `ids_in`).
STORE_ID_SEQUENCE = "bigcommerce.id"
STATUS_REFUNDED = (4, "Refunded")
STATUS_PARTIALLY_REFUNDED = (14, "Partially Refunded")


# -- small conversions -------------------------------------------------------------------------


def amount_of(value: Any) -> Decimal:
    """A stored amount (V2 string, V3 number) as a Decimal; missing means zero."""
    if value is None or value == "":
        return ZERO
    return parse_money(value)


def request_money(value: Any, field_name: str) -> Decimal:
    """V3 request money: a JSON number (the spec refuses strings first; this says the same)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidData({field_name: "must be a number"})
    try:
        return parse_money(value)
    except ValueError as error:
        raise InvalidData({field_name: "must be a number"}) from error


def as_number(amount: Decimal) -> int | float:
    """V3 money: a JSON number (an int when whole, so JPY reads 1500, not 1500.0)."""
    if amount == amount.to_integral_value():
        return int(amount)
    return float(amount)


def as_v2_money(amount: Decimal) -> str:
    """V2 money: a string with four decimals."""
    return f"{amount:.4f}"


def iso_utc(moment: datetime) -> str:
    """RFC 3339 in UTC with `+00:00`, the form refunds carry and the store compares as text."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def rfc2822(moment: datetime) -> str:
    """V2 dates: `Tue, 05 Mar 2019 21:40:11 +0000`."""
    return email.utils.format_datetime(moment.astimezone(UTC))


# -- the order as the engine sees it -----------------------------------------------------------


@dataclass(frozen=True)
class Component:
    """Something refundable: `money` paid for it (tax included), `tax` inside it, in `units`."""

    kind: str
    item_id: int
    money: Decimal
    tax: Decimal
    units: int
    refunded_units: int

    def take(self, taken_before: int, taking: int, currency: str) -> tuple[Decimal, Decimal]:
        """(money, tax) of `taking` more units after `taken_before` were taken."""
        money = unit_share(self.money, self.units, taken_before, taking, currency)
        tax = unit_share(self.tax, self.units, taken_before, taking, currency)
        return money, tax

    def tax_of_refunded(self, currency: str) -> Decimal:
        return cumulative_share(self.tax, self.refunded_units, self.units, currency)


@dataclass
class Tender:
    """One way the shopper paid (a gateway), with what is left to refund on it."""

    provider_id: str
    method: str
    paid: Decimal = ZERO
    refunded: Decimal = ZERO
    transaction_id: int | None = None
    paid_with: Mapping[str, Any] | None = None  # the first transaction that took money on it

    @property
    def room(self) -> Decimal:
        return max(ZERO, self.paid - self.refunded)


class OrderView:
    """Read-only views of a fixture document: currency, components, tenders, refunded totals.

    With `keep=True` (a view of a stored version, which never changes: `view_of`) components
    and tenders are computed once and served to every quote on that version.
    """

    def __init__(self, document: dict[str, Any], *, keep: bool = False):
        self.document = document
        self._kept: dict[Any, Any] | None = {} if keep else None
        self.order: dict[str, Any] = document["order"]
        self.id = int(self.order["id"])
        self.currency = str(self.order.get("default_currency_code") or self.order.get("currency_code") or "USD")
        self.currency = self.currency.upper()
        self.step = quantum(self.currency)
        self.tax_inclusive = bool(self.order.get("is_tax_inclusive_pricing"))
        self.is_guest = amount_of(self.order.get("customer_id")) == 0
        store_currency = self.order.get("store_default_currency_code")
        self.in_store_currency = not store_currency or str(store_currency).upper() == self.currency
        self.total = self.money(self.order["total_inc_tax"])
        self.refunds: list[dict[str, Any]] = document.setdefault("refunds", [])
        self.refunded = sum((self.money(refund["total_amount"]) for refund in self.refunds), ZERO)

    def money(self, value: Any) -> Decimal:
        return round_money(amount_of(value), self.currency)

    def units(self, amount: Decimal) -> int:
        """An amount in the currency's minor units (exact: amounts are rounded first)."""
        return int((round_money(amount, self.currency) / self.step).to_integral_value())

    @property
    def remaining(self) -> Decimal:
        """The money still refundable on the order."""
        return max(ZERO, self.total - self.refunded)

    @property
    def store_credit_allowed(self) -> bool:
        return not self.is_guest and self.in_store_currency

    # components ------------------------------------------------------------------------

    def _refunded(self, kind: str, item_id: int) -> tuple[int, Decimal]:
        """(units, amount) already refunded on a component, from the order's refunds."""
        quantity, amount = 0, ZERO
        for refund in self.refunds:
            for item in refund.get("items", []):
                if item.get("item_type") == kind and int(item.get("item_id", 0)) == item_id:
                    quantity += int(item.get("quantity") or 0)
                    amount += amount_of(item.get("requested_amount"))
        return quantity, amount

    def product(self, item_id: int) -> dict[str, Any] | None:
        return next((p for p in self.document.get("products", []) if int(p["id"]) == item_id), None)

    def line_paid(self, product: Mapping[str, Any]) -> Decimal:
        """What the shopper paid for a product line, after every discount, tax included."""
        if product.get("discounted_total_inc_tax") not in (None, ""):
            return self.money(product["discounted_total_inc_tax"])
        discounts = sum((self.money(d.get("amount")) for d in product.get("applied_discounts") or []), ZERO)
        if self.tax_inclusive:
            return self.money(product["total_inc_tax"]) - discounts
        return self.money(product["total_ex_tax"]) - discounts + self.money(product["total_tax"])

    def product_component(self, product: Mapping[str, Any]) -> Component:
        return Component(
            PRODUCT,
            int(product["id"]),
            self.line_paid(product),
            self.money(product["total_tax"]),
            int(product["quantity"]),
            int(amount_of(product.get("quantity_refunded"))),
        )

    def wrapping_component(self, product: Mapping[str, Any]) -> Component | None:
        money = self.money(product.get("wrapping_cost_inc_tax"))
        if money <= 0:
            return None
        refunded, _ = self._refunded(GIFT_WRAPPING, int(product["id"]))
        tax = self.money(product.get("wrapping_cost_tax"))
        return Component(GIFT_WRAPPING, int(product["id"]), money, tax, int(product["quantity"]), refunded)

    def _amount_component(self, kind: str, item_id: int, ex_tax: Any, inc_tax: Any, tax: Any) -> Component:
        """An amount-bound component; its units are minor units of the order's price basis."""
        tax_amount = self.money(tax)
        basis = self.money(inc_tax) if self.tax_inclusive else self.money(ex_tax)
        money = basis if self.tax_inclusive else basis + tax_amount
        _, refunded = self._refunded(kind, item_id)
        return Component(kind, item_id, money, tax_amount, self.units(basis), self.units(refunded))

    def address_component(self, kind: str, address: Mapping[str, Any]) -> Component:
        prefix = "cost" if kind == SHIPPING else "handling_cost"
        return self._amount_component(
            kind,
            int(address["id"]),
            address.get(f"{prefix}_ex_tax"),
            address.get(f"{prefix}_inc_tax"),
            address.get(f"{prefix}_tax"),
        )

    def fee_component(self, fee: Mapping[str, Any]) -> Component:
        return self._amount_component(
            FEE, int(fee["id"]), fee.get("cost_ex_tax"), fee.get("cost_inc_tax"), fee.get("cost_tax")
        )

    def component(self, kind: str, item_id: int) -> Component | None:
        """The component a refund item points at, or None when the order has no such thing."""
        if self._kept is None:
            return self._component(kind, item_id)
        key = (kind, item_id)
        if key not in self._kept:
            self._kept[key] = self._component(kind, item_id)
        return self._kept[key]

    def _component(self, kind: str, item_id: int) -> Component | None:
        if kind in QUANTITY_BOUND:
            product = self.product(item_id)
            if product is None:
                return None
            return self.product_component(product) if kind == PRODUCT else self.wrapping_component(product)
        if kind in (SHIPPING, HANDLING):
            for address in self.document.get("shipping_addresses", []):
                if int(address["id"]) == item_id:
                    return self.address_component(kind, address)
            return None
        if kind == FEE:
            for fee in self.document.get("fees") or []:
                if int(fee["id"]) == item_id:
                    return self.fee_component(fee)
        return None

    def components(self) -> Iterable[Component]:
        """Everything refundable on the order, except order-level (ORDER) amounts."""
        for product in self.document.get("products", []):
            yield self.product_component(product)
            wrapping = self.wrapping_component(product)
            if wrapping is not None:
                yield wrapping
        for address in self.document.get("shipping_addresses", []):
            yield self.address_component(SHIPPING, address)
            yield self.address_component(HANDLING, address)
        for fee in self.document.get("fees") or []:
            yield self.fee_component(fee)

    def overcharged_tax(self) -> Decimal:
        """Tax the refunded items carried minus the tax the refunds recorded.

        Zero while every refund used the computed tax; positive after a refund whose
        `merchant_calculated_override` gave back less tax than its items carried. An override
        that gave back more tax than the items carried leaves nothing overcharged (zero, not a
        negative amount that no tax adjustment could match).
        """
        carried = sum((component.tax_of_refunded(self.currency) for component in self.components()), ZERO)
        recorded = sum((self.money(refund.get("total_tax")) for refund in self.refunds), ZERO)
        return max(ZERO, carried - recorded)

    # tenders ---------------------------------------------------------------------------

    def tenders(self) -> list[Tender]:
        """The gateways that took money, in the order they appear, with what was refunded on each."""
        if self._kept is None:
            return self._tenders()
        if "tenders" not in self._kept:
            self._kept["tenders"] = self._tenders()
        return list(self._kept["tenders"])

    def _tenders(self) -> list[Tender]:
        tenders: dict[str, Tender] = {}
        for transaction in self.document.get("transactions") or []:
            if transaction.get("status", "ok") != "ok":
                continue
            gateway = str(transaction.get("gateway") or CUSTOM)
            event = transaction.get("event")
            if event in PAID_EVENTS:
                tender = tenders.setdefault(gateway, Tender(gateway, str(transaction.get("method") or "custom")))
                tender.paid += self.money(transaction.get("amount"))
                if tender.transaction_id is None and transaction.get("id") is not None:
                    tender.transaction_id = int(transaction["id"])
                    tender.paid_with = transaction
            elif event == "refund":
                tender = tenders.setdefault(gateway, Tender(gateway, str(transaction.get("method") or "custom")))
                tender.refunded += self.money(transaction.get("amount"))
        return [tender for tender in tenders.values() if tender.paid > 0]


# -- refund methods --------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentOption:
    provider_id: str
    amount: Decimal
    offline: bool
    offline_provider: bool
    offline_reason: str

    def render(self) -> dict[str, Any]:
        return {
            "provider_id": self.provider_id,
            "provider_description": PROVIDER_DESCRIPTIONS.get(self.provider_id, self.provider_id.title()),
            "amount": as_number(self.amount),
            "offline": self.offline,
            "offline_provider": self.offline_provider,
            "offline_reason": self.offline_reason,
        }


def _options(shares: list[tuple[str, Decimal]]) -> list[PaymentOption]:
    """One inner refund method; a second online gateway in it must be refunded offline."""
    options = []
    online_gateway_seen = False
    for provider_id, amount in shares:
        if provider_id in OFFLINE_PROVIDERS:
            options.append(PaymentOption(provider_id, amount, True, True, OFFLINE_REASON))
        elif provider_id in INTERNAL_PROVIDERS or not online_gateway_seen:
            online_gateway_seen = online_gateway_seen or provider_id not in INTERNAL_PROVIDERS
            options.append(PaymentOption(provider_id, amount, False, False, ""))
        else:
            options.append(PaymentOption(provider_id, amount, True, False, MULTIPLE_ONLINE_REASON))
    return options


def tender_method(order: OrderView, amount: Decimal) -> list[PaymentOption] | None:
    """Back to the original tenders, each with its share (in proportion to what is left on it)."""
    tenders = [tender for tender in order.tenders() if tender.room > 0]
    if not tenders or sum((t.room for t in tenders), ZERO) < amount:
        return None
    shares = split(amount, [tender.room for tender in tenders], order.currency)
    paired = [(tender.provider_id, share) for tender, share in zip(tenders, shares, strict=True) if share > 0]
    paired.sort(key=lambda pair: -pair[1])  # stable: ties keep the tenders' order
    return _options(paired) or None


def refund_methods(order: OrderView, amount: Decimal) -> list[list[PaymentOption]]:
    """Store credit (when allowed), the offline custom method, then the original tenders."""
    methods: list[list[PaymentOption]] = []
    if order.store_credit_allowed:
        methods.append(_options([(STORE_CREDIT, amount)]))
    methods.append(_options([(CUSTOM, amount)]))
    original = tender_method(order, amount)
    if original is not None and all(_key(original) != _key(method) for method in methods):
        methods.append(original)
    return methods


def _key(options: Iterable[PaymentOption]) -> list[tuple[str, Decimal]]:
    return sorted((option.provider_id, option.amount) for option in options)


# -- pricing a request ---------------------------------------------------------------------


@dataclass
class PricedItem:
    """One refund item as the Refund records it."""

    item_type: str
    item_id: int
    requested_amount: Decimal
    reason: str
    quantity: int | None = None
    adjustments: list[tuple[Decimal, str]] = field(default_factory=list)

    def render(self) -> dict[str, Any]:
        rendered: dict[str, Any] = {"item_type": self.item_type, "item_id": self.item_id, "reason": self.reason}
        if self.quantity is not None:
            rendered["quantity"] = self.quantity
        if self.adjustments:
            rendered["adjustments"] = [
                {"amount": as_number(amount), "description": text} for amount, text in self.adjustments
            ]
        rendered["requested_amount"] = as_number(self.requested_amount)
        return rendered


@dataclass
class Priced:
    """The figures of a quote (and of the refund that follows it)."""

    total: Decimal = ZERO
    tax: Decimal = ZERO
    order_level: Decimal = ZERO
    rounding: Decimal = ZERO
    adjustment: Decimal = ZERO
    items: list[PricedItem] = field(default_factory=list)


class _Rounder:
    """Rounds requested amounts to the currency and remembers what rounding added."""

    def __init__(self, order: OrderView):
        self.order = order
        self.rounding = ZERO

    def __call__(self, value: Any, field_name: str) -> Decimal:
        exact = request_money(value, field_name)
        rounded = round_money(exact, self.order.currency)
        self.rounding += rounded - exact
        return rounded


def _check_refundable(order: OrderView) -> None:
    status = str(order.order.get("payment_status") or "")
    if status in UNREFUNDABLE_PAYMENT_STATUSES:
        raise InvalidData(
            {"order_id": f"the order's payment_status is '{status}'; only paid or captured orders can be refunded"}
        )


def price(order: OrderView, body: Mapping[str, Any], *, allow_free_tax_adjustment: bool = False) -> Priced:
    """Price the items (or the tax adjustment) of a quote or refund request.

    Raises the 422s for unknown items, quantities or amounts above what is left, negative
    results, and a tax adjustment that is not the order's overcharge. Does not check the
    total against the order's remaining money (a merchant override replaces the total).
    """
    _check_refundable(order)
    rounder = _Rounder(order)
    items = body.get("items") or []
    adjustment_value = body.get("tax_adjustment_amount")
    tax_adjustment = rounder(adjustment_value, "tax_adjustment_amount") if adjustment_value is not None else ZERO
    if items and tax_adjustment != 0:
        raise InvalidData({"tax_adjustment_amount": "must not be sent with items: the two are mutually exclusive"})
    priced = _price_tax_adjustment(order, tax_adjustment, allow_free_tax_adjustment) if not items else Priced()
    taken: dict[tuple[str, int], int] = {}
    for index, item in enumerate(items):
        _price_item(order, priced, rounder, taken, index, item)
    priced.rounding = rounder.rounding
    return priced


def _price_tax_adjustment(order: OrderView, amount: Decimal, free: bool) -> Priced:
    if amount < 0:
        raise RefundAmountNegative("tax_adjustment_amount", f"{amount} is below zero")
    overcharged = order.overcharged_tax()
    if not free and amount != overcharged:
        raise InvalidData(
            {
                "tax_adjustment_amount": f"must equal the tax overcharged on this order ({overcharged}), "
                "or be sent to /refunds with merchant_calculated_override"
            }
        )
    return Priced(total=amount, tax=amount)


def _price_item(
    order: OrderView,
    priced: Priced,
    rounder: _Rounder,
    taken: dict[tuple[str, int], int],
    index: int,
    item: Mapping[str, Any],
) -> None:
    kind = item["item_type"]
    item_id = int(item["item_id"])
    where = f"items.{index}"
    reason = str(item.get("reason") or "")
    if kind == TAX:
        raise InvalidData(
            {f"{where}.item_type": "TAX items are not refundable; refund overcharged tax with tax_adjustment_amount"}
        )
    if kind == ORDER:
        if item_id != order.id:
            raise InvalidData({f"{where}.item_id": f"must be the order's id ({order.id}) for an ORDER item"})
        amount = rounder(item["amount"], f"{where}.amount")
        priced.total += amount
        priced.order_level += amount
        priced.items.append(PricedItem(ORDER, item_id, amount, reason))
        return
    component = order.component(kind, item_id)
    if component is None:
        raise InvalidData({f"{where}.item_id": _unknown_item(kind, item_id, order.id)})
    before = component.refunded_units + taken.get((kind, item_id), 0)
    left = component.units - before
    if kind in QUANTITY_BOUND:
        quantity = int(item["quantity"])
        if quantity > left:
            raise RefundQuantityGreaterThanRemaining(
                f"{where}.quantity", f"requested {quantity}, remaining {max(left, 0)}"
            )
        taking = quantity
    else:
        amount = rounder(item["amount"], f"{where}.amount")
        taking = order.units(amount)
        if taking > left:
            remaining = (max(left, 0) * order.step).quantize(order.step)
            raise RefundAmountGreaterThanRemaining(f"{where}.amount", f"requested {amount}, remaining {remaining}")
    taken[(kind, item_id)] = taken.get((kind, item_id), 0) + taking
    money, tax = component.take(before, taking, order.currency)
    basis = money if order.tax_inclusive else money - tax
    deductions = _deductions(kind, item, rounder, where)
    refunded = money + sum((amount for amount, _ in deductions), ZERO)
    if refunded < 0:
        raise RefundAmountNegative(f"{where}.adjustments", f"the deductions exceed the item's refund of {money}")
    priced.total += refunded
    priced.tax += tax
    priced.adjustment += refunded - money
    priced.items.append(
        PricedItem(kind, item_id, basis, reason, taking if kind in QUANTITY_BOUND else None, deductions)
    )


def _deductions(kind: str, item: Mapping[str, Any], rounder: _Rounder, where: str) -> list[tuple[Decimal, str]]:
    adjustments = item.get("adjustments") or []
    if adjustments and kind != PRODUCT:
        raise InvalidData({f"{where}.adjustments": "deductions apply to PRODUCT items only"})
    deductions = []
    for position, adjustment in enumerate(adjustments):
        amount = rounder(adjustment["amount"], f"{where}.adjustments.{position}.amount")
        if amount >= 0:
            raise InvalidData({f"{where}.adjustments.{position}.amount": "must be less than 0"})
        deductions.append((amount, str(adjustment.get("description") or "")))
    return deductions


def _unknown_item(kind: str, item_id: int, order_id: int) -> str:
    if kind == PRODUCT:
        return f"order {order_id} has no product with id {item_id}"
    if kind == GIFT_WRAPPING:
        return f"order {order_id} has no gift-wrapped product with id {item_id}"
    if kind in (SHIPPING, HANDLING):
        return f"order {order_id} has no shipping address with id {item_id}"
    return f"order {order_id} has no fee with id {item_id}"


def _check_total(order: OrderView, total: Decimal, field_name: str) -> None:
    if total > order.remaining:
        raise RefundAmountGreaterThanRemaining(
            field_name, f"the refund total {total} is greater than the {order.remaining} left to refund"
        )
    if total <= 0:
        raise InvalidData({field_name: "the refund total is 0; there is nothing to refund"})


# -- the two operations ------------------------------------------------------------------------


def view_of(document: dict[str, Any]) -> OrderView:
    """A view that keeps what it computes (for `StoredOrder.derive`: once per stored version)."""
    return OrderView(document, keep=True)


def quote(document: dict[str, Any], body: Mapping[str, Any], order: OrderView | None = None) -> dict[str, Any]:
    """createOrderRefundQuotes: the figures and refund methods; changes nothing.

    `order` is the document's own kept view, when the caller has one (it is read, never changed).
    """
    if order is None:
        order = OrderView(document)
    priced = price(order, body)
    _check_total(order, priced.total, "items" if body.get("items") else "tax_adjustment_amount")
    return {
        "order_id": order.id,
        "total_refund_amount": as_number(priced.total),
        "total_refund_tax_amount": as_number(priced.tax),
        "order_level_refund_amount": as_number(priced.order_level),
        "rounding": as_number(priced.rounding),
        "adjustment": as_number(priced.adjustment),
        "tax_inclusive": order.tax_inclusive,
        "is_tax_included": order.tax_inclusive,
        "refund_methods": [[option.render() for option in method] for method in refund_methods(order, priced.total)],
    }


class IdSource(Protocol):
    def next_id(self, name: str, start: int = 1) -> int: ...


def create_refund(
    document: dict[str, Any],
    body: Mapping[str, Any],
    ids: IdSource,
    *,
    now: datetime,
) -> dict[str, Any]:
    """createOrderRefund: check the request against the order, record the refund, update the order.

    Edits `document` in place and returns the Refund. A pure function of the document (and
    `now`), so the store can run it again on fresh state when another writer got in first.
    """
    order = OrderView(document)
    override = body.get("merchant_calculated_override")
    priced = price(order, body, allow_free_tax_adjustment=override is not None)
    if override is not None:
        rounder = _Rounder(order)
        total = rounder(override["total_amount"], "merchant_calculated_override.total_amount")
        tax = rounder(override["total_tax"], "merchant_calculated_override.total_tax")
        _check_total(order, total, "merchant_calculated_override.total_amount")
    else:
        total, tax = priced.total, priced.tax
        _check_total(order, total, "items" if body.get("items") else "tax_adjustment_amount")
    options = _chosen_method(order, total, body.get("payments"))

    refund_id = ids.next_id(REFUND_SEQUENCE, _next_after(order.refunds, "id"))
    created = iso_utc(now)
    payments = []
    transactions = document.setdefault("transactions", [])
    tenders = {tender.provider_id: tender for tender in order.tenders()}
    for option, offline in options:
        payment_id = ids.next_id(
            PAYMENT_SEQUENCE, _next_after([p for r in order.refunds for p in r.get("payments", [])], "id")
        )
        transaction_id = ids.next_id(TRANSACTION_SEQUENCE, _next_after(transactions, "id"))
        tender = tenders.get(option.provider_id)
        transactions.append(_refund_transaction(order, option, transaction_id, tender, created, refund_id, offline))
        payments.append(
            {
                "id": payment_id,
                "provider_id": option.provider_id,
                "amount": as_number(option.amount),
                "offline": offline,
                "is_declined": False,
                "declined_message": "",
                "transaction_id": str(transaction_id),
            }
        )
    refund = {
        "id": refund_id,
        "order_id": order.id,
        "user_id": 0,
        "created": created,
        "reason": str(body.get("reason") or ""),
        "total_amount": as_number(total),
        "total_tax": as_number(tax),
        "uses_merchant_override_values": override is not None,
        "items": [item.render() for item in priced.items],
        "payments": payments,
    }
    order.refunds.append(refund)
    _mark_refunded(order, priced, now)
    return refund


def _next_after(rows: Iterable[Mapping[str, Any]], key: str) -> int:
    return max((int(row[key]) for row in rows if row.get(key) is not None), default=0) + 1


def _chosen_method(
    order: OrderView, total: Decimal, payments: list[Mapping[str, Any]] | None
) -> list[tuple[PaymentOption, bool]]:
    """The refund method the payments name, with each payment's offline flag.

    The payments must be exactly one inner array of the quote's `refund_methods` for this
    total (provider ids and amounts, in any order). Without payments (the tax-adjustment
    variant) the refund goes back to the original tenders.
    """
    methods = refund_methods(order, total)
    if payments is None:
        original = tender_method(order, total) or methods[-1]
        return [(option, option.offline) for option in original]
    asked: list[tuple[str, Decimal]] = []
    for index, payment in enumerate(payments):
        amount = request_money(payment["amount"], f"payments.{index}.amount")
        asked.append((str(payment["provider_id"]), round_money(amount, order.currency)))
    for method in methods:
        if _key(method) == sorted(asked):
            return _match_offline(method, payments, asked)
    if any(provider == STORE_CREDIT for provider, _ in asked):
        if order.is_guest:
            raise GuestStoreCredit()
        if not order.in_store_currency:
            raise InvalidData(
                {"payments": f"store credit is not available for orders in a non-default currency ({order.currency})"}
            )
    offered = "; ".join(" + ".join(f"{option.provider_id} {option.amount}" for option in method) for method in methods)
    raise InvalidData({"payments": f"must match one of the quote's refund_methods for {total}: {offered}"})


def _match_offline(
    method: list[PaymentOption], payments: list[Mapping[str, Any]], asked: list[tuple[str, Decimal]]
) -> list[tuple[PaymentOption, bool]]:
    unused = list(method)
    chosen = []
    for index, (payment, key) in enumerate(zip(payments, asked, strict=True)):
        option = next(option for option in unused if (option.provider_id, option.amount) == key)
        unused.remove(option)
        offline = payment.get("offline")
        if option.offline and offline is False:
            reason = f"{option.provider_id} must be refunded offline ({option.offline_reason})"
            raise InvalidData({f"payments.{index}.offline": reason})
        chosen.append((option, option.offline if offline is None else bool(offline)))
    return chosen


def instrument_fields(gateway: str, method: str, offline: dict[str, Any] | None = None) -> dict[str, Any]:
    """The payment instrument fields of a transaction, in BigCommerce's order, with nothing filled in
    but the payment method: the generator fills in a paying tender's card, checks and balances, a
    refund the fields it repeats of the transaction it goes back to (`REFUND_INSTRUMENT_FIELDS`)."""
    return {
        "offline": offline,
        "custom": None,
        "payment_method_id": f"{gateway}.{method}",
        "payment_instrument_token": None,
        "avs_result": {},
        "cvv_result": {},
        "credit_card": None,
        "gift_certificate": None,
        "store_credit": None,
    }


def _refund_transaction(
    order: OrderView,
    option: PaymentOption,
    transaction_id: int,
    tender: Tender | None,
    created: str,
    refund_id: int,
    offline: bool,
) -> dict[str, Any]:
    """The `refund` transaction BigCommerce records for one refund payment.

    It has every field the order's other transactions have; going back to a tender, it names
    that tender's instrument (card, payment method, offline or custom method) as the paid
    transaction does, while the checks a refund does not run (AVS, CVV) and balances (gift
    certificate, store credit) are empty.
    """
    method = TRANSACTION_METHODS.get(option.provider_id)
    if method is None:
        method = tender.method if tender is not None else "offline"
    instrument = instrument_fields(option.provider_id, method)
    paid_with = tender.paid_with if tender is not None else None
    if paid_with is not None:
        for key in REFUND_INSTRUMENT_FIELDS:
            if key in paid_with:
                instrument[key] = copy.deepcopy(paid_with[key])
    return {
        "id": transaction_id,
        "order_id": str(order.id),
        "event": "refund",
        "method": method,
        "amount": as_number(option.amount),
        "currency": order.currency,
        "gateway": option.provider_id,
        "gateway_transaction_id": None if offline else f"refund-{refund_id}-{transaction_id}",
        "date_created": created,
        "test": False,
        "status": "ok",
        "fraud_review": False,
        "reference_transaction_id": tender.transaction_id if tender is not None else None,
        **instrument,
    }


def _mark_refunded(order: OrderView, priced: Priced, now: datetime) -> None:
    """The order after a refund: products' refunded units, refunded total, statuses."""
    for item in priced.items:
        if item.item_type == PRODUCT and item.quantity:
            product = order.product(item.item_id)
            assert product is not None
            refunded = int(amount_of(product.get("quantity_refunded"))) + item.quantity
            product["quantity_refunded"] = refunded
            product["is_refunded"] = refunded >= int(product["quantity"])
    refunded_total = sum((order.money(refund["total_amount"]) for refund in order.refunds), ZERO)
    fields = order.order
    fields["refunded_amount"] = as_v2_money(refunded_total)
    status_id, status = STATUS_REFUNDED if refunded_total >= order.total else STATUS_PARTIALLY_REFUNDED
    fields["payment_status"] = "refunded" if status_id == STATUS_REFUNDED[0] else "partially refunded"
    fields["status_id"] = status_id
    fields["status"] = status
    # The store's label for the status; a store without its own labels shows the status itself,
    # and a label a merchant gave the earlier status no longer applies.
    fields["custom_status"] = status
    fields["date_modified"] = rfc2822(now)


# -- fixture documents and views -------------------------------------------------------------


def ids_in(document: Mapping[str, Any]) -> dict[str, int]:
    """The highest refund, refund payment or transaction id a fixture document holds.

    The store keeps the highest over every loaded order as the floor of `STORE_ID_SEQUENCE`, so
    a new refund's transactions never reuse another order's transaction ids (BigCommerce numbers
    transactions store-wide), nor its refund and payment ids any other refund's.
    """
    ids = [row.get("id") for row in document.get("transactions") or []]
    for refund in document.get("refunds") or []:
        ids.append(refund.get("id"))
        ids.extend(payment.get("id") for payment in refund.get("payments") or [])
        ids.extend(payment.get("transaction_id") for payment in refund.get("payments") or [])
    numbers = [int(value) for value in ids if isinstance(value, int) or (isinstance(value, str) and value.isdigit())]
    return {STORE_ID_SEQUENCE: max(numbers)} if numbers else {}


def refunds_of(document: Mapping[str, Any]) -> list[tuple[int, str, dict[str, Any]]]:
    """(id, created in UTC, refund) for each refund inside a fixture document, for the store's index."""
    indexed = []
    for refund in document.get("refunds") or []:
        created = datetime.fromisoformat(str(refund["created"]).replace("Z", "+00:00"))
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        indexed.append((int(refund["id"]), iso_utc(created), refund))
    return indexed


def single_refund_view(refund: Mapping[str, Any], currency: str) -> dict[str, Any]:
    """A refund as GET /orders/payment_actions/refunds/{id} renders it (BigCommerce's `RefundID_Get`).

    `requested_amount` is a decimal string (null for quantity-bound items), items have no
    `adjustments`, payments no `transaction_id`.
    """
    view = {key: value for key, value in refund.items() if key not in ("items", "payments")}
    view["items"] = []
    for item in refund.get("items", []):
        shown = {key: value for key, value in item.items() if key not in ("adjustments", "requested_amount")}
        amount = item.get("requested_amount")
        shown["requested_amount"] = (
            None
            if item.get("item_type") in QUANTITY_BOUND or amount is None
            else format_money(amount_of(amount), currency)
        )
        view["items"].append(shown)
    view["payments"] = [
        {key: value for key, value in payment.items() if key != "transaction_id"}
        for payment in refund.get("payments", [])
    ]
    return view


def balance(document: dict[str, Any]) -> dict[str, Any]:
    """What is left to refund on an order, as the refund engine counts it: product units not yet
    refunded, and the order total less its refunds (`OrderView.remaining`)."""
    order = OrderView(dict(document))  # a copy: the view adds `refunds` when absent, and stored documents are shared
    refunds = [
        {
            "id": int(refund["id"]),
            "created_at": str(refund.get("created")),
            "units": sum(int(item.get("quantity") or 0) for item in refund.get("items") or []),
            "amount": str(order.money(refund["total_amount"])),
            "note": refund.get("reason"),
        }
        for refund in order.refunds
    ]
    products = [order.product_component(product) for product in document.get("products", [])]
    return {
        "order_id": order.id,
        "name": f"#{order.id}",
        "currency": order.currency,
        "units_left": sum(max(0, c.units - c.refunded_units) for c in products),
        "money_left": str(order.remaining),
        "refunds": refunds,
    }
