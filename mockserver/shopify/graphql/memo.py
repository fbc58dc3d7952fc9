"""Answers of read-only queries, kept while the orders they read are unchanged.

A GraphQL query's answer depends only on the query, its variables, the token's scopes and the
orders it read; so, as the REST side keeps an order's figures per stored version, the answer of a
query is kept with the stored document of every order it read (and the ids it found no order
for), and given again while the store still hands out those very documents. The store hands out
a new document whenever the order's stored text changes (a refund through either API, a reset, a
loaded fixture), so the query is then executed again. (Versions are not enough: a reset numbers
them from 0 again.)
Queries that looked up a refund by id and found none are not kept (a refund may appear on any
order), nor are mutations.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from mockserver.store import Store

PLATFORM = "shopify"
SIZE = 128  # answers kept per process (each holds the documents it read)


@dataclass(frozen=True)
class Kept:
    answer: dict[str, Any]  # data and errors (the cost extension is added per request)
    actual_cost: int
    reads: tuple[tuple[int, Any], ...]  # (order id, the document read; None: no such order)


class AnswerMemo:
    def __init__(self, size: int = SIZE):
        self.size = size
        self._kept: OrderedDict[Any, Kept] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any, store: Store) -> Kept | None:
        with self._lock:
            kept = self._kept.get(key)
        if kept is None:
            return None
        for order_id, document in kept.reads:
            stored = store.get_order(PLATFORM, order_id)
            if (None if stored is None else stored.document) is not document:
                return None
        return kept

    def put(self, key: Any, kept: Kept) -> None:
        with self._lock:
            self._kept[key] = kept
            self._kept.move_to_end(key)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)


def memo_for(server: Any) -> AnswerMemo:
    memo = getattr(server, "graphql_answers", None)
    if memo is None:
        memo = server.graphql_answers = AnswerMemo()
    return memo
