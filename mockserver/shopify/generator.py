"""Shopify fixture orders that look like a real store's and add up to the cent.

`generate(settings, count)` yields fixture documents (`{"order": ..., "transactions": [...]}`) in
Shopify's own shapes. Every split of an amount (a cart discount over lines) is a largest-remainder
split from `mockserver.money`, so allocations sum exactly. Earlier refunds are not computed here:
they are made by the refund engine itself (`models.calculate` then `models.create_refund`) on the
generated order, so the refunds, transactions and order fields of a fixture are exactly what the
server would have produced.

Ids live in per-order blocks far from the hand-written starter orders (3012450010101...) and
below the ids the server hands out (9,000,000,000,000 and up), so nothing collides.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from mockserver.generation import (
    LINE_COUNT_WEIGHTS,
    QUANTITY_WEIGHTS,
    Catalog,
    Customer,
    GeneratorSettings,
    IdBlocks,
    Product,
    ShopZone,
    TaxRegime,
    build_catalog,
    convert,
    money_text,
    nice_amount,
    order_moment,
    order_random,
    other_currency,
    percent_of,
    pick_currency,
    pick_regime,
    prices_include_tax,
    tax_of,
    weighted,
)
from mockserver.money import ZERO, quantum, split
from mockserver.shopify import models as engine

PLATFORM_NAME = "shopify"
ORDER_ID_BASE = 4_100_000_000_000  # order ids: base + index (the starters are 3012450010101...)
ORDER_NUMBER_BASE = 2000  # "#2001", "#2002", ... (the starters are #1101...)
BLOCK_BASE = 41_000_000_000  # nested ids: base + index * BLOCK + offset
BLOCK = 100
ID_LAYOUT = {
    "line_item": (1, 8),
    "shipping_line": (9, 1),
    "fulfillment": (10, 5),
    "shopify.transaction": (15, 15),
    "shopify.refund": (30, 5),
    "shopify.order_adjustment": (35, 10),
    "shopify.refund_line_item": (45, 55),
}
PRODUCT_ID_BASE = 8_100_000_000
VARIANT_ID_BASE = 39_100_000_000
CUSTOMER_ID_BASE = 6_410_000_000
LOCATION_IDS = (61_410_001, 61_410_002)
API_BASE = "/admin/api/2020-10"
QUOTE_TOKEN = "shpat_refund_mock_generator"

SHIPPING_USD = (Decimal("4.99"), Decimal("5.95"), Decimal("7.95"), Decimal("9.99"), Decimal("12.50"), Decimal(15))
SHIPPING_TITLES = ("Standard Shipping", "Economy", "Express", "Priority Mail", "Local Delivery")
CARDS = (
    ("Visa", "424242", "4242"),
    ("Mastercard", "555555", "4444"),
    ("American Express", "378282", "0005"),
    ("Visa", "400005", "5556"),
)
CARRIERS = ("UPS", "USPS", "FedEx", "DHL Express", "Canada Post", "Royal Mail")
CARD_GATEWAYS = ("shopify_payments", "shopify_payments", "shopify_payments", "paypal", "stripe", "bogus")
REFUND_NOTES = (
    "Customer changed their mind",
    "Arrived damaged",
    "Wrong size",
    "Item out of stock",
    "Late delivery, shipping refunded",
    None,
)


# -- small renderers ---------------------------------------------------------------------------


class _Money:
    """Renders amounts of one order: shop money strings and MoneySets with presentment money."""

    def __init__(self, currency: str, presentment: str):
        self.currency = currency
        self.presentment = presentment
        self.step = quantum(currency)

    def text(self, amount: Decimal) -> str:
        return str((amount + 0).quantize(self.step, ROUND_HALF_UP))  # rounding by position: faster

    def set(self, amount: Decimal, text: str | None = None) -> dict[str, dict[str, str]]:
        currency = self.currency
        text = text or self.text(amount)
        if self.presentment == currency:
            return {
                "shop_money": {"amount": text, "currency_code": currency},
                "presentment_money": {"amount": text, "currency_code": currency},
            }
        shown = convert(amount, currency, self.presentment)
        return {
            "shop_money": {"amount": text, "currency_code": currency},
            "presentment_money": {"amount": money_text(shown, self.presentment), "currency_code": self.presentment},
        }

    def fields(self, key: str, amount: Decimal) -> dict[str, Any]:
        """`{key: "9.99", key_set: {...}}`, the way Shopify pairs a money field with its MoneySet."""
        text = self.text(amount)
        return {key: text, f"{key}_set": self.set(amount, text)}


def _timestamp(zone: ShopZone, moment: datetime) -> str:
    return zone.stamp(moment)


def _token(rng: random.Random, prefix: str, length: int = 24) -> str:
    return f"{prefix}{rng.getrandbits(length * 4):0{length}x}"


def _address(customer: Customer) -> dict[str, Any]:
    address = customer.address
    return {
        "first_name": address.first_name,
        "last_name": address.last_name,
        "name": f"{address.first_name} {address.last_name}",
        "address1": address.address1,
        "address2": address.address2,
        "city": address.city,
        "zip": address.zip,
        "province": address.province or None,
        "province_code": address.province_code or None,
        "country": address.country,
        "country_code": address.country_code,
        "company": address.company,
        "phone": address.phone,
        "latitude": None,
        "longitude": None,
    }


# -- one order -----------------------------------------------------------------------------------


class _Line:
    """A line item while the order is being built."""

    def __init__(self, product: Product, variant_index: int, quantity: int, price: Decimal):
        self.product = product
        self.variant = product.variants[variant_index]
        self.quantity = quantity
        self.price = price
        self.line_discounts: list[tuple[int, Decimal]] = []  # (application index, amount)
        self.cart_discounts: list[tuple[int, Decimal]] = []
        self.taxes: list[tuple[str, Decimal, Decimal]] = []  # (title, rate, amount)
        self.shipped = 0

    @property
    def gross(self) -> Decimal:
        return self.price * self.quantity

    @property
    def before_cart(self) -> Decimal:
        return self.gross - sum((amount for _, amount in self.line_discounts), ZERO)

    @property
    def net(self) -> Decimal:
        return self.before_cart - sum((amount for _, amount in self.cart_discounts), ZERO)


class _OrderBuilder:
    def __init__(self, settings: GeneratorSettings, catalog: Catalog, index: int):
        self.settings = settings
        self.catalog = catalog
        self.index = index
        self.rng = order_random(settings.seed, PLATFORM_NAME, index)
        self.ids = IdBlocks(BLOCK_BASE + index * BLOCK, ID_LAYOUT)
        self.order_id = ORDER_ID_BASE + index

    def build(self) -> dict[str, Any]:
        rng = self.rng
        settings = self.settings
        currency = pick_currency(rng, settings.currencies)
        presentment = other_currency(rng, currency, settings.currencies) if rng.random() < 0.12 else currency
        self.money = money = _Money(currency, presentment)
        self.currency = currency
        self.zone = self.catalog.zone(currency)
        self.placed = order_moment(settings.seed, PLATFORM_NAME, self.index, rng)
        regime = pick_regime(rng, currency, self.catalog.country_code)
        included = prices_include_tax(rng, currency)
        guest = rng.random() < 0.15
        customers = self.catalog.customers
        customer = customers[rng.randrange(len(customers))]
        recipient = customers[rng.randrange(len(customers))] if rng.random() < 0.1 else customer  # a gift

        lines = self._lines()
        applications, codes = self._discounts(lines)
        self._taxes(lines, regime, included)
        shipping = self._shipping(regime, included)
        self._fulfil(lines)

        items = sum((line.gross for line in lines), ZERO)
        discounts = sum((amount for line in lines for _, amount in (*line.line_discounts, *line.cart_discounts)), ZERO)
        subtotal = items - discounts
        line_tax = sum((amount for line in lines for *_, amount in line.taxes), ZERO)
        shipping_price, shipping_taxes = shipping
        shipping_tax = sum((amount for *_, amount in shipping_taxes), ZERO)
        total_tax = line_tax + shipping_tax
        total = subtotal + shipping_price + (ZERO if included else total_tax)
        payments, gateways = self._payments(total, customer, guest)

        created = _timestamp(self.zone, self.placed)
        number = ORDER_NUMBER_BASE - 1000 + self.index
        shipped_units = sum(line.shipped for line in lines)
        all_units = sum(line.quantity for line in lines)
        email = customer.email
        order: dict[str, Any] = {
            "id": self.order_id,
            "admin_graphql_api_id": f"gid://shopify/Order/{self.order_id}",
            "name": f"#{number + 1000}",
            "number": number,
            "order_number": number + 1000,
            "email": email,
            "contact_email": email,
            "phone": None,
            "created_at": created,
            "updated_at": created,
            "processed_at": created,
            "closed_at": None,
            "cancelled_at": None,
            "cancel_reason": None,
            "confirmed": True,
            "test": gateways == ["bogus"],
            "buyer_accepts_marketing": customer.accepts_marketing and not guest,
            "currency": currency,
            "presentment_currency": presentment,
            "taxes_included": included,
            "estimated_taxes": False,
            "financial_status": "paid",
            "fulfillment_status": None
            if shipped_units == 0
            else ("fulfilled" if shipped_units == all_units else "partial"),
            "gateway": gateways[-1],
            "payment_gateway_names": gateways,
            "processing_method": "manual" if gateways == ["manual"] else "direct",
            "source_name": "web",
            "tags": "",
            "note": None,
            "note_attributes": [],
            "location_id": None,
            "customer_locale": self.catalog.language,
            "total_weight": sum(line.product.grams * line.quantity for line in lines),
            **money.fields("total_line_items_price", items),
            **money.fields("total_discounts", discounts),
            **money.fields("subtotal_price", subtotal),
            **money.fields("total_tax", total_tax),
            **money.fields("total_price", total),
            "total_shipping_price_set": money.set(shipping_price),
            "total_tip_received": money.text(ZERO),
            "total_outstanding": money.text(ZERO),
            **money.fields("current_subtotal_price", subtotal),
            **money.fields("current_total_tax", total_tax),
            **money.fields("current_total_discounts", discounts),
            **money.fields("current_total_price", total),
            "discount_applications": applications,
            "discount_codes": codes,
            "tax_lines": self._order_tax_lines(lines, shipping_taxes),
            "customer": None if guest else self._customer(customer),
            "billing_address": _address(customer),
            "shipping_address": _address(recipient),
            "line_items": [self._line_item(line) for line in lines],
            "shipping_lines": [self._shipping_line(shipping_price, shipping_taxes)],
            "fulfillments": self._fulfillments(lines),
            "refunds": [],
        }
        if presentment != currency:
            _sum_presentment(order)
            _pay_in_presentment(payments, order)
        document = {"order": order, "transactions": payments, "shop": {"primary_location_id": LOCATION_IDS[0]}}
        self._history(document)
        return document

    # -- lines, discounts, taxes, shipping ------------------------------------------------

    def _lines(self) -> list[_Line]:
        rng = self.rng
        count = 1 + weighted(rng, LINE_COUNT_WEIGHTS)
        products = rng.sample(self.catalog.products, count)
        lines = []
        for product in products:
            quantity = 1 + weighted(rng, QUANTITY_WEIGHTS)
            variant = rng.randrange(len(product.variants))
            lines.append(_Line(product, variant, quantity, product.price(self.currency)))
        self._positions = {id(line): position for position, line in enumerate(lines)}
        return lines

    def _discounts(self, lines: list[_Line]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Line-level (`each`/`one`) and order-level (`across`) discounts, allocated to the cent."""
        rng = self.rng
        money = self.money
        applications: list[dict[str, Any]] = []
        codes: list[dict[str, Any]] = []
        if rng.random() < 0.2:
            index = len(applications)
            if rng.random() < 0.5:
                off = nice_amount(Decimal(rng.choice((2, 3, 5, 10))), self.currency)
                chosen = [line for line in lines if rng.random() < 0.6] or [lines[0]]
                for line in chosen:
                    line.line_discounts.append((index, min(off, line.price) * line.quantity))
                applications.append(
                    {
                        "type": "automatic",
                        "title": f"Bundle: {money.text(off)} off each",
                        "description": "Automatic discount",
                        "value": money.text(off),
                        "value_type": "fixed_amount",
                        "allocation_method": "each",
                        "target_selection": "entitled",
                        "target_type": "line_item",
                    }
                )
            else:
                percent = Decimal(rng.choice((10, 20, 25, 30)))
                line = lines[rng.randrange(len(lines))]
                line.line_discounts.append((index, percent_of(line.gross, percent, self.currency)))
                applications.append(
                    {
                        "type": "manual",
                        "title": f"Staff pick {percent}% off",
                        "description": "Manual discount",
                        "value": f"{percent}.0",
                        "value_type": "percentage",
                        "allocation_method": "one",
                        "target_selection": "explicit",
                        "target_type": "line_item",
                    }
                )
        if rng.random() < 0.35:
            index = len(applications)
            base = sum((line.before_cart for line in lines), ZERO)
            if rng.random() < 0.6:
                percent = Decimal(rng.choice((10, 15, 20)))
                amount = percent_of(base, percent, self.currency)
                code, value, kind = f"SAVE{percent}", f"{percent}.0", "percentage"
            else:
                amount = min(
                    (base / 2).quantize(quantum(self.currency)),
                    nice_amount(Decimal(rng.choice((5, 10, 15, 20))), self.currency),
                )
                code, value, kind = f"WELCOME{rng.randrange(10, 99)}", money.text(amount), "fixed_amount"
            if amount > 0:
                parts = split(amount, [line.before_cart for line in lines], self.currency)
                for line, part in zip(lines, parts, strict=True):
                    if part:
                        line.cart_discounts.append((index, part))
                applications.append(
                    {
                        "type": "discount_code",
                        "code": code,
                        "value": value,
                        "value_type": kind,
                        "allocation_method": "across",
                        "target_selection": "all",
                        "target_type": "line_item",
                        "title": code,
                    }
                )
                codes.append({"code": code, "amount": money.text(amount), "type": kind})
        return applications, codes

    def _taxes(self, lines: list[_Line], regime: TaxRegime, included: bool) -> None:
        for line in lines:
            if not line.product.taxable:
                continue
            net = line.net
            for component in regime.components:
                tax = tax_of(net, component.rate, regime.rate, included, self.currency)
                line.taxes.append((component.title, component.rate, tax))

    def _shipping(self, regime: TaxRegime, included: bool) -> tuple[Decimal, list[tuple[str, Decimal, Decimal]]]:
        rng = self.rng
        if rng.random() < 0.15:
            self.shipping_title = "Free Shipping"
            return ZERO, []
        usd = SHIPPING_USD[rng.randrange(len(SHIPPING_USD))]
        price = nice_amount(usd, self.currency) if self.currency != "USD" else usd
        self.shipping_title = SHIPPING_TITLES[rng.randrange(len(SHIPPING_TITLES))]
        if not regime.shipping_taxed:
            return price, []
        taxes = [
            (component.title, component.rate, tax_of(price, component.rate, regime.rate, included, self.currency))
            for component in regime.components
        ]
        return price, taxes

    def _fulfil(self, lines: list[_Line]) -> None:
        """Unfulfilled, partly or fully fulfilled orders; a partial one mixes line states."""
        rng = self.rng
        state = weighted(rng, (40, 28, 32))
        if state == 0:
            return
        if state == 2:
            for line in lines:
                line.shipped = line.quantity
            return
        for line in lines:
            choice = rng.randrange(3)
            if choice == 1 and line.quantity > 1:
                line.shipped = rng.randrange(1, line.quantity)
            elif choice == 2:
                line.shipped = line.quantity
        if all(line.shipped == 0 for line in lines):
            lines[0].shipped = lines[0].quantity if lines[0].quantity == 1 else rng.randrange(1, lines[0].quantity)
        if all(line.shipped == line.quantity for line in lines) and len(lines) > 1:
            lines[-1].shipped = 0

    # -- payments --------------------------------------------------------------------------

    def _payments(self, total: Decimal, customer: Customer, guest: bool) -> tuple[list[dict[str, Any]], list[str]]:
        """Sale, or authorization then capture, on one gateway; sometimes a gift card pays part first."""
        rng = self.rng
        pattern = weighted(rng, (45, 35, 14, 6))  # sale, authorize+capture, gift card + card, manual
        moment = self.placed + timedelta(seconds=2)
        transactions: list[dict[str, Any]] = []
        gateways: list[str] = []
        card_amount = total
        if pattern == 2:
            gift = min(nice_amount(Decimal(rng.choice((10, 25, 50, 100))), self.currency), total)
            if gift >= total:
                gift = (total / 2).quantize(quantum(self.currency))
            if gift > 0:
                transactions.append(self._transaction("sale", "gift_card", gift, moment, None, card=False))
                gateways.append("gift_card")
                card_amount = total - gift
                moment += timedelta(seconds=1)
        if pattern == 3:
            transactions.append(self._transaction("sale", "manual", total, moment, None, card=False))
            return transactions, ["manual"]
        gateway = CARD_GATEWAYS[rng.randrange(len(CARD_GATEWAYS))]
        gateways.append(gateway)
        if pattern == 1:
            authorization = self._transaction("authorization", gateway, card_amount, moment, None, card=True)
            transactions.append(authorization)
            captured = moment + timedelta(hours=rng.randrange(1, 72), minutes=rng.randrange(60))
            transactions.append(self._transaction("capture", gateway, card_amount, captured, authorization, card=True))
        else:
            transactions.append(self._transaction("sale", gateway, card_amount, moment, None, card=True))
        return transactions, gateways

    def _transaction(
        self,
        kind: str,
        gateway: str,
        amount: Decimal,
        moment: datetime,
        parent: dict[str, Any] | None,
        *,
        card: bool,
    ) -> dict[str, Any]:
        rng = self.rng
        transaction_id = self.ids("shopify.transaction")
        stamp = _timestamp(self.zone, moment)
        details = None
        if card:
            company, bin_number, last4 = CARDS[(self.index + len(gateway)) % len(CARDS)]
            details = {
                "credit_card_bin": bin_number,
                "avs_result_code": "Y",
                "cvv_result_code": "M",
                "credit_card_number": f"•••• •••• •••• {last4}",
                "credit_card_company": company,
                "credit_card_name": None,
                "credit_card_wallet": None,
                "credit_card_expiration_month": 1 + rng.randrange(12),
                "credit_card_expiration_year": self.placed.year + 1 + rng.randrange(5),
            }
        transaction = {
            "id": transaction_id,
            "admin_graphql_api_id": f"gid://shopify/OrderTransaction/{transaction_id}",
            "order_id": self.order_id,
            "kind": kind,
            "gateway": gateway,
            "status": "success",
            "message": "Bogus Gateway: Forced success" if gateway == "bogus" else None,
            "created_at": stamp,
            "processed_at": stamp,
            "test": gateway == "bogus",
            "authorization": parent["authorization"] if parent else _token(rng, "ch_" if card else "gc_"),
            "location_id": None,
            "user_id": None,
            "parent_id": parent["id"] if parent else None,
            "device_id": None,
            "error_code": None,
            "source_name": "web",
            "receipt": {},
            "currency_exchange_adjustment": None,
            "amount": self.money.text(amount),
            "currency": self.currency,
        }
        if details is not None:
            transaction["payment_details"] = details
        return transaction

    # -- rendering -------------------------------------------------------------------------

    def _customer(self, customer: Customer) -> dict[str, Any]:
        customer_id = CUSTOMER_ID_BASE + customer.number
        since = _timestamp(self.zone, self.placed - customer.since)
        return {
            "id": customer_id,
            "admin_graphql_api_id": f"gid://shopify/Customer/{customer_id}",
            "email": customer.email,
            "first_name": customer.first_name,
            "last_name": customer.last_name,
            "accepts_marketing": customer.accepts_marketing,
            "created_at": since,
            "updated_at": _timestamp(self.zone, self.placed),
            "state": "enabled",
            "verified_email": True,
            "tax_exempt": False,
            "tax_exemptions": [],
            "phone": None,
            "tags": "",
            "currency": self.money.presentment,  # the currency of their last order (Shopify)
            "note": None,
            "default_address": _address(customer),
        }

    def _line_item(self, line: _Line, *, for_fulfillment: bool = False) -> dict[str, Any]:
        money = self.money
        position = self._positions[id(line)]
        line_id = self.ids.base + ID_LAYOUT["line_item"][0] + position
        product_id = PRODUCT_ID_BASE + line.product.number
        variant_id = VARIANT_ID_BASE + line.product.number * 10 + line.variant.number
        item: dict[str, Any] = {
            "id": line_id,
            "admin_graphql_api_id": f"gid://shopify/LineItem/{line_id}",
            "variant_id": variant_id,
            "product_id": product_id,
            "title": line.product.title,
            "variant_title": line.variant.title,
            "name": f"{line.product.title} - {line.variant.title}",
            "sku": line.variant.sku,
            "vendor": line.product.vendor,
            "quantity": line.shipped if for_fulfillment else line.quantity,
            **money.fields("price", line.price),
        }
        if for_fulfillment:
            item["fulfillment_status"] = "fulfilled"
            return item
        status = None if line.shipped == 0 else ("fulfilled" if line.shipped == line.quantity else "partial")
        line_discount = sum((amount for _, amount in line.line_discounts), ZERO)
        item.update(
            {
                "fulfillable_quantity": line.quantity - line.shipped,
                "fulfillment_service": "manual",
                "fulfillment_status": status,
                "requires_shipping": True,
                "taxable": line.product.taxable,
                "gift_card": False,
                "product_exists": True,
                "grams": line.product.grams,
                "properties": [],
                "variant_inventory_management": "shopify",
                "duties": [],
                **money.fields("total_discount", line_discount),
                "discount_allocations": [
                    {"amount": money.text(amount), "amount_set": money.set(amount), "discount_application_index": index}
                    for index, amount in sorted((*line.line_discounts, *line.cart_discounts), key=lambda pair: pair[0])
                ],
                "tax_lines": [
                    {
                        "title": title,
                        "price": money.text(amount),
                        "rate": float(rate),
                        "price_set": money.set(amount),
                        "channel_liable": False,
                    }
                    for title, rate, amount in line.taxes
                ],
            }
        )
        return item

    def _shipping_line(self, price: Decimal, taxes: list[tuple[str, Decimal, Decimal]]) -> dict[str, Any]:
        money = self.money
        return {
            "id": self.ids("shipping_line"),
            "title": self.shipping_title,
            "code": self.shipping_title,
            "source": "shopify",
            "carrier_identifier": None,
            "phone": None,
            "requested_fulfillment_service_id": None,
            "delivery_category": None,
            "discount_allocations": [],
            **money.fields("price", price),
            **money.fields("discounted_price", price),
            "tax_lines": [
                {
                    "title": title,
                    "price": money.text(amount),
                    "rate": float(rate),
                    "price_set": money.set(amount),
                    "channel_liable": False,
                }
                for title, rate, amount in taxes
            ],
        }

    def _order_tax_lines(
        self, lines: list[_Line], shipping_taxes: list[tuple[str, Decimal, Decimal]]
    ) -> list[dict[str, Any]]:
        totals: dict[tuple[str, Decimal], Decimal] = {}
        for title, rate, amount in [tax for line in lines for tax in line.taxes] + shipping_taxes:
            totals[(title, rate)] = totals.get((title, rate), ZERO) + amount
        return [
            {
                "title": title,
                "rate": float(rate),
                "price": self.money.text(amount),
                "price_set": self.money.set(amount),
                "channel_liable": False,
            }
            for (title, rate), amount in totals.items()
        ]

    def _fulfillments(self, lines: list[_Line]) -> list[dict[str, Any]]:
        shipped = [line for line in lines if line.shipped]
        if not shipped:
            return []
        rng = self.rng
        fulfillment_id = self.ids("fulfillment")
        moment = self.placed + timedelta(days=1 + rng.randrange(4), hours=rng.randrange(10))
        stamp = _timestamp(self.zone, moment)
        tracking = f"1Z{rng.getrandbits(56):016X}"
        self.shipped_at = moment
        return [
            {
                "id": fulfillment_id,
                "admin_graphql_api_id": f"gid://shopify/Fulfillment/{fulfillment_id}",
                "order_id": self.order_id,
                "name": f"#{ORDER_NUMBER_BASE + self.index}.1",
                "status": "success",
                "service": "manual",
                "shipment_status": "delivered" if rng.random() < 0.7 else "in_transit",
                "location_id": LOCATION_IDS[0],
                "tracking_company": CARRIERS[rng.randrange(len(CARRIERS))],
                "tracking_number": tracking,
                "tracking_numbers": [tracking],
                "tracking_url": None,
                "tracking_urls": [],
                "created_at": stamp,
                "updated_at": stamp,
                "line_items": [self._line_item(line, for_fulfillment=True) for line in shipped],
            }
        ]

    # -- history: earlier refunds, made by the engine -----------------------------------------

    def _history(self, document: dict[str, Any]) -> None:
        rng = self.rng
        outcome = weighted(rng, (80, 14, 6))  # untouched, partly refunded, fully refunded
        if outcome == 0:
            return
        moment = self.placed + timedelta(days=3 + rng.randrange(14), hours=rng.randrange(12))
        if outcome == 1 or rng.random() < 0.3:
            self._partial_refund(document, moment)
            moment += timedelta(days=1 + rng.randrange(10))
            if outcome == 1 and rng.random() < 0.2:
                self._partial_refund(document, moment)
        if outcome == 2:
            figures = engine.figures_of(document)
            request = everything_left(document, shipping_left=remaining_shipping(document, figures))
            self._refund(document, request, moment, note="Order returned in full", figures=figures)

    def _partial_refund(self, document: dict[str, Any], moment: datetime) -> None:
        rng = self.rng
        order = document["order"]
        left = remaining_units(document)
        figures = engine.figures_of(document)  # the order as it stands, for the quote and the refund alike
        candidates = [line for line in order["line_items"] if left.get(line["id"], 0) > 0]
        request: dict[str, Any] = {"refund_line_items": [], "currency": refund_currency(document)}
        for line in rng.sample(candidates, min(len(candidates), 1 + (rng.random() < 0.3))):
            units = left[line["id"]]
            quantity = 1 + rng.randrange(units) if units > 1 and rng.random() < 0.5 else min(units, 1)
            if units > 1 and quantity == units:
                quantity -= 1  # keep the order partly refunded
            request["refund_line_items"].append(self._restock(line, quantity))
        shipping_left = remaining_shipping(document, figures)
        if shipping_left > 0 and (not request["refund_line_items"] or rng.random() < 0.25):
            if rng.random() < 0.5:
                request["shipping"] = {"full_refund": True}
            else:
                request["shipping"] = {"amount": money_text(shipping_left / 2, refund_currency(document))}
        discrepancy = rng.random() < 0.12
        note = REFUND_NOTES[rng.randrange(len(REFUND_NOTES))]
        self._refund(document, request, moment, note=note, restocking_fee=discrepancy, figures=figures)

    def _restock(self, line: dict[str, Any], quantity: int) -> dict[str, Any]:
        """Returned when the units were shipped, cancelled when they were not, sometimes not restocked."""
        item: dict[str, Any] = {"line_item_id": line["id"], "quantity": quantity, "restock_type": "no_restock"}
        if self.rng.random() < 0.3:
            return item
        if line.get("fulfillment_status") == "fulfilled":
            item.update(restock_type="return", location_id=LOCATION_IDS[0])
        elif int(line.get("fulfillable_quantity", 0)) >= quantity:
            item.update(restock_type="cancel", location_id=LOCATION_IDS[0])
        return item

    def _refund(
        self,
        document: dict[str, Any],
        request: dict[str, Any],
        moment: datetime,
        *,
        note: str | None,
        restocking_fee: bool = False,
        figures: engine.OrderFigures | None = None,
    ) -> None:
        """Quote with the engine, take its suggested transactions, then create the refund with the engine.

        `figures`: the engine's figures of the document as it stands, read once for both calls.
        """
        figures = figures or engine.figures_of(document)
        quote = engine.build_quote(document, request, for_create=False, figures=figures)  # what calculate quotes
        transactions = [
            {"parent_id": item["parent_id"], "amount": item["amount"], "kind": "refund", "gateway": item["gateway"]}
            for item in engine.suggested_transactions(quote)  # as calculate writes them
            if Decimal(item["amount"]) > 0
        ]
        if not transactions:
            return
        create = dict(request)
        create["transactions"] = transactions
        create["note"] = note
        create["notify"] = False
        if restocking_fee:
            last = Decimal(transactions[-1]["amount"])
            paid_in = refund_currency(document)
            fee = min(nice_amount(Decimal(self.rng.choice((2, 3, 5))), paid_in), last / 4)
            fee = fee.quantize(quantum(paid_in))
            if fee > 0:
                transactions[-1]["amount"] = money_text(last - fee, paid_in)
                create["discrepancy_reason"] = "restock"
        engine.create_refund(document, create, self.ids, now=moment, figures=figures)


