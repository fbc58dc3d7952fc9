"""BigCommerce fixture orders that look like a real store's and add up to the cent.

`generate(settings, count)` yields fixture documents in BigCommerce's own shapes: the V2 order
(money as four-decimal strings), its products, shipping addresses and fees, its V3 transactions
and its V3 refunds. Every split of an amount (an order-level discount over the products) is a
largest-remainder split from `mockserver.money`, so allocations sum exactly, and the parts of an
order (products after discounts, gift wrapping, shipping, handling, fees) add up to
`total_inc_tax`, which is what the shopper paid across all tenders.

Earlier refunds are made by the refund engine itself (`models.quote` for the refund methods, then
`models.create_refund`), so refunds, transactions and order fields agree exactly as they would
after refunds made through the server.

Order ids start at 5001 (the starter orders are 100-104); every other id of an order lives in a
block of its own, `order id × 100 + offset`, so no two orders share an id.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from mockserver.bigcommerce import models as engine
from mockserver.generation import (
    LINE_COUNT_WEIGHTS,
    QUANTITY_WEIGHTS,
    Catalog,
    Customer,
    GeneratorSettings,
    IdBlocks,
    Product,
    build_catalog,
    nice_amount,
    order_moment,
    order_random,
    other_currency,
    percent_of,
    pick_currency,
    pick_regime,
    prices_include_tax,
    tax_of,
    usd_rate,
    weighted,
)
from mockserver.money import ZERO, quantum, split

PLATFORM_NAME = "bigcommerce"
ORDER_ID_BASE = 5000  # order ids: base + index (the starters are 100-104)
BLOCK = 100
ID_LAYOUT = {
    "product": (1, 8),
    "address": (11, 3),
    "fee": (21, 2),
    "bigcommerce.transaction": (31, 25),
    "bigcommerce.refund": (61, 6),
    "bigcommerce.refund_payment": (71, 25),
}
CUSTOMER_ID_BASE = 1000
PRODUCT_ID_BASE = 300
STORE_HASH = "refundmock"
QUOTE_TOKEN = "refund-mock-generator"
V2 = engine.as_v2_money
NUMBER = engine.as_number

SHIPPING_USD = (Decimal("4.99"), Decimal("6.95"), Decimal("9.99"), Decimal(12), Decimal("15.95"))
SHIPPING_METHODS = (
    "USPS Priority Mail",
    "UPS Ground",
    "FedEx 2Day",
    "Flat Rate",
    "Royal Mail Tracked 48",
    "DHL Express",
)
WRAPPINGS = ((1, "Gift box"), (2, "Gift bag"), (3, "Kraft paper and twine"))
WRAP_MESSAGES = ("Happy birthday!", "Congratulations!", "With love", "Thank you", "")
FEES = (
    ("Eco packaging", "Eco packaging fee", Decimal("1.50")),
    ("Rush processing", "Rush order handling", Decimal(4)),
    ("Card surcharge", "Payment surcharge", Decimal("0.99")),
)
CARD_GATEWAYS = (
    ("stripe", "credit_card", "Credit Card"),
    ("braintree", "credit_card", "Credit Card"),
    ("adyen", "credit_card", "Credit Card"),
    ("square", "credit_card", "Credit Card"),
    ("authorizenet", "credit_card", "Credit Card"),
    ("paypalexpress", "offsite", "PayPal"),
)
OFFLINE_GATEWAYS = (("bankdeposit", "Bank Deposit"), ("cod", "Cash on Delivery"), ("cheque", "Check"))
CARDS = (("visa", "411111", "1111"), ("mastercard", "555555", "4444"), ("amex", "378282", "0005"))
REFUND_REASONS = ("Customer changed their mind", "Arrived damaged", "Wrong size", "Late delivery", "Item out of stock")
STATUS_BY_FULFILMENT = {0: (11, "Awaiting Fulfillment"), 1: (3, "Partially Shipped"), 2: (2, "Shipped")}


class _Line:
    """An order product while the order is being built."""

    def __init__(self, product: Product, variant_index: int, quantity: int, price: Decimal):
        self.product = product
        self.variant = product.variants[variant_index]
        self.quantity = quantity
        self.price = price  # the shelf price: excluding tax, or including it for tax-inclusive stores
        self.discounts: list[dict[str, Any]] = []
        self.discount_total = ZERO
        self.address = 0
        self.wrapping: tuple[int, str, Decimal, str] | None = None  # (id, name, per-unit cost, message)
        self.shipped = 0

    @property
    def gross(self) -> Decimal:
        return self.price * self.quantity

    def discount(self, amount: Decimal, entry: dict[str, Any]) -> None:
        if amount > 0:
            self.discounts.append(entry)
            self.discount_total += amount


class _Split:
    """Money of one taxed thing: excluding tax, including tax, and the tax."""

    __slots__ = ("ex", "inc", "tax")

    def __init__(self, ex: Decimal, inc: Decimal, tax: Decimal):
        self.ex, self.inc, self.tax = ex, inc, tax


class _OrderBuilder:
    def __init__(self, settings: GeneratorSettings, catalog: Catalog, index: int):
        self.settings = settings
        self.catalog = catalog
        self.index = index
        self.rng = order_random(settings.seed, PLATFORM_NAME, index)
        self.order_id = ORDER_ID_BASE + index
        self.ids = IdBlocks(self.order_id * BLOCK, ID_LAYOUT)

    def taxed(self, amount: Decimal, taxable: bool) -> _Split:
        """`amount` on the order's price basis, split into ex-tax, inc-tax and tax."""
        if not taxable or self.regime.rate == 0:
            return _Split(amount, amount, ZERO)
        tax = tax_of(amount, self.regime.rate, self.regime.rate, self.included, self.currency)
        if self.included:
            return _Split(amount - tax, amount, tax)
        return _Split(amount, amount + tax, tax)

    def build(self) -> dict[str, Any]:
        rng = self.rng
        settings = self.settings
        self.currency = currency = pick_currency(rng, settings.currencies)
        non_default = rng.random() < 0.12
        store_currency = other_currency(rng, currency, settings.currencies) if non_default else currency
        self.placed = order_moment(settings.seed, PLATFORM_NAME, self.index, rng)
        self.regime = pick_regime(rng, currency, self.catalog.country_code)
        self.included = prices_include_tax(rng, currency)
        guest = rng.random() < 0.15
        customers = self.catalog.customers
        customer = customers[rng.randrange(len(customers))]

        lines = self._lines()
        self._discounts(lines)
        self._wrap(lines)
        addresses = self._addresses(lines, customer)
        fees = self._fees()
        state = self._fulfil(lines)

        products = [self._product(line, position, addresses) for position, line in enumerate(lines)]
        subtotal = _Split(
            sum((Decimal(p["total_ex_tax"]) for p in products), ZERO),
            sum((Decimal(p["total_inc_tax"]) for p in products), ZERO),
            sum((Decimal(p["total_tax"]) for p in products), ZERO),
        )
        shipping = self._sum_addresses(addresses, "cost")
        handling = self._sum_addresses(addresses, "handling_cost")
        wrapping = _Split(
            sum((Decimal(p["wrapping_cost_ex_tax"]) for p in products), ZERO),
            sum((Decimal(p["wrapping_cost_inc_tax"]) for p in products), ZERO),
            sum((Decimal(p["wrapping_cost_tax"]) for p in products), ZERO),
        )
        fee_split = _Split(
            sum((Decimal(f["cost_ex_tax"]) for f in fees), ZERO),
            sum((Decimal(f["cost_inc_tax"]) for f in fees), ZERO),
            sum((Decimal(f["cost_tax"]) for f in fees), ZERO),
        )
        discount = sum((line.discount_total for line in lines), ZERO)
        coupons = sum(
            (Decimal(entry["amount"]) for line in lines for entry in line.discounts if entry["code"] is not None), ZERO
        )
        total_tax = subtotal.tax + shipping.tax + handling.tax + wrapping.tax + fee_split.tax
        if self.included:
            total_inc = subtotal.inc - discount + shipping.inc + handling.inc + wrapping.inc + fee_split.inc
        else:
            total_inc = subtotal.ex - discount + shipping.ex + handling.ex + wrapping.ex + fee_split.ex + total_tax
        transactions, payment = self._payments(total_inc, guest or non_default)
        status_id, status = STATUS_BY_FULFILMENT[state]
        if state == 2 and rng.random() < 0.3:
            status_id, status = 10, "Completed"
        shipped_at = self.placed + timedelta(days=1 + rng.randrange(4), hours=rng.randrange(9))
        address = customer.address
        language = self.catalog.language
        order = {
            "id": self.order_id,
            "customer_id": 0 if guest else CUSTOMER_ID_BASE + customer.number,
            "date_created": engine.rfc2822(self.placed),
            "date_modified": engine.rfc2822(shipped_at if state else self.placed + timedelta(seconds=5)),
            "date_shipped": engine.rfc2822(shipped_at) if state else "",
            "status_id": status_id,
            "status": status,
            "custom_status": status,
            "subtotal_ex_tax": V2(subtotal.ex),
            "subtotal_inc_tax": V2(subtotal.inc),
            "subtotal_tax": V2(subtotal.tax),
            "base_shipping_cost": V2(shipping.inc if self.included else shipping.ex),
            "shipping_cost_ex_tax": V2(shipping.ex),
            "shipping_cost_inc_tax": V2(shipping.inc),
            "shipping_cost_tax": V2(shipping.tax),
            "shipping_cost_tax_class_id": 2,
            "base_handling_cost": V2(handling.inc if self.included else handling.ex),
            "handling_cost_ex_tax": V2(handling.ex),
            "handling_cost_inc_tax": V2(handling.inc),
            "handling_cost_tax": V2(handling.tax),
            "handling_cost_tax_class_id": 2,
            "base_wrapping_cost": V2(wrapping.inc if self.included else wrapping.ex),
            "wrapping_cost_ex_tax": V2(wrapping.ex),
            "wrapping_cost_inc_tax": V2(wrapping.inc),
            "wrapping_cost_tax": V2(wrapping.tax),
            "wrapping_cost_tax_class_id": 3,
            "total_ex_tax": V2(total_inc - total_tax),
            "total_inc_tax": V2(total_inc),
            "total_tax": V2(total_tax),
            "is_tax_inclusive_pricing": self.included,
            "items_total": sum(line.quantity for line in lines),
            "items_shipped": sum(line.shipped for line in lines),
            "payment_method": payment["method"],
            "payment_provider_id": payment["provider_id"],
            "payment_status": payment["status"],
            "refunded_amount": V2(ZERO),
            "order_is_digital": False,
            "store_credit_amount": V2(payment["store_credit"]),
            "gift_certificate_amount": V2(payment["gift_certificate"]),
            "ip_address": f"198.51.100.{1 + rng.randrange(254)}",
            "ip_address_v6": "",
            "geoip_country": self.catalog.country,
            "geoip_country_iso2": self.catalog.country_code,
            "currency_id": 1 + settings.currencies.index(currency),
            "currency_code": currency,
            "currency_exchange_rate": "1.0000000000",
            "default_currency_id": 1 + settings.currencies.index(currency),
            "default_currency_code": currency,
            "store_default_currency_code": store_currency,
            "store_default_to_transactional_exchange_rate": f"{usd_rate(currency) / usd_rate(store_currency):.4f}",
            "staff_notes": "",
            "customer_message": "",
            "discount_amount": V2(discount),
            "coupon_discount": V2(coupons),
            "shipping_address_count": len(addresses),
            "is_deleted": False,
            "is_email_opt_in": customer.accepts_marketing and not guest,
            "ebay_order_id": "0",
            "cart_id": None,
            "billing_address": {
                "first_name": address.first_name,
                "last_name": address.last_name,
                "company": address.company or "",
                "street_1": address.address1,
                "street_2": address.address2,
                "city": address.city,
                "state": address.province,
                "zip": address.zip,
                "country": address.country,
                "country_iso2": address.country_code,
                "phone": address.phone,
                "email": customer.email,
                "form_fields": [],
            },
            "credit_card_type": None,
            "order_source": "www",
            "channel_id": 1,
            "external_source": None,
            "external_id": None,
            "external_merchant_id": None,
            "external_order_id": "",
            "tax_provider_id": "BasicTaxProvider",
            "customer_locale": language,
            "products": self._link("products"),
            "shipping_addresses": self._link("shipping_addresses"),
            "coupons": self._link("coupons"),
        }
        document = {
            "order": order,
            "products": products,
            "shipping_addresses": addresses,
            "fees": fees,
            "transactions": transactions,
            "refunds": [],
        }
        self._history(document)
        return document

    def _link(self, resource: str) -> dict[str, str]:
        path = f"/orders/{self.order_id}/{resource}"
        return {"url": f"https://api.bigcommerce.com/stores/{STORE_HASH}/v2{path}", "resource": path}

    # -- parts of the order ---------------------------------------------------------------

    def _lines(self) -> list[_Line]:
        rng = self.rng
        count = 1 + weighted(rng, LINE_COUNT_WEIGHTS)
        return [
            _Line(
                product,
                rng.randrange(len(product.variants)),
                1 + weighted(rng, QUANTITY_WEIGHTS),
                product.price(self.currency),
            )
            for product in rng.sample(self.catalog.products, count)
        ]

    def _discounts(self, lines: list[_Line]) -> None:
        """A product-level sale on one line; an order-level coupon or manual discount split over all lines."""
        rng = self.rng
        if rng.random() < 0.18:
            line = lines[rng.randrange(len(lines))]
            percent = Decimal(rng.choice((10, 15, 20, 25)))
            amount = percent_of(line.gross, percent, self.currency)
            entry = {
                "id": f"rule-{10 + rng.randrange(80)}",
                "amount": V2(amount),
                "name": f"{percent}% off {line.product.title}",
                "code": None,
                "target": "product",
            }
            line.discount(amount, entry)
        if rng.random() < 0.32:
            base = [line.gross - line.discount_total for line in lines]
            if rng.random() < 0.55:
                percent = Decimal(rng.choice((5, 10, 15, 20)))
                amount = percent_of(sum(base, ZERO), percent, self.currency)
                code, name = f"SAVE{percent}", f"{percent}% off your order"
            else:
                amount = min(
                    (sum(base, ZERO) / 2).quantize(quantum(self.currency)),
                    nice_amount(Decimal(rng.choice((5, 10, 20))), self.currency),
                )
                code, name = f"THANKS{rng.randrange(10, 99)}", "Thank-you discount"
            manual = rng.random() < 0.35
            if manual:
                code, name = None, "Manual Discount"
            for line, part in zip(lines, split(amount, base, self.currency), strict=True):
                entry = {
                    "id": "manual-discount" if manual else code,
                    "amount": V2(part),
                    "name": name,
                    "code": code,
                    "target": "order",
                }
                line.discount(part, entry)

    def _wrap(self, lines: list[_Line]) -> None:
        rng = self.rng
        if rng.random() >= 0.12:
            return
        for line in rng.sample(lines, 1 + (len(lines) > 1 and rng.random() < 0.3)):
            wrapping_id, name = WRAPPINGS[rng.randrange(len(WRAPPINGS))]
            cost = nice_amount(Decimal(rng.choice((3, 4, 5))), self.currency)
            line.wrapping = (wrapping_id, name, cost, WRAP_MESSAGES[rng.randrange(len(WRAP_MESSAGES))])

    def _addresses(self, lines: list[_Line], customer: Customer) -> list[dict[str, Any]]:
        """One shipping address, or several (gifts sent to other people); handling on some."""
        rng = self.rng
        count = min(len(lines), 1 + weighted(rng, (84, 12, 4)))
        recipients = [customer] + [
            self.catalog.customers[rng.randrange(len(self.catalog.customers))] for _ in range(count - 1)
        ]
        for position, line in enumerate(lines):
            line.address = position if position < count else rng.randrange(count)
        handled = rng.random() < 0.18
        ids = [self.ids("address") for _ in range(count)]
        self.address_ids = ids
        addresses = []
        for position, recipient in enumerate(recipients):
            shipping_taxed = self.regime.shipping_taxed
            if rng.random() < 0.15:
                cost = ZERO
                method = "Free Shipping"
            else:
                usd = SHIPPING_USD[rng.randrange(len(SHIPPING_USD))]
                cost = usd if self.currency == "USD" else nice_amount(usd, self.currency)
                method = SHIPPING_METHODS[rng.randrange(len(SHIPPING_METHODS))]
            shipping = self.taxed(cost, shipping_taxed)
            handling = self.taxed(
                nice_amount(Decimal(rng.choice((1, 2, 3))), self.currency) if handled else ZERO, shipping_taxed
            )
            mine = [line for line in lines if line.address == position]
            address = recipient.address
            addresses.append(
                {
                    "id": ids[position],
                    "order_id": self.order_id,
                    "first_name": address.first_name,
                    "last_name": address.last_name,
                    "company": address.company or "",
                    "street_1": address.address1,
                    "street_2": address.address2,
                    "city": address.city,
                    "state": address.province,
                    "zip": address.zip,
                    "country": address.country,
                    "country_iso2": address.country_code,
                    "phone": address.phone,
                    "email": recipient.email,
                    "items_total": sum(line.quantity for line in mine),
                    "items_shipped": 0,  # set once fulfilment is known
                    "shipping_method": method,
                    "base_cost": V2(shipping.inc if self.included else shipping.ex),
                    "cost_ex_tax": V2(shipping.ex),
                    "cost_inc_tax": V2(shipping.inc),
                    "cost_tax": V2(shipping.tax),
                    "cost_tax_class_id": 2,
                    "base_handling_cost": V2(handling.inc if self.included else handling.ex),
                    "handling_cost_ex_tax": V2(handling.ex),
                    "handling_cost_inc_tax": V2(handling.inc),
                    "handling_cost_tax": V2(handling.tax),
                    "handling_cost_tax_class_id": 2,
                    "shipping_zone_id": 1,
                    "shipping_zone_name": self.catalog.country,
                    "shipping_quotes": self._link(f"shipping_addresses/{ids[position]}/shipping_quotes"),
                    "form_fields": [],
                }
            )
        return addresses

    def _sum_addresses(self, addresses: list[dict[str, Any]], prefix: str) -> _Split:
        return _Split(
            sum((Decimal(a[f"{prefix}_ex_tax"]) for a in addresses), ZERO),
            sum((Decimal(a[f"{prefix}_inc_tax"]) for a in addresses), ZERO),
            sum((Decimal(a[f"{prefix}_tax"]) for a in addresses), ZERO),
        )

    def _fees(self) -> list[dict[str, Any]]:
        rng = self.rng
        if rng.random() >= 0.12:
            return []
        fees = []
        for customer_name, merchant_name, usd in rng.sample(FEES, 1 + (rng.random() < 0.25)):
            cost = usd if self.currency == "USD" else nice_amount(usd, self.currency)
            money = self.taxed(cost, rng.random() < 0.5)
            fees.append(
                {
                    "id": self.ids("fee"),
                    "type": "custom_fee",
                    "display_name_customer": customer_name,
                    "display_name_merchant": merchant_name,
                    "source": "API",
                    "base_cost": V2(cost),
                    "cost_ex_tax": V2(money.ex),
                    "cost_inc_tax": V2(money.inc),
                    "cost_tax": V2(money.tax),
                    "tax_class_id": 2 if money.tax else None,
                }
            )
        return fees

    def _fulfil(self, lines: list[_Line]) -> int:
        """0: nothing shipped, 1: partly shipped (lines in every state), 2: everything shipped."""
        rng = self.rng
        state = weighted(rng, (40, 28, 32))
        if state == 2:
            for line in lines:
                line.shipped = line.quantity
        elif state == 1:
            for line in lines:
                choice = rng.randrange(3)
                if choice == 1 and line.quantity > 1:
                    line.shipped = rng.randrange(1, line.quantity)
                elif choice == 2:
                    line.shipped = line.quantity
            if all(line.shipped == 0 for line in lines):
                first = lines[0]
                first.shipped = first.quantity if first.quantity == 1 else rng.randrange(1, first.quantity)
            if all(line.shipped == line.quantity for line in lines):
                if len(lines) == 1:
                    return 2
                lines[-1].shipped = 0
        return state

    def _product(self, line: _Line, position: int, addresses: list[dict[str, Any]]) -> dict[str, Any]:
        included = self.included
        taxable = line.product.taxable
        unit = self.taxed(line.price, taxable)
        if included:
            total_inc = line.gross
            tax = self.taxed(line.gross - line.discount_total, taxable).tax
            total_ex = total_inc - tax
            paid = total_inc - line.discount_total
        else:
            total_ex = line.gross
            tax = self.taxed(line.gross - line.discount_total, taxable).tax
            total_inc = total_ex + tax
            paid = total_ex - line.discount_total + tax
        wrap = _Split(ZERO, ZERO, ZERO)
        wrapping_id = wrapping_name = None
        message = ""
        if line.wrapping is not None:
            wrapping_id, wrapping_name, cost, message = line.wrapping
            wrap = self.taxed(cost * line.quantity, True)
        address = addresses[line.address]
        address["items_shipped"] += line.shipped
        product_id = self.ids("product")
        return {
            "id": product_id,
            "order_id": self.order_id,
            "product_id": PRODUCT_ID_BASE + line.product.number,
            "variant_id": (PRODUCT_ID_BASE + line.product.number) * 10 + line.variant.number,
            "order_address_id": address["id"],
            "order_pickup_method_id": 0,
            "name": line.product.title,
            "name_customer": line.product.title,
            "name_merchant": line.product.title,
            "sku": line.variant.sku,
            "upc": "",
            "type": "physical",
            "base_price": V2(line.price),
            "price_ex_tax": V2(unit.ex),
            "price_inc_tax": V2(unit.inc),
            "price_tax": V2(unit.tax),
            "base_total": V2(line.gross),
            "total_ex_tax": V2(total_ex),
            "total_inc_tax": V2(total_inc),
            "total_tax": V2(tax),
            "weight": round(line.product.grams / 1000, 2),
            "width": "0.0000",
            "height": "0.0000",
            "depth": "0.0000",
            "quantity": line.quantity,
            "base_cost_price": "0.0000",
            "cost_price_inc_tax": "0.0000",
            "cost_price_ex_tax": "0.0000",
            "cost_price_tax": "0.0000",
            "is_refunded": False,
            "quantity_refunded": 0,
            "refund_amount": "0.0000",
            "return_id": 0,
            "wrapping_id": wrapping_id,
            "wrapping_name": wrapping_name,
            "base_wrapping_cost": V2(wrap.inc if included else wrap.ex),
            "wrapping_cost_ex_tax": V2(wrap.ex),
            "wrapping_cost_inc_tax": V2(wrap.inc),
            "wrapping_cost_tax": V2(wrap.tax),
            "wrapping_message": message,
            "quantity_shipped": line.shipped,
            "event_name": None,
            "event_date": None,
            "fixed_shipping_cost": "0.0000",
            "ebay_item_id": "",
            "ebay_transaction_id": "",
            "option_set_id": None,
            "parent_order_product_id": None,
            "is_bundled_product": False,
            "bin_picking_number": "",
            "external_id": None,
            "brand": line.product.vendor,
            "gift_certificate_id": None,
            "applied_discounts": line.discounts,
            "product_options": [
                {
                    "id": product_id * 10 + 1,
                    "option_id": 1,
                    "order_product_id": product_id,
                    "product_option_id": 1,
                    "display_name": "Variant",
                    "display_value": line.variant.title,
                    "value": line.variant.title,
                    "type": "Multiple choice",
                    "name": "Variant",
                    "display_style": "Dropdown",
                }
            ],
            "configurable_fields": [],
            "discounted_total_inc_tax": V2(paid),
        }

    # -- payments ------------------------------------------------------------------------

    def _payments(self, total: Decimal, no_store_credit: bool) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Purchase, or authorization then capture; store credit or a gift certificate may pay part first."""
        rng = self.rng
        pattern = weighted(rng, (38, 35, 11, 9, 7))  # purchase, auth+capture, store credit, gift cert, offline
        if pattern == 2 and no_store_credit:
            pattern = 3
        moment = self.placed + timedelta(seconds=3)
        transactions: list[dict[str, Any]] = []
        summary: dict[str, Any] = {"store_credit": ZERO, "gift_certificate": ZERO}
        rest = total
        if pattern in (2, 3):
            first = min(nice_amount(Decimal(rng.choice((10, 20, 25, 50))), self.currency), total)
            if first >= total:
                first = (total / 2).quantize(quantum(self.currency))
            if first > 0:
                gateway = "storecredit" if pattern == 2 else "giftcertificate"
                transactions.append(self._transaction("purchase", gateway, first, moment, None))
                summary["store_credit" if pattern == 2 else "gift_certificate"] = first
                rest = total - first
                moment += timedelta(seconds=1)
        if pattern == 4:
            gateway, label = OFFLINE_GATEWAYS[rng.randrange(len(OFFLINE_GATEWAYS))]
            transactions.append(self._transaction("purchase", gateway, rest, moment, None))
            summary.update(method=label, provider_id=None, status="paid")
            return transactions, summary
        gateway, _, label = CARD_GATEWAYS[rng.randrange(len(CARD_GATEWAYS))]
        if pattern == 1:
            authorization = self._transaction("authorization", gateway, rest, moment, None)
            captured = moment + timedelta(hours=1 + rng.randrange(48))
            capture = self._transaction("capture", gateway, rest, captured, authorization)
            transactions += [authorization, capture]
            summary.update(method=label, provider_id=capture["gateway_transaction_id"], status="captured")
        else:
            purchase = self._transaction("purchase", gateway, rest, moment, None)
            transactions.append(purchase)
            summary.update(method=label, provider_id=purchase["gateway_transaction_id"], status="paid")
        return transactions, summary

    def _transaction(
        self, event: str, gateway: str, amount: Decimal, moment: datetime, parent: dict[str, Any] | None
    ) -> dict[str, Any]:
        rng = self.rng
        card = next((entry for entry in CARD_GATEWAYS if entry[0] == gateway), None)
        offline = next((entry for entry in OFFLINE_GATEWAYS if entry[0] == gateway), None)
        method = card[1] if card else ("store_credit" if gateway == "storecredit" else "gift_certificate")
        if offline:
            method = "offline"
        reference = parent["gateway_transaction_id"] if parent else f"{gateway[:2]}_{rng.getrandbits(64):016x}"
        transaction: dict[str, Any] = {
            "id": self.ids("bigcommerce.transaction"),
            "order_id": str(self.order_id),
            "event": event,
            "method": method,
            "amount": NUMBER(amount),
            "currency": self.currency,
            "gateway": gateway,
            "gateway_transaction_id": None if offline else reference,
            "date_created": engine.iso_utc(moment),
            "test": False,
            "status": "ok",
            "fraud_review": False,
            "reference_transaction_id": parent["id"] if parent else None,
            **engine.instrument_fields(gateway, method, {"display_name": offline[1]} if offline else None),
        }
        if card and card[1] == "credit_card":
            card_type, iin, last4 = CARDS[self.index % len(CARDS)]
            transaction["avs_result"] = {
                "code": "Y",
                "message": "Street address and 5-digit postal code match.",
                "street_match": "Y",
                "postal_match": "Y",
            }
            transaction["cvv_result"] = {"code": "M", "message": "CVV matches"}
            transaction["credit_card"] = {
                "card_type": card_type,
                "card_iin": iin,
                "card_last4": last4,
                "card_expiry_month": 1 + self.index % 12,
                "card_expiry_year": self.placed.year + 1 + self.index % 5,
            }
        if gateway == "giftcertificate":
            transaction["gift_certificate"] = {
                "code": f"GC-{rng.getrandbits(40):010X}",
                "original_balance": NUMBER(amount * 2),
                "starting_balance": NUMBER(amount * 2),
                "remaining_balance": NUMBER(amount),
                "status": "active",
            }
        if gateway == "storecredit":
            transaction["store_credit"] = {"remaining_balance": NUMBER(amount)}
        return transaction

    # -- history: earlier refunds, made by the engine -----------------------------------------

    def _history(self, document: dict[str, Any]) -> None:
        rng = self.rng
        outcome = weighted(rng, (80, 14, 6))  # untouched, partly refunded, fully refunded
        if outcome == 0:
            return
        moment = self.placed + timedelta(days=3 + rng.randrange(14), hours=rng.randrange(12))
        if outcome == 1 or rng.random() < 0.3:
            self._partial_refund(document, moment, keep_partial=outcome == 1)
            moment += timedelta(days=1 + rng.randrange(10))
            if outcome == 1 and rng.random() < 0.2:
                self._partial_refund(document, moment, keep_partial=True)
        if outcome == 2:
            self._refund(document, everything_left(document), moment, "Order returned in full")

    def _partial_refund(self, document: dict[str, Any], moment: datetime, *, keep_partial: bool) -> None:
        rng = self.rng
        left = remaining(document)
        products = [p for p in document["products"] if left[("PRODUCT", p["id"])] > 0]
        items: list[dict[str, Any]] = []
        for product in rng.sample(products, min(len(products), 1 + (rng.random() < 0.3))):
            units = int(left[("PRODUCT", product["id"])])
            quantity = 1 + rng.randrange(units) if units > 1 else 1
            if keep_partial and units > 1 and quantity == units:
                quantity -= 1
            items.append({"item_type": "PRODUCT", "item_id": product["id"], "quantity": quantity})
        step = quantum(self.currency)
        for (kind, item_id), amount in left.items():
            if kind == "PRODUCT" or amount <= 0:
                continue
            if kind == "GIFT_WRAPPING" and rng.random() < 0.3:
                items.append({"item_type": kind, "item_id": item_id, "quantity": int(amount)})
            elif kind in ("SHIPPING", "HANDLING", "FEE") and (not items or rng.random() < 0.2):
                part = amount if rng.random() < 0.5 else (amount / 2).quantize(step)
                if part > 0:
                    items.append({"item_type": kind, "item_id": item_id, "amount": NUMBER(part)})
        if not items:
            return
        reason = REFUND_REASONS[rng.randrange(len(REFUND_REASONS))]
        self._refund(document, {"items": items}, moment, reason)

    def _refund(self, document: dict[str, Any], request: dict[str, Any], moment: datetime, reason: str) -> None:
        """Ask the engine for the refund methods, pick one as a merchant would, and refund with the engine."""
        if not request.get("items"):
            return
        quote = engine.quote(document, request)
        methods = quote["refund_methods"]
        original = [m for m in methods if all(o["provider_id"] not in ("storecredit", "custom") for o in m)]
        roll = self.rng.random()
        if original and roll < 0.8:
            method = original[0]
        elif roll < 0.92 and any(m[0]["provider_id"] == "storecredit" for m in methods):
            method = next(m for m in methods if m[0]["provider_id"] == "storecredit")
        else:
            method = next((m for m in methods if m[0]["provider_id"] == "custom"), methods[-1])
        payments = [
            {"provider_id": option["provider_id"], "amount": option["amount"], "offline": option["offline"]}
            for option in method
        ]
        body = {**request, "payments": payments, "reason": reason}
        engine.create_refund(document, body, self.ids, now=moment)


# -- reading a generated order -------------------------------------------------------------------


def remaining(document: dict[str, Any]) -> dict[tuple[str, int], Decimal]:
    """What is left to refund per item: units for PRODUCT and GIFT_WRAPPING, amounts for the rest.

    Amounts are on the order's price basis (excluding tax unless the order's prices include it),
    as refund items ask for them; read from the document's refunds, not computed.
    """
    inclusive = bool(document["order"].get("is_tax_inclusive_pricing"))
    basis = "inc_tax" if inclusive else "ex_tax"
    taken: dict[tuple[str, int], Decimal] = {}
    for refund in document.get("refunds") or []:
        for item in refund.get("items") or []:
            key = (item["item_type"], int(item["item_id"]))
            quantity_bound = item["item_type"] in ("PRODUCT", "GIFT_WRAPPING")
            value = (
                Decimal(item.get("quantity") or 0) if quantity_bound else Decimal(str(item.get("requested_amount", 0)))
            )
            taken[key] = taken.get(key, ZERO) + value
    left: dict[tuple[str, int], Decimal] = {}
    for product in document.get("products") or []:
        key = ("PRODUCT", int(product["id"]))
        left[key] = Decimal(product["quantity"]) - Decimal(str(product.get("quantity_refunded") or 0))
        if Decimal(product.get("wrapping_cost_inc_tax") or 0) > 0:
            wrap = ("GIFT_WRAPPING", int(product["id"]))
            left[wrap] = Decimal(product["quantity"]) - taken.get(wrap, ZERO)
    for address in document.get("shipping_addresses") or []:
        for kind, prefix in (("SHIPPING", "cost"), ("HANDLING", "handling_cost")):
            key = (kind, int(address["id"]))
            left[key] = Decimal(address.get(f"{prefix}_{basis}") or 0) - taken.get(key, ZERO)
    for fee in document.get("fees") or []:
        key = ("FEE", int(fee["id"]))
        left[key] = Decimal(str(fee.get(f"cost_{basis}") or 0)) - taken.get(key, ZERO)
    return left


def _item(kind: str, item_id: int, left: Decimal) -> dict[str, Any]:
    if kind in ("PRODUCT", "GIFT_WRAPPING"):
        return {"item_type": kind, "item_id": item_id, "quantity": int(left)}
    return {"item_type": kind, "item_id": item_id, "amount": NUMBER(left)}


def everything_left(document: dict[str, Any]) -> dict[str, Any]:
    """A refund request for every unit and amount not refunded yet."""
    return {"items": [_item(kind, item_id, left) for (kind, item_id), left in remaining(document).items() if left > 0]}


def quote_requests(
    document: dict[str, Any], context: engine.OrderView | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """Ready-made refund_quotes requests: a line, several lines, shipping only, everything left.

    Only requests with something to refund are made, so a fully refunded order has none.
    `context` (what `quote_context` gave, which the Shopify generator reads) is not needed here.
    """
    left = remaining(document)
    open_products = [item_id for (kind, item_id), units in left.items() if kind == "PRODUCT" and units > 0]
    requests: list[tuple[str, dict[str, Any]]] = []
    if open_products:
        first = open_products[0]
        requests.append(("one line", {"items": [_item("PRODUCT", first, left[("PRODUCT", first)])]}))
    if len(open_products) > 1:
        items = [{"item_type": "PRODUCT", "item_id": item_id, "quantity": 1} for item_id in open_products]
        requests.append(("several lines", {"items": items}))
    shipping = [
        _item(kind, item_id, amount) for (kind, item_id), amount in left.items() if kind == "SHIPPING" and amount > 0
    ]
    if shipping:
        requests.append(("shipping only", {"items": shipping}))
    everything = everything_left(document)
    if everything["items"]:
        requests.append(("everything left", everything))
    return requests


def quote_path(document: dict[str, Any]) -> str:
    order_id = document["order"]["id"]
    return f"/stores/{document.get('store_hash') or STORE_HASH}/v3/orders/{order_id}/payment_actions/refund_quotes"


QUOTE_HEADERS = {"X-Auth-Token": QUOTE_TOKEN}


def quote_response(document: dict[str, Any], request: dict[str, Any], view: engine.OrderView | None) -> dict[str, Any]:
    """createOrderRefundQuotes' answer (201) to `request`, from the engine directly, as the handler renders it."""
    return {"data": engine.quote(document, request, view), "meta": {}}


