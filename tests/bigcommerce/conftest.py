"""BigCommerce test fixtures: one strict app per module, reset to the fixtures before each test.

Building an app loads and compiles every spec (about half a second); the store's reset puts
every order back as the fixtures have it, which is all a test needs from a fresh app.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mockserver.app import MockConfig, create_app, server_of


@pytest.fixture(scope="module")
def module_app(starter_fixtures_dir: Path) -> Iterator[Flask]:
    """Over the hand-written starter orders only, whose refunds these tests know by id."""
    app = create_app(MockConfig(fixtures_dir=starter_fixtures_dir, strict_responses=True))
    app.testing = True
    yield app
    server_of(app).store.close()


@pytest.fixture
def client(module_app: Flask) -> FlaskClient:
    """A strict app over the starter fixtures, as they are on disk (shadows the shared `client`)."""
    server_of(module_app).reset()
    return module_app.test_client()


@pytest.fixture(scope="module")
def reader(module_app: Flask) -> FlaskClient:
    """For modules whose tests change nothing: no reset between them."""
    return module_app.test_client()
