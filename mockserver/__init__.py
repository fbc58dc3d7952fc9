"""refund-mock: Shopify and BigCommerce refund APIs, offline, driven by their OpenAPI specs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mockserver.app import MockConfig, create_app

__all__ = ["MockConfig", "create_app"]


def __getattr__(name: str) -> Any:
    """`from mockserver import create_app` imports the app on first use, so that commands which
    do not serve (and the parent of `serve --workers`) do not load Flask and the specs."""
    if name in __all__:
        from mockserver import app

        return getattr(app, name)
    raise AttributeError(f"module 'mockserver' has no attribute {name!r}")
