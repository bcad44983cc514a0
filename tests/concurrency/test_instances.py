"""Two instances share PostgreSQL and Redis. Devices hold their event streams on instance B;
"Sign out of all devices" goes through instance A. Every device on B is told at once, and no
revoked credential is accepted anywhere — also when Redis is stopped mid-way."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from bench.server import RunningServer, serve

from tests.concurrency.test_play_race import FAST_ARGON2, PASSWORD, _bearer
from tests.support.databases import migrated_database
from tests.support.redis_server import own_redis, stop_redis

DEVICES = 25

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@dataclass
class Cluster:
    a: RunningServer
    b: RunningServer
    redis: subprocess.Popen[bytes] | None


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    with (
        own_redis() as (redis_url, redis),
        migrated_database("postgresql", tmp_path) as url,
        serve(url, tmp_path / "a.log", env={**FAST_ARGON2, "SCREENGATE_REDIS_URL": redis_url}) as a,
        serve(url, tmp_path / "b.log", env={**FAST_ARGON2, "SCREENGATE_REDIS_URL": redis_url}) as b,
    ):
        yield Cluster(a, b, redis)


_EMAILS: list[str] = []


async def _household(client: httpx.AsyncClient) -> tuple[str, list[str]]:
    email = f"house-{time.monotonic_ns()}@example.com"
    _EMAILS.append(email)
    await client.post(
        "/v1/auth/sign-up", json={"email": email, "password": PASSWORD, "plan": "premium"}
    )

    async def sign_in(kind: str) -> str:
        answer = await client.post(
            "/v1/auth/sign-in",
            json={"email": email, "password": PASSWORD, "device": {"type": kind}},
        )
        assert answer.status_code == 201, answer.text
        return str(answer.json()["access_token"])

    owner = await sign_in("web_browser")
    return owner, [await sign_in("smart_tv") for _ in range(DEVICES)]


async def _listen(
    client: httpx.AsyncClient, token: str, connected: asyncio.Event
) -> dict[str, str]:
    """Hold the event stream until signed_out; answer its event and when it came."""
    async with client.stream("GET", "/v1/events", headers=_bearer(token)) as stream:
        assert stream.status_code == 200
        event: dict[str, str] = {}
        async for line in stream.aiter_lines():
            if line.startswith(": connected"):
                connected.set()
            elif line.startswith("event: "):
                event["event"] = line.removeprefix("event: ")
            elif line.startswith("data: "):
                event["data"] = line.removeprefix("data: ")
            elif line == "" and event.get("event") == "signed_out":
                event["at"] = str(time.monotonic())
                return event
    return {}


async def _connected_devices(
    cluster: Cluster, client_b: httpx.AsyncClient, tokens: list[str]
) -> tuple[list[asyncio.Task[dict[str, str]]], list[asyncio.Event]]:
    ready = [asyncio.Event() for _ in tokens]
    listeners = [
        asyncio.create_task(_listen(client_b, t, e)) for t, e in zip(tokens, ready, strict=True)
    ]
    async with asyncio.timeout(20):
        await asyncio.gather(*(e.wait() for e in ready))
    return listeners, ready


async def _refused_everywhere(cluster: Cluster, tokens: list[str], reason: str) -> None:
    for base in (cluster.a.base_url, cluster.b.base_url):
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            for token in tokens:
                answer = await client.get("/v1/account", headers=_bearer(token))
                assert (answer.status_code, answer.json().get("reason")) == (401, reason)


async def _sign_out_on_a_reaches_b(cluster: Cluster) -> None:
    limits = httpx.Limits(max_connections=DEVICES + 8)
    async with (
        httpx.AsyncClient(base_url=cluster.a.base_url, timeout=30) as client_a,
        httpx.AsyncClient(base_url=cluster.b.base_url, timeout=30, limits=limits) as client_b,
    ):
        owner, tokens = await _household(client_a)
        # Cached on B first, so B must really be told, not merely read the store.
        for token in tokens:
            assert (await client_b.get("/v1/account", headers=_bearer(token))).status_code == 200
        listeners, _ = await _connected_devices(cluster, client_b, tokens)
        started = time.monotonic()
        answer = await client_a.post(
            "/v1/devices/sign-out-all", headers=_bearer(owner), json={"keep_this_device": True}
        )
        returned = time.monotonic()
        assert answer.status_code == 200
        signed_out = answer.json()["signed_out"]
        assert len(signed_out) == DEVICES
        # The receipt: B told every device live, and A heard so before answering.
        assert all(entry["notified"] for entry in signed_out)
        async with asyncio.timeout(5):
            told = await asyncio.gather(*listeners)
    assert all('"reason":"signed_out_everywhere"' in t["data"] for t in told)
    assert max(float(t["at"]) for t in told) - started < 1.0
    assert returned - started < 3.0
    await _refused_everywhere(cluster, tokens, "signed_out_everywhere")


async def _sign_out_with_redis_gone(cluster: Cluster) -> None:
    async with (
        httpx.AsyncClient(base_url=cluster.a.base_url, timeout=30) as client_a,
        httpx.AsyncClient(base_url=cluster.b.base_url, timeout=30) as client_b,
    ):
        owner, tokens = await _household(client_a)
        for token in tokens:
            assert (await client_b.get("/v1/account", headers=_bearer(token))).status_code == 200
        assert cluster.redis is not None
        stop_redis(cluster.redis)
        # B notices its subscription is gone and stops trusting its cache.
        async with asyncio.timeout(10):
            while (await client_b.get("/readyz")).json()["status"] != "degraded":  # noqa: ASYNC110 - another process
                await asyncio.sleep(0.05)
        answer = await client_a.post(
            "/v1/devices/sign-out-all", headers=_bearer(owner), json={"keep_this_device": True}
        )
        assert answer.status_code == 200
        assert len(answer.json()["signed_out"]) == DEVICES
        readiness = (await client_b.get("/readyz")).json()
        # Without Redis no screen can be admitted safely: a clear 503, not an error page...
        profile = (await client_b.get("/v1/account", headers=_bearer(owner))).json()
        play = await client_b.post(
            "/v1/streams",
            headers=_bearer(owner),
            json={"profile_id": profile["profiles"][0]["profile_id"], "title_id": "wild-coasts"},
        )
        assert (play.status_code, play.json()["code"]) == (503, "service_unavailable")
        assert play.headers["retry-after"]
        # ... while signing in still works, throttled by this instance's own counters.
        again = await client_b.post(
            "/v1/auth/sign-in",
            json={"email": _EMAILS[-1], "password": PASSWORD, "device": {"type": "phone"}},
        )
        assert again.status_code == 201, again.text
    assert readiness["revocation_checks"] == "store on every request"
    await _refused_everywhere(cluster, tokens, "signed_out_everywhere")


@pytest.mark.timeout(240)
def test_a_sign_out_through_one_instance_reaches_every_device_on_another_at_once(
    cluster: Cluster,
) -> None:
    asyncio.run(_sign_out_on_a_reaches_b(cluster))


@pytest.mark.timeout(240)
def test_with_redis_stopped_no_revoked_credential_is_accepted_on_either_instance(
    cluster: Cluster,
) -> None:
    asyncio.run(_sign_out_with_redis_gone(cluster))
