"""Shared fixtures: a strict app (every response checked against its spec) and the reference folder."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mockserver.app import MockConfig, create_app, server_of

REPO_ROOT = Path(__file__).resolve().parents[1]
REFERENCE_DIR = REPO_ROOT.parent / "shared" / "reference"
FIXTURES_DIR = REPO_ROOT / "fixtures"


def starter_order_paths(platform: str) -> list[Path]:
    """The hand-written starter orders: the committed fixtures that have no generated quotes file."""
    generated = {path.stem for path in (FIXTURES_DIR / platform / "quotes").glob("*.json")}
    return [path for path in sorted((FIXTURES_DIR / platform / "orders").glob("*.json")) if path.stem not in generated]


@pytest.fixture(scope="session")
def starter_fixtures_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fixtures folder holding only the starter orders, for tests that count on exactly those."""
    root = tmp_path_factory.mktemp("starter-fixtures")
    for platform in ("shopify", "bigcommerce"):
        target = root / platform / "orders"
        target.mkdir(parents=True)
        for path in starter_order_paths(platform):
            shutil.copy(path, target / path.name)
    return root


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """The platforms' reference notes and samples; tests that need them skip where it is absent."""
    if not REFERENCE_DIR.is_dir():
        pytest.skip("the shared reference folder (../shared/reference) is not present on this machine")
    return REFERENCE_DIR


@pytest.fixture
def make_app() -> Iterator[Callable[..., Flask]]:
    """Build strict apps with extra settings; their stores are closed afterwards."""
    built: list[Flask] = []

    def build(**settings: Any) -> Flask:
        settings.setdefault("fixtures_dir", FIXTURES_DIR)
        settings.setdefault("strict_responses", True)
        app = create_app(MockConfig(**settings))
        app.testing = True
        built.append(app)
        return app

    yield build
    for app in built:
        server_of(app).store.close()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
