"""Values as Shopify's GraphQL Admin API writes them: ids, `Decimal`s, `MoneyBag`s and `DateTime`s."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

GID_PREFIX = "gid://shopify/"


def gid(type_name: str, rest_id: int | str) -> str:
    """`gid://shopify/Order/450789469` for REST id 450789469."""
    return f"{GID_PREFIX}{type_name}/{rest_id}"


def parse_gid(value: str) -> tuple[str, int] | None:
    """(type name, REST id) of a global id, or None when it is not one."""
    if not isinstance(value, str) or not value.startswith(GID_PREFIX):
        return None
    type_name, _, rest = value[len(GID_PREFIX) :].partition("/")
    rest = rest.partition("?")[0]
    if not type_name or not rest.isdigit() or not rest.isascii():
        return None
    number = int(rest)
    return (type_name, number) if 0 < number < 1 << 63 else None


@lru_cache(maxsize=4096)
def decimal_text(amount: Decimal) -> str:
    """Shopify's `Decimal` serialization: trailing zeros dropped but one ("15.0", "195.67", "500.0").

    Kept per value: an answer writes some thirty amounts, mostly the same few. (Equal decimals,
    `1.0` and `1.00`, `0` and `-0`, write the same text, so the cache cannot mix them up.)
    """
    text = format((amount + 0).normalize(), "f")
    return text if "." in text else f"{text}.0"


def money(amount: Decimal, currency: str) -> dict[str, str]:
    """A `MoneyV2`."""
    return {"amount": decimal_text(amount), "currencyCode": currency}


def bag(shop: Decimal, shop_currency: str, presentment: Decimal | None = None, presentment_currency: str | None = None):
    """A `MoneyBag`; without presentment figures both sides are the shop's (one-currency orders)."""
    if presentment is None or presentment_currency is None:
        presentment, presentment_currency = shop, shop_currency
    return {"shopMoney": money(shop, shop_currency), "presentmentMoney": money(presentment, presentment_currency)}


def bag_from_rest(money_set: Any, fallback: Decimal, currency: str) -> dict[str, dict[str, str]]:
    """A REST `*_set` (`{"shop_money": {...}, "presentment_money": {...}}`) as a `MoneyBag`."""
    if isinstance(money_set, dict) and isinstance(money_set.get("shop_money"), dict):
        shop = money_set["shop_money"]
        presentment = money_set.get("presentment_money") or shop
        return {
            "shopMoney": money(Decimal(str(shop["amount"])), shop.get("currency_code") or currency),
            "presentmentMoney": money(
                Decimal(str(presentment["amount"])), presentment.get("currency_code") or currency
            ),
        }
    return bag(fallback, currency)


def utc_text(value: str | None) -> str | None:
    """A REST timestamp with the shop's offset as Shopify's GraphQL `DateTime` (UTC, `Z`)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def cursor(position: int) -> str:
    """An opaque cursor, base64 JSON as Shopify's are."""
    return base64.b64encode(json.dumps({"last_id": position, "last_value": position}).encode()).decode()


def cursor_position(text: str) -> int | None:
    try:
        value = json.loads(base64.b64decode(text.encode(), validate=True))
        position = value["last_id"]
    except (ValueError, TypeError, KeyError):
        return None
    return position if isinstance(position, int) and not isinstance(position, bool) else None
