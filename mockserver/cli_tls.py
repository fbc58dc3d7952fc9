"""The command line of HTTPS: `serve --tls`, `--tls-dir`, `--tls-cert`, `--tls-key` and `refund-mock tls path`.

The certificates themselves are made in `mockserver.tls`; this module only turns options into them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from mockserver.tls import DIR_VARIABLE, ServerCertificate, TlsError, trust_lines

__all__ = ["ServerCertificate", "server_certificate", "tls", "tls_options", "trust_lines"]

F = TypeVar("F", bound=Callable[..., object])

TLS_DIR_OPTION = click.option(
    "--tls-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar=DIR_VARIABLE,
    help="Folder of the local CA and the loopback certificate (default: the user's data folder, "
    "e.g. ~/.local/share/refund-mock/tls).",
)


def tls_options(command: F) -> F:
    """`--tls`, `--tls-dir`, `--tls-cert` and `--tls-key` on `serve`."""
    options = [
        click.option(
            "--tls",
            is_flag=True,
            help="Serve HTTPS, with a certificate for localhost, 127.0.0.1 and ::1 signed by a local CA "
            "made on first use (`refund-mock tls path` prints its file).",
        ),
        TLS_DIR_OPTION,
        click.option(
            "--tls-cert",
            type=click.Path(dir_okay=False, exists=True, path_type=Path),
            help="Serve HTTPS with your own certificate (PEM, chain included) instead; goes with --tls-key.",
        ),
        click.option(
            "--tls-key",
            type=click.Path(dir_okay=False, exists=True, path_type=Path),
            help="The private key (PEM) of --tls-cert.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def server_certificate(
    tls: bool, tls_dir: Path | None, tls_cert: Path | None, tls_key: Path | None
) -> ServerCertificate | None:
    """What the options ask for: nothing (plain HTTP), the user's certificate, or the local CA's."""
    from mockserver import tls as certificates

    if (tls_cert is None) != (tls_key is None):
        raise click.UsageError("--tls-cert and --tls-key go together")
    try:
        if tls_cert is not None and tls_key is not None:
            return certificates.own_certificate(tls_cert, tls_key)
        if tls:
            return certificates.loopback_certificate(tls_dir)
    except TlsError as error:
        raise click.ClickException(str(error)) from error
    return None


@click.group()
def tls() -> None:
    """The local certificate authority of `serve --tls`."""


@tls.command("path")
@TLS_DIR_OPTION
def tls_path(tls_dir: Path | None) -> None:
    """Print the CA certificate's file (made first if there is none), for clients to trust."""
    from mockserver import tls as certificates

    try:
        click.echo(certificates.ca_file(tls_dir))
    except TlsError as error:
        raise click.ClickException(str(error)) from error
