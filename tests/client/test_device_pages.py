"""The device client reads every page of the device list, following Link rel="next"."""

from __future__ import annotations

import time

import httpx

from screengate.client import DeviceSession, ScreengateClient
from screengate.client.models import Tokens


def a_device(n: int) -> dict[str, object]:
    return {
        "device_id": f"device-{n}",
        "session_id": f"session-{n}",
        "name": f"Phone {n}",
        "type": "phone",
        "current": n == 0,
        "signed_in_at": "2026-12-01T20:00:00Z",
        "last_seen_at": "2026-12-01T20:00:00Z",
        "location": None,
        "last_activity": None,
        "streaming": False,
        "downloads": 0,
    }


async def test_the_client_reads_every_page_of_the_device_list() -> None:
    asked: list[str] = []

    def serve(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url.raw_path, "ascii"))
        cursor = int(request.url.params.get("cursor", "0"))
        page = [a_device(n) for n in range(cursor, min(cursor + 2, 5))]
        headers = {}
        if cursor + 2 < 5:
            headers["Link"] = f'</v1/devices?limit=2&cursor={cursor + 2}>; rel="next"'
        return httpx.Response(200, json=page, headers=headers)

    client = ScreengateClient("http://screengate.test", transport=httpx.MockTransport(serve))
    tokens = Tokens("access", "refresh", time.time() + 600, "session-0", "device-0")
    try:
        devices = await DeviceSession(client, tokens).devices()
    finally:
        await client.aclose()

    assert [d.device_id for d in devices] == [f"device-{n}" for n in range(5)]
    assert asked == [
        "/v1/devices",
        "/v1/devices?limit=2&cursor=2",
        "/v1/devices?limit=2&cursor=4",
    ]