def _presentment(node: dict[str, Any], key: str) -> Decimal:
    return Decimal(node[f"{key}_set"]["presentment_money"]["amount"])


def _put_presentment(node: dict[str, Any], key: str, amount: Decimal) -> None:
    part = node[f"{key}_set"]["presentment_money"]
    part["amount"] = money_text(amount, part["currency_code"])


def _sum_presentment(order: dict[str, Any]) -> None:
    """The order's presentment totals as the sums of their presentment parts, as the customer was charged.

    Each part (a unit price, an allocation, a tax line) is converted on its own, so totals
    converted on their own would miss the parts' sum by a minor unit or two.
    """
    methods = [application["allocation_method"] for application in order.get("discount_applications") or []]
    items = discounts = tax = shipping = ZERO
    by_title: dict[str, Decimal] = {}
    for line in order["line_items"]:
        items += _presentment(line, "price") * int(line["quantity"])
        allocations = line.get("discount_allocations") or []
        discounts += sum((_presentment(a, "amount") for a in allocations), ZERO)
        each = [a for a in allocations if methods[a["discount_application_index"]] != "across"]
        _put_presentment(line, "total_discount", sum((_presentment(a, "amount") for a in each), ZERO))
    subtotal = items - discounts
    for line in order.get("shipping_lines") or []:
        shipping += _presentment(line, "price")
        discounts += sum((_presentment(a, "amount") for a in line.get("discount_allocations") or []), ZERO)
        shipping -= sum((_presentment(a, "amount") for a in line.get("discount_allocations") or []), ZERO)
    for line in [*order["line_items"], *(order.get("shipping_lines") or [])]:
        for tax_line in line.get("tax_lines") or []:
            tax += _presentment(tax_line, "price")
            by_title[tax_line["title"]] = by_title.get(tax_line["title"], ZERO) + _presentment(tax_line, "price")
    for tax_line in order.get("tax_lines") or []:
        _put_presentment(tax_line, "price", by_title.get(tax_line["title"], ZERO))
    total = subtotal + shipping + (ZERO if order.get("taxes_included") else tax)
    figures = {
        "total_line_items_price": items,
        "total_discounts": discounts,
        "subtotal_price": subtotal,
        "total_tax": tax,
        "total_price": total,
        "current_subtotal_price": subtotal,
        "current_total_tax": tax,
        "current_total_discounts": discounts,
        "current_total_price": total,
    }
    for key, amount in figures.items():
        _put_presentment(order, key, amount)
    _put_presentment(order, "total_shipping_price", shipping)


