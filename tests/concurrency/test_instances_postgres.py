"""Two instances share PostgreSQL and nothing else: the bus is PostgreSQL's LISTEN/NOTIFY. Devices
hold their event streams on instance B; "Sign out of all devices" goes through instance A. Every
device on B is told at once, and no revoked credential is accepted anywhere, also when the
instances' listening connections are killed mid-way."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from bench.server import serve
from sqlalchemy.engine import make_url

from screengate.adapters.sql.engine import plain_dsn
from tests.concurrency.test_instances import (
    DEVICES,
    Cluster,
    _connected_devices,
    _household,
    _refused_everywhere,
)
from tests.concurrency.test_play_race import FAST_ARGON2, _bearer
from tests.support.databases import migrated_database

pytestmark = pytest.mark.postgres


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[Cluster, str]]:
    with (
        migrated_database("postgresql", tmp_path) as url,
        serve(url, tmp_path / "a.log", env=FAST_ARGON2) as a,
        serve(url, tmp_path / "b.log", env=FAST_ARGON2) as b,
    ):
        yield Cluster(a, b, None), url


async def _sign_out_on_a_reaches_b(cluster: Cluster) -> None:
    limits = httpx.Limits(max_connections=DEVICES + 8)
    async with (
        httpx.AsyncClient(base_url=cluster.a.base_url, timeout=30) as client_a,
        httpx.AsyncClient(base_url=cluster.b.base_url, timeout=30, limits=limits) as client_b,
    ):
        assert (await client_b.get("/readyz")).json()["bus"] == "postgresql"
        owner, tokens = await _household(client_a)
        for token in tokens:
            assert (await client_b.get("/v1/account", headers=_bearer(token))).status_code == 200
        listeners, _ = await _connected_devices(cluster, client_b, tokens)
        started = time.monotonic()
        answer = await client_a.post(
            "/v1/devices/sign-out-all", headers=_bearer(owner), json={"keep_this_device": True}
        )
        assert answer.status_code == 200
        signed_out = answer.json()["signed_out"]
        assert len(signed_out) == DEVICES
        # The receipt: B told every device live (presence in PostgreSQL), and A heard so.
        assert all(entry["notified"] for entry in signed_out)
        async with asyncio.timeout(5):
            told = await asyncio.gather(*listeners)
    assert all('"reason":"signed_out_everywhere"' in t["data"] for t in told)
    assert max(float(t["at"]) for t in told) - started < 1.0
    await _refused_everywhere(cluster, tokens, "signed_out_everywhere")


async def _sign_out_with_listeners_killed(cluster: Cluster, database_url: str) -> None:
    async with (
        httpx.AsyncClient(base_url=cluster.a.base_url, timeout=30) as client_a,
        httpx.AsyncClient(base_url=cluster.b.base_url, timeout=30) as client_b,
    ):
        owner, tokens = await _household(client_a)
        for token in tokens:
            # Cached on both instances, so each must be told (or stop trusting its cache).
            for client in (client_a, client_b):
                assert (await client.get("/v1/account", headers=_bearer(token))).status_code == 200
        admin = await asyncpg.connect(plain_dsn(database_url))
        try:
            killed = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = $1 AND application_name LIKE 'screengate bus listener %'",
                make_url(database_url).database,
            )
        finally:
            await admin.close()
        assert killed == 2
        answer = await client_a.post(
            "/v1/devices/sign-out-all", headers=_bearer(owner), json={"keep_this_device": True}
        )
        assert answer.status_code == 200
        assert len(answer.json()["signed_out"]) == DEVICES
    await _refused_everywhere(cluster, tokens, "signed_out_everywhere")


@pytest.mark.timeout(240)
def test_a_sign_out_through_one_instance_reaches_every_device_on_another_with_postgresql_alone(
    cluster: tuple[Cluster, str],
) -> None:
    asyncio.run(_sign_out_on_a_reaches_b(cluster[0]))


@pytest.mark.timeout(240)
def test_with_the_listening_connections_killed_no_revoked_credential_is_accepted(
    cluster: tuple[Cluster, str],
) -> None:
    asyncio.run(_sign_out_with_listeners_killed(*cluster))
