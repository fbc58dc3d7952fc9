"""CORS for browser front ends: preflights answered, `Origin` echoed, platform auth headers allowed.

On by default (`serve --no-cors` turns it off), so a front end on `http://localhost:3000` can call
the mock directly. A WSGI middleware around the Flask app: requests without an `Origin` header
pay one environ lookup.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask import Flask

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

BASE_ALLOWED_HEADERS = ("Accept", "Content-Type", "Prefer", "X-Mock-Scenario", "X-Mock-Session", "X-Mock-Admin-Token")
EXPOSED_HEADERS = (
    "Allow",
    "Link",
    "Location",
    "Retry-After",
    "X-Request-Id",
    "X-Shopify-Shop-Api-Call-Limit",
    "X-Shopify-API-Version",
    "X-Rate-Limit-Time-Window-Ms",
    "X-Rate-Limit-Time-Reset-Ms",
    "X-Rate-Limit-Requests-Quota",
    "X-Rate-Limit-Requests-Left",
    "X-Retry-After",
    "X-Mock-Contract-Violation",
)
ALLOWED_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
MAX_AGE_SECONDS = "600"


def install_cors(app: Flask, auth_headers: Iterable[str]) -> None:
    """Answer preflights before routing and add the CORS headers to every other answer."""
    allowed = ", ".join(dict.fromkeys([*BASE_ALLOWED_HEADERS, *auth_headers]))
    app.wsgi_app = CorsMiddleware(app.wsgi_app, allowed, ", ".join(EXPOSED_HEADERS))  # type: ignore[method-assign]


class CorsMiddleware:
    """CORS around the WSGI app, outside Flask: a request without `Origin` costs one lookup.

    (As Flask `before_request`/`after_request` hooks, CORS cost every request some 5 µs,
    most of it Flask checking whether each hook is a coroutine.)
    """

    def __init__(self, app: WSGIApplication, allowed_headers: str, exposed_headers: str):
        self.app = app
        self.allowed_headers = allowed_headers
        self.exposed_headers = exposed_headers

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        origin = environ.get("HTTP_ORIGIN")
        if origin is None:
            return self.app(environ, start_response)
        if environ["REQUEST_METHOD"] == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ:
            return self._preflight(environ, origin, start_response)

        def add_cors_headers(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if not any(name.lower() == "access-control-allow-origin" for name, _ in headers):
                headers = [
                    *headers,
                    ("Access-Control-Allow-Origin", origin),
                    ("Access-Control-Allow-Credentials", "true"),
                    ("Access-Control-Expose-Headers", self.exposed_headers),
                    ("Vary", "Origin"),
                ]
            return start_response(status, headers, exc_info)

        return self.app(environ, add_cors_headers)

    def _preflight(self, environ: WSGIEnvironment, origin: str, start_response: StartResponse) -> Iterable[bytes]:
        requested = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS")
        allowed = f"{self.allowed_headers}, {requested}" if requested else self.allowed_headers
        start_response(
            "204 NO CONTENT",
            [
                ("Access-Control-Allow-Origin", origin),
                ("Access-Control-Allow-Credentials", "true"),
                ("Access-Control-Allow-Methods", ALLOWED_METHODS),
                ("Access-Control-Allow-Headers", allowed),
                ("Access-Control-Max-Age", MAX_AGE_SECONDS),
                ("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"),
            ],
        )
        return []