def quote_context(document: dict[str, Any]) -> engine.OrderView:
    """What the engine computes once per order and reuses for each quote (the handler keeps the same)."""
    return engine.view_of(document)


def order_id(document: dict[str, Any]) -> int:
    return int(document["order"]["id"])


def currency(document: dict[str, Any]) -> str:
    order = document["order"]
    return str(order.get("default_currency_code") or order.get("currency_code"))


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
    products = document.get("products") or []
    found = {f"lines:{len(products)}", f"currency:{currency(document)}"}
    found |= {f"quantity:{product['quantity']}" for product in products}
    found.add("taxes_included" if order.get("is_tax_inclusive_pricing") else "taxes_excluded")
    for product in products:
        for discount in product.get("applied_discounts") or []:
            found.add("order_level_discount" if discount.get("target") == "order" else "line_level_discount")
        if Decimal(product.get("wrapping_cost_inc_tax") or 0) > 0:
            found.add("gift_wrapping")
        shipped = product.get("quantity_shipped") or 0
        found.add(
            "line_unfulfilled"
            if shipped == 0
            else ("line_fully_fulfilled" if shipped >= product["quantity"] else "line_partly_fulfilled")
        )
    addresses = document.get("shipping_addresses") or []
    for address in addresses:
        found.add("shipping_taxed" if Decimal(address.get("cost_tax") or 0) > 0 else "shipping_untaxed")
        if Decimal(address.get("handling_cost_inc_tax") or 0) > 0:
            found.add("handling")
    if len(addresses) > 1:
        found.add("several_shipping_addresses")
    if document.get("fees"):
        found.add("fees")
    paid = [
        t for t in document.get("transactions") or [] if t["event"] in ("purchase", "capture") and t["status"] == "ok"
    ]
    gateways = {t["gateway"] for t in paid}
    if len(gateways) == 1:
        found.add("one_gateway")
    if "storecredit" in gateways and len(gateways) > 1:
        found.add("store_credit_and_card")
    if "giftcertificate" in gateways and len(gateways) > 1:
        found.add("gift_certificate_and_card")
    if any(t["event"] == "capture" for t in paid):
        found.add("authorized_then_captured")
    if any(t["event"] == "purchase" for t in paid):
        found.add("sale")
    if Decimal(str(order.get("customer_id") or 0)) == 0:
        found.add("guest_customer")
    if order.get("store_default_currency_code") not in (None, currency(document)):
        found.add("non_default_currency")
    if order.get("payment_status") == "partially refunded":
        found.add("earlier_partial_refund")
    if order.get("payment_status") == "refunded":
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
        "line_level_discount",
        "order_level_discount",
        "shipping_taxed",
        "shipping_untaxed",
        "handling",
        "gift_wrapping",
        "fees",
        "several_shipping_addresses",
        "one_gateway",
        "store_credit_and_card",
        "gift_certificate_and_card",
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