def _pay_in_presentment(transactions: list[dict[str, Any]], order: dict[str, Any]) -> None:
    """Payments in the customer's (presentment) currency: the presentment total split as the shop money was."""
    part = order["total_price_set"]["presentment_money"]
    currency, total = part["currency_code"], Decimal(part["amount"])
    payments = [t for t in transactions if t["kind"] in ("sale", "capture")]
    shares = split(total, [Decimal(t["amount"]) for t in payments], currency)
    amounts = {t["id"]: share for t, share in zip(payments, shares, strict=True)}
    for transaction in transactions:
        authorized = next((t for t in payments if t.get("parent_id") == transaction["id"]), None)
        amount = amounts[transaction["id"]] if authorized is None else amounts[authorized["id"]]
        transaction["amount"] = money_text(amount, currency)
        transaction["currency"] = currency


# -- reading a generated order -------------------------------------------------------------------


def remaining_units(document: dict[str, Any]) -> dict[int, int]:
    """Units of each line not refunded yet."""
    order = document["order"]
    refunded: dict[int, int] = {}
    for refund in order.get("refunds") or []:
        for item in refund.get("refund_line_items") or []:
            refunded[item["line_item_id"]] = refunded.get(item["line_item_id"], 0) + int(item["quantity"])
    return {line["id"]: int(line["quantity"]) - refunded.get(line["id"], 0) for line in order["line_items"]}


