"""The store fixture (see store_check_support): a second refund-mock on loopback."""

from store_check_support import store

__all__ = ["store"]
