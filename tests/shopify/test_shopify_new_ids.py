"""A created refund's new ids start above every id its order holds, so they never meet a fixture's ids.

The engine reads the highest `id` from the order's JSON text (faster than walking it); these
tests hide ids and id-like text anywhere in an order and check the first id offered to the id
source against a plain walk of the order written here.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shopify_support import fixture_documents

from mockserver.shopify import models

SOCKS_ORDER = 3012450010101  # a starter order: the socks line has units left to refund
SOCKS = 10010000001
REFUND = {"refund_line_items": [{"line_item_id": SOCKS, "quantity": 1, "restock_type": "no_restock"}]}
ID_LIKE_TEXT = ['{"id":9000000000000999}', ',"id":9000000000000998,', '\\"id\\":9000000000000997']
KEYS = st.sampled_from(["id", "ids", "x", 'k"id', "id\\", "order_id"]) | st.text(max_size=4)
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)  # beyond 64 bits too, which orjson refuses
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(ID_LIKE_TEXT)
    | st.text(max_size=8)
)
JSON = st.recursive(
    LEAVES, lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=4), max_leaves=25
)


def highest_id(node: Any) -> int:
    """The largest integer (not boolean) held under an `id` key, at any depth; 0 when there is none."""
    if isinstance(node, dict):
        own = node.get("id")
        found = own if isinstance(own, int) and not isinstance(own, bool) else 0
        return max([found, *(highest_id(child) for child in node.values())])
    if isinstance(node, list):
        return max([0, *(highest_id(child) for child in node)])
    return 0


def first_id_offered(document: dict[str, Any]) -> int:
    offered: list[int] = []

    def next_id(kind: str, start: int) -> int:
        offered.append(start)
        return start + len(offered)

    models.create_refund(document, copy.deepcopy(REFUND), next_id)
    return offered[0]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(extra=JSON, deep=st.booleans())
def test_new_ids_start_above_every_id_anywhere_in_the_order(extra: Any, deep: bool) -> None:
    document = copy.deepcopy(fixture_documents()[SOCKS_ORDER])
    holder = document["order"]["line_items"][0] if deep else document["order"]
    holder["x_extra"] = extra  # a field the engine does not read, nested anywhere
    expected = max(models.FIRST_MOCK_ID, highest_id(document) + 1)
    assert first_id_offered(document) == expected


def test_id_like_text_and_look_alike_keys_do_not_count() -> None:
    document = copy.deepcopy(fixture_documents()[SOCKS_ORDER])
    document["order"]["note"] = '{"id":9000000000000999}'
    document["order"]['k"id'] = 9000000000000998
    document["order"]["ids"] = 9000000000000997
    document["order"]["x_extra"] = {"id": 9000000000000996.0, "list": [{"id": True}]}
    assert first_id_offered(document) == models.FIRST_MOCK_ID


def test_an_id_beyond_64_bits_is_still_counted() -> None:
    document = copy.deepcopy(fixture_documents()[SOCKS_ORDER])
    document["order"]["x_extra"] = [{"id": 2**70}]
    assert first_id_offered(document) == 2**70 + 1
