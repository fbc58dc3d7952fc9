"""`record --anonymize`: people's names, e-mails, phone numbers and street addresses replaced.

Each value is replaced by a Faker value seeded from the value itself (and the run's seed), so the
same input always gives the same output: a customer's e-mail on the order and on the customer
stays one e-mail, across orders and across runs. Money, ids, dates, countries and provinces (which
decide taxes) are never touched, so quotes come out the same.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from faker import Faker

DEFAULT_SEED = "refund-mock"

# key -> what replaces its value, in any object of the document
PERSONAL: dict[str, Callable[[Faker], str]] = {
    "first_name": lambda fake: fake.first_name(),
    "last_name": lambda fake: fake.last_name(),
    "email": lambda fake: fake.email(domain="example.com"),
    "contact_email": lambda fake: fake.email(domain="example.com"),
    "customer_email": lambda fake: fake.email(domain="example.com"),
    "phone": lambda fake: fake.numerify("+1 ###-555-0###"),
    "address1": lambda fake: fake.street_address(),
    "street_1": lambda fake: fake.street_address(),
    "address2": lambda fake: fake.secondary_address(),
    "street_2": lambda fake: fake.secondary_address(),
    "city": lambda fake: fake.city(),
    "zip": lambda fake: fake.postcode(),
    "company": lambda fake: fake.company(),
    "credit_card_name": lambda fake: fake.name(),
    "ip_address": lambda fake: fake.ipv4_public(),
    "browser_ip": lambda fake: fake.ipv4_public(),
    "ip_address_v6": lambda fake: fake.ipv6(),
}
# keys that hold the same kind of value: the same input gives the same output under either
SAME_KIND = {"contact_email": "email", "customer_email": "email", "street_1": "address1", "street_2": "address2"}
SAME_KIND |= {"browser_ip": "ip_address"}
COORDINATES = ("latitude", "longitude")  # an address pinned on a map: dropped (null)


class Anonymizer:
    """Replaces personal values in fixture documents; one instance keeps one seed."""

    def __init__(self, seed: str = DEFAULT_SEED):
        self.seed = seed
        self.fake = Faker("en_US")

    def value(self, kind: str, original: str) -> str:
        """The replacement of `original` as a `kind` (empty stays empty: nothing to hide)."""
        if not original.strip():
            return original
        group = SAME_KIND.get(kind, kind)
        digest = hashlib.sha256(f"{self.seed}\0{group}\0{original}".encode()).digest()
        self.fake.seed_instance(int.from_bytes(digest[:8], "big"))
        replacement = PERSONAL[kind](self.fake)
        while replacement.casefold() == original.casefold():  # Faker's lists hold real names: never keep one
            replacement = PERSONAL[kind](self.fake)
        return replacement

    def document(self, document: Any) -> Any:
        """A copy of `document` with every personal value replaced, at any depth."""
        if isinstance(document, list):
            return [self.document(item) for item in document]
        if not isinstance(document, dict):
            return document
        copy: dict[str, Any] = {}
        for key, value in document.items():
            if key in PERSONAL and isinstance(value, str):
                copy[key] = self.value(key, value)
            elif key in COORDINATES and isinstance(value, int | float) and not isinstance(value, bool):
                copy[key] = None
            else:
                copy[key] = self.document(value)
        if isinstance(copy.get("name"), str) and ("first_name" in copy or "last_name" in copy):
            copy["name"] = " ".join(part for part in (copy.get("first_name"), copy.get("last_name")) if part)
        return copy
