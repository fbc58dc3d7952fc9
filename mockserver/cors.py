"""CORS for browser front ends: preflights answered, `Origin` echoed, platform auth headers allowed.

On by default (`serve --no-cors` turns it off), so a front end on `http://localhost:3000` can call
the mock directly. Requests without an `Origin` header pay one environ lookup.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, Response, request

BASE_ALLOWED_HEADERS = ("Accept", "Content-Type", "Prefer", "X-Mock-Scenario", "X-Mock-Admin-Token")
EXPOSED_HEADERS = (
    "Allow",
    "Link",
    "Location",
    "Retry-After",
    "X-Request-Id",
    "X-Shopify-Shop-Api-Call-Limit",
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
    exposed = ", ".join(EXPOSED_HEADERS)

    @app.before_request
    def preflight() -> Response | None:
        environ = request.environ
        if environ["REQUEST_METHOD"] != "OPTIONS" or "HTTP_ACCESS_CONTROL_REQUEST_METHOD" not in environ:
            return None
        origin = environ.get("HTTP_ORIGIN")
        if origin is None:
            return None
        response = Response(status=204)
        headers = response.headers
        del headers["Content-Type"]  # nothing follows
        headers["Access-Control-Allow-Origin"] = origin
        headers["Access-Control-Allow-Credentials"] = "true"
        headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
        requested = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS")
        headers["Access-Control-Allow-Headers"] = f"{allowed}, {requested}" if requested else allowed
        headers["Access-Control-Max-Age"] = MAX_AGE_SECONDS
        headers["Vary"] = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
        return response

    @app.after_request
    def allow_origin(response: Response) -> Response:
        origin = request.environ.get("HTTP_ORIGIN")
        if origin is None or "Access-Control-Allow-Origin" in response.headers:
            return response
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Access-Control-Expose-Headers"] = exposed
        response.headers.add("Vary", "Origin")
        return response
