"""The event bus across instances over Redis pub/sub (adapters/relay.py does the rest)."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis
from redis.exceptions import RedisError

from screengate.adapters.relay import RelayedBus, log
from screengate.adapters.wire import decode, encode

# A dead subscription is noticed within about this long even when no socket closes.
PING_SECONDS = 1.0


class RedisBus(RelayedBus):
    name = "redis"

    def __init__(self, redis: Redis, *, channel: str = "screengate:bus") -> None:
        super().__init__()
        self._redis = redis
        self._channel = channel

    @property
    def _transport_errors(self) -> tuple[type[BaseException], ...]:
        return (RedisError, OSError)

    async def _send(self, payload: bytes) -> None:
        try:
            await self._redis.publish(self._channel, payload)
        except (RedisError, OSError) as error:
            log.warning("bus_publish_failed", extra={"error": type(error).__name__})

    async def _follow(self) -> None:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self._channel)
            self._set_connected(True)
            self._ready.set()
            pinged = asyncio.get_running_loop().time()
            while True:
                raw = await pubsub.get_message(timeout=PING_SECONDS)
                if raw is not None and raw.get("type") == "message":
                    await self._receive(raw["data"])
                now = asyncio.get_running_loop().time()
                if now - pinged >= PING_SECONDS:
                    await pubsub.ping()
                    pinged = now
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]


__all__ = ["RedisBus", "decode", "encode"]