def remaining_shipping(document: dict[str, Any], figures: engine.OrderFigures | None = None) -> Decimal:
    """Shipping paid minus shipping refunded, in the refund's (presentment) currency, as the engine reads them.

    `figures`: the engine's figures of the document as it stands, when the caller has them.
    """
    figures = figures or engine.OrderFigures(document)
    return figures.shipping_paid - figures.shipping_refunded


def refund_currency(document: dict[str, Any]) -> str:
    """The currency refunds of this order are made in: the presentment currency."""
    order = document["order"]
    return str(order.get("presentment_currency") or order["currency"])


def everything_left(
    document: dict[str, Any], left: dict[int, int] | None = None, shipping_left: Decimal | None = None
) -> dict[str, Any]:
    """A refund request for every unit not refunded yet and all remaining shipping.

    `left` and `shipping_left`: `remaining_units` and `remaining_shipping`, when the caller has them.
    """
    left = remaining_units(document) if left is None else left
    shipping_left = remaining_shipping(document) if shipping_left is None else shipping_left
    order = document["order"]
    request: dict[str, Any] = {
        "refund_line_items": [
            {"line_item_id": line["id"], "quantity": left[line["id"]], "restock_type": "no_restock"}
            for line in order["line_items"]
            if left[line["id"]] > 0
        ],
        "currency": refund_currency(document),
    }
    if shipping_left > 0:
        request["shipping"] = {"full_refund": True}
    return request


