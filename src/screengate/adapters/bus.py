"""The in-process event bus: the embedded default, one instance, no services to run."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from screengate.domain.notices import BusMessage

Handler = Callable[[BusMessage], Awaitable[None]]


class InProcessBus:
    name = "in-process"
    shared = False
    connected = True

    def __init__(self) -> None:
        self._handlers: list[Handler] = []

    def subscribe(self, handler: Handler) -> None:
        self._handlers.append(handler)

    async def publish(self, message: BusMessage) -> None:
        for handler in self._handlers:
            await handler(message)
