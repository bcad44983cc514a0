"""The connection budget over real connections: a device keeps at most 3 event streams on an
instance (a fourth replaces its oldest, which is told so and ends), and one client address
holds at most its budget of streams; every place comes back when its stream ends."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack

import httpx

from tests.api.conftest import StartServer
from tests.support.api import Device, account_with_devices
from tests.support.live_server import LiveServer

READ_SECONDS = 10.0


class OpenStream:
    """One GET /v1/events held open, read event by event (keep a reference: once collected,
    its line reader closes the response)."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()

    async def next_event(self) -> tuple[str, dict[str, object]] | None:
        """The next event (kind, data), or None when the server ended the stream."""
        kind = data = ""
        async with asyncio.timeout(READ_SECONDS):
            async for line in self._lines:
                if line.startswith("event: "):
                    kind = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    data = line.removeprefix("data: ")
                elif line == "" and kind:
                    return kind, json.loads(data)
        return None


async def open_stream(
    http: httpx.AsyncClient, stack: AsyncExitStack, device: Device, **headers: str
) -> OpenStream | httpx.Response:
    """The open stream once the server says it is connected, or the refusal."""
    request = http.build_request("GET", "/v1/events", headers={**device.auth, **headers})
    response = await http.send(request, stream=True)
    stack.push_async_callback(response.aclose)
    if response.status_code != 200:
        await response.aread()
        return response
    stream = OpenStream(response)
    async with asyncio.timeout(READ_SECONDS):
        async for line in stream._lines:
            if line == ": connected":
                return stream
    raise AssertionError("the stream ended before it connected")


def run(server: LiveServer, test: Callable[[httpx.AsyncClient], Awaitable[None]]) -> None:
    async def main() -> None:
        # Every stream its own connection, as separate tabs and apps are.
        limits = httpx.Limits(max_connections=50, max_keepalive_connections=0)
        async with httpx.AsyncClient(
            base_url=server.base_url, timeout=READ_SECONDS, limits=limits
        ) as http:
            await test(http)

    asyncio.run(main())


async def opened(
    http: httpx.AsyncClient, stack: AsyncExitStack, device: Device, **headers: str
) -> OpenStream:
    stream = await open_stream(http, stack, device, **headers)
    assert isinstance(stream, OpenStream), stream.text
    return stream


async def refused(
    http: httpx.AsyncClient, stack: AsyncExitStack, device: Device, **headers: str
) -> httpx.Response:
    answer = await open_stream(http, stack, device, **headers)
    assert isinstance(answer, httpx.Response), "the stream was admitted"
    return answer


async def eventually_opened(
    http: httpx.AsyncClient, stack: AsyncExitStack, device: Device, **headers: str
) -> OpenStream:
    """Admitted once the server has seen an earlier stream go (a bounded wait)."""
    for _ in range(50):
        answer = await open_stream(http, stack, device, **headers)
        if isinstance(answer, OpenStream):
            return answer
        await asyncio.sleep(0.1)
    raise AssertionError("the stream's place never came back")


def test_a_fourth_stream_of_a_device_replaces_its_oldest_which_is_told_why_and_ends(
    server: LiveServer, client: httpx.Client
) -> None:
    tv, phone = account_with_devices(client, 2).devices

    async def test(http: httpx.AsyncClient) -> None:
        async with AsyncExitStack() as stack:
            phones = [await opened(http, stack, phone) for _ in range(2)]
            first, *others = [await opened(http, stack, tv) for _ in range(3)]
            fourth = await opened(http, stack, tv)

            assert await first.next_event() == (
                "replaced",
                {
                    "reason": "newer_streams",
                    "detail": "This device opened newer event streams; this one is closed.",
                },
            )
            assert await first.next_event() is None  # the stream ended, cleanly

            signed_out = await asyncio.to_thread(
                client.post, f"/v1/devices/{tv.device_id}/sign-out", headers=phone.auth
            )
            assert signed_out.status_code == 200, signed_out.text
            for stream in [*others, fourth]:
                told = await stream.next_event()
                assert told is not None
                assert (told[0], told[1]["reason"]) == ("signed_out", "signed_out_remotely")
            # The phone's own streams are the phone's: neither was replaced nor told anything.
            for stream in phones:
                assert not stream.response.is_closed
            receipt = signed_out.json()["receipts"][0]
            assert (receipt["device_id"], receipt["notified"]) == (tv.device_id, True)

    run(server, test)


def test_one_address_holds_at_most_its_budget_of_streams(start_server: StartServer) -> None:
    server, client = start_server(event_streams_per_address=4)
    devices = account_with_devices(client, 6).devices

    async def test(http: httpx.AsyncClient) -> None:
        async with AsyncExitStack() as stack:
            held = [await opened(http, stack, device) for device in devices[:4]]

            answer = await refused(http, stack, devices[4])
            assert answer.status_code == 429
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert answer.json()["code"] == "too_many_event_streams"
            assert int(answer.headers["retry-after"]) > 0
            assert answer.headers["cache-control"] == "no-store"

            await held[0].response.aclose()  # one tab closes: its place is free again
            held.append(await eventually_opened(http, stack, devices[4]))
            await refused(http, stack, devices[5])
            # An address of its own choosing is no way round it: no proxy is trusted here.
            spoofed = {"x-forwarded-for": "198.51.100.9"}
            assert (await refused(http, stack, devices[5], **spoofed)).status_code == 429

    run(server, test)


def test_a_replaced_or_dropped_stream_gives_its_place_back(start_server: StartServer) -> None:
    server, client = start_server(event_streams_per_address=4)
    tv, phone = account_with_devices(client, 2).devices

    async def test(http: httpx.AsyncClient) -> None:
        async with AsyncExitStack() as stack:
            streams = [await opened(http, stack, tv) for _ in range(4)]
            assert await streams[0].next_event() == ("replaced", streams_replaced_data())
            assert await streams[0].next_event() is None
            streams.append(await eventually_opened(http, stack, phone))  # the replaced one's
            await refused(http, stack, phone)

        # A client that opens and drops streams, again and again, loses no place.
        for _ in range(3):
            async with AsyncExitStack() as stack:
                held = [await eventually_opened(http, stack, d) for d in (tv, tv, phone, phone)]
                assert not any(stream.response.is_closed for stream in held)

    run(server, test)


def test_behind_a_trusted_proxy_each_client_address_has_its_own_budget(
    start_server: StartServer,
) -> None:
    server, client = start_server(event_streams_per_address=2, trusted_proxies=["127.0.0.1"])
    devices = account_with_devices(client, 5).devices
    first, second = {"x-forwarded-for": "203.0.113.1"}, {"x-forwarded-for": "203.0.113.2"}

    async def test(http: httpx.AsyncClient) -> None:
        async with AsyncExitStack() as stack:
            held = [await opened(http, stack, devices[i], **first) for i in (0, 1)]
            assert (await refused(http, stack, devices[2], **first)).status_code == 429
            held += [await opened(http, stack, devices[i], **second) for i in (3, 4)]
            assert not any(stream.response.is_closed for stream in held)

    run(server, test)


def streams_replaced_data() -> dict[str, object]:
    return {
        "reason": "newer_streams",
        "detail": "This device opened newer event streams; this one is closed.",
    }
