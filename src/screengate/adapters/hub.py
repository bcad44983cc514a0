"""This instance's open event streams: who is listening, what they missed, who was told."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from screengate.adapters import collector
from screengate.domain.errors import TooManyEventStreams
from screengate.domain.ids import DeviceId, SessionId
from screengate.domain.notices import (
    Announcement,
    BusMessage,
    CodeDecided,
    Delivery,
    Notice,
    NoticeKind,
)
from screengate.ports import EventBus

# A device that reconnects within this long learns what it missed (Last-Event-ID).
REPLAY_SECONDS = 300.0
REPLAY_PER_SESSION = 64
MAX_REPLAY_SESSIONS = 100_000
# Routing at least this many notices at once holds the garbage collector (adapters/collector).
BURST = 1_000
# A device's streams on one instance: a browser's tabs, an app's screens. Past it the oldest
# closes (a tab left open long ago, a connection its app forgot), so nobody is locked out.
STREAMS_PER_DEVICE = 3
# Open streams from one client address on one instance; past it a new one is refused.
STREAMS_PER_ADDRESS = 100
# What a refused stream is told to wait before trying again.
ADDRESS_RETRY_SECONDS = 30


class QueueListener:
    """One open event stream of one device.

    Thousands are open at once and almost all of them wait, so a waiting stream holds only a
    future and a timer: no asyncio.Queue (three deques and an Event), no wait_for task.
    """

    __slots__ = ("_hub", "_missed", "_pending", "_waiter", "device_id", "replaced", "session_id")

    def __init__(
        self,
        hub: LocalNoticeHub,
        session_id: SessionId,
        device_id: DeviceId,
        missed: list[Notice],
    ) -> None:
        self.session_id = session_id
        self.device_id = device_id
        self._hub = hub
        self._missed = missed
        self._pending: list[Notice] = []
        self._waiter: asyncio.Future[None] | None = None
        # True once newer streams of the same device took its place: it gets nothing more.
        self.replaced = False

    def replay(self) -> list[Notice]:
        return self._missed

    async def next(self, within: float) -> Notice | None:
        if not self._pending and not self.replaced:
            loop = asyncio.get_running_loop()
            waiter = self._waiter = loop.create_future()
            timer = loop.call_later(within, _wake, waiter)
            try:
                await waiter
            finally:
                timer.cancel()
                self._waiter = None
        return self._pending.pop(0) if self._pending else None

    def put(self, notice: Notice) -> None:
        self._pending.append(notice)
        if self._waiter is not None:
            _wake(self._waiter)

    def replace(self) -> None:
        """Newer streams of this device took its place: wake its reader, who ends it."""
        self.replaced = True
        if self._waiter is not None:
            _wake(self._waiter)

    def close(self) -> None:
        self._hub.drop(self)


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class LocalNoticeHub:
    """Routes each notice from the bus to the device's open streams on this instance, keeps a
    short replay window, and tells the bus when a signed-out device was told live."""

    def __init__(
        self,
        bus: EventBus,
        *,
        per_device: int = STREAMS_PER_DEVICE,
        per_address: int = STREAMS_PER_ADDRESS,
    ) -> None:
        self._bus = bus
        self._listeners: dict[SessionId, set[QueueListener]] = defaultdict(set)
        self._recent: dict[SessionId, deque[tuple[float, Notice]]] = {}
        self._watches: dict[str, Watch] = {}
        # Oldest first; dicts as ordered sets, so a stream that closes leaves in O(1).
        self._devices: dict[DeviceId, dict[QueueListener, None]] = {}
        self._addresses: dict[str, int] = {}
        self._per_device = per_device
        self._per_address = per_address

    def listen(
        self, session_id: SessionId, device_id: DeviceId, last_event_id: str | None
    ) -> QueueListener:
        missed = self._missed(session_id, last_event_id)
        listener = QueueListener(self, session_id, device_id, missed)
        self._listeners[session_id].add(listener)
        streams = self._devices.setdefault(device_id, {})
        streams[listener] = None
        while len(streams) > self._per_device:
            oldest = next(iter(streams))
            self.drop(oldest)
            oldest.replace()
        return listener

    def drop(self, listener: QueueListener) -> None:
        listeners = self._listeners.get(listener.session_id)
        if listeners is not None:
            listeners.discard(listener)
            if not listeners:
                del self._listeners[listener.session_id]
        streams = self._devices.get(listener.device_id)
        if streams is not None:
            streams.pop(listener, None)
            if not streams:
                del self._devices[listener.device_id]

    @contextmanager
    def admit(self, address: str | None) -> Iterator[None]:
        """Hold one of this address's stream places while the block runs (the whole stream);
        TooManyEventStreams when they are all taken. No address (a Unix socket): no limit."""
        if address is None:
            yield
            return
        held = self._addresses.get(address, 0)
        if held >= self._per_address:
            raise TooManyEventStreams(ADDRESS_RETRY_SECONDS)
        self._addresses[address] = held + 1
        try:
            yield
        finally:
            left = self._addresses[address] - 1
            if left:
                self._addresses[address] = left
            else:
                del self._addresses[address]

    def listening(self) -> int:
        return sum(len(listeners) for listeners in self._listeners.values())

    async def on_message(self, message: BusMessage) -> None:
        if isinstance(message, Delivery):
            self._heard(message)
            return
        if isinstance(message, CodeDecided):
            return  # for the devices waiting on a code: LocalDecisions
        if len(message.notices) >= BURST:
            collector.hold(collector.BURST_SECONDS)
        handed, told = self._route(message)
        if told:
            # Word of who is told goes out before the streams wake: thousands of them writing
            # first kept the Delivery (and so the sign-out's receipt) waiting for over a second.
            await self._bus.publish(
                Delivery(
                    announcement_id=message.id,
                    session_ids=tuple(told),
                    at=max(n.at for n in message.notices),
                )
            )
        for listener, notice in handed:
            listener.put(notice)

    def expect(self, announcement_id: str) -> Watch:
        watch = Watch(lambda: self._watches.pop(announcement_id, None))
        self._watches[announcement_id] = watch
        return watch

    def _route(
        self, announcement: Announcement
    ) -> tuple[list[tuple[QueueListener, Notice]], list[SessionId]]:
        """Which open streams get which notices, and which devices that tells of a sign-out."""
        handed: list[tuple[QueueListener, Notice]] = []
        # A dict, not a list: "Sign out of all devices" tells thousands of sessions at once,
        # and a membership test on a list made that quadratic (0.8 s for 10,000).
        told: dict[SessionId, None] = {}
        now = time.monotonic()
        for notice in announcement.notices:
            self._remember(notice, now)
            for listener in self._listeners.get(notice.session_id, ()):
                handed.append((listener, notice))
                if notice.kind is NoticeKind.SIGNED_OUT:
                    told[notice.session_id] = None
        return handed, list(told)

    def _heard(self, delivery: Delivery) -> None:
        watch = self._watches.get(delivery.announcement_id)
        if watch is not None:
            watch.heard(delivery.session_ids)

    def _remember(self, notice: Notice, now: float) -> None:
        recent = self._recent.get(notice.session_id)
        if recent is None:
            if len(self._recent) >= MAX_REPLAY_SESSIONS:
                del self._recent[next(iter(self._recent))]
            recent = self._recent[notice.session_id] = deque(maxlen=REPLAY_PER_SESSION)
        recent.append((now, notice))

    def _missed(self, session_id: SessionId, last_event_id: str | None) -> list[Notice]:
        """After Last-Event-ID: what came since; with none, nothing (a fresh stream)."""
        if last_event_id is None:
            return []
        horizon = time.monotonic() - REPLAY_SECONDS
        recent = [n for at, n in self._recent.get(session_id, ()) if at >= horizon]
        ids = [n.id for n in recent]
        return recent[ids.index(last_event_id) + 1 :] if last_event_id in ids else recent


class Watch:
    """Collects which devices were told of one announcement, from any instance."""

    def __init__(self, done: Callable[[], object]) -> None:
        self._told: set[SessionId] = set()
        self._changed = asyncio.Event()
        self._done = done

    def heard(self, session_ids: Sequence[SessionId]) -> None:
        self._told.update(session_ids)
        self._changed.set()

    async def told(self, session_ids: Sequence[SessionId], within: float) -> set[SessionId]:
        wanted = set(session_ids)
        try:
            async with asyncio.timeout(within):
                while not wanted <= self._told:
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            pass
        finally:
            self._done()
        # Only this announcement's deliveries reach the watch: all of them are its devices.
        return set(self._told)


class LocalDecisions:
    """The devices on this instance waiting to hear that their code was decided. A decision
    that comes before anyone waits is kept a while, so a page that connects late still hears."""

    KEEP_SECONDS = 900.0  # longer than a code lives

    def __init__(self) -> None:
        self._waiting: dict[str, set[asyncio.Future[str]]] = defaultdict(set)
        self._decided: dict[str, tuple[float, str]] = {}

    async def on_message(self, message: BusMessage) -> None:
        if not isinstance(message, CodeDecided):
            return
        now = time.monotonic()
        self._decided = {k: v for k, v in self._decided.items() if now - v[0] < self.KEEP_SECONDS}
        self._decided[message.authorization_id] = (now, message.decision)
        for waiter in self._waiting.pop(message.authorization_id, set()):
            if not waiter.done():
                waiter.set_result(message.decision)

    async def wait(self, authorization_id: str, within: float) -> str | None:
        known = self._decided.get(authorization_id)
        if known is not None:
            return known[1]
        waiter: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._waiting[authorization_id].add(waiter)
        try:
            async with asyncio.timeout(within):
                return await waiter
        except TimeoutError:
            return None
        finally:
            waiters = self._waiting.get(authorization_id)
            if waiters is not None:
                waiters.discard(waiter)
                if not waiters:
                    del self._waiting[authorization_id]


class LocalPresence:
    """Presence for one process: the embedded deployment."""

    def __init__(self) -> None:
        self._count: dict[SessionId, int] = defaultdict(int)

    async def join(self, session_id: SessionId) -> None:
        self._count[session_id] += 1

    async def leave(self, session_id: SessionId) -> None:
        self._count[session_id] -= 1
        if self._count[session_id] <= 0:
            del self._count[session_id]

    async def connected(self, session_ids: Sequence[SessionId]) -> set[SessionId]:
        return {s for s in session_ids if s in self._count}
