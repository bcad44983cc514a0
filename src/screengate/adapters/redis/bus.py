"""The event bus across instances: Redis pub/sub, delivered here first, then to everyone.

While the subscription is down an instance may miss messages, so it says so (`connected`
False, the state handlers told): its revocation view then stops trusting its cache and every
check reads the store. Slower, never open.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime

import msgspec
from redis.asyncio import Redis
from redis.exceptions import RedisError

from screengate.adapters import collector
from screengate.domain.ids import AccountId, DeviceId, SessionId
from screengate.domain.notices import Announcement, BusMessage, Delivery, Notice, NoticeKind

log = logging.getLogger("screengate.bus")

Handler = Callable[[BusMessage], Awaitable[None]]
StateHandler = Callable[[bool], None]

# A dead subscription is noticed within about this long even when no socket closes.
PING_SECONDS = 1.0
RETRY_SECONDS = (0.1, 0.25, 0.5, 1.0, 2.0)
# About a thousand notices' worth.
BIG_MESSAGE = 50_000


class RedisBus:
    shared = True

    def __init__(self, redis: Redis, *, channel: str = "screengate:bus") -> None:
        self._redis = redis
        self._channel = channel
        self._handlers: list[Handler] = []
        self._state_handlers: list[StateHandler] = []
        self._connected = False
        # Each message carries who sent it, ahead of its body: the sender dispatched it when
        # it published, and skips its own echo without decoding it.
        self._origin = uuid.uuid4().hex
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
        # On its way to the other instances first, so they work on it while this one does;
        # this one's own handlers do not wait for Redis to answer (or to time out).
        payload = b"%s\n%s" % (self._origin.encode(), encode(message))
        sent = asyncio.create_task(self._send(payload))
        await asyncio.sleep(0)
        await self._dispatch(message)
        await sent

    async def _send(self, payload: bytes) -> None:
        try:
            await self._redis.publish(self._channel, payload)
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
        text = data.decode(errors="replace") if isinstance(data, bytes) else data
        origin, _, body = text.partition("\n")
        if origin == self._origin:
            return
        if len(body) >= BIG_MESSAGE:
            # A sign-out of thousands of devices: decoding it is where the burst begins.
            collector.hold(collector.BURST_SECONDS)
        try:
            message = decode(body)
        except (ValueError, KeyError, TypeError):
            # It may have been a sign-out (from an instance of another version, say): forget
            # whatever was cached, as after a lost connection.
            log.warning("bus_message_unreadable")
            for handler in self._state_handlers:
                handler(self._connected)
            return
        await self._dispatch(message)

    def _set_connected(self, connected: bool) -> None:
        if connected == self._connected:
            return
        self._connected = connected
        log.warning("bus_connected" if connected else "bus_down_falling_back_to_store")
        for handler in self._state_handlers:
            handler(connected)


class _Notices(msgspec.Struct, array_like=True):
    """An announcement's notices, in order, with what they share written once: "Sign out of
    all devices" tells ten thousand devices the same thing at the same moment."""

    shapes: list[tuple[NoticeKind, datetime, dict[str, str | list[str] | None]]]
    # (id, session id, device id, index into shapes)
    notices: list[tuple[str, str, str, int]]


class _Announcement(msgspec.Struct, tag="announcement"):
    id: str
    account_id: str
    revoked: list[str]
    notices: _Notices


class _Delivery(msgspec.Struct, tag="delivery"):
    announcement_id: str
    session_ids: list[str]
    at: datetime


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(_Announcement | _Delivery)


def encode(message: BusMessage) -> bytes:
    if isinstance(message, Delivery):
        return _encoder.encode(
            _Delivery(message.announcement_id, list(message.session_ids), message.at)
        )
    shapes: dict[tuple[NoticeKind, datetime, int], int] = {}
    shared: list[tuple[NoticeKind, datetime, dict[str, str | list[str] | None]]] = []
    notices: list[tuple[str, str, str, int]] = []
    for n in message.notices:
        # The same data object means the same data (it is never changed once made).
        key = (n.kind, n.at, id(n.data))
        shape = shapes.get(key)
        if shape is None:
            shape = shapes[key] = len(shared)
            shared.append((n.kind, n.at, dict(n.data)))
        notices.append((n.id, n.session_id, n.device_id, shape))
    return _encoder.encode(
        _Announcement(
            message.id, message.account_id, list(message.revoked), _Notices(shared, notices)
        )
    )


def decode(data: str | bytes) -> BusMessage:
    """Raises msgspec.ValidationError (a ValueError) for anything that is not a message."""
    body = _decoder.decode(data)
    if isinstance(body, _Delivery):
        return Delivery(
            body.announcement_id, tuple(SessionId(s) for s in body.session_ids), body.at
        )
    account_id = AccountId(body.account_id)
    shapes = body.notices.shapes
    return Announcement(
        id=body.id,
        account_id=account_id,
        revoked=tuple(SessionId(s) for s in body.revoked),
        notices=tuple(
            Notice(
                id,
                shapes[shape][0],
                account_id,
                SessionId(session_id),
                DeviceId(device_id),
                shapes[shape][1],
                shapes[shape][2],
            )
            for id, session_id, device_id, shape in body.notices.notices
        ),
    )
