"""Consistency rules for BigCommerce fixture documents, beyond what the schema can say.

`problems(document)` returns (JSON path, reason) for every figure that does not add up: each
product's, address's and fee's tax split; the order's subtotals and totals against its parts;
discounts against their allocations; the tenders against `total_inc_tax`; refunds against their
payments, their `refund` transactions, the products' refunded units and the order's
`refunded_amount` and statuses. A document that passes can be refunded by the engine down to the
last cent (its parts, as the engine reads them, add up to what the shopper paid).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from mockserver.money import ZERO, quantum

Problem = tuple[str, str]
PAID_EVENTS = ("purchase", "capture")
QUANTITY_BOUND = ("PRODUCT", "GIFT_WRAPPING")
NOT_TENDERS = ("custom", "storecredit")  # refund providers that need not have taken the money
REFUNDED_STATUSES = {"refunded": (4, "Refunded"), "partially refunded": (14, "Partially Refunded")}


def _amount(value: Any) -> Decimal:
    if value is None or value == "":
        return ZERO
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return ZERO


def _sum(items: Iterable[dict[str, Any]], key: str) -> Decimal:
    return sum((_amount(item.get(key)) for item in items), ZERO)


class _Checker:
    def __init__(self, document: dict[str, Any]):
        self.document = document
        self.order: dict[str, Any] = document["order"]
        self.currency = str(self.order.get("default_currency_code") or self.order.get("currency_code") or "USD")
        self.step = quantum(self.currency)
        self.inclusive = bool(self.order.get("is_tax_inclusive_pricing"))
        self.products: list[dict[str, Any]] = document.get("products") or []
        self.addresses: list[dict[str, Any]] = document.get("shipping_addresses") or []
        self.fees: list[dict[str, Any]] = document.get("fees") or []
        self.transactions: list[dict[str, Any]] = document.get("transactions") or []
        self.refunds: list[dict[str, Any]] = document.get("refunds") or []
        self.found: list[Problem] = []

    def problem(self, path: str, reason: str) -> None:
        self.found.append((path, reason))

    def equal(self, path: str, actual: Decimal, expected: Decimal, what: str) -> None:
        if actual != expected:
            self.problem(path, f"is {actual.normalize():f} but {what} give {expected.normalize():f}")

    def money(self, path: str, value: Any) -> None:
        """An amount that the currency can hold (no fraction of a yen, at most three decimals for KWD)."""
        if value is None or value == "":
            return
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            self.problem(path, f"{value!r} is not an amount")
            return
        if amount != amount.quantize(self.step):
            self.problem(path, f"{value} has more decimals than {self.currency} has")

    def split(self, path: str, node: dict[str, Any], ex: str, inc: str, tax: str) -> None:
        """inc − ex = tax for one taxed amount."""
        for key in (ex, inc, tax):
            self.money(f"{path}.{key}", node.get(key))
        if inc in node and ex in node:
            self.equal(f"{path}.{tax}", _amount(node.get(tax)), _amount(node[inc]) - _amount(node[ex]), f"{inc} − {ex}")

    # -- the rules -------------------------------------------------------------------------

    def run(self) -> list[Problem]:
        self.parts()
        self.totals()
        self.payments()
        self.refund_records()
        self.statuses()
        return self.found

    def parts(self) -> None:
        address_ids = {address.get("id") for address in self.addresses}
        for index, product in enumerate(self.products):
            where = f"$.products[{index}]"
            self.split(where, product, "price_ex_tax", "price_inc_tax", "price_tax")
            self.split(where, product, "total_ex_tax", "total_inc_tax", "total_tax")
            self.split(where, product, "wrapping_cost_ex_tax", "wrapping_cost_inc_tax", "wrapping_cost_tax")
            quantity = int(product.get("quantity", 0))
            price_key, total_key = (
                ("price_inc_tax", "total_inc_tax") if self.inclusive else ("price_ex_tax", "total_ex_tax")
            )
            if price_key in product:
                self.equal(
                    f"{where}.{total_key}",
                    _amount(product.get(total_key)),
                    _amount(product[price_key]) * quantity,
                    f"{price_key} × quantity",
                )
            discounts = _sum(product.get("applied_discounts") or [], "amount")
            for position, discount in enumerate(product.get("applied_discounts") or []):
                self.money(f"{where}.applied_discounts[{position}].amount", discount.get("amount"))
                if _amount(discount.get("amount")) < 0:
                    self.problem(f"{where}.applied_discounts[{position}].amount", "must not be negative")
            if product.get("discounted_total_inc_tax") not in (None, ""):
                if self.inclusive:
                    paid = _amount(product.get("total_inc_tax")) - discounts
                    what = "total_inc_tax − applied_discounts"
                else:
                    paid = _amount(product.get("total_ex_tax")) - discounts + _amount(product.get("total_tax"))
                    what = "total_ex_tax − applied_discounts + total_tax"
                self.money(f"{where}.discounted_total_inc_tax", product["discounted_total_inc_tax"])
                self.equal(
                    f"{where}.discounted_total_inc_tax", _amount(product["discounted_total_inc_tax"]), paid, what
                )
            refunded = _amount(product.get("quantity_refunded"))
            if not 0 <= refunded <= quantity:
                self.problem(f"{where}.quantity_refunded", f"{refunded} is outside 0..{quantity}")
            if "is_refunded" in product and product["is_refunded"] != (refunded >= quantity):
                self.problem(
                    f"{where}.is_refunded",
                    f"should be {str(refunded >= quantity).lower()} with {refunded} of {quantity} refunded",
                )
            if _amount(product.get("quantity_shipped")) > quantity:
                self.problem(f"{where}.quantity_shipped", f"{product.get('quantity_shipped')} shipped of {quantity}")
            if address_ids and product.get("order_address_id") not in address_ids:
                self.problem(
                    f"{where}.order_address_id",
                    f"{product.get('order_address_id')} is not a shipping address of this order",
                )
        for index, address in enumerate(self.addresses):
            where = f"$.shipping_addresses[{index}]"
            self.split(where, address, "cost_ex_tax", "cost_inc_tax", "cost_tax")
            self.split(where, address, "handling_cost_ex_tax", "handling_cost_inc_tax", "handling_cost_tax")
            mine = [p for p in self.products if p.get("order_address_id") == address.get("id")]
            if "items_total" in address and mine:
                self.equal(
                    f"{where}.items_total", _amount(address["items_total"]), _sum(mine, "quantity"), "its products"
                )
            if "items_shipped" in address and mine:
                self.equal(
                    f"{where}.items_shipped",
                    _amount(address["items_shipped"]),
                    _sum(mine, "quantity_shipped"),
                    "its products",
                )
        for index, fee in enumerate(self.fees):
            self.split(f"$.fees[{index}]", fee, "cost_ex_tax", "cost_inc_tax", "cost_tax")

    def totals(self) -> None:
        order = self.order
        for key in (
            "subtotal_ex_tax",
            "subtotal_inc_tax",
            "subtotal_tax",
            "total_ex_tax",
            "total_inc_tax",
            "total_tax",
            "discount_amount",
            "coupon_discount",
            "refunded_amount",
            "store_credit_amount",
            "gift_certificate_amount",
        ):
            self.money(f"$.order.{key}", order.get(key))
        for suffix in ("ex_tax", "inc_tax", "tax"):
            self.equal(
                f"$.order.subtotal_{suffix}",
                _amount(order.get(f"subtotal_{suffix}")),
                _sum(self.products, f"total_{suffix}"),
                f"the products' total_{suffix}",
            )
        for prefix, source, label in (
            ("shipping_cost", "cost", "the shipping addresses' cost"),
            ("handling_cost", "handling_cost", "the shipping addresses' handling"),
        ):
            for suffix in ("ex_tax", "inc_tax", "tax"):
                if f"{prefix}_{suffix}" in order:
                    self.equal(
                        f"$.order.{prefix}_{suffix}",
                        _amount(order[f"{prefix}_{suffix}"]),
                        _sum(self.addresses, f"{source}_{suffix}"),
                        label,
                    )
        for suffix in ("ex_tax", "inc_tax", "tax"):
            if f"wrapping_cost_{suffix}" in order:
                self.equal(
                    f"$.order.wrapping_cost_{suffix}",
                    _amount(order[f"wrapping_cost_{suffix}"]),
                    _sum(self.products, f"wrapping_cost_{suffix}"),
                    "the products' gift wrapping",
                )
        discounts = [d for p in self.products for d in p.get("applied_discounts") or []]
        if "discount_amount" in order:
            self.equal(
                "$.order.discount_amount",
                _amount(order["discount_amount"]),
                _sum(discounts, "amount"),
                "the products' applied_discounts",
            )
        if "coupon_discount" in order:
            coupons = [d for d in discounts if d.get("code")]
            self.equal(
                "$.order.coupon_discount",
                _amount(order["coupon_discount"]),
                _sum(coupons, "amount"),
                "the applied coupon discounts",
            )
        parts = [
            ("subtotal", order.get("subtotal_ex_tax"), order.get("subtotal_inc_tax"), order.get("subtotal_tax")),
            (
                "shipping",
                _sum(self.addresses, "cost_ex_tax"),
                _sum(self.addresses, "cost_inc_tax"),
                _sum(self.addresses, "cost_tax"),
            ),
            (
                "handling",
                _sum(self.addresses, "handling_cost_ex_tax"),
                _sum(self.addresses, "handling_cost_inc_tax"),
                _sum(self.addresses, "handling_cost_tax"),
            ),
            (
                "wrapping",
                _sum(self.products, "wrapping_cost_ex_tax"),
                _sum(self.products, "wrapping_cost_inc_tax"),
                _sum(self.products, "wrapping_cost_tax"),
            ),
            ("fees", _sum(self.fees, "cost_ex_tax"), _sum(self.fees, "cost_inc_tax"), _sum(self.fees, "cost_tax")),
        ]
        total_tax = sum((_amount(tax) for *_, tax in parts), ZERO)
        self.equal(
            "$.order.total_tax",
            _amount(order.get("total_tax")),
            total_tax,
            "the tax of products, shipping, handling, wrapping and fees",
        )
        discount = _sum(discounts, "amount")
        if self.inclusive:
            total = sum((_amount(inc) for _, _, inc, _ in parts), ZERO) - discount
            what = "products, shipping, handling, wrapping and fees (tax included) less discounts"
        else:
            total = sum((_amount(ex) for _, ex, _, _ in parts), ZERO) - discount + total_tax
            what = "products, shipping, handling, wrapping and fees less discounts, plus tax"
        self.equal("$.order.total_inc_tax", _amount(order.get("total_inc_tax")), total, what)
        self.equal(
            "$.order.total_ex_tax",
            _amount(order.get("total_ex_tax")),
            _amount(order.get("total_inc_tax")) - _amount(order.get("total_tax")),
            "total_inc_tax − total_tax",
        )
        if "items_total" in order:
            self.equal(
                "$.order.items_total",
                _amount(order["items_total"]),
                _sum(self.products, "quantity"),
                "the products' quantities",
            )
        if "items_shipped" in order:
            self.equal(
                "$.order.items_shipped",
                _amount(order["items_shipped"]),
                _sum(self.products, "quantity_shipped"),
                "the products' shipped units",
            )
        if "shipping_address_count" in order:
            self.equal(
                "$.order.shipping_address_count",
                _amount(order["shipping_address_count"]),
                Decimal(len(self.addresses)),
                "the shipping addresses",
            )

    def payments(self) -> None:
        """Unique ids, references inside the order, tenders adding up to total_inc_tax, refunds within tenders."""
        order = self.order
        by_id: dict[Any, dict[str, Any]] = {}
        for index, transaction in enumerate(self.transactions):
            where = f"$.transactions[{index}]"
            if transaction.get("id") in by_id:
                self.problem(f"{where}.id", f"{transaction.get('id')} is used twice")
            by_id[transaction.get("id")] = transaction
            if transaction.get("order_id") not in (None, str(order.get("id"))):
                self.problem(f"{where}.order_id", f"should be {str(order.get('id'))!r}, this order's id")
            if transaction.get("currency") not in (None, self.currency):
                self.problem(f"{where}.currency", f"should be the order's currency {self.currency}")
            self.money(f"{where}.amount", transaction.get("amount"))
        paid: dict[str, Decimal] = {}
        refunded: dict[str, Decimal] = {}
        for index, transaction in enumerate(self.transactions):
            where = f"$.transactions[{index}]"
            reference = transaction.get("reference_transaction_id")
            if reference is not None and reference not in by_id:
                self.problem(f"{where}.reference_transaction_id", f"{reference} is not a transaction of this order")
            if transaction.get("status", "ok") != "ok":
                continue
            gateway = str(transaction.get("gateway"))
            event = transaction.get("event")
            if (
                event == "capture"
                and reference is not None
                and by_id.get(reference, {}).get("event") != "authorization"
            ):
                self.problem(f"{where}.reference_transaction_id", "a capture refers to its authorization")
            if event in PAID_EVENTS:
                paid[gateway] = paid.get(gateway, ZERO) + _amount(transaction.get("amount"))
            if event == "refund":
                refunded[gateway] = refunded.get(gateway, ZERO) + _amount(transaction.get("amount"))
        received = sum(paid.values(), ZERO)
        if order.get("payment_status") in ("paid", "captured", "partially refunded", "refunded") and self.transactions:
            self.equal("$.transactions", received, _amount(order.get("total_inc_tax")), "the order's total_inc_tax")
        for key, gateway in (("store_credit_amount", "storecredit"), ("gift_certificate_amount", "giftcertificate")):
            if key in order and self.transactions:
                self.equal(f"$.order.{key}", _amount(order[key]), paid.get(gateway, ZERO), f"the {gateway} payments")
        for gateway, amount in refunded.items():
            if gateway not in NOT_TENDERS and amount > paid.get(gateway, ZERO):
                self.problem("$.transactions", f"{amount} refunded on {gateway}, which took {paid.get(gateway, ZERO)}")

    def refund_records(self) -> None:
        """Refunds paid by their payments, payments backed by refund transactions, units as the products say."""
        order = self.order
        by_id = {t.get("id"): t for t in self.transactions}
        products = {p.get("id"): p for p in self.products}
        addresses = {a.get("id"): a for a in self.addresses}
        fees = {f.get("id"): f for f in self.fees}
        claimed: set[Any] = set()
        seen: set[Any] = set()
        units: dict[tuple[str, Any], Decimal] = {}
        amounts: dict[tuple[str, Any], Decimal] = {}
        for index, refund in enumerate(self.refunds):
            where = f"$.refunds[{index}]"
            if refund.get("id") in seen:
                self.problem(f"{where}.id", f"{refund.get('id')} is used twice")
            seen.add(refund.get("id"))
            if refund.get("order_id") not in (None, order.get("id")):
                self.problem(f"{where}.order_id", "should be this order's id")
            self.money(f"{where}.total_amount", refund.get("total_amount"))
            payments = refund.get("payments") or []
            self.equal(
                f"{where}.total_amount", _amount(refund.get("total_amount")), _sum(payments, "amount"), "its payments"
            )
            for position, payment in enumerate(payments):
                at = f"{where}.payments[{position}]"
                self.money(f"{at}.amount", payment.get("amount"))
                reference = payment.get("transaction_id")
                if reference is None:
                    continue
                transaction = next((t for key, t in by_id.items() if str(key) == str(reference)), None)
                if transaction is None or transaction.get("event") != "refund":
                    self.problem(f"{at}.transaction_id", f"{reference} is not a refund transaction of this order")
                    continue
                if str(reference) in claimed:
                    self.problem(f"{at}.transaction_id", f"{reference} pays another refund payment too")
                claimed.add(str(reference))
                if _amount(transaction.get("amount")) != _amount(payment.get("amount")):
                    self.problem(
                        f"{at}.amount",
                        f"is {payment.get('amount')} but transaction {reference} moved {transaction.get('amount')}",
                    )
                if transaction.get("gateway") != payment.get("provider_id"):
                    self.problem(
                        f"{at}.provider_id",
                        f"is {payment.get('provider_id')!r} but transaction {reference} went through "
                        f"{transaction.get('gateway')!r}",
                    )
            for position, item in enumerate(refund.get("items") or []):
                at = f"{where}.items[{position}]"
                kind, item_id = item.get("item_type"), item.get("item_id")
                known = {
                    "PRODUCT": products,
                    "GIFT_WRAPPING": products,
                    "SHIPPING": addresses,
                    "HANDLING": addresses,
                    "FEE": fees,
                }
                if kind == "ORDER":
                    if item_id != order.get("id"):
                        self.problem(f"{at}.item_id", "an ORDER item names the order's own id")
                    continue
                if kind not in known or item_id not in known[kind]:
                    self.problem(f"{at}.item_id", f"{kind} {item_id} is not on this order")
                    continue
                if kind in QUANTITY_BOUND:
                    units[(kind, item_id)] = units.get((kind, item_id), ZERO) + _amount(item.get("quantity"))
                else:
                    amounts[(kind, item_id)] = amounts.get((kind, item_id), ZERO) + _amount(
                        item.get("requested_amount")
                    )
        for index, transaction in enumerate(self.transactions):
            if transaction.get("event") == "refund" and self.refunds and str(transaction.get("id")) not in claimed:
                self.problem(f"$.transactions[{index}]", "is a refund that no refund payment names")
        for index, product in enumerate(self.products):
            refunded = units.get(("PRODUCT", product.get("id")), ZERO)
            self.equal(
                f"$.products[{index}].quantity_refunded",
                _amount(product.get("quantity_refunded")),
                refunded,
                "the refunds' PRODUCT items",
            )
            wrapped = units.get(("GIFT_WRAPPING", product.get("id")), ZERO)
            if wrapped > _amount(product.get("quantity")):
                self.problem(
                    f"$.products[{index}]",
                    f"gift wrapping of {wrapped} units refunded, {product.get('quantity')} were bought",
                )
        basis = "inc_tax" if self.inclusive else "ex_tax"
        for (kind, item_id), amount in amounts.items():
            if kind == "FEE":
                paid, path = _amount(fees[item_id].get(f"cost_{basis}")), self._path("fees", item_id)
            else:
                prefix = "cost" if kind == "SHIPPING" else "handling_cost"
                paid, path = (
                    _amount(addresses[item_id].get(f"{prefix}_{basis}")),
                    self._path("shipping_addresses", item_id),
                )
            if amount > paid:
                self.problem(path, f"{kind} refunds of {amount} exceed the {paid} charged")

    def _path(self, collection: str, item_id: Any) -> str:
        for index, item in enumerate(self.document.get(collection) or []):
            if item.get("id") == item_id:
                return f"$.{collection}[{index}]"
        return f"$.{collection}"

    def statuses(self) -> None:
        """refunded_amount is the refunds' sum; payment status and order status follow from it."""
        order = self.order
        refunded = _sum(self.refunds, "total_amount")
        total = _amount(order.get("total_inc_tax"))
        self.equal("$.order.refunded_amount", _amount(order.get("refunded_amount")), refunded, "the refunds")
        if refunded > total:
            self.problem("$.order.refunded_amount", f"{refunded} refunded, more than the {total} paid")
        status = order.get("payment_status")
        if refunded == 0:
            if status in REFUNDED_STATUSES:
                self.problem("$.order.payment_status", f"is {status!r} but the order has no refunds")
            return
        expected = "refunded" if refunded >= total else "partially refunded"
        if status != expected:
            self.problem(
                "$.order.payment_status", f"is {status!r} but {refunded} of {total} was refunded: {expected!r}"
            )
        status_id, name = REFUNDED_STATUSES[expected]
        if order.get("status_id") != status_id:
            self.problem(
                "$.order.status_id", f"is {order.get('status_id')} but a {expected} order is {status_id} ({name})"
            )


def problems(document: dict[str, Any]) -> list[Problem]:
    """Every inconsistency of a BigCommerce fixture document that already matches `BigCommerceFixtureDocument`."""
    return _Checker(document).run()
