"""The event bus across instances over PostgreSQL's LISTEN/NOTIFY, for deployments with no Redis.

A NOTIFY payload holds less than 8,000 bytes, and "Sign out of all devices" may announce ten
thousand devices at once. A message is therefore sent as numbered pieces, all NOTIFYed in one
transaction: PostgreSQL delivers a transaction's notifications together and in order, and only
once it commits, so a listener gets every piece of a message or, if its connection drops,
none (and then stops trusting its cache, like any listener whose subscription is down).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import asyncpg

from screengate.adapters.relay import RelayedBus, log

# A dead listening connection is noticed within about this long even when no socket closes.
PING_SECONDS = 1.0
PING_TIMEOUT_SECONDS = 2.0
# Under NOTIFY's limit of 8,000 bytes, with room for a piece's header.
PIECE_BYTES = 7_800
CONNECT_TIMEOUT_SECONDS = 5.0


class PostgresBus(RelayedBus):
    name = "postgresql"

    def __init__(self, dsn: str, *, channel: str = "screengate_bus") -> None:
        super().__init__()
        self._dsn = dsn
        self._channel = channel
        self._sender: asyncpg.Connection | None = None
        self._sending = asyncio.Lock()
        self._pieces: dict[str, list[str]] = {}
        self._arrived: asyncio.Queue[str | None] = asyncio.Queue()

    @property
    def _transport_errors(self) -> tuple[type[BaseException], ...]:
        return (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)

    async def stop(self) -> None:
        await super().stop()
        if self._sender is not None and not self._sender.is_closed():
            await self._sender.close()

    async def _send(self, payload: bytes) -> None:
        pieces = list(_pieces(payload, uuid.uuid4().hex))
        try:
            async with self._sending:
                sender = await self._connection()
                if len(pieces) == 1:
                    await sender.execute("SELECT pg_notify($1, $2)", self._channel, pieces[0])
                    return
                async with sender.transaction():
                    await sender.executemany(
                        "SELECT pg_notify($1, $2)", [(self._channel, p) for p in pieces]
                    )
        except (*self._transport_errors,) as error:
            log.warning("bus_publish_failed", extra={"error": type(error).__name__})
            await self._drop_sender()

    async def _connection(self) -> asyncpg.Connection:
        if self._sender is None or self._sender.is_closed():
            self._sender = await self._connect("sender")
        return self._sender

    async def _connect(self, role: str) -> asyncpg.Connection:
        # Named, so an operator sees in pg_stat_activity whose connection it is.
        name = f"screengate bus {role} {self.instance_id[:12]}"
        return await asyncpg.connect(
            self._dsn,
            timeout=CONNECT_TIMEOUT_SECONDS,
            server_settings={"application_name": name},
        )

    async def _drop_sender(self) -> None:
        sender, self._sender = self._sender, None
        if sender is not None:
            sender.terminate()

    async def _follow(self) -> None:
        listener = await self._connect("listener")
        arrived: asyncio.Queue[str | None] = asyncio.Queue()
        self._arrived = arrived
        listener.add_termination_listener(lambda _: self._lost(arrived))
        try:
            await listener.add_listener(self._channel, self._on_notify)
            self._set_connected(True)
            self._ready.set()
            while True:
                try:
                    async with asyncio.timeout(PING_SECONDS):
                        text = await arrived.get()
                except TimeoutError:
                    await listener.fetchval("SELECT 1", timeout=PING_TIMEOUT_SECONDS)
                    continue
                if text is None:
                    raise ConnectionError("the listening connection was closed")
                await self._assemble(text)
        finally:
            self._pieces.clear()
            listener.terminate()

    def _lost(self, arrived: asyncio.Queue[str | None]) -> None:
        # Told the moment the connection closes, not at the next ping: a sign-out published
        # from now on may never reach this instance, so its cache is distrusted at once
        # (a check a millisecond later reads the store) and the loop wakes to reconnect.
        self._set_connected(False)
        arrived.put_nowait(None)

    def _on_notify(self, _connection: object, _pid: int, _channel: str, payload: object) -> None:
        self._arrived.put_nowait(str(payload))

    async def _assemble(self, text: str) -> None:
        header, _, piece = text.partition("\n")
        try:
            origin, message_id, index, count = header.split(" ")
            int(index), int(count)
        except ValueError:
            await self._receive("?\n")  # not ours to read: forget caches, as for any such
            return
        if origin == self._origin:
            return  # dispatched here when it was published
        if count == "1":
            await self._receive(f"{origin}\n{piece}")
            return
        pieces = self._pieces.setdefault(message_id, [])
        if int(index) != len(pieces):
            # A piece went missing: the whole message is lost, as after a dropped connection.
            self._pieces.pop(message_id, None)
            await self._receive(f"{origin}\n")
            return
        pieces.append(piece)
        if len(pieces) == int(count):
            del self._pieces[message_id]
            await self._receive(f"{origin}\n" + "".join(pieces))


def _pieces(payload: bytes, message_id: str) -> Iterator[str]:
    """The payload's body cut into pieces that each fit one NOTIFY, each with a header:
    "origin message-id index count". Cuts fall between characters, never inside one."""
    origin, _, body = payload.partition(b"\n")
    cuts = [0]
    while len(body) - cuts[-1] > PIECE_BYTES:
        cut = cuts[-1] + PIECE_BYTES
        while body[cut] & 0xC0 == 0x80:  # a UTF-8 continuation byte: step back to its start
            cut -= 1
        cuts.append(cut)
    cuts.append(len(body))
    count = len(cuts) - 1
    for index in range(count):
        piece = body[cuts[index] : cuts[index + 1]].decode()
        yield f"{origin.decode()} {message_id} {index} {count}\n{piece}"
