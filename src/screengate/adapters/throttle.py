"""Sign-in throttling per account and per client address, on the `limits` library."""

from __future__ import annotations

import logging
import math
import time

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from screengate.domain.errors import TooManyAttempts

log = logging.getLogger("screengate.throttle")


class LimitsSignInThrottle:
    """Failures count against the email and against the client; success clears the email.

    With shared counters (Redis) that cannot be reached, this instance counts on its own
    until they can: sign-in stays throttled, never unthrottled and never an error.
    """

    def __init__(
        self,
        storage: Storage,
        *,
        per_account: str,
        per_client: str,
        fallback: Storage | None = None,
    ) -> None:
        self._shared = MovingWindowRateLimiter(storage)
        self._local = MovingWindowRateLimiter(fallback) if fallback is not None else None
        self._per_account = parse_many(per_account)
        self._per_client = parse_many(per_client)

    async def check(self, email: str, ip: str | None) -> None:
        limiter = await self._limiter()
        waits = [await self._wait(limiter, i, "account", email) for i in self._per_account] + [
            await self._wait(limiter, i, "client", ip) for i in self._per_client if ip
        ]
        longest = max(waits, default=0)
        if longest > 0:
            raise TooManyAttempts(longest)

    async def failed(self, email: str, ip: str | None) -> None:
        limiter = await self._limiter()
        for item in self._per_account:
            await limiter.hit(item, "account", email)
        for item in self._per_client if ip else ():
            await limiter.hit(item, "client", ip or "")

    async def succeeded(self, email: str) -> None:
        limiter = await self._limiter()
        for item in self._per_account:
            await limiter.clear(item, "account", email)

    async def _limiter(self) -> MovingWindowRateLimiter:
        if self._local is None:
            return self._shared
        try:
            reachable = await self._shared.storage.check()
        except Exception:  # unreachable counters are the case handled here, whatever the error
            reachable = False
        if reachable:
            return self._shared
        log.warning("throttle_counters_unreachable_counting_locally")
        return self._local

    @staticmethod
    async def _wait(
        limiter: MovingWindowRateLimiter, item: RateLimitItem, scope: str, key: str | None
    ) -> int:
        if key is None or await limiter.test(item, scope, key):
            return 0
        stats = await limiter.get_window_stats(item, scope, key)
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
