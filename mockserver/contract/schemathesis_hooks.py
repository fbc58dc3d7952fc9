"""Schemathesis hooks for refund-mock's specs. `schemathesis.toml` names this module (`hooks`), so
the Schemathesis CLI, the test suite and `refund-mock fuzz` all load it.

- `application/graphql`: Shopify's GraphQL endpoint also takes the document itself as the body
  (`specs/shopify-2020-10.yaml`, operation `graphqlAdmin`), a media type Schemathesis has no
  serializer for. A string goes on the wire as its UTF-8 text. A value that is not a string (what
  the negative phases make of a `type: string` body) has no text form a server could tell from a
  document, `{}` being a GraphQL document too; it is sent as no body at all, which is what a
  non-document is on the wire, and which the spec refuses (the body is required).
"""

from __future__ import annotations

from typing import Any

import schemathesis

GRAPHQL_MEDIA_TYPE = "application/graphql"


@schemathesis.serializer(GRAPHQL_MEDIA_TYPE)
def graphql_document(context: Any, value: Any) -> bytes | None:
    """The body of an `application/graphql` request: the document's text, or none."""
    if isinstance(value, bytes):
        return value
    return value.encode("utf-8") if isinstance(value, str) else None
