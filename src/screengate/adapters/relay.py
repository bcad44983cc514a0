"""What every bus across instances does, whatever carries its messages (Redis, PostgreSQL).

A message is delivered to this instance's handlers first, then to every other instance. While
the subscription is down an instance may miss messages, so it says so (`connected` False, the
state handlers told): its revocation view then stops trusting its cache and every check reads
the store. Slower, never open.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable

from screengate.adapters import collector
from screengate.adapters.wire import decode, encode
from screengate.domain.notices import BusMessage

log = logging.getLogger("screengate.bus")

Handler = Callable[[BusMessage], Awaitable[None]]
StateHandler = Callable[[bool], None]

RETRY_SECONDS = (0.1, 0.25, 0.5, 1.0, 2.0)
# About a thousand notices' worth.
BIG_MESSAGE = 50_000


class RelayedBus(ABC):
    """ports.EventBus over a transport that reaches every instance: subclasses send a payload
    and follow the subscription (calling `_receive` with each payload and `_set_connected`)."""

    shared = True

    def __init__(self) -> None:
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

    @property
    def instance_id(self) -> str:
        """This instance's name on the bus: what its messages carry ahead of their body."""
        return self._origin

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
            log.warning("bus_not_connected_at_start")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def publish(self, message: BusMessage) -> None:
        # On its way to the other instances first, so they work on it while this one does;
        # this one's own handlers do not wait for the transport to answer (or to time out).
        payload = f"{self._origin}\n".encode() + encode(message)
        sent = asyncio.create_task(self._send(payload))
        await asyncio.sleep(0)
        await self._dispatch(message)
        await sent

    @abstractmethod
    async def _send(self, payload: bytes) -> None:
        """Deliver to every other instance; log, never raise, when the transport is down:
        the change is committed and refused here already; other instances fall back to the
        store while their own subscriptions are down, and re-read cached entries shortly."""

    @abstractmethod
    async def _follow(self) -> None:
        """Subscribe, then `_set_connected(True)`, `_ready.set()`, and pass each payload to
        `_receive` until the subscription fails (raise) or is cancelled."""

    @property
    @abstractmethod
    def _transport_errors(self) -> tuple[type[BaseException], ...]: ...

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
            except self._transport_errors as error:
                log.warning("bus_disconnected", extra={"error": type(error).__name__})
            self._set_connected(False)
            await asyncio.sleep(RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)])
            attempt += 1

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
