"""The GraphQL Admin versions the mock serves, and Shopify's fall-forward for the others."""

from __future__ import annotations

import re

# Quarterly stable releases, oldest first.
SERVED_VERSIONS = ("2025-01", "2025-04", "2025-07", "2025-10", "2026-01", "2026-04", "2026-07", "2026-10")
OLDEST = SERVED_VERSIONS[0]
IDEMPOTENT_DIRECTIVE_FROM = "2026-01"  # `@idempotent` exists (optional)
IDEMPOTENCY_REQUIRED_FROM = "2026-04"  # ...and `refundCreate` without it is refused
# Versions whose schema adds to the one before (specs/shopify-admin-<version>.graphql).
SCHEMA_STEPS = ("2025-01", "2026-01", "2026-04")
VERSION_TEXT = re.compile(r"\d{4}-\d{2}")


def served_version(requested: str) -> str:
    """The version that answers a request for `requested`.

    Shopify serves a version it does not support (one that is too old, not a release, or
    `unstable`) by falling forward to the oldest supported stable version, and says so in
    `X-Shopify-API-Version`.
    """
    return requested if requested in SERVED_VERSIONS else OLDEST


def schema_step(version: str) -> str:
    """The newest schema file that applies to `version`."""
    return max(step for step in SCHEMA_STEPS if step <= version)
