"""Consistency rules for Shopify fixture documents, beyond what the schema can say.

`problems(document)` returns (JSON path, reason) for every figure that does not add up: order
totals against their lines, discount allocations against their applications, tax lines against
the totals, payments against the total, refunds against their transactions and the order's
`current_*` fields, fulfilled units against the lines. A document that passes can be refunded by
the engine down to the last cent. The rules are the ones the engine works by (see the spec's
`x-mock-note`s); they read the document and never compute a refund themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from mockserver.money import ZERO, minor_unit

Problem = tuple[str, str]
SHOP_MONEY = "shop_money"
PRESENTMENT_MONEY = "presentment_money"
PAYMENT_KINDS = ("sale", "capture")
ORDER_MONEY_FIELDS = (
    "total_line_items_price",
    "total_discounts",
    "subtotal_price",
    "total_tax",
    "total_price",
    "total_tip_received",
    "total_outstanding",
    "current_subtotal_price",
    "current_total_tax",
    "current_total_discounts",
    "current_total_price",
)


def _amount(value: Any) -> Decimal:
    if value is None:
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
        self.currency: str = self.order["currency"]
        self.presentment: str = self.order.get("presentment_currency") or self.currency
        self.places = minor_unit(self.currency)
        self.included = bool(self.order.get("taxes_included"))
        self.found: list[Problem] = []
        self.side = SHOP_MONEY  # which money the totals rules read (run again for presentment money)

    def figure(self, node: dict[str, Any], key: str, side: str | None = None) -> Decimal:
        """A money field in shop money (the plain field) or presentment money (its `*_set`)."""
        side = side or self.side
        if side == PRESENTMENT_MONEY:
            part = (node.get(f"{key}_set") or {}).get(PRESENTMENT_MONEY)
            if isinstance(part, dict) and part.get("amount") is not None:
                return _amount(part.get("amount"))
        return _amount(node.get(key))

    def figures(self, items: Iterable[dict[str, Any]], key: str, side: str | None = None) -> Decimal:
        return sum((self.figure(item, key, side) for item in items), ZERO)

    def problem(self, path: str, reason: str) -> None:
        self.found.append((path, reason))

    def equal(self, path: str, actual: Decimal, expected: Decimal, what: str) -> None:
        if actual != expected:
            money = " (presentment money)" if self.side == PRESENTMENT_MONEY else ""
            self.problem(path, f"is {actual}{money} but {what} give {expected}")

    # -- money text ----------------------------------------------------------------------

    def money_text(self, path: str, value: Any, currency: str | None = None) -> None:
        """A money string with exactly the currency's decimals ("9.99" for USD, "500" for JPY)."""
        currency = currency or self.currency
        if not isinstance(value, str):
            return
        try:
            exponent = Decimal(value).as_tuple().exponent
        except InvalidOperation:
            self.problem(path, f"{value!r} is not an amount")
            return
        places = minor_unit(currency)
        if not isinstance(exponent, int) or -exponent != places:
            self.problem(path, f"{value!r} should have {places} decimals for {currency}")

    def money_set(self, path: str, node: Any, expected: Any = None) -> None:
        """Shop money in the shop currency and equal to the plain field; presentment money in an order currency."""
        if not isinstance(node, dict):
            return
        shop = node.get("shop_money") or {}
        shown = node.get("presentment_money") or {}
        if shop.get("currency_code") != self.currency:
            self.problem(f"{path}.shop_money.currency_code", f"should be the shop currency {self.currency}")
        self.money_text(f"{path}.shop_money.amount", shop.get("amount"))
        if expected is not None and _amount(shop.get("amount")) != _amount(expected):
            self.problem(f"{path}.shop_money.amount", f"is {shop.get('amount')} but the field itself says {expected}")
        code = shown.get("currency_code")
        if code not in (self.currency, self.presentment):
            self.problem(f"{path}.presentment_money.currency_code", f"should be {self.presentment}")
        elif code == self.currency and _amount(shown.get("amount")) != _amount(shop.get("amount")):
            self.problem(f"{path}.presentment_money.amount", "differs from shop money in the same currency")
        if code in (self.currency, self.presentment):
            self.money_text(f"{path}.presentment_money.amount", shown.get("amount"), code)

    def field_with_set(self, path: str, node: dict[str, Any], key: str) -> None:
        if key in node:
            self.money_text(f"{path}.{key}", node[key])
            self.money_set(f"{path}.{key}_set", node.get(f"{key}_set"), node[key])

    # -- the rules -------------------------------------------------------------------------

    def run(self) -> list[Problem]:
        self.formats()
        self.allocations()
        self.totals()
        self.taxes()
        self.payments()
        self.refunds()
        self.current_totals()
        self.fulfilment()
        if self.presentment != self.currency:
            self.side = PRESENTMENT_MONEY
            self.totals()
            self.taxes()
            self.current_totals()
        return self.found

    def formats(self) -> None:
        order = self.order
        for key in ORDER_MONEY_FIELDS:
            self.field_with_set("$.order", order, key)
        self.money_set("$.order.total_shipping_price_set", order.get("total_shipping_price_set"))
        for index, line in enumerate(order.get("line_items") or []):
            where = f"$.order.line_items[{index}]"
            self.field_with_set(where, line, "price")
            self.field_with_set(where, line, "total_discount")
            for position, allocation in enumerate(line.get("discount_allocations") or []):
                self.field_with_set(f"{where}.discount_allocations[{position}]", allocation, "amount")
            for position, tax in enumerate(line.get("tax_lines") or []):
                self.field_with_set(f"{where}.tax_lines[{position}]", tax, "price")
        for index, line in enumerate(order.get("shipping_lines") or []):
            where = f"$.order.shipping_lines[{index}]"
            self.field_with_set(where, line, "price")
            self.field_with_set(where, line, "discounted_price")
            for position, tax in enumerate(line.get("tax_lines") or []):
                self.field_with_set(f"{where}.tax_lines[{position}]", tax, "price")
        for index, tax in enumerate(order.get("tax_lines") or []):
            self.field_with_set(f"$.order.tax_lines[{index}]", tax, "price")
        for index, transaction in enumerate(self.document.get("transactions") or []):
            currency = transaction.get("currency") or self.currency
            where = f"$.transactions[{index}]"
            if currency != self.presentment:
                self.problem(f"{where}.currency", f"should be {self.presentment}, the order's presentment currency")
            self.money_text(f"{where}.amount", transaction.get("amount"), currency)

    def allocations(self) -> None:
        """Every allocation points at an application; each application is allocated; codes match their allocations."""
        order = self.order
        applications = order.get("discount_applications") or []
        allocated: dict[int, Decimal] = {}
        for index, line in enumerate(order.get("line_items") or []):
            where = f"$.order.line_items[{index}]"
            line_total = ZERO
            for position, allocation in enumerate(line.get("discount_allocations") or []):
                application = allocation.get("discount_application_index")
                amount = _amount(allocation.get("amount"))
                if not isinstance(application, int) or not 0 <= application < len(applications):
                    self.problem(
                        f"{where}.discount_allocations[{position}].discount_application_index",
                        f"points at no discount application (the order has {len(applications)})",
                    )
                    continue
                if amount < 0:
                    self.problem(f"{where}.discount_allocations[{position}].amount", "must not be negative")
                allocated[application] = allocated.get(application, ZERO) + amount
                line_total += amount
            gross = _amount(line.get("price")) * int(line.get("quantity", 0))
            if line_total > gross:
                self.problem(f"{where}.discount_allocations", f"allocate {line_total}, more than the line's {gross}")
        for index, line in enumerate(order.get("shipping_lines") or []):
            for position, allocation in enumerate(line.get("discount_allocations") or []):
                application = allocation.get("discount_application_index")
                if isinstance(application, int) and 0 <= application < len(applications):
                    allocated[application] = allocated.get(application, ZERO) + _amount(allocation.get("amount"))
                else:
                    self.problem(
                        f"$.order.shipping_lines[{index}].discount_allocations[{position}].discount_application_index",
                        "points at no discount application",
                    )
        for index, _application in enumerate(applications):
            if index not in allocated:
                self.problem(f"$.order.discount_applications[{index}]", "is allocated to no line")
        for index, code in enumerate(order.get("discount_codes") or []):
            matches = [i for i, application in enumerate(applications) if application.get("code") == code.get("code")]
            if not matches:
                self.problem(f"$.order.discount_codes[{index}].code", "matches no discount application")
                continue
            total = sum((allocated.get(i, ZERO) for i in matches), ZERO)
            self.equal(f"$.order.discount_codes[{index}].amount", _amount(code.get("amount")), total, "its allocations")

    def line_sums(self) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        """(items before discounts, every allocation, line tax, shipping tax)."""
        order = self.order
        lines = order.get("line_items") or []
        items = sum((self.figure(line, "price") * int(line.get("quantity", 0)) for line in lines), ZERO)
        discounts = sum((self.figures(line.get("discount_allocations") or [], "amount") for line in lines), ZERO)
        shipping_lines = order.get("shipping_lines") or []
        discounts += sum(
            (self.figures(line.get("discount_allocations") or [], "amount") for line in shipping_lines), ZERO
        )
        line_tax = sum((self.figures(line.get("tax_lines") or [], "price") for line in lines), ZERO)
        shipping_tax = sum((self.figures(line.get("tax_lines") or [], "price") for line in shipping_lines), ZERO)
        return items, discounts, line_tax, shipping_tax

    def shipping_paid(self) -> Decimal:
        lines = self.order.get("shipping_lines") or []
        return sum(
            (
                self.figure(line, "price") - self.figures(line.get("discount_allocations") or [], "amount")
                for line in lines
            ),
            ZERO,
        )

    def totals(self) -> None:
        order = self.order
        items, discounts, line_tax, shipping_tax = self.line_sums()
        line_discounts = sum(
            (self.figures(line.get("discount_allocations") or [], "amount") for line in order.get("line_items") or []),
            ZERO,
        )
        self.equal(
            "$.order.total_line_items_price",
            self.figure(order, "total_line_items_price"),
            items,
            "price × quantity of the lines",
        )
        self.equal(
            "$.order.total_discounts", self.figure(order, "total_discounts"), discounts, "the discount allocations"
        )
        subtotal = items - line_discounts
        self.equal(
            "$.order.subtotal_price", self.figure(order, "subtotal_price"), subtotal, "the lines after discounts"
        )
        total_tax = line_tax + shipping_tax
        self.equal(
            "$.order.total_tax", self.figure(order, "total_tax"), total_tax, "the lines' and shipping's tax lines"
        )
        shipping = self.shipping_paid()
        shipping_set = (order.get("total_shipping_price_set") or {}).get(self.side, {}).get("amount")
        if shipping_set is not None:
            listed = sum((self.figure(line, "price") for line in order.get("shipping_lines") or []), ZERO)
            self.equal(
                f"$.order.total_shipping_price_set.{self.side}.amount",
                _amount(shipping_set),
                listed,
                "the shipping lines",
            )
        tips = self.figure(order, "total_tip_received")
        expected = subtotal + shipping + tips + (ZERO if self.included else total_tax)
        reason = "subtotal, shipping and tips (taxes included)" if self.included else "subtotal, shipping, tax and tips"
        self.equal("$.order.total_price", self.figure(order, "total_price"), expected, reason)

    def taxes(self) -> None:
        """Order tax lines are the per-title sums of the lines' and shipping's tax lines."""
        order = self.order
        listed: dict[str, Decimal] = {}
        for tax in order.get("tax_lines") or []:
            listed[str(tax.get("title"))] = listed.get(str(tax.get("title")), ZERO) + self.figure(tax, "price")
        parts: dict[str, Decimal] = {}
        for line in [*(order.get("line_items") or []), *(order.get("shipping_lines") or [])]:
            for tax in line.get("tax_lines") or []:
                parts[str(tax.get("title"))] = parts.get(str(tax.get("title")), ZERO) + self.figure(tax, "price")
        for title in sorted(set(listed) | set(parts)):
            if listed.get(title, ZERO) != parts.get(title, ZERO):
                index = next(
                    (i for i, tax in enumerate(order.get("tax_lines") or []) if str(tax.get("title")) == title), None
                )
                path = "$.order.tax_lines" if index is None else f"$.order.tax_lines[{index}].price"
                self.problem(
                    path,
                    f"{title}: the order lists {listed.get(title, ZERO)} "
                    f"but its lines and shipping carry {parts.get(title, ZERO)}",
                )

    def payments(self) -> None:
        """Ids unique, parents on this order, captures within authorizations, payments equal to the total."""
        transactions = self.document.get("transactions") or []
        by_id: dict[Any, dict[str, Any]] = {}
        for index, transaction in enumerate(transactions):
            where = f"$.transactions[{index}]"
            if transaction.get("id") in by_id:
                self.problem(f"{where}.id", f"{transaction.get('id')} is used twice")
            by_id[transaction.get("id")] = transaction
            if transaction.get("order_id") not in (None, self.order.get("id")):
                self.problem(f"{where}.order_id", f"should be this order's id {self.order.get('id')}")
        refunded: dict[Any, Decimal] = {}
        captured: dict[Any, Decimal] = {}
        for index, transaction in enumerate(transactions):
            where = f"$.transactions[{index}]"
            kind = transaction.get("kind")
            parent_id = transaction.get("parent_id")
            parent = by_id.get(parent_id) if parent_id is not None else None
            if parent_id is not None and parent is None:
                self.problem(f"{where}.parent_id", f"{parent_id} is not a transaction of this order")
                continue
            if transaction.get("status") != "success":
                continue
            amount = _amount(transaction.get("amount"))
            if kind == "capture" and parent is not None:
                if parent.get("kind") != "authorization":
                    self.problem(f"{where}.parent_id", "a capture's parent must be an authorization")
                captured[parent_id] = captured.get(parent_id, ZERO) + amount
            if kind == "refund":
                if parent is None or parent.get("kind") not in PAYMENT_KINDS:
                    self.problem(f"{where}.parent_id", "a refund's parent must be a successful capture or sale")
                    continue
                refunded[parent_id] = refunded.get(parent_id, ZERO) + amount
        for parent_id, amount in captured.items():
            if amount > _amount(by_id[parent_id].get("amount")):
                self.problem(self._transaction_path(parent_id), f"captures {amount} exceed the authorized amount")
        for parent_id, amount in refunded.items():
            if amount > _amount(by_id[parent_id].get("amount")):
                self.problem(self._transaction_path(parent_id), f"refunds {amount} exceed the amount it took")
        paid = sum(
            (
                _amount(t.get("amount"))
                for t in transactions
                if t.get("kind") in PAYMENT_KINDS and t.get("status") == "success"
            ),
            ZERO,
        )
        status = self.order.get("financial_status")
        if status in ("paid", "partially_refunded", "refunded"):
            total = self.figure(self.order, "total_price", PRESENTMENT_MONEY)
            self.equal("$.transactions", paid, total, "the order's total_price (presentment money)")
        money_out = sum(
            (
                _amount(t.get("amount"))
                for t in transactions
                if t.get("kind") == "refund" and t.get("status") == "success"
            ),
            ZERO,
        )
        if money_out == 0:
            expected = status if status in ("paid", "authorized", "pending", "partially_paid", "voided") else "paid"
        else:
            expected = "refunded" if money_out >= paid else "partially_refunded"
        if status != expected:
            self.problem("$.order.financial_status", f"is {status!r} but the transactions say {expected!r}")

    def _transaction_path(self, transaction_id: Any) -> str:
        for index, transaction in enumerate(self.document.get("transactions") or []):
            if transaction.get("id") == transaction_id:
                return f"$.transactions[{index}]"
        return "$.transactions"

    def refunds(self) -> None:
        """Refund lines within the lines; refund transactions listed once; money out = value − adjustments."""
        order = self.order
        lines = {line.get("id"): line for line in order.get("line_items") or []}
        by_id = {t.get("id"): t for t in self.document.get("transactions") or []}
        claimed: set[Any] = set()
        refunded_units: dict[Any, int] = {}
        for index, refund in enumerate(order.get("refunds") or []):
            where = f"$.order.refunds[{index}]"
            if refund.get("order_id") not in (None, order.get("id")):
                self.problem(f"{where}.order_id", "should be this order's id")
            subtotal = tax = ZERO
            for position, item in enumerate(refund.get("refund_line_items") or []):
                at = f"{where}.refund_line_items[{position}]"
                line_id = item.get("line_item_id")
                if line_id not in lines:
                    self.problem(f"{at}.line_item_id", f"{line_id} is not a line of this order")
                    continue
                refunded_units[line_id] = refunded_units.get(line_id, 0) + int(item.get("quantity", 0))
                for key in ("subtotal", "total_tax"):
                    value = _amount(item.get(key))
                    if value != round(value, self.places):
                        self.problem(f"{at}.{key}", f"{item.get(key)} has more than {self.places} decimals")
                    self.money_set(f"{at}.{key}_set", item.get(f"{key}_set"), str(round(value, self.places)))
                subtotal += self.figure(item, "subtotal", PRESENTMENT_MONEY)
                tax += self.figure(item, "total_tax", PRESENTMENT_MONEY)
            shipping = shipping_tax = discrepancy = ZERO
            for position, adjustment in enumerate(refund.get("order_adjustments") or []):
                at = f"{where}.order_adjustments[{position}]"
                self.field_with_set(at, adjustment, "amount")
                self.field_with_set(at, adjustment, "tax_amount")
                if adjustment.get("kind") == "shipping_refund":
                    shipping -= self.figure(adjustment, "amount", PRESENTMENT_MONEY)
                    shipping_tax -= self.figure(adjustment, "tax_amount", PRESENTMENT_MONEY)
                else:
                    discrepancy += self.figure(adjustment, "amount", PRESENTMENT_MONEY)
            value = subtotal + shipping + (ZERO if self.included else tax + shipping_tax)
            money_out = ZERO
            for position, transaction in enumerate(refund.get("transactions") or []):
                at = f"{where}.transactions[{position}]"
                listed = by_id.get(transaction.get("id"))
                if listed is None:
                    self.problem(f"{at}.id", "is not among the order's transactions")
                elif listed != transaction:
                    self.problem(f"{at}", "differs from the same transaction in $.transactions")
                if transaction.get("id") in claimed:
                    self.problem(f"{at}.id", "belongs to another refund too")
                claimed.add(transaction.get("id"))
                if transaction.get("kind") == "refund" and transaction.get("status") == "success":
                    money_out += _amount(transaction.get("amount"))
            self.equal(
                f"{where}.transactions",
                money_out,
                value - discrepancy,
                "the refunded lines and shipping less the discrepancy adjustments",
            )
        for index, transaction in enumerate(self.document.get("transactions") or []):
            if transaction.get("kind") == "refund" and transaction.get("id") not in claimed:
                self.problem(f"$.transactions[{index}]", "is a refund that no refund in $.order.refunds lists")
        for line_id, units in refunded_units.items():
            if units > int(lines[line_id].get("quantity", 0)):
                self.problem(self._line_path(line_id), f"{units} units refunded of {lines[line_id].get('quantity')}")
        self.refunded_units = refunded_units

    def _line_path(self, line_id: Any) -> str:
        for index, line in enumerate(self.order.get("line_items") or []):
            if line.get("id") == line_id:
                return f"$.order.line_items[{index}]"
        return "$.order.line_items"

    def current_totals(self) -> None:
        """`current_*` = the order's totals less what its refunds took (as the engine lowers them)."""
        order = self.order
        lines = {line.get("id"): line for line in order.get("line_items") or []}
        subtotal = tax = discounts = shipping = shipping_tax = ZERO
        for refund in order.get("refunds") or []:
            for item in refund.get("refund_line_items") or []:
                line = lines.get(item.get("line_item_id"))
                if line is None:
                    continue
                subtotal += self.figure(item, "subtotal")
                tax += self.figure(item, "total_tax")
                discounts += self.figure(line, "price") * int(item.get("quantity", 0)) - self.figure(item, "subtotal")
            for adjustment in refund.get("order_adjustments") or []:
                if adjustment.get("kind") == "shipping_refund":
                    shipping -= self.figure(adjustment, "amount")
                    shipping_tax -= self.figure(adjustment, "tax_amount")
        value = subtotal + shipping + (ZERO if self.included else tax + shipping_tax)
        expected = {
            "current_subtotal_price": self.figure(order, "subtotal_price") - subtotal,
            "current_total_tax": self.figure(order, "total_tax") - tax - shipping_tax,
            "current_total_discounts": self.figure(order, "total_discounts") - discounts,
            "current_total_price": self.figure(order, "total_price") - value,
        }
        for key, amount in expected.items():
            if key in order:
                actual = self.figure(order, key)
                self.equal(f"$.order.{key}", actual, max(ZERO, amount), "the totals less the refunds")

    def fulfilment(self) -> None:
        """Fulfilled units within the lines; statuses and fulfillable units that follow from them."""
        order = self.order
        shipped: dict[Any, int] = {}
        for fulfillment in order.get("fulfillments") or []:
            if fulfillment.get("status") not in (None, "success"):
                continue
            for item in fulfillment.get("line_items") or []:
                shipped[item.get("id")] = shipped.get(item.get("id"), 0) + int(item.get("quantity", 0))
        total_units = total_shipped = 0
        refunded_units = getattr(self, "refunded_units", {})
        for index, line in enumerate(order.get("line_items") or []):
            where = f"$.order.line_items[{index}]"
            quantity = int(line.get("quantity", 0))
            units = shipped.get(line.get("id"), 0)
            if line.get("fulfillment_status") == "fulfilled" and line.get("id") not in shipped:
                units = quantity  # a line marked fulfilled without fulfillment records
            if units > quantity:
                self.problem(f"{where}.quantity", f"{units} units were fulfilled of {quantity}")
            status = None if units == 0 else ("fulfilled" if units >= quantity else "partial")
            if line.get("id") in shipped and line.get("fulfillment_status") != status:
                self.problem(
                    f"{where}.fulfillment_status",
                    f"is {line.get('fulfillment_status')!r} but {units} of {quantity} units were fulfilled",
                )
            most = quantity - max(refunded_units.get(line.get("id"), 0), units)
            fulfillable = line.get("fulfillable_quantity")
            if isinstance(fulfillable, int) and not 0 <= fulfillable <= max(most, 0):
                self.problem(
                    f"{where}.fulfillable_quantity",
                    f"is {fulfillable} but at most {max(most, 0)} units are left to fulfil",
                )
            total_units += quantity
            total_shipped += min(units, quantity)
        if "fulfillment_status" in order and order.get("fulfillment_status") != "restocked":
            expected = None if total_shipped == 0 else ("fulfilled" if total_shipped == total_units else "partial")
            if order.get("fulfillment_status") != expected:
                self.problem(
                    "$.order.fulfillment_status",
                    f"is {order.get('fulfillment_status')!r} but {total_shipped} of {total_units} units were fulfilled",
                )


def problems(document: dict[str, Any]) -> list[Problem]:
    """Every inconsistency of a Shopify fixture document that already matches `ShopifyFixtureDocument`."""
    return _Checker(document).run()
