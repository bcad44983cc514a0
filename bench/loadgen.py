"""The built-in load generator: HTTP/1.1 keep-alive over raw asyncio, no pipelining.

Run as `python -m bench.loadgen` with a JSON spec on stdin; prints one JSON result line.
It exists so `make bench` works on a machine with only the virtual environment; where
wrk is installed, bench/load.py prefers it (a C client leaves more of the CPU to the server).

Each of N connections keeps exactly one request in flight: send, read the whole answer,
send again, until the duration is over; only 2xx answers count as done, and every
answer's latency is kept for the percentiles.
"""

from __future__ import annotations

import asyncio
import json
import math
import sys
import time
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol, cast

# Seconds to wait, after the duration, for in-flight answers before dropping connections.
DRAIN_SECONDS = 10.0
# Seconds to wait before reconnecting after a refused connection, so a dead server
# costs a few failures per second, not a busy loop.
RECONNECT_PAUSE = 0.05


@dataclass(frozen=True)
class Spec:
    host: str
    port: int
    request: bytes
    connections: int
    duration: float

    @classmethod
    def from_json(cls, text: str) -> Spec:
        raw = json.loads(text)
        return cls(
            host=raw["host"],
            port=int(raw["port"]),
            request=raw["request"].encode("latin-1"),
            connections=int(raw["connections"]),
            duration=float(raw["duration"]),
        )


class Tally:
    """What the connections report; only answers that arrive within the duration count."""

    def __init__(self) -> None:
        self.measuring = False
        self.stopped = False
        self.ok = 0
        self.failed = 0
        self.latencies: list[float] = []  # seconds
        self._started = 0.0
        self._elapsed = 0.0

    def answer(self, success: bool, latency: float) -> None:
        if not self.measuring:
            return
        if success:
            self.ok += 1
        else:
            self.failed += 1
        self.latencies.append(latency)

    def error(self) -> None:
        if self.measuring:
            self.failed += 1

    def start(self) -> None:
        self.measuring = True
        self._started = time.perf_counter()

    def stop(self) -> None:
        self._elapsed = time.perf_counter() - self._started
        self.measuring = False
        self.stopped = True

    def result(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        return {
            "ok": self.ok,
            "failed": self.failed,
            "seconds": self._elapsed,
            "p50_ms": _percentile_ms(ordered, 50),
            "p99_ms": _percentile_ms(ordered, 99),
        }


class Stopping(Protocol):
    @property
    def stopped(self) -> bool: ...


class KeepAliveClient(asyncio.Protocol):
    """One keep-alive connection that sends its request again as each answer completes;
    a subclass reads the answers (data_received) and calls _send() after each."""

    def __init__(self, request: bytes, tally: Stopping, closed: asyncio.Future[None]) -> None:
        self._request = request
        self._stopping = tally
        self._closed = closed
        self._buffer = bytearray()
        self._sent_at = 0.0
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast("asyncio.Transport", transport)
        self._send()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._closed.done():
            self._closed.set_result(None)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def _send(self) -> None:
        assert self._transport is not None
        if self._stopping.stopped:
            self._transport.close()
            return
        self._sent_at = time.perf_counter()
        self._transport.write(self._request)


class Client(KeepAliveClient):
    """Counts 2xx answers and their latencies."""

    def __init__(self, request: bytes, tally: Tally, closed: asyncio.Future[None]) -> None:
        super().__init__(request, tally, closed)
        self._tally = tally

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        length = response_length(self._buffer)
        if length is None:
            return
        success = self._buffer[9:10] == b"2"  # "HTTP/1.1 2xx"
        del self._buffer[:length]
        self._tally.answer(success, time.perf_counter() - self._sent_at)
        self._send()


def response_length(buffer: bytearray) -> int | None:
    """Bytes of the first complete answer in `buffer`, or None while it is incomplete."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = bytes(buffer[:end]).lower()
    body_start = end + 4
    at = head.find(b"\r\ncontent-length:")
    if at >= 0:
        line_end = head.find(b"\r\n", at + 2)
        value = head[at + 17 : line_end if line_end >= 0 else len(head)]
        total = body_start + int(value)
        return total if len(buffer) >= total else None
    if b"\r\ntransfer-encoding: chunked" in head:
        return _chunked_length(buffer, body_start)
    return body_start  # 204, 304, or a HEAD answer: no body


def _chunked_length(buffer: bytearray, at: int) -> int | None:
    while True:
        line_end = buffer.find(b"\r\n", at)
        if line_end < 0:
            return None
        size = int(bytes(buffer[at:line_end]).split(b";")[0], 16)
        at = line_end + 2 + size + 2  # the chunk and its CRLF
        if size == 0:
            # The last chunk: its line, any trailers, then an empty line.
            end = buffer.find(b"\r\n\r\n", line_end)
            return end + 4 if end >= 0 else None
        if len(buffer) < at:
            return None


async def hold_connection(spec: Spec, tally: Tally) -> None:
    """Keep one connection busy until the tally stops; reconnect if the server drops it."""
    loop = asyncio.get_running_loop()
    while not tally.stopped:
        closed: asyncio.Future[None] = loop.create_future()
        try:
            _, client = await loop.create_connection(
                partial(Client, spec.request, tally, closed), spec.host, spec.port
            )
        except OSError:
            tally.error()
            await asyncio.sleep(RECONNECT_PAUSE)
            continue
        try:
            await closed
        finally:
            client.close()
        if not tally.stopped:
            tally.error()  # the server closed a keep-alive connection mid-run


async def drive(spec: Spec) -> dict[str, Any]:
    tally = Tally()
    tally.start()
    holders = [asyncio.create_task(hold_connection(spec, tally)) for _ in range(spec.connections)]
    await asyncio.sleep(spec.duration)
    tally.stop()
    _, pending = await asyncio.wait(holders, timeout=DRAIN_SECONDS)
    for holder in pending:
        holder.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    return tally.result()


def _percentile_ms(ordered: list[float], q: float) -> float | None:
    if not ordered:
        return None
    rank = max(1, math.ceil(q / 100 * len(ordered)))  # nearest rank
    return ordered[rank - 1] * 1000


def main() -> None:
    spec = Spec.from_json(sys.stdin.read())
    print(json.dumps(asyncio.run(drive(spec))))


if __name__ == "__main__":
    main()
