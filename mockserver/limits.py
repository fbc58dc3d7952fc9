"""Over-long URLs: a 414 in the platform's shape, whichever server runs the app.

Any request whose path and query pass `MAX_URL_BYTES` is answered 414 before routing, in the
shape of the API its path belongs to. 32 KB is where Cloudflare answers 414; it is below both
servers' own limits (64 KiB), so under granian too the usual over-long URL (a query listing
thousands of ids) gets the JSON answer. Past 64 KiB the server answers itself: werkzeug's
through `mockserver.serving` (JSON too), granian's with an empty body (docs/limits.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from mockserver.platform import Reply
from mockserver.ratelimit import with_rate_limit_headers

if TYPE_CHECKING:
    from flask import Flask

MAX_URL_BYTES = 32 * 1024  # path and query; Cloudflare's documented 414 limit
URL_TOO_LONG = f"The request URL is longer than {MAX_URL_BYTES} bytes"


def install_url_limit(app: Flask) -> None:
    """Wrap the app so that a URL past `MAX_URL_BYTES` is answered 414 before routing (two `len` calls a request)."""
    inner = app.wsgi_app
    mock = app.extensions["refund_mock"]

    def wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if len(path) + len(environ.get("QUERY_STRING", "")) <= MAX_URL_BYTES:
            return inner(environ, start_response)
        api = mock.api_for_path(path)
        failure = api.errors.scripted(path, 414, URL_TOO_LONG, None)
        reply = Reply(failure.status, failure.body, failure.headers)
        with_rate_limit_headers(reply, mock.rate_limits.meter(api.name, environ))  # it counts, as every call
        return mock.respond(None, reply)(environ, start_response)

    app.wsgi_app = wsgi_app  # type: ignore[method-assign]
