"""Shopify's GraphQL Admin API (refunds): `Order.suggestedRefund` and `refundCreate`.

The SDL in `specs/shopify-admin-*.graphql` decides what is valid; graphql-core parses, validates
and executes it. Resolvers read the same stored order documents as the REST handlers and change
them through the same engine (`mockserver.shopify.models`), so a refund made here is listed by
REST and the reverse.
"""

from __future__ import annotations

from mockserver.shopify.graphql.endpoint import graphql_admin

__all__ = ["graphql_admin"]
