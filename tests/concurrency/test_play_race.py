"""Two hundred devices press Play at the same moment against a real server and store:
exactly the plan's screens are admitted, and every refusal names exactly the holders."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from bench.server import RunningServer, serve

from tests.support.databases import migrated_database

DEVICES = 200
PASSWORD = "correct horse battery"
FAST_ARGON2 = {
    "SCREENGATE_ARGON2_TIME_COST": "1",
    "SCREENGATE_ARGON2_MEMORY_KIB": "8",
    "SCREENGATE_ARGON2_PARALLELISM": "1",
    "SCREENGATE_SIGN_IN_LIMIT_PER_CLIENT": "10000/minute",
    "SCREENGATE_SIGN_IN_CONCURRENCY_PER_CLIENT": "1000",
    # Two hundred devices of one household: past the default cap of 100 per account.
    "SCREENGATE_MAX_DEVICES_PER_ACCOUNT": "1000",
}
REDIS_ENV = "SCREENGATE_TEST_REDIS_URL"


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("redis", marks=[pytest.mark.postgres, pytest.mark.redis]),
    ]
)
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunningServer]:
    store = str(request.param)
    env = dict(FAST_ARGON2)
    if store == "redis":
        redis_url = os.environ.get(REDIS_ENV)
        if not redis_url:
            pytest.skip(f"Redis not configured: set {REDIS_ENV} to run the Redis leases")
        env["SCREENGATE_REDIS_URL"] = redis_url
    backend = "sqlite" if store == "sqlite" else "postgresql"
    # Several worker processes on a shared store: the lock must hold across processes.
    workers = 1 if store == "sqlite" else 2
    with (
        migrated_database(backend, tmp_path) as url,
        serve(url, tmp_path / "server.log", env=env, workers=workers) as running,
    ):
        yield running


async def _household(client: httpx.AsyncClient, plan: str) -> tuple[list[str], str]:
    email = f"race-{os.urandom(6).hex()}@example.com"
    answer = await client.post(
        "/v1/auth/sign-up", json={"email": email, "password": PASSWORD, "plan": plan}
    )
    assert answer.status_code == 201, answer.text
    gate = asyncio.Semaphore(16)

    async def sign_in(n: int) -> str:
        async with gate:
            signed_in = await client.post(
                "/v1/auth/sign-in",
                json={
                    "email": email,
                    "password": PASSWORD,
                    "device": {"type": "smart_tv", "name": f"TV {n}"},
                },
            )
        assert signed_in.status_code == 201, signed_in.text
        return str(signed_in.json()["access_token"])

    tokens = await asyncio.gather(*(sign_in(n) for n in range(DEVICES)))
    account = await client.get("/v1/account", headers=_bearer(tokens[0]))
    return tokens, str(account.json()["profiles"][0]["profile_id"])


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def _everyone_presses_play(base_url: str) -> None:
    limits = httpx.Limits(max_connections=DEVICES, max_keepalive_connections=DEVICES)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as client:
        tokens, profile = await _household(client, "premium")
        start = asyncio.Event()

        async def play(token: str) -> httpx.Response:
            await start.wait()
            return await client.post(
                "/v1/streams",
                json={"profile_id": profile, "title_id": "night-harbour"},
                headers=_bearer(token),
            )

        pressing = [asyncio.create_task(play(token)) for token in tokens]
        await asyncio.sleep(0.1)
        start.set()
        answers = await asyncio.gather(*pressing)

        admitted = {a.json()["stream_id"] for a in answers if a.status_code == 201}
        refused = [a for a in answers if a.status_code != 201]
        assert len(admitted) == 4
        assert len(refused) == DEVICES - 4
        for answer in refused:
            problem = answer.json()
            assert (answer.status_code, problem["code"]) == (409, "too_many_streams")
            assert problem["limit"] == 4
            assert {h["stream_id"] for h in problem["active"]} == admitted
        holding = await client.get("/v1/streams", headers=_bearer(tokens[0]))
        assert {s["stream_id"] for s in holding.json()} == admitted


@pytest.mark.timeout(180)
def test_two_hundred_devices_pressing_play_at_once_get_exactly_the_plans_screens(
    server: RunningServer,
) -> None:
    asyncio.run(_everyone_presses_play(server.base_url))
