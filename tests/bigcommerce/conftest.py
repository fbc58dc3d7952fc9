"""BigCommerce test fixtures: one strict app per module for tests that only read."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from mockserver.app import MockConfig, create_app, server_of
from tests.conftest import FIXTURES_DIR


@pytest.fixture(scope="module")
def reader() -> Iterator[FlaskClient]:
    """A strict app over the committed fixtures, shared by a module's tests that change nothing."""
    app = create_app(MockConfig(fixtures_dir=FIXTURES_DIR, strict_responses=True))
    app.testing = True
    yield app.test_client()
    server_of(app).store.close()
