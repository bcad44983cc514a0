"""Which devices hold an open event stream, across instances: a Redis hash per session."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict
from collections.abc import Sequence

from redis.asyncio import Redis
from redis.exceptions import RedisError

from screengate.domain.ids import SessionId

TTL_SECONDS = 30
REFRESH_SECONDS = 10


class RedisPresence:
    """Per session a hash of instance -> until (epoch ms). An instance that dies leaves
    entries that lapse within TTL_SECONDS; one that lives refreshes its own."""

    def __init__(self, redis: Redis, instance_id: str, *, prefix: str = "screengate") -> None:
        self._redis = redis
        self._instance = instance_id
        self._prefix = prefix
        self._local: dict[SessionId, int] = defaultdict(int)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._refresh_forever(), name="screengate-presence")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def join(self, session_id: SessionId) -> None:
        self._local[session_id] += 1
        with contextlib.suppress(RedisError, OSError):
            await self._mark([session_id])

    async def leave(self, session_id: SessionId) -> None:
        self._local[session_id] -= 1
        if self._local[session_id] > 0:
            return
        del self._local[session_id]
        with contextlib.suppress(RedisError, OSError):
            await self._redis.hdel(self._key(session_id), self._instance)

    async def connected(self, session_ids: Sequence[SessionId]) -> set[SessionId]:
        here = {s for s in session_ids if s in self._local}
        elsewhere = [s for s in session_ids if s not in here]
        if not elsewhere:
            return here
        now = _now_ms()
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for session_id in elsewhere:
                    pipe.hvals(self._key(session_id))
                answers = await pipe.execute()
        except (RedisError, OSError):
            return here
        return here | {
            s
            for s, until in zip(elsewhere, answers, strict=True)
            if any(int(u) > now for u in until)
        }

    async def _mark(self, session_ids: Sequence[SessionId]) -> None:
        until = _now_ms() + TTL_SECONDS * 1000
        async with self._redis.pipeline(transaction=False) as pipe:
            for session_id in session_ids:
                pipe.hset(self._key(session_id), self._instance, until)
                pipe.pexpire(self._key(session_id), TTL_SECONDS * 1000)
            await pipe.execute()

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            with contextlib.suppress(RedisError, OSError):
                await self._mark(list(self._local))

    def _key(self, session_id: SessionId) -> str:
        return f"{self._prefix}:presence:{session_id}"


def _now_ms() -> int:
    return int(time.time() * 1000)
