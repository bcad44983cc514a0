"""Which devices hold an open event stream, across instances: a Redis hash per session."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence

from redis.asyncio import Redis
from redis.exceptions import RedisError

from screengate.domain.ids import SessionId

TTL_SECONDS = 30
REFRESH_SECONDS = 10


# One flag per key, "1" if another instance's entry in that hash is still good (this
# instance knows its own streams without asking, and its own entry may be on its way out):
# ten thousand sessions answered in one command and one short string, not ten thousand
# replies to parse.
_CONNECTED = """
local now, here = tonumber(ARGV[1]), ARGV[2]
local flags = {}
for i, key in ipairs(KEYS) do
  flags[i] = "0"
  local entries = redis.call("HGETALL", key)
  for j = 1, #entries, 2 do
    if entries[j] ~= here and tonumber(entries[j + 1]) > now then
      flags[i] = "1"
      break
    end
  end
end
return table.concat(flags)
"""
# Marking (a join, the refresh of every open stream here) and forgetting, likewise in one
# command per batch: a pipeline of ten thousand costs ten thousand replies parsed in Python.
_MARK = """
for _, key in ipairs(KEYS) do
  redis.call("HSET", key, ARGV[1], ARGV[2])
  redis.call("PEXPIRE", key, ARGV[3])
end
return #KEYS
"""
_FORGET = """
for _, key in ipairs(KEYS) do
  redis.call("HDEL", key, ARGV[1])
end
return #KEYS
"""
# Keys per command: enough for few round trips, few enough not to hold Redis up for long.
BATCH = 5_000
# Streams that close together (a sign-out's ten thousand) leave in one command.
LEAVE_AFTER_SECONDS = 0.05


class RedisPresence:
    """Per session a hash of instance -> until (epoch ms). An instance that dies leaves
    entries that lapse within TTL_SECONDS; one that lives refreshes its own."""

    def __init__(self, redis: Redis, instance_id: str, *, prefix: str = "screengate") -> None:
        self._redis = redis
        self._instance = instance_id
        self._prefix = prefix
        self._local: dict[SessionId, int] = defaultdict(int)
        self._leaving: set[SessionId] = set()
        self._flush: asyncio.Task[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._connected = redis.register_script(_CONNECTED)
        self._mark_all = redis.register_script(_MARK)
        self._forget_all = redis.register_script(_FORGET)

    def start(self) -> None:
        self._task = asyncio.create_task(self._refresh_forever(), name="screengate-presence")

    async def stop(self) -> None:
        for task in (self._task, self._flush):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        with contextlib.suppress(RedisError, OSError):
            await self._forget()

    async def join(self, session_id: SessionId) -> None:
        self._local[session_id] += 1
        self._leaving.discard(session_id)
        with contextlib.suppress(RedisError, OSError):
            await self._mark([session_id])

    async def leave(self, session_id: SessionId) -> None:
        self._local[session_id] -= 1
        if self._local[session_id] > 0:
            return
        del self._local[session_id]
        self._leaving.add(session_id)
        if self._flush is None:
            self._flush = asyncio.create_task(self._forget_soon(), name="screengate-presence-leave")

    async def connected(self, session_ids: Sequence[SessionId]) -> set[SessionId]:
        here = {s for s in session_ids if s in self._local}
        elsewhere = [s for s in session_ids if s not in here]
        now = str(_now_ms())
        try:
            for batch in _batches(elsewhere):
                keys = [self._key(s) for s in batch]
                flags = await self._connected(keys=keys, args=[now, self._instance])
                here.update(s for s, flag in zip(batch, str(flags), strict=True) if flag == "1")
        except (RedisError, OSError):
            pass  # what could not be asked counts as not connected: the receipt says pending
        return here

    async def _forget_soon(self) -> None:
        try:
            await asyncio.sleep(LEAVE_AFTER_SECONDS)
            with contextlib.suppress(RedisError, OSError):
                await self._forget()
        finally:
            self._flush = None

    async def _forget(self) -> None:
        # A session that came back meanwhile has joined again: it stays.
        gone = [s for s in self._leaving if s not in self._local]
        self._leaving.clear()
        for batch in _batches(gone):
            await self._forget_all(keys=[self._key(s) for s in batch], args=[self._instance])

    async def _mark(self, session_ids: Sequence[SessionId]) -> None:
        until = _now_ms() + TTL_SECONDS * 1000
        for batch in _batches(session_ids):
            await self._mark_all(
                keys=[self._key(s) for s in batch],
                args=[self._instance, until, TTL_SECONDS * 1000],
            )

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            with contextlib.suppress(RedisError, OSError):
                await self._mark(list(self._local))

    def _key(self, session_id: SessionId) -> str:
        return f"{self._prefix}:presence:{session_id}"


def _batches(session_ids: Sequence[SessionId]) -> Iterator[Sequence[SessionId]]:
    for first in range(0, len(session_ids), BATCH):
        yield session_ids[first : first + BATCH]


def _now_ms() -> int:
    return int(time.time() * 1000)
