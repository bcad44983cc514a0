"""Throttling on the `limits` library: sign-in attempts per client address, wrong passwords per
(email, address), per email from unknown devices and per known device; and wrong profile PINs
per profile and per device."""

from __future__ import annotations

import asyncio
import logging
import math
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from screengate.domain.errors import (
    TooManyAttempts,
    TooManyCodeAttempts,
    TooManyMailRequests,
    TooManyPinAttempts,
)
from screengate.domain.ids import AccountId, DeviceId, ProfileId
from screengate.ports import Guesser, PinFailure

log = logging.getLogger("screengate.throttle")


class _Counters:
    """Moving windows on shared counters (Redis), or this process's own.

    With shared counters that cannot be reached, this instance counts on its own until they
    can: throttled stays throttled, never unthrottled and never an error.
    """

    def __init__(self, storage: Storage, fallback: Storage | None) -> None:
        self._shared = MovingWindowRateLimiter(storage)
        self._local = MovingWindowRateLimiter(fallback) if fallback is not None else None
        # Held only while an attempt is judged: a key nobody is trying has no lock.
        self._turns: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    @asynccontextmanager
    async def turn(self, key: str) -> AsyncIterator[None]:
        """One attempt at a time on this key, on this instance: a burst sent at once is
        counted as it is judged, instead of every attempt passing check() first."""
        lock = self._turns.get(key)
        if lock is None:
            lock = self._turns[key] = asyncio.Lock()
        async with lock:
            yield

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


class LimitsSignInThrottle(_Counters):
    """Every attempt counts against its client address before any hashing, and only a few
    from one address are judged at once on an instance; wrong passwords
    count against (email, address) and, from devices the account does not know, against the
    email from everywhere; a known device's wrong passwords count against that device alone.
    A success clears the (email, address) or the device's count, never the others."""

    def __init__(
        self,
        storage: Storage,
        *,
        per_client: str,
        per_account_client: str,
        per_account: str,
        per_device: str,
        at_once_per_client: int = 2,
        fallback: Storage | None = None,
    ) -> None:
        super().__init__(storage, fallback)
        self._at_once = at_once_per_client
        self._judging: dict[str, int] = {}
        self._per_client = parse_many(per_client)
        self._per_account_client = parse_many(per_account_client)
        self._per_account = parse_many(per_account)
        self._per_device = parse_many(per_device)

    @asynccontextmanager
    async def attempt(self, address: str | None) -> AsyncIterator[None]:
        if address is None:
            yield
            return
        # One of the address's few places on this instance first: a flood from one address
        # can hold only so much of the hashing queue, however many connections it opens.
        if self._judging.get(address, 0) >= self._at_once:
            raise TooManyAttempts(1)
        self._judging[address] = self._judging.get(address, 0) + 1
        try:
            await self._count(address)
            yield
        finally:
            self._judging[address] -= 1
            if not self._judging[address]:
                del self._judging[address]

    async def _count(self, address: str) -> None:
        limiter = await self._limiter()
        # A refused hit is not counted, so waiting it out is enough; all windows are tested
        # first, so that a refusal by one does not fill another.
        waits = [await self._wait(limiter, item, "client", address) for item in self._per_client]
        if max(waits, default=0) > 0:
            raise TooManyAttempts(max(waits))
        for item in self._per_client:
            if not await limiter.hit(item, "client", address):
                raise TooManyAttempts(await self._wait(limiter, item, "client", address))

    async def check(self, guesser: Guesser) -> None:
        limiter = await self._limiter()
        waits = [await self._wait(limiter, item, *key) for item, key in self._keyed(guesser)]
        longest = max(waits, default=0)
        if longest > 0:
            raise TooManyAttempts(longest)

    async def failed(self, guesser: Guesser) -> None:
        limiter = await self._limiter()
        for item, key in self._keyed(guesser):
            await limiter.hit(item, *key)

    async def succeeded(self, guesser: Guesser) -> None:
        limiter = await self._limiter()
        for item, key in self._keyed(guesser):
            if key[0] != "account":  # the count from everywhere is left to time
                await limiter.clear(item, *key)

    def _keyed(self, guesser: Guesser) -> list[tuple[RateLimitItem, tuple[str, str]]]:
        if guesser.device_id is not None:
            device = ("device", f"{guesser.email} {guesser.device_id}")
            return [(item, device) for item in self._per_device]
        keyed = [(item, ("account", guesser.email)) for item in self._per_account]
        if guesser.address is not None:
            pair = ("account-client", f"{guesser.email} {guesser.address}")
            keyed += [(item, pair) for item in self._per_account_client]
        return keyed


