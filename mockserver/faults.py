"""Broken connections, as a real HTTP client sees them.

- `connection-reset`: the TCP connection is aborted with a RST before any byte of the answer
  (`requests` raises ConnectionError wrapping ConnectionResetError 104; curl exits 56).
- `empty-response`: the connection is closed cleanly (FIN) without any answer
  (`requests`: RemoteDisconnected; curl exits 52, "Empty reply from server").
- `malformed-json`: a complete HTTP answer whose JSON body is cut in half.

The socket work happens while the WSGI server iterates the response, after Flask is done with
the request. The server's socket comes from the environ (`werkzeug.socket` for the dev server
`serve` uses, `gunicorn.socket` for gunicorn). For the reset, the socket is set to linger 0 and
its file descriptor is replaced (`dup2`) by one end of a closed socket pair: the kernel aborts the
connection at once, and the server reads end-of-file from the descriptor it still holds, so it
finishes quietly instead of logging errors. Raising `ConnectionResetError` then tells both servers
that the client is gone. Without a socket (the Flask test client) only that error is raised.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import struct
from collections.abc import Iterator
from typing import Any

from flask import Response

JSON_CONTENT_TYPE = "application/json; charset=utf-8"
DROPS = ("connection-reset", "empty-response")  # faults that answer nothing at all


def server_socket(environ: dict[str, Any]) -> socket.socket | None:
    candidate = environ.get("werkzeug.socket") or environ.get("gunicorn.socket")
    return candidate if isinstance(candidate, socket.socket) else None


def abort_connection(sock: socket.socket) -> None:
    """Send a RST now and leave an end-of-file descriptor in the socket's place."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    try:
        spare, peer = socket.socketpair()
    except OSError:  # pragma: no cover - no socketpair on this platform
        sock.shutdown(socket.SHUT_RDWR)
        return
    peer.close()
    try:
        os.dup2(spare.fileno(), sock.fileno())
    except OSError:  # pragma: no cover - platforms where sockets are not file descriptors
        sock.shutdown(socket.SHUT_RDWR)
    finally:
        spare.close()


def close_connection(sock: socket.socket) -> None:
    """Close cleanly (FIN) without sending anything."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _dropped(environ: dict[str, Any], kind: str) -> Iterator[bytes]:
    sock = server_socket(environ)
    if sock is not None:
        if kind == "connection-reset":
            abort_connection(sock)
        else:
            close_connection(sock)
    raise ConnectionResetError(errno.ECONNRESET, f"refund-mock fault: {kind}")
    yield b""  # pragma: no cover - makes this a generator, so the work runs while the server iterates


def dropped_connection(environ: dict[str, Any], kind: str) -> Response:
    """A response that, when served, resets or closes the connection instead of answering."""
    return Response(_dropped(environ, kind), status=200, content_type=JSON_CONTENT_TYPE)


def garble(encoded: bytes) -> bytes:
    """The JSON answer cut in half; never valid JSON (a scalar cut short can be, so it is replaced)."""
    cut = encoded[: max(1, len(encoded) // 2)]
    try:
        json.loads(cut)
    except ValueError:
        return cut
    return b'{"errors": '
