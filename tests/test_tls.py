"""`refund-mock serve --tls`: HTTPS that a client trusts once it is pointed at the mock's local CA."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
import trustme
from cryptography import x509

from tests.test_serve import free_port, stop

SHOPIFY_ORDER = "/admin/api/2020-10/orders/3012450010101.json"  # a committed fixture
SHOPIFY_HEADERS = {"X-Shopify-Access-Token": "tls-test"}


def refund_mock(*arguments: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mockserver.cli", *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


@contextmanager
def serve_https(*arguments: str, host: str = "127.0.0.1", ca: Path | None = None) -> Iterator[tuple[str, list[str]]]:
    """`serve` with `arguments` on a free port; yields the HTTPS base URL, and its output once it stopped."""
    port = free_port()
    command = [sys.executable, "-m", "mockserver.cli", "serve", "--host", host, "--port", str(port), *arguments]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    shown = f"[{host}]" if ":" in host else host
    base = f"https://{shown}:{port}"
    output: list[str] = []  # what the server printed, filled in once it has stopped
    try:
        wait_for_https(base, process, ca)
        yield base, output
    finally:
        stop(process)
        if process.stdout is not None:
            output.extend(process.stdout.read().splitlines())


def wait_for_https(base: str, process: subprocess.Popen[str], ca: Path | None) -> None:
    """Poll health over HTTPS until it answers."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited early: {process.stdout.read() if process.stdout else ''}")
        try:
            requests.get(f"{base}/__mock/health", verify=str(ca) if ca else False, timeout=2)
            return
        except OSError:  # not listening yet, or the CA file not written yet
            time.sleep(0.1)
    raise AssertionError("serve did not answer /__mock/health over HTTPS in time")


def test_tls_path_makes_the_ca_once_and_keeps_its_key_private(tmp_path: Path) -> None:
    folder = tmp_path / "tls"
    first = refund_mock("tls", "path", "--tls-dir", str(folder))
    assert first.returncode == 0, first.stderr
    ca_file = Path(first.stdout.strip())
    assert ca_file == folder / "ca.pem"
    certificate = x509.load_pem_x509_certificate(ca_file.read_bytes())
    assert certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    key_mode = stat.S_IMODE((folder / "ca-key.pem").stat().st_mode)
    assert key_mode == 0o600, oct(key_mode)
    # a second run (and a server started later) keeps the CA a client was told to trust
    again = refund_mock("tls", "path", "--tls-dir", str(folder))
    assert again.stdout == first.stdout
    assert x509.load_pem_x509_certificate(ca_file.read_bytes()) == certificate


def test_tls_path_defaults_to_the_users_data_folder(tmp_path: Path) -> None:
    environment = {"XDG_DATA_HOME": str(tmp_path / "data"), "HOME": str(tmp_path / "home")}
    environment = {**environment, "REFUND_MOCK_TLS_DIR": ""}
    done = refund_mock("tls", "path", env=environment)
    assert done.returncode == 0, done.stderr
    if sys.platform.startswith("linux"):
        assert done.stdout.strip() == str(tmp_path / "data" / "refund-mock" / "tls" / "ca.pem")
    assert Path(done.stdout.strip()).is_file()


@pytest.mark.parametrize("workers", [None, "2"], ids=["single-process", "workers"])
def test_serve_tls_is_trusted_through_the_local_ca(tmp_path: Path, workers: str | None) -> None:
    folder = tmp_path / "tls"
    ca_file = folder / "ca.pem"
    arguments = ["--tls", "--tls-dir", str(folder), *(["--workers", workers] if workers else [])]
    with serve_https(*arguments, ca=ca_file) as (base, banner):
        for url in (base, base.replace("127.0.0.1", "localhost")):
            answer = requests.get(f"{url}{SHOPIFY_ORDER}", headers=SHOPIFY_HEADERS, verify=str(ca_file), timeout=10)
            assert answer.status_code == 200
            assert answer.json()["order"]["id"] == 3012450010101
        # the certificate is the local CA's: a client that trusts only the usual roots refuses it
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(f"{base}/__mock/health", timeout=10)
    text = "\n".join(banner)
    assert f"serving on {base}" in text
    for variable in ("REQUESTS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE"):
        assert f"export {variable}={ca_file}" in text
    assert stat.S_IMODE((folder / "ca-key.pem").stat().st_mode) == 0o600
    assert stat.S_IMODE((folder / "localhost-key.pem").stat().st_mode) == 0o600