class LimitsPinThrottle(_Counters):
    """Wrong PINs count against the profile and against the device; nothing but time takes
    one off, a new PIN neither. A correct PIN clears nothing: were it to clear the profile's
    count, a guesser could go on guessing between the owner's own correct entries."""

    def __init__(
        self,
        storage: Storage,
        *,
        per_profile: str,
        per_device: str,
        fallback: Storage | None = None,
    ) -> None:
        super().__init__(storage, fallback)
        self._per_profile = parse_many(per_profile)
        self._per_device = parse_many(per_device)

    async def check(self, profile_id: ProfileId, device_id: DeviceId) -> None:
        wait = await self._longest_wait(await self._limiter(), profile_id, device_id)
        if wait > 0:
            raise TooManyPinAttempts(wait)

    async def failed(self, profile_id: ProfileId, device_id: DeviceId) -> PinFailure:
        limiter = await self._limiter()
        hits = [await limiter.hit(item, *key) for item, key in self._keyed(profile_id, device_id)]
        wait = await self._longest_wait(limiter, profile_id, device_id)
        return PinFailure(counted=all(hits), retry_after=wait)

    async def _longest_wait(
        self, limiter: MovingWindowRateLimiter, profile_id: ProfileId, device_id: DeviceId
    ) -> int:
        waits = [
            await self._wait(limiter, item, *key)
            for item, key in self._keyed(profile_id, device_id)
        ]
        return max(waits, default=0)

    def _keyed(
        self, profile_id: ProfileId, device_id: DeviceId
    ) -> list[tuple[RateLimitItem, tuple[str, str]]]:
        return [(item, _profile_key(profile_id)) for item in self._per_profile] + [
            (item, ("pin-device", device_id)) for item in self._per_device
        ]


class LimitsMailThrottle(_Counters):
    """Every request for a password-reset mail counts, found account or not (so a count says
    nothing about whether the email is known): per email, and per client address."""

    def __init__(
        self,
        storage: Storage,
        *,
        per_email: str,
        per_address: str,
        fallback: Storage | None = None,
    ) -> None:
        super().__init__(storage, fallback)
        self._per_email = parse_many(per_email)
        self._per_address = parse_many(per_address)

    async def hit(self, email: str, ip: str | None) -> None:
        limiter = await self._limiter()
        keyed = [(item, "mail-email", email) for item in self._per_email] + [
            (item, "mail-address", ip) for item in self._per_address if ip
        ]
        waits = [await self._wait(limiter, item, scope, key) for item, scope, key in keyed]
        if max(waits, default=0) > 0:
            raise TooManyMailRequests(max(waits))
        for item, scope, key in keyed:
            await limiter.hit(item, scope, key or "")


class LimitsCodeThrottle(_Counters):
    """Wrong TV codes count against the account that typed them and against its address; a
    right code clears nothing (a guesser must not win back tries between the owner's codes).
    Asking for codes counts against the asking address, so nobody fills the table."""

    def __init__(
        self,
        storage: Storage,
        *,
        per_account: str,
        per_client: str,
        requests_per_client: str,
        fallback: Storage | None = None,
    ) -> None:
        super().__init__(storage, fallback)
        self._per_account = parse_many(per_account)
        self._per_client = parse_many(per_client)
        self._requests = parse_many(requests_per_client)

    async def check(self, account_id: AccountId, ip: str | None) -> None:
        limiter = await self._limiter()
        waits = [
            await self._wait(limiter, i, "code-account", account_id) for i in self._per_account
        ]
        waits += [await self._wait(limiter, i, "code-client", ip) for i in self._per_client if ip]
        longest = max(waits, default=0)
        if longest > 0:
            raise TooManyCodeAttempts(longest)

    async def failed(self, account_id: AccountId, ip: str | None) -> None:
        limiter = await self._limiter()
        for item in self._per_account:
            await limiter.hit(item, "code-account", account_id)
        for item in self._per_client if ip else ():
            await limiter.hit(item, "code-client", ip or "")

    async def requested(self, ip: str | None) -> None:
        """One more code asked for from this address; TooManyAttempts past the limit."""
        if ip is None:
            return
        limiter = await self._limiter()
        for item in self._requests:
            if not await limiter.hit(item, "code-request", ip):
                raise TooManyAttempts(await self._wait(limiter, item, "code-request", ip))


def _profile_key(profile_id: ProfileId) -> tuple[str, str]:
    return ("pin-profile", profile_id)


class MemoryCounters(MemoryStorage):
    """limits' in-process storage, minus a race in limits 5.8: its expiry task walks a snapshot
    of the keys and dies on a KeyError ("Task exception was never retrieved") when clear()
    deleted one meanwhile. Emptying the key instead lets that task drop it as expired."""

    async def clear(self, key: str) -> None:
        self.storage.pop(key, None)
        self.expirations.pop(key, None)
        if key in self.events:
            self.events[key] = []


class LimitsSecondFactorThrottle(_Counters):
    """Wrong second-step codes count against the account (from every instance); a right code
    clears nothing, as with PINs: else a guesser could keep going between the owner's own
    sign-ins."""

    def __init__(
        self, storage: Storage, *, per_account: str, fallback: Storage | None = None
    ) -> None:
        super().__init__(storage, fallback)
        self._per_account = parse_many(per_account)

    async def check(self, account_id: AccountId) -> None:
        limiter = await self._limiter()
        waits = [
            await self._wait(limiter, i, "second-factor", account_id) for i in self._per_account
        ]
        longest = max(waits, default=0)
        if longest > 0:
            raise TooManyAttempts(longest)

    async def failed(self, account_id: AccountId) -> None:
        limiter = await self._limiter()
        for item in self._per_account:
            await limiter.hit(item, "second-factor", account_id)
