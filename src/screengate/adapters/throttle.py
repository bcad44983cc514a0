"""Sign-in throttling per account and per client address, on the `limits` library."""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from screengate.domain.errors import TooManyAttempts


class LimitsSignInThrottle:
    """Failures count against the email and against the client; success clears the email."""

    def __init__(self, storage: Storage, *, per_account: str, per_client: str) -> None:
        self._limiter = MovingWindowRateLimiter(storage)
        self._per_account = parse_many(per_account)
        self._per_client = parse_many(per_client)

    async def check(self, email: str, ip: str | None) -> None:
        waits = [await self._wait(item, "account", email) for item in self._per_account] + [
            await self._wait(item, "client", ip) for item in self._per_client if ip
        ]
        longest = max(waits, default=0)
        if longest > 0:
            raise TooManyAttempts(longest)

    async def failed(self, email: str, ip: str | None) -> None:
        for item in self._per_account:
            await self._limiter.hit(item, "account", email)
        for item in self._per_client if ip else ():
            await self._limiter.hit(item, "client", ip or "")

    async def succeeded(self, email: str) -> None:
        for item in self._per_account:
            await self._limiter.clear(item, "account", email)

    async def _wait(self, item: RateLimitItem, scope: str, key: str | None) -> int:
        if key is None or await self._limiter.test(item, scope, key):
            return 0
        stats = await self._limiter.get_window_stats(item, scope, key)
        return max(1, math.ceil(stats.reset_time - time.time()))


class MemoryCounters(MemoryStorage):
    """limits' in-process storage, minus a race in limits 5.8: its expiry task walks a snapshot
    of the keys and dies on a KeyError ("Task exception was never retrieved") when clear()
    deleted one meanwhile. Emptying the key instead lets that task drop it as expired."""

    async def clear(self, key: str) -> None:
        self.storage.pop(key, None)
        self.expirations.pop(key, None)
        if key in self.events:
            self.events[key] = []
