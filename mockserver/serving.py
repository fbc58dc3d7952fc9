"""The single-process server's own refusals, in the platform's JSON error shape.

werkzeug's server (Python's `http.server` underneath) refuses some requests before the app
sees them: a request line over 64 KiB (414), a header line over 64 KiB or more than 100 header
fields (431), a request line it cannot parse (400). By default it answers those with an HTML
page; `MockRequestHandler` answers them as the API the path belongs to answers its errors, so a
client's error handling sees the shape it sees for every other error. (granian, the server of
`serve --workers`, answers its own refusals with an empty body and offers no hook to shape it:
docs/limits.md.)
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from werkzeug.serving import WSGIRequestHandler

from mockserver.limits import URL_TOO_LONG

LINE_LIMIT = 65536  # http.server's longest request or header line
HEADER_FIELDS_LIMIT = 100  # http.server's most header fields

REASONS = {
    414: URL_TOO_LONG,
    431: "The request header fields are too large",
}
HEADER_REASONS = {  # http.server's words -> ours
    "Line too long": f"a header line is longer than {LINE_LIMIT} bytes",
    "Too many headers": f"there are more than {HEADER_FIELDS_LIMIT} header fields",
}


class MockRequestHandler(WSGIRequestHandler):
    """werkzeug's handler, with the server's own error answers in the platform's JSON shape."""

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        mock = getattr(getattr(self.server, "app", None), "extensions", {}).get("refund_mock")
        if mock is None or code < 400:
            super().send_error(code, message, explain)
            return
        from mockserver.app import encode_json

        path = self._target_path()
        text = REASONS.get(code, message or "Bad request")
        if code == 431 and message in HEADER_REASONS:
            text = f"{text}: {HEADER_REASONS[message]}"
        failure = mock.api_for_path(path).errors.scripted(path, code, text, None)
        body = encode_json(failure.body)
        self.log_error("code %d, message %s", code, message)
        self.send_response(code)
        self.send_header("Connection", "close")  # what http.server does after its own errors
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in failure.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if getattr(self, "command", "") != "HEAD":
            self.wfile.write(body)

    def _target_path(self) -> str:
        """The path of the request, also when the request line was too long to be parsed (414)."""
        target: Any = getattr(self, "path", None)
        if not target:
            parts = (getattr(self, "raw_requestline", b"") or b"").split(b" ", 2)
            target = parts[1].decode("latin-1") if len(parts) > 1 else "/"
        if "://" in target:  # absolute form
            target = urlsplit(target).path
        return target.split("?", 1)[0] or "/"
