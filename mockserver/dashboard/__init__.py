"""The dashboard: a page at `GET /__mock/ui` for a person at a browser.

A room of its own: plain HTML, CSS and JavaScript (no build step, nothing fetched from outside),
talking to the mock only through the admin API, like any other client. The page holds no data,
so it is served without the admin token; the admin calls it makes carry the token the person
types in (or gives in the URL's fragment, `/__mock/ui#token=...`, which browsers never send).
Living under `/__mock/` it gets whatever the server checks there (Host and Origin).
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, Response, send_from_directory

UI_PATH = "/__mock/ui"
STATIC_DIR = Path(__file__).parent / "static"
# Only the page's own files: a page that can load nothing from elsewhere works offline and
# cannot be turned against the mock by injected markup.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def _secured(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def page() -> Response:
    return _secured(send_from_directory(STATIC_DIR, "index.html", mimetype="text/html"))


def asset(filename: str) -> Response:
    """`dashboard.js` and `dashboard.css`; any other name is the admin API's 404."""
    return _secured(send_from_directory(STATIC_DIR, filename))


def register(app: Flask) -> None:
    """Add the page and its files to the app (one call in `create_app`)."""
    app.add_url_rule(UI_PATH, endpoint="dashboard:page", view_func=page, methods=["GET"])
    app.add_url_rule(f"{UI_PATH}/<path:filename>", endpoint="dashboard:asset", view_func=asset, methods=["GET"])
