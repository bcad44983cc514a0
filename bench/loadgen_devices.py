"""The built-in load generator with a request of its own per connection: one client per device.

Run as `python -m bench.loadgen_devices` with a JSON spec on stdin. Like bench/loadgen.py,
HTTP/1.1 keep-alive over raw asyncio, one request in flight per connection; unlike it, each
connection sends its own request (its device's bearer token, its own stream), and every
answer's status is counted, so a benchmark can tell 201s from 409s.

Warming up is done here, on the same connections, straight into the counted window: nothing
in flight is dropped between the two. It lasts the given seconds and, beyond them, until every
connection has had an answer (up to WARMUP_CAP_SECONDS more): with 256 clients and a server
answering 100 a second, the first wave alone takes 2.5 s, and counting from inside it would
report its queueing instead of the steady state. The generator prints `counting` when the
counted window opens and `stopped` when it closes (so the caller can read the server's CPU time
at those moments), then one JSON result line. With "keep_bodies" in the spec, the result also holds
each connection's last 2xx answer body (Play's stream id, for the heartbeats that follow).
"""

from __future__ import annotations

import asyncio
import json
import math
import sys
import time
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass
from functools import partial
from typing import Any

from bench.loadgen import KeepAliveClient, response_length

# Seconds to wait, after the duration, for in-flight answers before dropping connections.
DRAIN_SECONDS = 10.0
# Seconds the warm-up may go on, beyond the asked-for ones, waiting for every first answer. A
# server that serves its clients unfairly may starve a few for longer than this; counting then
# starts with them still waiting, and their answers, when they come, count with their full wait.
WARMUP_CAP_SECONDS = 3.0
RECONNECT_PAUSE = 0.05


@dataclass(frozen=True)
class Spec:
    host: str
    port: int
    requests: tuple[bytes, ...]  # one per connection
    warmup: float
    duration: float
    keep_bodies: bool = False

    @classmethod
    def from_json(cls, text: str) -> Spec:
        raw = json.loads(text)
        return cls(
            host=raw["host"],
            port=int(raw["port"]),
            requests=tuple(r.encode("latin-1") for r in raw["requests"]),
            warmup=float(raw["warmup"]),
            duration=float(raw["duration"]),
            keep_bodies=bool(raw.get("keep_bodies", False)),
        )


class Tally:
    """Answers by status, and the latency of each, within the counted window only."""

    def __init__(self, connections: int) -> None:
        self.unanswered = connections  # connections still waiting for their first answer
        self.all_answered = asyncio.Event()
        self.measuring = False
        self.stopped = False
        self.statuses: Counter[int] = Counter()
        self.errors = 0  # refused or dropped connections
        self.latencies: list[float] = []
        self._started = 0.0
        self.elapsed = 0.0

    def answer(self, status: int, latency: float) -> None:
        if self.measuring:
            self.statuses[status] += 1
            self.latencies.append(latency)

    def first_answer(self) -> None:
        self.unanswered -= 1
        if self.unanswered <= 0:
            self.all_answered.set()

    def error(self) -> None:
        if self.measuring:
            self.errors += 1

    def start(self) -> None:
        self.measuring = True
        self._started = time.perf_counter()

    def stop(self) -> None:
        self.elapsed = time.perf_counter() - self._started
        self.measuring = False
        self.stopped = True

    def result(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        return {
            "statuses": {str(code): n for code, n in sorted(self.statuses.items())},
            "errors": self.errors,
            "seconds": self.elapsed,
            "p50_ms": percentile_ms(ordered, 50),
            "p99_ms": percentile_ms(ordered, 99),
        }


@dataclass
class Connection:
    """What one client's connection (and its reconnections) remembers."""

    request: bytes
    keep_body: bool
    answers: int = 0  # including the warm-up's
    last_body: bytes = b""  # of the last 2xx answer, when keep_body


class Client(KeepAliveClient):
    """Sends its own device's request again as each answer completes; counts by status."""

    def __init__(self, connection: Connection, tally: Tally, closed: asyncio.Future[None]) -> None:
        super().__init__(connection.request, tally, closed)
        self._connection = connection
        self._tally = tally

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while (length := response_length(self._buffer)) is not None:
            status = int(self._buffer[9:12])  # "HTTP/1.1 201 Created"
            if self._connection.keep_body and 200 <= status < 300:
                body_start = self._buffer.find(b"\r\n\r\n") + 4
                self._connection.last_body = bytes(self._buffer[body_start:length])
            if self._connection.answers == 0:
                self._tally.first_answer()
            self._connection.answers += 1
            del self._buffer[:length]
            self._tally.answer(status, time.perf_counter() - self._sent_at)
            self._send()


async def hold_connection(spec: Spec, connection: Connection, tally: Tally) -> None:
    """Keep one connection busy until the tally stops; reconnect if the server drops it."""
    loop = asyncio.get_running_loop()
    while not tally.stopped:
        closed: asyncio.Future[None] = loop.create_future()
        try:
            _, client = await loop.create_connection(
                partial(Client, connection, tally, closed), spec.host, spec.port
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
    tally = Tally(len(spec.requests))
    connections = [Connection(r, spec.keep_bodies) for r in spec.requests]
    holders = [asyncio.create_task(hold_connection(spec, c, tally)) for c in connections]
    began = time.perf_counter()
    await asyncio.sleep(spec.warmup)
    with suppress(TimeoutError):
        await asyncio.wait_for(tally.all_answered.wait(), timeout=WARMUP_CAP_SECONDS)
    warmed = time.perf_counter() - began
    print("counting", flush=True)
    tally.start()
    await asyncio.sleep(spec.duration)
    tally.stop()
    print("stopped", flush=True)
    _, pending = await asyncio.wait(holders, timeout=DRAIN_SECONDS)
    for holder in pending:
        holder.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    result = tally.result() | {"warmup_seconds": warmed}
    if spec.keep_bodies:
        result["last_bodies"] = [c.last_body.decode("utf-8", "replace") for c in connections]
    return result


def percentile_ms(ordered: list[float], q: float) -> float | None:
    if not ordered:
        return None
    rank = max(1, math.ceil(q / 100 * len(ordered)))  # nearest rank
    return ordered[rank - 1] * 1000


def main() -> None:
    spec = Spec.from_json(sys.stdin.read())
    print(json.dumps(asyncio.run(drive(spec))), flush=True)


if __name__ == "__main__":
    main()
