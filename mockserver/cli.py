"""The `refund-mock` command: `serve` now; fixtures, scenarios and fuzz join as subcommands."""

from __future__ import annotations

from pathlib import Path

import click
import yaml

from mockserver.app import MockConfig, create_app, server_of


def _read_tokens(path: Path | None) -> dict[str, list[str]] | None:
    if path is None:
        return None
    with open(path, encoding="utf-8") as handle:
        tokens = yaml.safe_load(handle) or {}
    if not isinstance(tokens, dict) or not all(
        isinstance(scopes, list) and all(isinstance(scope, str) for scope in scopes) for scopes in tokens.values()
    ):
        raise click.BadParameter("expected a YAML mapping of token -> list of scopes", param_hint="--tokens")
    return {str(token): list(scopes) for token, scopes in tokens.items()}


@click.group()
@click.version_option(package_name="refund-mock")
def main() -> None:
    """refund-mock: Shopify and BigCommerce refund APIs, offline, from their OpenAPI specs."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind; loopback by default.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--fixtures",
    "fixtures_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Folder with <platform>/orders/*.json (default: the committed fixtures).",
)
@click.option(
    "--state",
    "state_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite file that keeps state across restarts (default: a fresh temporary one).",
)
@click.option(
    "--tokens",
    "tokens_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="YAML mapping of token -> scopes; without it any non-empty token has every scope.",
)
@click.option("--validate-responses", is_flag=True, help="Check every response against the spec; log violations.")
def serve(
    host: str,
    port: int,
    fixtures_dir: Path | None,
    state_path: Path | None,
    tokens_path: Path | None,
    validate_responses: bool,
) -> None:
    """Serve both platforms' refund APIs and the /__mock admin API."""
    from werkzeug.serving import run_simple

    config = MockConfig(
        fixtures_dir=fixtures_dir,
        state_path=state_path,
        tokens=_read_tokens(tokens_path),
        validate_responses=validate_responses,
    )
    app = create_app(config)
    server = server_of(app)
    base = f"http://{host}:{port}"
    click.echo(f"refund-mock serving on {base}")
    for name, platform in server.platforms.items():
        count = len(server.store.order_ids(name))
        click.echo(f"  {platform.title:<32} {base}{platform.base_path_example}  ({count} orders)")
    click.echo(f"  {'admin API':<32} {base}/__mock/health")
    for problem in server.fixture_errors:
        click.echo(f"  skipped fixture {problem}", err=True)
    run_simple(host, port, app, threaded=True, use_reloader=False)
