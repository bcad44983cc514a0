"""The fan-out benchmark's devices: N event streams held open by one asyncio process.

Run as `python -m bench.fanout_client` with a JSON spec on stdin. Each device opens its own
connection to GET /v1/events with its own bearer token; one asyncio Protocol per connection
(no task per device, so 10,000 of them cost little CPU here) notes when the stream's
`: connected` comment arrives and when `event: signed_out` does. Then:

1. prints {"phase": "connected", ...} once every stream is connected (or has failed);
2. waits for a line `go` on stdin;
3. sends one POST /v1/devices/sign-out-all for the owner device (to the `sign_out` instance),
   noting the moment just before it writes the request;
4. prints {"phase": "done", ...}: each told device's delay from that moment, in seconds, the
   answer's status, time and `notified` count.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from dataclasses import dataclass
from typing import Any, cast

import httpx

# A stream that is not connected within this long counts as failed.
CONNECT_SECONDS = 60.0
# Streams opening at once: enough to keep the server busy, few enough for its accept queue.
OPENING_AT_ONCE = 256
# After the sign-out call, how long to wait for the slowest device.
TOLD_WITHIN_SECONDS = 60.0
# Bytes of a stream kept between reads, so a marker split across two reads is still found.
TAIL = 64


@dataclass(frozen=True)
class Spec:
    host: str
    port: int  # where the devices listen
    tokens: tuple[str, ...]
    sign_out_port: int  # where the owner signs everyone out (another instance, or the same)
    owner_token: str

    @classmethod
    def from_json(cls, text: str) -> Spec:
        raw = json.loads(text)
        return cls(
            host=raw["host"],
            port=int(raw["port"]),
            tokens=tuple(raw["tokens"]),
            sign_out_port=int(raw["sign_out_port"]),
            owner_token=raw["owner_token"],
        )


class EventStream(asyncio.Protocol):
    """One device's GET /v1/events: when it connected, when it was told, or how it failed."""

    def __init__(self, request: bytes) -> None:
        self._request = request
        self._seen = bytearray()
        self.connected = asyncio.get_running_loop().create_future()
        self.told_at: float | None = None
        self.failure: str | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast("asyncio.Transport", transport)
        self.transport.write(self._request)

    def data_received(self, data: bytes) -> None:
        if self.told_at is not None:
            return
        self._seen += data
        if not self.connected.done():
            if self._seen.startswith(b"HTTP/1.1 ") and not self._seen.startswith(b"HTTP/1.1 200"):
                self.fail(bytes(self._seen[:12]).decode("latin-1"))
                return
            if b": connected" in self._seen:
                self.connected.set_result(None)
        if b"event: signed_out" in self._seen:
            self.told_at = time.monotonic()
            self._seen.clear()
            return
        if len(self._seen) > 4096:
            del self._seen[:-TAIL]

    def connection_lost(self, exc: Exception | None) -> None:
        if self.told_at is None:
            self.fail(f"closed ({type(exc).__name__ if exc else 'by the server'})")

    def fail(self, why: str) -> None:
        self.failure = self.failure or why
        if not self.connected.done():
            self.connected.set_result(None)


def raise_file_limit() -> int:
    """As many descriptors as the hard limit allows: one per device's connection."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


async def open_streams(spec: Spec) -> list[EventStream]:
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(OPENING_AT_ONCE)

    async def one(token: str) -> EventStream:
        request = (
            f"GET /v1/events HTTP/1.1\r\nHost: {spec.host}:{spec.port}\r\n"
            f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
        ).encode("latin-1")
        stream = EventStream(request)
        async with gate:
            try:
                await loop.create_connection(lambda: stream, spec.host, spec.port)
                await asyncio.wait_for(asyncio.shield(stream.connected), CONNECT_SECONDS)
            except (OSError, TimeoutError) as error:
                stream.fail(type(error).__name__)
        return stream

    return list(await asyncio.gather(*(one(token) for token in spec.tokens)))


async def sign_out_everyone(spec: Spec, streams: list[EventStream]) -> dict[str, Any]:
    url = f"http://{spec.host}:{spec.sign_out_port}"
    headers = {"Authorization": f"Bearer {spec.owner_token}"}
    listening = [s for s in streams if s.failure is None]
    async with httpx.AsyncClient(base_url=url, timeout=TOLD_WITHIN_SECONDS) as owner:
        await owner.get("/healthz")  # the connection is open before the clock starts
        started = time.monotonic()
        answer = await owner.post(
            "/v1/devices/sign-out-all", headers=headers, json={"keep_this_device": True}
        )
        answered = time.monotonic() - started
    deadline = time.monotonic() + TOLD_WITHIN_SECONDS
    while any(s.told_at is None and s.failure is None for s in listening):
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    body = answer.json() if answer.status_code == 200 else {}
    entries = body.get("signed_out", [])
    return {
        "phase": "done",
        "status": answer.status_code,
        "answered_seconds": answered,
        "signed_out": len(entries),
        "notified": sum(1 for e in entries if e.get("notified")),
        "delays": sorted(s.told_at - started for s in listening if s.told_at is not None),
        "lost": sum(1 for s in listening if s.told_at is None),
    }


async def run(spec: Spec) -> None:
    limit = raise_file_limit()
    started = time.monotonic()
    streams = await open_streams(spec)
    failures: dict[str, int] = {}
    for stream in streams:
        if stream.failure is not None:
            failures[stream.failure] = failures.get(stream.failure, 0) + 1
    report(
        {
            "phase": "connected",
            "connected": sum(1 for s in streams if s.failure is None),
            "failures": failures,
            "seconds": time.monotonic() - started,
            "file_limit": limit,
        }
    )
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    if line.strip() != "go":
        return
    report(await sign_out_everyone(spec, streams))
    for stream in streams:
        if stream.transport is not None:
            stream.transport.close()


def report(body: dict[str, Any]) -> None:
    print(json.dumps(body), flush=True)


def main() -> None:
    spec = Spec.from_json(sys.stdin.readline())
    asyncio.run(run(spec))


if __name__ == "__main__":
    main()
