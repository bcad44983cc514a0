"""Fair under load: a request waits a bounded time for a database connection, then answers
503 server_busy with Retry-After (never a 500), having written nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AsyncExitStack

import httpx
import pytest

from screengate.adapters.sql.migrate import upgrade
from screengate.app import create_app
from screengate.config import Settings
from screengate.ports import Ports
from tests.contract.conftest import postgres_database

POOL_SIZE = 1  # and as many again when busy: 3 connections in all
SIGN_UP = {"email": "busy@example.com", "password": "correct horse battery staple 42"}


pytestmark = pytest.mark.postgres


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with postgres_database() as url:
        yield url


async def test_a_request_that_finds_the_pool_taken_answers_503_and_writes_nothing(
    postgres_url: str,
) -> None:
    await upgrade(postgres_url)
    settings = Settings(
        database_url=postgres_url,
        database_pool_size=POOL_SIZE,
        database_pool_timeout_seconds=0.3,
        argon2_time_cost=1,
        argon2_memory_kib=8,
        argon2_parallelism=1,
        log_level="WARNING",
    )
    app = create_app(settings)
    async with app.lifespan():
        ports: Ports = app.state.ports
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            async with AsyncExitStack() as held:
                for _ in range(3 * POOL_SIZE):  # every connection the pool may open
                    await held.enter_async_context(ports.reader())
                answer = await client.post("/v1/auth/sign-up", json=SIGN_UP)
                assert answer.status_code == 503, answer.text
                assert answer.json()["code"] == "server_busy"
                assert answer.headers["Retry-After"] == "1"
            # Connections free again: the same sign-up goes through, so nothing of the first
            # one was left behind (its email would be taken).
            again = await client.post("/v1/auth/sign-up", json=SIGN_UP)
            assert again.status_code == 201, again.text
