"""Read models kept per instance and emptied by the bus: the account page, the device list."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from screengate.domain.ids import AccountId

V = TypeVar("V")

MAX_ACCOUNTS = 100_000


class LocalViews(Generic[V]):
    """Cached read models of accounts. A write announces the account on the bus, which forgets it
    here and on every instance; `max_age` bounds what a write made by another process (the
    operator's CLI on an embedded store) can leave stale. Admission and limits never read
    this: they read the store."""

    def __init__(self, *, enabled: bool, max_age_seconds: float) -> None:
        self.enabled = enabled
        self._max_age = max_age_seconds
        self._views: OrderedDict[AccountId, tuple[float, V]] = OrderedDict()
        self._generations: dict[AccountId, int] = {}
        # The store read under way for an account, and the generation it began at.
        self._flights: dict[AccountId, tuple[int, asyncio.Future[V]]] = {}

    def get(self, account_id: AccountId) -> V | None:
        if not self.enabled:
            return None
        cached = self._views.get(account_id)
        if cached is None or time.monotonic() - cached[0] > self._max_age:
            return None
        return cached[1]

    async def read_through(self, account_id: AccountId, read: Callable[[], Awaitable[V]]) -> V:
        """The cached view, else one store read shared by every request that wants it meanwhile.

        When a view expires, every request in flight used to read the store for it (one busy
        account: hundreds of reads where one would do). A request joins a read only if it began
        at the account's present generation, so nobody is handed a read that started before a
        change they could have seen. The read runs as its own task: a caller that goes away
        does not cancel it for the others.
        """
        cached = self.get(account_id)
        if cached is not None:
            return cached
        generation = self.generation(account_id)
        if not self.enabled:
            return await read()
        flight = self._flights.get(account_id)
        if flight is not None and flight[0] == generation:
            return await asyncio.shield(flight[1])
        task: asyncio.Future[V] = asyncio.ensure_future(read())
        task.add_done_callback(_retrieve)
        self._flights[account_id] = (generation, task)
        try:
            view = await asyncio.shield(task)
        finally:
            if self._flights.get(account_id, (0, None))[1] is task:
                del self._flights[account_id]
        self.put(account_id, view, generation)
        return view

    def generation(self, account_id: AccountId) -> int:
        return self._generations.get(account_id, 0)

    def put(self, account_id: AccountId, view: V, generation: int) -> None:
        """Keep a view read from the store, unless the account changed since the read began."""
        if not self.enabled or self.generation(account_id) != generation:
            return
        self._views[account_id] = (time.monotonic(), view)
        self._views.move_to_end(account_id)
        while len(self._views) > MAX_ACCOUNTS:
            self._views.popitem(last=False)

    def forget(self, account_id: AccountId) -> None:
        self._generations[account_id] = self.generation(account_id) + 1
        self._views.pop(account_id, None)
        if len(self._generations) > 4 * MAX_ACCOUNTS:
            # Old generations only guard reads in flight; starting again is safe once the
            # views they guarded are gone too.
            self._generations.clear()
            self._views.clear()

    def trust(self, trusted: bool) -> None:
        self._views.clear()
        self.enabled = trusted


def _retrieve(task: asyncio.Future[Any]) -> None:
    # Its waiters may all have gone; an error they would have seen is not left unread.
    if not task.cancelled():
        task.exception()
