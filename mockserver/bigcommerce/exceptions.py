"""BigCommerce's error shapes: one class per documented error, and the shared layer's factory.

V3 paths answer with an object `{status, title, type, errors}`; V2 paths with an array
`[{status, message}]`. createOrderRefund wraps its 422 in `data`, as BigCommerce documents.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mockserver.platform import MockHTTPError, Violation

STATUS_CODES_PAGE = "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes"
V2_PATH = re.compile(r"^/stores/[^/]+/v2(/|$)")
CREATE_REFUND_PATH = re.compile(r"^/stores/[^/]+/v3/orders/[^/]+/payment_actions/refunds/?$")

INVALID_TITLE = "JSON data is missing or invalid"
UNAUTHORIZED_TITLE = (
    "Unauthorized - the v3 Auth client ID or token in the request are not a valid combination for this store."
)
FORBIDDEN_TITLE = "Unauthorized Access. You do not have permission to make this request."
NOT_FOUND_TITLE = "The requested resource was not found."


def is_v2(path: str) -> bool:
    """Whether `path` belongs to the V2 API, whose errors are arrays."""
    return bool(V2_PATH.match(path))


class BigCommerceError(MockHTTPError):
    """A V3 error: `{"status", "title", "type", "errors"}`."""

    def __init__(
        self,
        status: int,
        title: str,
        errors: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ):
        body: dict[str, Any] = {"status": status, "title": title, "type": STATUS_CODES_PAGE}
        if errors is not None:
            body["errors"] = dict(errors)
        super().__init__(status, body, headers)
        self.title = title
        self.errors = dict(errors or {})

    def in_data(self) -> MockHTTPError:
        """The same error as createOrderRefund renders it: `{"data": [<error>]}`."""
        return MockHTTPError(self.status, {"data": [self.body]}, self.headers)

    def as_v2(self) -> MockHTTPError:
        """The same error in the V2 array shape; the field details join the message."""
        message = self.title
        if self.errors:
            message += " (" + "; ".join(f"{field}: {reason}" for field, reason in self.errors.items()) + ")"
        return MockHTTPError(self.status, [{"status": self.status, "message": message}], self.headers)


# -- request-level errors the shared layer detects ------------------------------------------


class MalformedBody(BigCommerceError):
    def __init__(self, reason: str):
        super().__init__(400, "Input is invalid.", {"body": reason})


class InvalidData(BigCommerceError):
    """422 for data that is missing or invalid; `errors` names each field and what is wrong."""

    def __init__(self, errors: Mapping[str, str]):
        super().__init__(422, INVALID_TITLE, errors)


class Unauthorized(BigCommerceError):
    def __init__(self) -> None:
        super().__init__(401, UNAUTHORIZED_TITLE)


class Forbidden(BigCommerceError):
    def __init__(self, scopes: list[str]):
        needed = ", ".join(scopes) or "a scope this token does not have"
        super().__init__(403, FORBIDDEN_TITLE, {"scope": f"this request needs the OAuth scope {needed}"})


class NotFound(BigCommerceError):
    def __init__(self, errors: Mapping[str, str] | None = None):
        super().__init__(404, NOT_FOUND_TITLE, errors if errors is not None else {})


class MethodNotAllowed(BigCommerceError):
    def __init__(self, allowed: list[str]):
        allow = ", ".join(allowed)
        super().__init__(405, "Method Not Allowed", {"method": f"use one of: {allow}"}, {"Allow": allow})


class PayloadTooLarge(BigCommerceError):
    def __init__(self, limit: int):
        super().__init__(413, "Request Entity Too Large", {"body": f"the request body is larger than {limit} bytes"})


class UnsupportedMediaType(BigCommerceError):
    def __init__(self, content_type: str):
        sent = content_type or "no Content-Type"
        super().__init__(415, "Unsupported Media Type", {"Content-Type": f"send application/json, not {sent}"})


class NotImplementedYet(BigCommerceError):
    def __init__(self, operation_id: str):
        super().__init__(501, "Not Implemented", {"operation": f"{operation_id} is not implemented by the mock"})


# -- documented BigCommerce errors, raised by the handlers and the engine --------------------


class OrderNotFound(NotFound):
    def __init__(self, order_id: int):
        super().__init__({"order_id": f"there is no order {order_id} in this store"})


class RefundNotFound(NotFound):
    def __init__(self, refund_id: int):
        super().__init__({"refund_id": f"there is no refund {refund_id} in this store"})


class RefundAmountGreaterThanRemaining(BigCommerceError):
    """Documented: "Refund amount is greater than remaining amount"."""

    def __init__(self, field: str, detail: str):
        super().__init__(422, "Refund amount is greater than remaining amount", {field: detail})


class RefundQuantityGreaterThanRemaining(BigCommerceError):
    """Not documented by BigCommerce; worded after the amount message above."""

    def __init__(self, field: str, detail: str):
        super().__init__(422, "Refund quantity is greater than remaining quantity", {field: detail})


class RefundAmountNegative(BigCommerceError):
    """Documented: "Refund amount was negative"."""

    def __init__(self, field: str, detail: str):
        super().__init__(422, "Refund amount was negative", {field: detail})


class GuestStoreCredit(BigCommerceError):
    """Documented for createOrderRefund (rendered wrapped in `data`)."""

    def __init__(self) -> None:
        super().__init__(422, "Unable to provide store credit for a guest customer.")


class RateLimited(BigCommerceError):
    """429 "Too Many Requests" (BigCommerce documents no body; its V3 error shape is used).

    The `X-Rate-Limit-*` headers are added by the rate limit (`throttling`), which knows the
    store's window; BigCommerce sends no `Retry-After`: clients wait `X-Rate-Limit-Time-Reset-Ms`.
    """

    def __init__(self, headers: Mapping[str, str] | None = None, title: str = "Too Many Requests"):
        super().__init__(429, title, {}, headers)


class InternalServerError(BigCommerceError):
    def __init__(self) -> None:
        super().__init__(500, "Internal Server Error", {})


class ServiceUnavailable(BigCommerceError):
    """The generic V3 503 (`503_ServiceUnavailable`)."""

    def __init__(self) -> None:
        super().__init__(503, "Service Unavailable")


class TaxServiceGoneAway(MockHTTPError):
    """createOrderRefund's documented 503: `{"data": [FailedQuoteError], "meta": {}}`."""

    def __init__(self, order_id: int, message: str = "Tax service gone away"):
        super().__init__(503, {"data": [{"order_id": order_id, "status": 503, "error": message}], "meta": {}})


