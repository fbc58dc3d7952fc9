"""Shopify test fixtures: strict apps serving the Shopify API (and the admin API), and the
documented order 450789469 rebuilt at test time from the shared reference samples."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from shopify_support import FIXTURES_DIR, build_docs_order_document, load_order

from mockserver.admin import ADMIN_API
from mockserver.app import MockConfig, create_app, server_of
from mockserver.shopify import PLATFORM


@pytest.fixture
def make_shopify_app() -> Iterator[Callable[..., Flask]]:
    """Strict apps (every response checked against the spec) with extra settings."""
    built: list[Flask] = []

    def build(**settings: Any) -> Flask:
        settings.setdefault("fixtures_dir", FIXTURES_DIR)
        settings.setdefault("strict_responses", True)
        app = create_app(MockConfig(**settings), apis=[PLATFORM, ADMIN_API])
        app.testing = True
        built.append(app)
        return app

    yield build
    for app in built:
        server_of(app).store.close()


@pytest.fixture
def shopify_app(make_shopify_app: Callable[..., Flask]) -> Flask:
    return make_shopify_app()


@pytest.fixture
def shopify_client(shopify_app: Flask) -> FlaskClient:
    return shopify_app.test_client()


@pytest.fixture(scope="session")
def samples_dir(reference_dir: Path) -> Path:
    folder = reference_dir / "shopify-samples"
    if not folder.is_dir():
        pytest.skip("the Shopify reference samples (../shared/reference/shopify-samples) are not present")
    return folder


@pytest.fixture
def docs_order_document(samples_dir: Path) -> dict[str, Any]:
    return build_docs_order_document(samples_dir)


@pytest.fixture
def docs_client(shopify_app: Flask, docs_order_document: dict[str, Any]) -> FlaskClient:
    """A client of an app that also serves the documented order 450789469."""
    load_order(shopify_app, docs_order_document)
    return shopify_app.test_client()
