"""argon2id password hashing, random tokens and the system clock."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

import argon2
from argon2.exceptions import InvalidHashError, VerificationError

from screengate.domain.device_codes import USER_CODE_ALPHABET, USER_CODE_LENGTH
from screengate.domain.errors import ServerBusy

T = TypeVar("T")


class HashingGate:
    """At most `slots` hashes at once on this process, and at most `queue` more waiting for
    one; past that, ServerBusy at once. A flood then costs the flooder refusals, not every
    other sign-in a longer wait."""

    def __init__(self, *, slots: int, queue: int) -> None:
        if slots < 1 or queue < 0:
            raise ValueError("a hashing gate has at least one slot and a queue of 0 or more")
        self._slots = asyncio.Semaphore(slots)
        self._room = slots + queue
        self._inside = 0

    @property
    def inside(self) -> int:
        """Hashes running or waiting now."""
        return self._inside

    async def run(self, work: Callable[..., T], *args: object) -> T:
        if self._inside >= self._room:
            raise ServerBusy(RETRY_WHEN_BUSY_SECONDS)
        self._inside += 1
        try:
            async with self._slots:
                return await asyncio.to_thread(work, *args)
        finally:
            self._inside -= 1


RETRY_WHEN_BUSY_SECONDS = 1


class Argon2PasswordHasher:
    """argon2id, run off the event loop through a HashingGate: one hash costs ~100 ms of CPU
    with library defaults."""

    def __init__(
        self, *, time_cost: int, memory_kib: int, parallelism: int, gate: HashingGate
    ) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_kib,
            parallelism=parallelism,
            type=argon2.Type.ID,
        )
        self._gate = gate
        self._dummy: str | None = None

    async def hash(self, secret: str) -> str:
        return await self._gate.run(self._hasher.hash, secret)

    async def verify(self, hashed: str, secret: str) -> bool:
        return await self._gate.run(self._verify, hashed, secret)

    async def verify_dummy(self, secret: str) -> None:
        if self._dummy is None:
            self._dummy = await self.hash(secrets.token_urlsafe(16))
        await self.verify(self._dummy, secret)

    def needs_rehash(self, hashed: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(hashed)
        except InvalidHashError:
            return True

    def _verify(self, hashed: str, secret: str) -> bool:
        try:
            return self._hasher.verify(hashed, secret)
        except (VerificationError, InvalidHashError):
            return False


class SecretTokenSource:
    def token(self) -> str:
        # 32 bytes: 256 bits, twice the 128 the design asks for.
        return secrets.token_urlsafe(32)

    def new_id(self) -> str:
        return str(uuid.uuid4())

    def user_code(self) -> str:
        return "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)
