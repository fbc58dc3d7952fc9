"""The contract between the shared server and each platform subpackage.

The shared layer (routing, validation, auth, store, admin) knows nothing about Shopify or
BigCommerce. Each platform hands it one :class:`Platform`: its spec file, one handler per
operationId, the factory for its own error shapes, and how to read its fixture documents.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from mockserver.ratelimit import RateLimitPolicy
    from mockserver.store import OrderListing, Store


class MockHTTPError(Exception):
    """An answer in a platform's own error shape; raised anywhere, rendered by one handler."""

    status: int = 500

    def __init__(self, status: int, body: Any, headers: Mapping[str, str] | None = None):
        super().__init__(f"{status}: {body!r}")
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


@dataclass(frozen=True)
class Violation:
    """One reason a request was refused: where (`location`), which field, and why."""

    location: str  # "body", "query", "path" or "header"
    field: str  # dotted path inside that location, e.g. "refund.refund_line_items.0.quantity"
    message: str


@dataclass
class RequestContext:
    """A validated request as a handler sees it: typed parameters and a parsed body."""

    operation_id: str
    path_params: dict[str, Any]
    query: dict[str, Any]
    headers: Mapping[str, str]
    body: Any
    store: Store
    environ: Mapping[str, Any]  # the WSGI environ
    server: Any = None  # the running MockServer, for the admin API
    session: str | None = None  # the named session (mockserver.sessions); None: the default session

    @property
    def base_url(self) -> str:
        """`scheme://host[:port]` of the request, as `request.host_url` gives it, for Location headers.

        Worked out when asked for (only the create handlers ask), not on every request.
        """
        environ = self.environ
        scheme = environ["wsgi.url_scheme"]
        host = environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
        default_port = {"http": ":80", "https": ":443"}.get(scheme)
        if default_port and host.endswith(default_port):
            host = host[: -len(default_port)]
        return f"{scheme}://{host}"


@dataclass
class Reply:
    """What a handler returns; the app turns it into JSON and checks it against the spec."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[RequestContext], Reply]


class ErrorFactory(Protocol):
    """Builds a platform's error answers for the failures the shared layer detects.

    `path` is the request path, so a platform can pick a shape per API generation
    (BigCommerce V2 answers with an array, V3 with an object).
    """

    def malformed_body(self, path: str, reason: str) -> MockHTTPError: ...

    def invalid_request(self, path: str, violations: list[Violation]) -> MockHTTPError: ...

    def unauthorized(self, path: str) -> MockHTTPError: ...

    def forbidden(self, path: str, scopes: list[str]) -> MockHTTPError: ...

    def not_found(self, path: str) -> MockHTTPError: ...

    def method_not_allowed(self, path: str, allowed: list[str]) -> MockHTTPError: ...

    def payload_too_large(self, path: str, limit: int) -> MockHTTPError: ...

    def unsupported_media_type(self, path: str, content_type: str) -> MockHTTPError: ...

    def not_implemented(self, path: str, operation_id: str) -> MockHTTPError: ...

    def scripted(self, path: str, status: int, message: str, fields: dict[str, str] | None) -> MockHTTPError:
        """Any status in the platform's shape, from a scenario's `error: {message, fields}`.

        `path` may be a spec path template (`/orders/{order_id}.json`): scripted bodies are built
        once, when a scenario is loaded, and checked against the spec then.
        """
        ...


@dataclass(frozen=True)
class FixtureOrder:
    """One fixture document as the store keeps it."""

    order_id: int
    document: dict[str, Any]
    store_hash: str | None = None  # BigCommerce only: pin the order to one store


@dataclass(frozen=True)
class Api:
    """A spec, its handlers and its error shapes: what the router needs to serve it."""

    name: str  # "shopify", "bigcommerce" or "admin"; also the fixtures sub-folder
    title: str  # for humans: "Shopify Admin REST 2020-10"
    spec_file: str  # file name inside specs/
    handlers: Mapping[str, Handler]  # operationId -> handler
    errors: ErrorFactory


def no_ids(document: dict[str, Any]) -> dict[str, int]:
    """For a platform whose new ids need no floor from the loaded documents."""
    return {}


@dataclass(frozen=True)
class Platform(Api):
    """Everything the shared server needs to know about one commerce platform."""

    read_fixture: Callable[[dict[str, Any]], FixtureOrder]
    fixture_schema: str  # components/schemas name that validates one fixture document
    refunds_of: Callable[[dict[str, Any]], list[tuple[int, str, dict[str, Any]]]]
    # ^ (refund id, created-at ISO text, refund as the list endpoints render it) for every
    #   refund inside a fixture document, so the store can index them for cross-order listings
    base_path_example: str  # printed at start-up, e.g. "/admin/api/2020-10"
    listing_of: Callable[[dict[str, Any]], OrderListing] | None = None
    # ^ what the platform's order list filters and sorts a fixture document on; the store keeps
    #   it beside each order, so that listing many orders decodes none
    ids_in: Callable[[dict[str, Any]], dict[str, int]] = no_ids
    # ^ per id sequence, the highest id a fixture document already holds, so that ids the
    #   platform hands out later never repeat one that any loaded order uses
    rate_limit: RateLimitPolicy | None = None  # its call-limit bucket and headers (mockserver.ratelimit)
    # (JSON path, reason) for every figure of a fixture document that does not add up (the
    # platform's `consistency.problems`): the server still serves such a document, and says so
    consistency: Callable[[dict[str, Any]], list[tuple[str, str]]] | None = None
    # what is left to refund on a fixture document, computed by the platform's engine
    # (`GET /__mock/orders`, the dashboard): units, money and the refunds so far
    balance_of: Callable[[dict[str, Any]], dict[str, Any]] | None = None


def built_on_first_use(package: str, build: Callable[[], Platform]) -> Callable[[str], Any]:
    """The module `__getattr__` of a platform package: its `PLATFORM`, built by `build` when first
    imported and kept in the package. `fixtures generate` imports the packages' engines and
    generators only, and so never loads the request handlers, GraphQL and jsonschema."""

    def attribute(name: str) -> Any:
        if name != "PLATFORM":
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        platform = build()
        setattr(sys.modules[package], name, platform)
        return platform

    return attribute
