"""Shopify's error shapes: every body is `{"errors": ...}`, with the exact documented messages.

One small class per documented error, so the engine raises `MoreThanRefundableQuantity()` and
never spells a message twice. `ShopifyErrors` is the ErrorFactory the shared pipeline calls.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from mockserver.platform import MockHTTPError, Violation

ROOT_KEY = "refund"
GRAPHQL_ROOT_KEY = (
    "query"  # the GraphQL endpoint's body: {"errors": {"query": "Required parameter missing or invalid"}}
)
REQUIRED_PARAMETER = "Required parameter missing or invalid"
PAGINATION_GUIDE = "https://shopify.dev/api/usage/pagination-rest"
RETRY_AFTER = "2.0"  # what Shopify sends on a 429 (documented and observed), whatever the plan


class ShopifyError(MockHTTPError):
    """`{"errors": <string | object | list>}` with a status."""

    def __init__(self, status: int, errors: object, headers: Mapping[str, str] | None = None):
        super().__init__(status, {"errors": errors}, headers)


# -- request-level errors ------------------------------------------------------------------


class MissingRootKey(ShopifyError):
    """400: the body is not an object holding the root key (Shopify's own wording)."""

    def __init__(self, root_key: str = ROOT_KEY, reason: str | None = None):
        message = REQUIRED_PARAMETER if reason is None else f"{REQUIRED_PARAMETER}: {reason}"
        super().__init__(400, {root_key: message})


class PageNotAllowed(ShopifyError):
    """400 for `page`: cursor pagination replaced it in 2019-07/2019-10 (wording seen from Shopify)."""

    def __init__(self) -> None:
        super().__init__(400, {"page": "page cannot be passed."})


class InvalidPageInfo(ShopifyError):
    """400 for a `page_info` the server did not issue (wording seen from Shopify)."""

    def __init__(self) -> None:
        super().__init__(400, {"page_info": "Invalid value."})


class NotWithPageInfo(ShopifyError):
    """400 for a parameter other than `limit` and `fields` beside `page_info` (wording seen from Shopify)."""

    def __init__(self, name: str) -> None:
        message = f"{name} cannot be passed when page_info is present. See {PAGINATION_GUIDE} for more information."
        super().__init__(400, {name: message})


class InvalidApiKey(ShopifyError):
    """401: no token, or one the mock was not told about."""

    def __init__(self) -> None:
        super().__init__(401, "[API] Invalid API key or access token (unrecognized login or wrong password)")


class MissingScope(ShopifyError):
    """403: the token lacks the scope the operation needs."""

    def __init__(self, scope: str) -> None:
        super().__init__(403, f"[API] This action requires merchant approval for {scope} scope.")


class NotFound(ShopifyError):
    """404: unknown order, refund or path."""

    def __init__(self) -> None:
        super().__init__(404, "Not Found")


class MethodNotAllowed(ShopifyError):
    def __init__(self, allowed: list[str]) -> None:
        super().__init__(405, f"This endpoint only accepts {', '.join(allowed)}.", {"Allow": ", ".join(allowed)})


class PayloadTooLarge(ShopifyError):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than {limit} bytes.")


class UnsupportedMediaType(ShopifyError):
    def __init__(self, content_type: str, accepted: str = "application/json") -> None:
        sent = content_type or "no Content-Type"
        super().__init__(415, f"The Content-Type header must be {accepted}, not {sent}.")


class NotImplementedYet(ShopifyError):
    def __init__(self, operation_id: str) -> None:
        super().__init__(501, f"{operation_id} is not implemented by refund-mock yet.")


class Throttled(ShopifyError):
    """429 as Shopify's leaky bucket answers it: the leak rate in the message (2 calls per second on
    the standard plan; "4 calls" is seen from Advanced stores) and the float `Retry-After` it sends."""

    def __init__(self, calls_per_second: float = 2.0) -> None:
        super().__init__(
            429,
            f"Exceeded {calls_per_second:g} calls per second for api client. "
            "Reduce request rates to resume uninterrupted service.",
            {"Retry-After": RETRY_AFTER},
        )


class UnexpectedError(ShopifyError):
    def __init__(self) -> None:
        super().__init__(500, "An unexpected error occurred")


class ServiceUnavailable(ShopifyError):
    def __init__(self) -> None:
        super().__init__(503, "Service Unavailable")


# -- 422: field-level validation ------------------------------------------------------------


class Unprocessable(ShopifyError):
    """422 `{"errors": {"<field>": ["<message>", ...]}}`."""

    def __init__(self, errors: Mapping[str, list[str]]):
        super().__init__(422, {field: list(messages) for field, messages in errors.items()})

    @classmethod
    def field(cls, field: str, *messages: str) -> Unprocessable:
        return cls({field: list(messages)})

    @classmethod
    def merge(cls, errors: Iterable[Unprocessable]) -> Unprocessable:
        """Several 422s as one body; messages for the same field are kept in order, without repeats."""
        merged: dict[str, list[str]] = {}
        for error in errors:
            for field, messages in error.body["errors"].items():
                bucket = merged.setdefault(field, [])
                bucket.extend(message for message in messages if message not in bucket)
        return cls(merged)


class MoreThanPurchased(Unprocessable):
    def __init__(self) -> None:
        super().__init__({"refund_line_items.quantity": ["cannot refund more items than were purchased"]})


class MoreThanRefundableQuantity(Unprocessable):
    def __init__(self) -> None:
        super().__init__({"refund_line_items": ["cannot refund more than refundable quantity"]})


class MoreThanFulfillable(Unprocessable):
    def __init__(self) -> None:
        super().__init__({"refund_line_items": ["cannot remove more than the fulfillable quantity."]})


class ParentNotOnOrder(Unprocessable):
    def __init__(self) -> None:
        super().__init__({"transactions": ["require a parent_id associated with the order"]})


# The messages below are the mock's own (Shopify documents no wording for these cases).


class UnknownLineItem(Unprocessable):
    def __init__(self, line_item_id: int) -> None:
        super().__init__({"refund_line_items.line_item_id": [f"{line_item_id} is not a line item of this order"]})


class LocationRequired(Unprocessable):
    def __init__(self) -> None:
        super().__init__({"refund_line_items.location_id": ["is required when restock_type is return or cancel"]})


class ShippingAboveRefundable(Unprocessable):
    def __init__(self, maximum: str) -> None:
        super().__init__({"shipping.amount": [f"cannot be greater than the shipping left to refund ({maximum})"]})


class CurrencyRequired(Unprocessable):
    def __init__(self) -> None:
        super().__init__({"currency": ["is required when a shipping amount is given"]})


class PresentmentCurrencyRequired(Unprocessable):
    """A multi-currency order is refunded in its presentment currency, which must be named."""

    def __init__(self, presentment: str) -> None:
        super().__init__(
            {"currency": [f"is required for a multi-currency order (its presentment currency {presentment})"]}
        )


class CurrencyMismatch(Unprocessable):
    def __init__(self, field: str, sent: str, expected: str) -> None:
        super().__init__({field: [f"{sent} is not the order's presentment currency ({expected})"]})


class TooManyDecimals(Unprocessable):
    def __init__(self, field: str, currency: str, places: int) -> None:
        super().__init__({field: [f"has more decimal places than {currency} allows ({places})"]})


class AmountAboveRefundable(Unprocessable):
    def __init__(self, parent_id: int, maximum: str) -> None:
        super().__init__(
            {"transactions": [f"amount cannot be greater than the refundable amount of parent {parent_id} ({maximum})"]}
        )


class OrderMismatch(Unprocessable):
    def __init__(self) -> None:
        super().__init__({"transactions.order_id": ["must be the id of the order being refunded"]})


class NothingToRefund(Unprocessable):
    def __init__(self) -> None:
        super().__init__({"refund": ["must refund at least one line item, some shipping or some money"]})


# -- the factory the shared pipeline calls ---------------------------------------------------


def shopify_field(violation: Violation) -> str:
    """`refund.refund_line_items.0.quantity` -> `refund_line_items.quantity` (Shopify's naming)."""
    parts = [part for part in violation.field.split(".") if part and not re.fullmatch(r"\d+", part)]
    if violation.location == "body" and parts[:1] == [ROOT_KEY]:
        parts = parts[1:]
    return ".".join(parts) or ROOT_KEY


def _breaks_root_key(violation: Violation) -> bool:
    """True when the violation is about the body itself or its root key, not a field inside it."""
    return violation.location == "body" and violation.field in ("", ROOT_KEY)


def _root_key(path: str) -> str:
    return GRAPHQL_ROOT_KEY if path.endswith("/graphql.json") else ROOT_KEY


_GRAPHQL_PATH = re.compile(r"/admin/api/([^/]+)/graphql\.json")


def _versioned(path: str, error: MockHTTPError) -> MockHTTPError:
    """A GraphQL endpoint's error answer also says which API version answered, as every answer does."""
    found = _GRAPHQL_PATH.fullmatch(path)
    if found is not None:
        from mockserver.shopify.graphql.versions import served_version

        error.headers.setdefault("X-Shopify-API-Version", served_version(found.group(1)))
    return error


class ShopifyErrors:
    """Builds Shopify's answers for failures the shared layer detects (see `ErrorFactory`)."""

    def malformed_body(self, path: str, reason: str) -> MockHTTPError:
        return _versioned(path, MissingRootKey(_root_key(path), reason))

    def invalid_request(self, path: str, violations: list[Violation]) -> MockHTTPError:
        if path.endswith("/graphql.json") and any(violation.location == "body" for violation in violations):
            return _versioned(path, MissingRootKey(GRAPHQL_ROOT_KEY))
        if any(_breaks_root_key(violation) for violation in violations):
            return MissingRootKey()
        errors: dict[str, list[str]] = {}
        for violation in violations:
            bucket = errors.setdefault(shopify_field(violation), [])
            if violation.message not in bucket:
                bucket.append(violation.message)
        return Unprocessable(errors)

    def unauthorized(self, path: str) -> MockHTTPError:
        return _versioned(path, InvalidApiKey())

    def forbidden(self, path: str, scopes: list[str]) -> MockHTTPError:
        return MissingScope(scopes[0] if scopes else "write_orders")

    def not_found(self, path: str) -> MockHTTPError:
        return NotFound()

    def method_not_allowed(self, path: str, allowed: list[str]) -> MockHTTPError:
        return _versioned(path, MethodNotAllowed(allowed))

    def payload_too_large(self, path: str, limit: int) -> MockHTTPError:
        return _versioned(path, PayloadTooLarge(limit))

    def unsupported_media_type(self, path: str, content_type: str) -> MockHTTPError:
        if path.endswith("/graphql.json"):  # the GraphQL endpoint also takes the document alone
            return _versioned(path, UnsupportedMediaType(content_type, "application/json or application/graphql"))
        return _versioned(path, UnsupportedMediaType(content_type))

    def not_implemented(self, path: str, operation_id: str) -> MockHTTPError:
        return NotImplementedYet(operation_id)

    def scripted(self, path: str, status: int, message: str, fields: Mapping[str, str] | None) -> MockHTTPError:
        """An error a scenario asks for, in Shopify's shape for that status.

        With fields: 400 names each field with a string (as the missing-root-key answer does),
        other statuses with a list of messages (as 422s do). Without: `{"errors": message}`.
        A 429 carries Shopify's `Retry-After: 2.0`.
        """
        if fields:
            if status == 400:
                return ShopifyError(status, dict(fields))
            return ShopifyError(status, {field: [reason] for field, reason in fields.items()})
        headers = {"Retry-After": RETRY_AFTER} if status == 429 else None
        return ShopifyError(status, message, headers)
