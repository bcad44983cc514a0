"""Read models kept per instance and emptied by the bus: the account page, the device list."""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Generic, TypeVar

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

    def get(self, account_id: AccountId) -> V | None:
        if not self.enabled:
            return None
        cached = self._views.get(account_id)
        if cached is None or time.monotonic() - cached[0] > self._max_age:
            return None
        return cached[1]

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
