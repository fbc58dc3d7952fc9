"""`serve --tls`: HTTPS with a certificate for the loopback names, signed by a local CA.

Several official clients only build `https://` URLs (BigCommerce's Python client, Shopify's Ruby
and JavaScript clients), and a frontend served over HTTPS cannot call a plain-HTTP mock. So the
mock keeps a certificate authority of its own in a folder (`--tls-dir`, by default the user's data
folder): created on first use, reused afterwards, so that a client told once to trust it
(`REQUESTS_CA_BUNDLE`, `NODE_EXTRA_CA_CERTS`, `SSL_CERT_FILE`) keeps trusting it across restarts.

- `ca.pem`: the CA certificate, the one file clients are pointed at;
- `ca-key.pem`: its private key, readable by the owner only (0600): whoever holds it can sign a
  certificate for any name that this machine's clients would then trust;
- `localhost.pem`, `localhost-key.pem`: the server's certificate (localhost, 127.0.0.1, ::1)
  and key, issued by the CA for 397 days (Apple's clients refuse server certificates valid for
  longer than 825 days even under a local root) and issued again when fewer than 30 are left.

trustme (a small layer over `cryptography`, made for CAs that only tests trust) does the
cryptography. A lock file serialises two servers starting at once, so they never write half a CA.
"""

from __future__ import annotations

import datetime
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "refund-mock"
DIR_VARIABLE = "REFUND_MOCK_TLS_DIR"
CA_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"
CERT_FILE = "localhost.pem"
KEY_FILE = "localhost-key.pem"
LOCK_FILE = ".lock"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
ORGANIZATION = "refund-mock"
CA_UNIT = "local CA of refund-mock (trusted only where you point a client at it)"
SERVER_DAYS = 397
RENEW_DAYS = 30
TRUST_VARIABLES = (
    ("REQUESTS_CA_BUNDLE", "Python requests"),
    ("NODE_EXTRA_CA_CERTS", "Node.js"),
    ("SSL_CERT_FILE", "OpenSSL: Ruby, curl, Python's ssl"),
)


class TlsError(ValueError):
    """The TLS folder or the user's certificate cannot be used; the message says which file and why."""


@dataclass(frozen=True)
class ServerCertificate:
    """What the HTTPS server loads, and the CA file clients should trust (None: the user's own)."""

    cert_file: Path
    key_file: Path
    ca_file: Path | None


def default_tls_dir() -> Path:
    """`$REFUND_MOCK_TLS_DIR`, else `<user data folder>/refund-mock/tls` (XDG_DATA_HOME on Linux)."""
    configured = os.environ.get(DIR_VARIABLE)
    if configured:
        return Path(configured)
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False) / "tls"


@contextmanager
def _locked(tls_dir: Path) -> Iterator[None]:
    """The folder (owner-only) locked against another `serve --tls` creating the same files."""
    try:
        tls_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(tls_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as error:
        raise TlsError(f"cannot use {tls_dir} for the local CA: {error.strerror or error}") from error
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def _write(path: Path, data: bytes, mode: int) -> None:
    """Write `path` whole or not at all, with `mode` from its creation (a key is never readable by others)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(descriptor, mode)  # O_CREAT's mode is filtered by the umask
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    os.replace(temporary, path)


def _load_or_create_ca(tls_dir: Path):  # -> trustme.CA
    import trustme

    ca_file, key_file = tls_dir / CA_FILE, tls_dir / CA_KEY_FILE
    if ca_file.exists() and key_file.exists():
        try:
            return trustme.CA.from_pem(ca_file.read_bytes(), key_file.read_bytes())
        except (OSError, ValueError) as error:
            raise TlsError(
                f"{ca_file} or {key_file} cannot be read as a CA certificate and key ({error}); "
                f"remove both to have a new CA made (clients must then trust the new {CA_FILE})"
            ) from error
    if ca_file.exists() != key_file.exists():
        present = ca_file if ca_file.exists() else key_file
        raise TlsError(f"{present} is there without its pair; remove it to have a new CA made")
    ca = trustme.CA(organization_name=ORGANIZATION, organization_unit_name=CA_UNIT)
    _write(key_file, ca.private_key_pem.bytes(), 0o600)
    _write(ca_file, ca.cert_pem.bytes(), 0o644)
    for stale in (CERT_FILE, KEY_FILE):  # issued by a CA that is gone
        (tls_dir / stale).unlink(missing_ok=True)
    return ca


def ca_file(tls_dir: Path | None = None) -> Path:
    """The CA certificate clients should trust, made first if the folder has none."""
    folder = tls_dir or default_tls_dir()
    with _locked(folder):
        _load_or_create_ca(folder)
    return folder / CA_FILE


def _still_valid(cert_file: Path, ca_pem: bytes) -> bool:
    """Whether the server certificate there is the CA's, for every loopback name, for 30 more days."""
    from cryptography import x509

    try:
        chain = x509.load_pem_x509_certificates(cert_file.read_bytes())
        issuer = x509.load_pem_x509_certificate(ca_pem)
        names = chain[0].extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, x509.ExtensionNotFound):
        return False
    covered = {str(name) for name in names.get_values_for_type(x509.DNSName)}
    covered |= {str(address) for address in names.get_values_for_type(x509.IPAddress)}
    left = chain[0].not_valid_after_utc - datetime.datetime.now(datetime.UTC)
    return (
        chain[0].issuer == issuer.subject
        and set(LOOPBACK_NAMES) <= covered
        and left > datetime.timedelta(days=RENEW_DAYS)
    )


def loopback_certificate(tls_dir: Path | None = None) -> ServerCertificate:
    """The server certificate for localhost, 127.0.0.1 and ::1, made (with the CA) when missing or expiring."""
    folder = tls_dir or default_tls_dir()
    with _locked(folder):
        ca = _load_or_create_ca(folder)
        cert_file, key_file = folder / CERT_FILE, folder / KEY_FILE
        if not (key_file.exists() and _still_valid(cert_file, ca.cert_pem.bytes())):
            now = datetime.datetime.now(datetime.UTC)
            leaf = ca.issue_cert(
                *LOOPBACK_NAMES,
                organization_name=ORGANIZATION,
                not_before=now - datetime.timedelta(hours=1),  # a client whose clock is a little behind
                not_after=now + datetime.timedelta(days=SERVER_DAYS),
            )
            _write(key_file, leaf.private_key_pem.bytes(), 0o600)
            _write(cert_file, b"".join(blob.bytes() for blob in leaf.cert_chain_pems), 0o644)
    return ServerCertificate(cert_file, key_file, folder / CA_FILE)


def own_certificate(cert_file: Path, key_file: Path) -> ServerCertificate:
    """The user's certificate and key (`--tls-cert`, `--tls-key`), checked to be a pair before serving."""
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert_file, key_file)
    except (OSError, ssl.SSLError) as error:
        raise TlsError(f"--tls-cert {cert_file} with --tls-key {key_file} cannot be served: {error}") from error
    return ServerCertificate(cert_file, key_file, None)


def trust_lines(certificate: ServerCertificate) -> list[str]:
    """The banner's words on trusting the server's certificate."""
    if certificate.ca_file is None:
        return [f"HTTPS with your certificate {certificate.cert_file}"]
    ca = certificate.ca_file
    lines = [f"HTTPS for {', '.join(LOOPBACK_NAMES)}, signed by the local CA {ca}", "trust it in the client's shell:"]
    lines += [f"  export {variable}={ca}  # {who}" for variable, who in TRUST_VARIABLES]
    return lines
