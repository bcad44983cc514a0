"""Devices keep calling while "Sign out of all devices" runs: nothing that starts after the
sign-out returned is accepted, on any worker process."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from bench.server import RunningServer, serve

from tests.concurrency.test_play_race import FAST_ARGON2, PASSWORD, _bearer
from tests.support.databases import migrated_database

DEVICES = 40
SECONDS_AFTER = 1.0


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunningServer]:
    workers = 1 if request.param == "sqlite" else 2
    with (
        migrated_database(str(request.param), tmp_path) as url,
        serve(url, tmp_path / "server.log", env=FAST_ARGON2, workers=workers) as running,
    ):
        yield running


async def _race(base_url: str) -> None:
    limits = httpx.Limits(max_connections=DEVICES + 4)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as client:
        email = f"race-{time.monotonic_ns()}@example.com"
        await client.post(
            "/v1/auth/sign-up", json={"email": email, "password": PASSWORD, "plan": "premium"}
        )
        tokens = []
        for _ in range(DEVICES):
            answer = await client.post(
                "/v1/auth/sign-in",
                json={"email": email, "password": PASSWORD, "device": {"type": "phone"}},
            )
            tokens.append(answer.json()["access_token"])
        returned_at: list[float] = []
        calls: list[tuple[float, int, str | None]] = []

        async def keep_calling(token: str) -> None:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                started = time.monotonic()
                answer = await client.get("/v1/account", headers=_bearer(token))
                reason = answer.json().get("reason") if answer.status_code == 401 else None
                calls.append((started, answer.status_code, reason))
                if returned_at and started > returned_at[0] + SECONDS_AFTER:
                    return

        callers = [asyncio.create_task(keep_calling(t)) for t in tokens[1:]]
        await asyncio.sleep(0.5)
        everywhere = await client.post(
            "/v1/devices/sign-out-all", headers=_bearer(tokens[0]), json={}
        )
        returned_at.append(time.monotonic())
        assert everywhere.status_code == 200
        assert len(everywhere.json()["signed_out"]) == DEVICES
        await asyncio.gather(*callers)

    before = [c for c in calls if c[0] < returned_at[0]]
    after = [c for c in calls if c[0] > returned_at[0]]
    assert any(status == 200 for _, status, _ in before)
    assert after, "no call started after the sign-out returned"
    assert {(status, reason) for _, status, reason in after} == {(401, "signed_out_everywhere")}


@pytest.mark.timeout(180)
def test_nothing_that_starts_after_sign_out_everywhere_returned_is_accepted(
    server: RunningServer,
) -> None:
    asyncio.run(_race(server.base_url))
