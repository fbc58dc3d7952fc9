"""refund-mock: Shopify and BigCommerce refund APIs, offline, driven by their OpenAPI specs."""

from mockserver.app import MockConfig, create_app

__all__ = ["MockConfig", "create_app"]
