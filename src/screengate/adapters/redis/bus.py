"""The event bus across instances: Redis pub/sub, delivered here first, then to everyone.

While the subscription is down an instance may miss messages, so it says so (`connected`
False, the state handlers told): its revocation view then stops trusting its cache and every
check reads the store. Slower, never open.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from screengate.domain.ids import AccountId, DeviceId, SessionId
from screengate.domain.notices import Announcement, BusMessage, Delivery, Notice, NoticeKind

log = logging.getLogger("screengate.bus")

Handler = Callable[[BusMessage], Awaitable[None]]
StateHandler = Callable[[bool], None]

# A dead subscription is noticed within about this long even when no socket closes.
PING_SECONDS = 1.0
RETRY_SECONDS = (0.1, 0.25, 0.5, 1.0, 2.0)
SEEN = 50_000


class RedisBus:
    shared = True

    def __init__(self, redis: Redis, *, channel: str = "screengate:bus") -> None:
        self._redis = redis
        self._channel = channel
        self._handlers: list[Handler] = []
        self._state_handlers: list[StateHandler] = []
        self._connected = False
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    @property
    def connected(self) -> bool:
        return self._connected

    def subscribe(self, handler: Handler) -> None:
        self._handlers.append(handler)

    def on_state(self, handler: StateHandler) -> None:
        self._state_handlers.append(handler)

    async def start(self, *, wait: float = 5.0) -> None:
        """Subscribe in the background; wait a little for the first connection."""
        self._task = asyncio.create_task(self._listen(), name="screengate-bus")
        try:
            await asyncio.wait_for(self._ready.wait(), wait)
        except TimeoutError:
            log.warning("bus_not_connected_at_start", extra={"channel": self._channel})

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def publish(self, message: BusMessage) -> None:
        if isinstance(message, Announcement):
            self._remember(message.id)
        await self._dispatch(message)
        try:
            await self._redis.publish(self._channel, encode(message))
        except (RedisError, OSError) as error:
            # Committed and refused here already; other instances fall back to the store
            # while their own subscriptions are down, and re-read cached entries shortly.
            log.warning("bus_publish_failed", extra={"error": type(error).__name__})

    async def _dispatch(self, message: BusMessage) -> None:
        for handler in self._handlers:
            try:
                await handler(message)
            except Exception:  # one failing subscriber must not starve the others
                log.exception("bus_handler_failed")

    async def _listen(self) -> None:
        attempt = 0
        while True:
            try:
                await self._follow()
            except asyncio.CancelledError:
                self._set_connected(False)
                raise
            except (RedisError, OSError) as error:
                log.warning("bus_disconnected", extra={"error": type(error).__name__})
            self._set_connected(False)
            await asyncio.sleep(RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)])
            attempt += 1

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

    async def _receive(self, data: str | bytes) -> None:
        try:
            message = decode(data)
        except (ValueError, KeyError, TypeError):
            log.warning("bus_message_unreadable")
            return
        if isinstance(message, Announcement):
            if message.id in self._seen:
                return
            self._remember(message.id)
        await self._dispatch(message)

    def _remember(self, announcement_id: str) -> None:
        self._seen[announcement_id] = None
        while len(self._seen) > SEEN:
            self._seen.popitem(last=False)

    def _set_connected(self, connected: bool) -> None:
        if connected == self._connected:
            return
        self._connected = connected
        log.warning("bus_connected" if connected else "bus_down_falling_back_to_store")
        for handler in self._state_handlers:
            handler(connected)


def encode(message: BusMessage) -> str:
    if isinstance(message, Delivery):
        body: dict[str, Any] = {
            "type": "delivery",
            "announcement_id": message.announcement_id,
            "session_ids": list(message.session_ids),
            "at": message.at.isoformat(),
        }
    else:
        body = {
            "type": "announcement",
            "id": message.id,
            "account_id": message.account_id,
            "revoked": list(message.revoked),
            "notices": [
                {
                    "id": n.id,
                    "kind": n.kind.value,
                    "session_id": n.session_id,
                    "device_id": n.device_id,
                    "at": n.at.isoformat(),
                    "data": dict(n.data),
                }
                for n in message.notices
            ],
        }
    return json.dumps(body, separators=(",", ":"))


def decode(data: str | bytes) -> BusMessage:
    body = json.loads(data)
    if body["type"] == "delivery":
        return Delivery(
            announcement_id=str(body["announcement_id"]),
            session_ids=tuple(SessionId(s) for s in body["session_ids"]),
            at=datetime.fromisoformat(body["at"]),
        )
    account_id = AccountId(body["account_id"])
    return Announcement(
        id=str(body["id"]),
        account_id=account_id,
        revoked=tuple(SessionId(s) for s in body["revoked"]),
        notices=tuple(
            Notice(
                id=str(n["id"]),
                kind=NoticeKind(n["kind"]),
                account_id=account_id,
                session_id=SessionId(n["session_id"]),
                device_id=DeviceId(n["device_id"]),
                at=datetime.fromisoformat(n["at"]),
                data=n["data"],
            )
            for n in body["notices"]
        ),
    )
