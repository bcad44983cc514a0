"""argon2id password hashing, random tokens and the system clock."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from datetime import UTC, datetime

import argon2
from argon2.exceptions import InvalidHashError, VerificationError

from screengate.domain.device_codes import USER_CODE_ALPHABET, USER_CODE_LENGTH


class Argon2PasswordHasher:
    """argon2id, run off the event loop: one hash costs ~100 ms of CPU with library defaults."""

    def __init__(self, *, time_cost: int, memory_kib: int, parallelism: int) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_kib,
            parallelism=parallelism,
            type=argon2.Type.ID,
        )
        self._dummy: str | None = None

    async def hash(self, secret: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, secret)

    async def verify(self, hashed: str, secret: str) -> bool:
        return await asyncio.to_thread(self._verify, hashed, secret)

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
