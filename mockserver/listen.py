"""Where `serve` listens: is the port free, and which URLs reach the server from here.

Checked before anything is announced, so that a port in use is one clear line rather than a
banner followed by a traceback (granian's) or by werkzeug's own message.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from dataclasses import dataclass

WILDCARDS = {"0.0.0.0": socket.AF_INET, "::": socket.AF_INET6, "": socket.AF_INET}


class CannotListen(Exception):
    """The server cannot listen where it was asked to; the message says why, in one line."""


def is_loopback(host: str) -> bool:
    """Whether binding to `host` keeps the server on this machine."""
    bare = host.strip("[]").lower()
    if bare == "localhost" or bare.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(bare).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to any interface


def bound_name(host: str) -> list[str]:
    """`--host` when it is a name other than localhost: requests naming it are for this server."""
    bare = host.strip("[]")
    if bare in WILDCARDS or is_loopback(bare):
        return []
    try:
        ipaddress.ip_address(bare.split("%", 1)[0])
    except ValueError:
        return [bare]
    return []


def url_host(host: str) -> str:
    """`host` as it goes in a URL: an IPv6 address in brackets (`[::1]`)."""
    bare = host.strip("[]")
    try:
        return f"[{bare}]" if ipaddress.ip_address(bare.split("%", 1)[0]).version == 6 else bare
    except ValueError:
        return bare


def check_port_free(host: str, port: int) -> None:
    """Bind `host`:`port` once, as the server will, and let go: `CannotListen` if that fails.

    Without SO_REUSEPORT, so that a server already there (even another `serve --workers`,
    whose sockets share a port with SO_REUSEPORT) counts as using the port.
    """
    if port == 0:
        return  # the system picks a free port
    bare = host.strip("[]")
    family = socket.AF_INET6 if ":" in bare else socket.AF_INET  # as the servers choose it
    try:
        found = socket.getaddrinfo(bare or None, port, family, socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise CannotListen(f"cannot listen on --host {host}: {error.strerror}") from None
    family, kind, protocol, _, address = found[0]
    with socket.socket(family, kind, protocol) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do: TIME_WAIT is no use
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise CannotListen(
                    f"port {port} on {host} is already in use (another refund-mock or another server): "
                    "stop it, or choose another --port"
                ) from None
            raise CannotListen(f"cannot listen on {url_host(host)}:{port}: {error.strerror}") from None


@dataclass(frozen=True)
class Reach:
    """The base URLs that reach the server, the first one local; `wildcard` when bound to every interface."""

    urls: list[str]
    wildcard: bool


def reach(host: str, port: int) -> Reach:
    """The URLs to print: for `0.0.0.0` or `::`, loopback and each interface's address."""
    family = WILDCARDS.get(host.strip("[]"))
    if family is None:
        return Reach([f"http://{url_host(host)}:{port}"], wildcard=False)
    loopback = "127.0.0.1" if family == socket.AF_INET else "::1"
    addresses = [loopback, *(address for address in interface_addresses(family) if address != loopback)]
    return Reach([f"http://{url_host(address)}:{port}" for address in addresses], wildcard=True)


def interface_addresses(family: socket.AddressFamily) -> list[str]:
    """This machine's addresses of one family (link-local IPv6 left out: it needs a zone to be used)."""
    import psutil

    found = []
    for addresses in psutil.net_if_addrs().values():
        for entry in addresses:
            if entry.family != family:
                continue
            text = entry.address.split("%", 1)[0]
            try:
                parsed = ipaddress.ip_address(text)
            except ValueError:
                continue
            if not parsed.is_link_local and text not in found:
                found.append(text)
    return found
