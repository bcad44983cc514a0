"""This instance's revocation view: which access tokens it may accept without asking the store."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from typing import TypeVar

from screengate.domain.ids import SessionId
from screengate.domain.sessions import Principal

# Bounds that keep a long-running instance's memory flat whatever the traffic.
MAX_CACHED_TOKENS = 200_000
MAX_REMEMBERED_SESSIONS = 200_000

_V = TypeVar("_V")


class LocalRevocationView:
    """A cache of live principals that every sign-out empties before its call returns.

    With `caching` off (several instances with no shared bus) every check reads the store:
    slower, never open.
    """

    def __init__(
        self,
        *,
        caching: bool,
        touch_every: timedelta = timedelta(seconds=60),
        max_age_seconds: float | None = None,
    ) -> None:
        self.caching = caching
        self._touch_every = touch_every
        # Beside a shared bus, a cached principal is re-read now and then, which bounds what a
        # message lost without a disconnect (a partitioned publisher) could leave stale.
        self._max_age = max_age_seconds
        self._cached_at: dict[str, float] = {}
        self._principals: dict[str, Principal] = {}
        self._tokens_of: dict[SessionId, set[str]] = {}
        # Sessions revoked lately: a store read racing a sign-out must not re-cache its session.
        self._revoked: dict[SessionId, None] = {}
        self._touched: dict[SessionId, datetime] = {}
        # Bumped by every revocation and every clear: a store read begun at an older
        # generation may have read a session this instance has since heard was signed out.
        self._generation = 0
        self._flights: dict[str, tuple[int, asyncio.Future[Principal]]] = {}

    def get(self, token_hash: str) -> Principal | None:
        if not self.caching:
            return None
        principal = self._principals.get(token_hash)
        stale = (
            principal is not None
            and self._max_age is not None
            and time.monotonic() - self._cached_at.get(token_hash, 0.0) > self._max_age
        )
        return None if stale else principal

    async def read_through(
        self, token_hash: str, read: Callable[[], Awaitable[Principal]]
    ) -> Principal:
        """`read()`'s principal, one store read shared by the checks of this token meanwhile.

        When a token is not cached (first use, expiry of the cached entry, a bus reconnect),
        every request in flight used to read the store for it. A request joins a read only if
        it began after this instance's last revocation, and a principal whose session was
        revoked while it was read is read again rather than handed out, so nothing revoked here
        is ever accepted. The read runs as its own task: a caller that goes away does not cancel
        it for the others. While the cache is not trusted (no bus), every check reads alone.
        """
        if not self.caching:
            return await read()
        generation = self._generation
        flight = self._flights.get(token_hash)
        if flight is not None and flight[0] == generation:
            principal = await asyncio.shield(flight[1])
        else:
            task: asyncio.Future[Principal] = asyncio.ensure_future(read())
            task.add_done_callback(_retrieve)
            self._flights[token_hash] = (generation, task)
            try:
                principal = await asyncio.shield(task)
            finally:
                if self._flights.get(token_hash, (0, None))[1] is task:
                    del self._flights[token_hash]
        if principal.session_id in self._revoked:
            return await read()  # signed out meanwhile: the store now says so
        return principal

    def trust_cache(self, trusted: bool) -> None:
        """Whatever was cached may have missed a sign-out while untrusted: forget it all."""
        self.clear()
        self.caching = trusted

    def put(self, token_hash: str, principal: Principal) -> None:
        if not self.caching or principal.session_id in self._revoked:
            return
        if len(self._principals) >= MAX_CACHED_TOKENS:
            self._evict_oldest()
        self._principals[token_hash] = principal
        if self._max_age is not None:
            self._cached_at[token_hash] = time.monotonic()
        self._tokens_of.setdefault(principal.session_id, set()).add(token_hash)

    def revoke(self, session_ids: Iterable[SessionId]) -> None:
        self._generation += 1
        for session_id in session_ids:
            self._revoked[session_id] = None
            self._touched.pop(session_id, None)
            for token_hash in self._tokens_of.pop(session_id, ()):
                self._principals.pop(token_hash, None)
                self._cached_at.pop(token_hash, None)
        _trim(self._revoked, MAX_REMEMBERED_SESSIONS)

    def due_for_touch(self, session_id: SessionId, now: datetime) -> bool:
        last = self._touched.get(session_id)
        if last is not None and now - last < self._touch_every:
            return False
        self._touched[session_id] = now
        _trim(self._touched, MAX_REMEMBERED_SESSIONS)
        return True

    def clear(self) -> None:
        """Forget every cached principal: used when the bus may have missed messages."""
        self._generation += 1
        self._principals.clear()
        self._tokens_of.clear()
        self._cached_at.clear()

    def _evict_oldest(self) -> None:
        token_hash = next(iter(self._principals))
        principal = self._principals.pop(token_hash)
        self._cached_at.pop(token_hash, None)
        tokens = self._tokens_of.get(principal.session_id)
        if tokens is not None:
            tokens.discard(token_hash)
            if not tokens:
                del self._tokens_of[principal.session_id]


def _retrieve(task: asyncio.Future[Principal]) -> None:
    """Mark a shared read's exception as seen, even when every caller went away."""
    if not task.cancelled():
        task.exception()


def _trim(entries: dict[SessionId, _V], bound: int) -> None:
    while len(entries) > bound:
        del entries[next(iter(entries))]
