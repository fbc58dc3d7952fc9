"""A named session's view of the store: the same methods the handlers call on `Store`, acting on the
session's own rows (copy on write, see `Store.update_session_order`).

A session that only reads costs nothing: it reads the baseline orders every session shares.
Its first write of an order copies that order into rows keyed by the session; its refunds,
order listing and idempotency keys live there too. Ids come from the store-wide sequences, so
they are unique across sessions, as on a real store.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, TypeVar

from mockserver.store import Store, StoredOrder, Transaction

T = TypeVar("T")


class SessionStore:
    """`Store`'s request-time methods for one named session."""

    __slots__ = ("session", "store")

    def __init__(self, store: Store, session: str):
        self.store = store
        self.session = session

    def get_order(self, platform: str, order_id: int) -> StoredOrder | None:
        return self.store.get_session_order(self.session, platform, order_id)

    def update_order(
        self,
        platform: str,
        order_id: int,
        change: Callable[[dict[str, Any], Transaction], T],
        *,
        attempts: int = 1000,
    ) -> T:
        return self.store.update_session_order(self.session, platform, order_id, change, attempts=attempts)

    def order_ids(self, platform: str) -> list[int]:
        return self.store.session_order_ids(self.session, platform)

    def list_order_ids(
        self,
        platform: str,
        *,
        ids: Collection[int] | None = None,
        min_id: int | None = None,
        max_id: int | None = None,
        created_min: str | None = None,
        created_max: str | None = None,
        facets: Mapping[str, Collection[str | int | None]] | None = None,
        store_hash: str | None = None,
        archived: bool | None = False,
        order_by: Sequence[tuple[str, bool]] = (("id", False),),
        limit: int | None = None,
        offset: int = 0,
    ) -> list[int]:
        return self.store.list_order_ids(
            platform,
            ids=ids,
            min_id=min_id,
            max_id=max_id,
            created_min=created_min,
            created_max=created_max,
            facets=facets,
            store_hash=store_hash,
            archived=archived,
            order_by=order_by,
            limit=limit,
            offset=offset,
            session=self.session,
        )

    def list_refunds(
        self,
        platform: str,
        *,
        order_ids: list[int] | None = None,
        refund_ids: list[int] | None = None,
        created_min: str | None = None,
        created_max: str | None = None,
    ) -> list[dict[str, Any]]:
        return self.store.list_refunds(
            platform,
            order_ids=order_ids,
            refund_ids=refund_ids,
            created_min=created_min,
            created_max=created_max,
            session=self.session,
        )

    def order_holding(self, platform: str, array_path: str, item_id: int) -> int | None:
        return self.store.order_holding(platform, array_path, item_id, self.session)

    def remember(self, platform: str, key: str, result: Any) -> Any:
        return self.store.remember(platform, key, result, self.session)

    def recall(self, platform: str, key: str) -> Any:
        return self.store.recall(platform, key, self.session)

    def next_id(self, name: str, start: int = 1) -> int:
        return self.store.next_id(name, start)