def test_the_certificate_names_every_loopback_name_and_address(tmp_path: Path) -> None:
    done = refund_mock("tls", "path", "--tls-dir", str(tmp_path))
    assert done.returncode == 0
    with serve_https("--tls", "--tls-dir", str(tmp_path), ca=tmp_path / "ca.pem"):
        pass
    leaf = x509.load_pem_x509_certificates((tmp_path / "localhost.pem").read_bytes())[0]
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert {str(address) for address in names.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "::1"}


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _ipv6_loopback(), reason="this machine has no IPv6 loopback")
def test_serve_tls_on_the_ipv6_loopback(tmp_path: Path) -> None:
    with serve_https("--tls", "--tls-dir", str(tmp_path), host="::1", ca=tmp_path / "ca.pem") as (base, _):
        answer = requests.get(f"{base}/__mock/health", verify=str(tmp_path / "ca.pem"), timeout=10)
        assert answer.status_code == 200


def test_serve_with_the_users_own_certificate(tmp_path: Path) -> None:
    own_ca = trustme.CA()
    leaf = own_ca.issue_cert("localhost", "127.0.0.1")
    cert_file, key_file, ca_file = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "own-ca.pem"
    leaf.private_key_pem.write_to_path(str(key_file))
    leaf.cert_chain_pems[0].write_to_path(str(cert_file))
    own_ca.cert_pem.write_to_path(str(ca_file))
    with serve_https("--tls-cert", str(cert_file), "--tls-key", str(key_file), ca=ca_file) as (base, banner):
        answer = requests.get(f"{base}{SHOPIFY_ORDER}", headers=SHOPIFY_HEADERS, verify=str(ca_file), timeout=10)
        assert answer.status_code == 200
    assert f"HTTPS with your certificate {cert_file}" in "\n".join(banner)


def test_tls_cert_wants_its_key(tmp_path: Path) -> None:
    cert_file = tmp_path / "cert.pem"
    trustme.CA().issue_cert("localhost").cert_chain_pems[0].write_to_path(str(cert_file))
    done = refund_mock("serve", "--port", str(free_port()), "--tls-cert", str(cert_file))
    assert done.returncode == 2
    assert "--tls-cert and --tls-key go together" in done.stderr


def test_a_key_that_is_not_the_certificates_is_refused_before_serving(tmp_path: Path) -> None:
    ca = trustme.CA()
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    ca.issue_cert("localhost").cert_chain_pems[0].write_to_path(str(cert_file))
    ca.issue_cert("localhost").private_key_pem.write_to_path(str(key_file))  # another certificate's key
    done = refund_mock("serve", "--port", str(free_port()), "--tls-cert", str(cert_file), "--tls-key", str(key_file))
    assert done.returncode == 1
    assert f"--tls-cert {cert_file} with --tls-key {key_file} cannot be served" in done.stderr


def test_two_servers_starting_at_once_make_one_ca(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "mockserver.cli", "tls", "path", "--tls-dir", str(tmp_path)]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(4)]
    outputs = {run.communicate(timeout=120)[0] for run in runs}
    assert outputs == {f"{tmp_path / 'ca.pem'}\n"}
    # the key on disk is the key of the certificate on disk: nobody wrote half of a CA over another's
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    certificate = x509.load_pem_x509_certificate((tmp_path / "ca.pem").read_bytes())
    key = load_pem_private_key((tmp_path / "ca-key.pem").read_bytes(), password=None)
    assert certificate.public_key() == key.public_key()


def test_a_server_certificate_about_to_expire_is_issued_again(tmp_path: Path) -> None:
    import datetime

    from mockserver import tls

    first = tls.loopback_certificate(tmp_path)
    ca = trustme.CA.from_pem((tmp_path / "ca.pem").read_bytes(), (tmp_path / "ca-key.pem").read_bytes())
    soon = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=10)
    ca.issue_cert(*tls.LOOPBACK_NAMES, not_after=soon).cert_chain_pems[0].write_to_path(str(first.cert_file))
    again = tls.loopback_certificate(tmp_path)
    leaf = x509.load_pem_x509_certificates(again.cert_file.read_bytes())[0]
    assert leaf.not_valid_after_utc - datetime.datetime.now(datetime.UTC) > datetime.timedelta(days=300)
    # ...and one still good is kept as it is
    kept = again.cert_file.read_bytes()
    assert tls.loopback_certificate(tmp_path).cert_file.read_bytes() == kept