# -- the factory the shared layer calls --------------------------------------------------------


def _for_path(path: str, error: BigCommerceError) -> MockHTTPError:
    return error.as_v2() if is_v2(path) else error


class BigCommerceErrors:
    """The shared layer's `ErrorFactory`: V3 objects on /v3 paths, V2 arrays on /v2 paths."""

    def malformed_body(self, path: str, reason: str) -> MockHTTPError:
        return _for_path(path, MalformedBody(reason))

    def invalid_request(self, path: str, violations: list[Violation]) -> MockHTTPError:
        errors: dict[str, str] = {}
        for violation in violations:
            errors.setdefault(violation.field or violation.location, violation.message)
        error = InvalidData(errors)
        if CREATE_REFUND_PATH.match(path):
            return error.in_data()
        return _for_path(path, error)

    def unauthorized(self, path: str) -> MockHTTPError:
        return _for_path(path, Unauthorized())

    def forbidden(self, path: str, scopes: list[str]) -> MockHTTPError:
        return _for_path(path, Forbidden(scopes))

    def not_found(self, path: str) -> MockHTTPError:
        return _for_path(path, NotFound())

    def method_not_allowed(self, path: str, allowed: list[str]) -> MockHTTPError:
        return _for_path(path, MethodNotAllowed(allowed))

    def payload_too_large(self, path: str, limit: int) -> MockHTTPError:
        return _for_path(path, PayloadTooLarge(limit))

    def unsupported_media_type(self, path: str, content_type: str) -> MockHTTPError:
        return _for_path(path, UnsupportedMediaType(content_type))

    def not_implemented(self, path: str, operation_id: str) -> MockHTTPError:
        return _for_path(path, NotImplementedYet(operation_id))

    def scripted(
        self, path: str, status: int, message: str, fields: Mapping[str, str] | None, method: str | None = None
    ) -> MockHTTPError:
        """An error a scenario asks for, in the shape BigCommerce uses for that path and status.

        V2 paths: the array shape. createOrderRefund's path: a 422 wrapped in `data`, a 503 as
        its documented FailedQuoteError (order id from the path, 0 for a template); the GET on
        that same path (getOrderRefunds) keeps the plain V3 shape when `method` says GET. A 429
        gets the rate-limit headers of the store's window, as every answer does. `path` may be a
        spec template.
        """
        error = BigCommerceError(status, message, fields)  # a 429's X-Rate-Limit-* headers come from its window
        if is_v2(path):
            return error.as_v2()
        refund_path = CREATE_REFUND_PATH.match(path) and (method or "POST").upper() == "POST"
        if refund_path and status == 422:
            return error.in_data()
        if refund_path and status == 503:
            order_id = path.split("/orders/")[1].split("/")[0]
            return TaxServiceGoneAway(int(order_id) if order_id.isdigit() else 0, message)
        return error