def _quote_restock(line: dict[str, Any], quantity: int) -> str:
    if line.get("fulfillment_status") == "fulfilled":
        return "return"
    if int(line.get("fulfillable_quantity", 0)) >= quantity:
        return "cancel"
    return "no_restock"


def quote_requests(
    document: dict[str, Any], context: engine.OrderFigures | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """Ready-made calculate requests: a line, several lines, shipping only, everything left.

    Only requests with something to refund are made, so a fully refunded order has none.
    `context`: what `quote_context` gave for the document, when the caller has it.
    """
    order = document["order"]
    left = remaining_units(document)
    shipping_left = remaining_shipping(document, context)
    open_lines = [line for line in order["line_items"] if left[line["id"]] > 0]
    paid_in = refund_currency(document)
    requests: list[tuple[str, dict[str, Any]]] = []
    if open_lines:
        line = open_lines[0]
        quantity = left[line["id"]]
        item = {"line_item_id": line["id"], "quantity": quantity, "restock_type": _quote_restock(line, quantity)}
        requests.append(("one line", {"refund": {"currency": paid_in, "refund_line_items": [item]}}))
    if len(open_lines) > 1:
        items = [
            {"line_item_id": line["id"], "quantity": 1, "restock_type": _quote_restock(line, 1)} for line in open_lines
        ]
        requests.append(("several lines", {"refund": {"currency": paid_in, "refund_line_items": items}}))
    if shipping_left > 0:
        requests.append(("shipping only", {"refund": {"currency": paid_in, "shipping": {"full_refund": True}}}))
    if open_lines or shipping_left > 0:
        requests.append(("everything left", {"refund": everything_left(document, left, shipping_left)}))
    return requests


def quote_path(document: dict[str, Any]) -> str:
    return f"{API_BASE}/orders/{document['order']['id']}/refunds/calculate.json"


QUOTE_HEADERS = {"X-Shopify-Access-Token": QUOTE_TOKEN}


def quote_response(document: dict[str, Any], request: dict[str, Any], figures: engine.OrderFigures) -> dict[str, Any]:
    """calculateRefund's answer (200) to `request`, from the engine directly, as the handler renders it."""
    return engine.calculate(document, request["refund"], figures)


def quote_context(document: dict[str, Any]) -> engine.OrderFigures:
    """What the engine computes once per order and reuses for each quote (the handler keeps the same)."""
    return engine.figures_of(document)


def order_id(document: dict[str, Any]) -> int:
    return int(document["order"]["id"])


def currency(document: dict[str, Any]) -> str:
    return str(document["order"]["currency"])


# -- the run ----------------------------------------------------------------------------------------


def generate_order(settings: GeneratorSettings, index: int) -> dict[str, Any]:
    """Order number `index` (1-based) of a run; the same settings and index always give the same order."""
    catalog = build_catalog(settings.seed, settings.locale, PLATFORM_NAME)
    return _OrderBuilder(settings, catalog, index).build()


def generate(settings: GeneratorSettings, count: int, start: int = 1) -> Iterator[dict[str, Any]]:
    """`count` orders, one at a time (nothing is kept, so a million orders take no more memory than one)."""
    for index in range(start, start + count):
        yield generate_order(settings, index)


# -- what a generated order shows (for coverage tests and summaries) ----------------------------------


def cases(document: dict[str, Any]) -> set[str]:
    """The situations of the issue's list that this order shows, read from the document itself."""
    order = document["order"]
    transactions = document["transactions"]
    lines = order["line_items"]
    found = {f"lines:{len(lines)}", f"currency:{order['currency']}"}
    found |= {f"quantity:{line['quantity']}" for line in lines}
    found.add("taxes_included" if order.get("taxes_included") else "taxes_excluded")
    if any(len(line.get("tax_lines") or []) > 1 for line in lines):
        found.add("several_tax_lines_on_a_line")
    methods = [application.get("allocation_method") for application in order.get("discount_applications") or []]
    for line in lines:
        for allocation in line.get("discount_allocations") or []:
            method = methods[allocation["discount_application_index"]]
            found.add("order_level_discount" if method == "across" else "line_level_discount")
    for shipping in order.get("shipping_lines") or []:
        taxed = any(Decimal(tax["price"]) > 0 for tax in shipping.get("tax_lines") or [])
        found.add("shipping_taxed" if taxed else "shipping_untaxed")
    paid = [t for t in transactions if t["kind"] in ("sale", "capture") and t["status"] == "success"]
    gateways = {t["gateway"] for t in paid}
    if len(gateways) == 1:
        found.add("one_gateway")
    if "gift_card" in gateways and len(gateways) > 1:
        found.add("gift_card_and_card")
    if any(t["kind"] == "capture" for t in paid):
        found.add("authorized_then_captured")
    if any(t["kind"] == "sale" for t in paid):
        found.add("sale")
    if not order.get("customer"):
        found.add("guest_customer")
    if order.get("presentment_currency", order["currency"]) != order["currency"]:
        found.add("non_default_currency")
    shipped: dict[int, int] = {}
    for fulfillment in order.get("fulfillments") or []:
        for item in fulfillment.get("line_items") or []:
            shipped[item["id"]] = shipped.get(item["id"], 0) + int(item["quantity"])
    for line in lines:
        units = shipped.get(line["id"], 0)
        found.add(
            "line_unfulfilled"
            if units == 0
            else ("line_fully_fulfilled" if units >= line["quantity"] else "line_partly_fulfilled")
        )
    if order.get("financial_status") == "partially_refunded":
        found.add("earlier_partial_refund")
    if order.get("financial_status") == "refunded":
        found.add("fully_refunded")
    return found


REQUIRED_CASES = frozenset(
    {
        "lines:1",
        "lines:8",
        "quantity:1",
        "quantity:5",
        "taxes_included",
        "taxes_excluded",
        "several_tax_lines_on_a_line",
        "line_level_discount",
        "order_level_discount",
        "shipping_taxed",
        "shipping_untaxed",
        "one_gateway",
        "gift_card_and_card",
        "authorized_then_captured",
        "sale",
        "guest_customer",
        "non_default_currency",
        "line_unfulfilled",
        "line_partly_fulfilled",
        "line_fully_fulfilled",
        "earlier_partial_refund",
        "fully_refunded",
    }
)
