"""The API through real HTTP: a uvicorn server per module and backend, a plain httpx client.

Every module runs on memory, SQLite and (when SCREENGATE_TEST_POSTGRES_URL is set) PostgreSQL.
Servers are module-scoped to keep the suite fast, so each test makes its own accounts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest

from screengate.config import Settings
from tests.support.api import PROBLEM_JSON
from tests.support.clock import FrozenClock
from tests.support.databases import backend_params, migrated_database
from tests.support.live_server import LiveServer, live_server

TIMEOUT = httpx.Timeout(15.0, connect=5.0)

# Sign-in failures from every test arrive from 127.0.0.1; tests of the per-client limit
# get a server of their own (see test_throttling.py).
GENEROUS_CLIENT_LIMIT = "10000/minute"


def settings_for(database_url: str, **overrides: Any) -> Settings:
    """Test settings: cheap argon2 (the cost is tested elsewhere), quiet logs."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "argon2_time_cost": 1,
        "argon2_memory_kib": 8,
        "argon2_parallelism": 1,
        "sign_in_limit_per_client": GENEROUS_CLIENT_LIMIT,
        "sign_in_concurrency_per_client": 1000,
        "log_level": "WARNING",
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="module", params=backend_params())
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    backend: str = request.param
    with migrated_database(backend, tmp_path_factory.mktemp(backend)) as url:
        yield url


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[LiveServer]:
    with live_server(settings_for(database_url), FrozenClock()) as running:
        yield running


def every_answer_is_sound(answer: httpx.Response) -> None:
    """Checked on every answer any test gets: never a 5xx, and every error a problem+json
    with a stable code, so no test has to remember to look."""
    if answer.status_code < 400:
        return
    answer.read()
    assert answer.status_code < 500, f"{answer.request.url}: {answer.status_code} {answer.text}"
    assert answer.headers["content-type"].startswith(PROBLEM_JSON), answer.headers
    body = answer.json()
    assert body["status"] == answer.status_code
    assert isinstance(body["code"], str)
    assert body["code"]


def api_client(base_url: str) -> httpx.Client:
    return httpx.Client(
        base_url=base_url, timeout=TIMEOUT, event_hooks={"response": [every_answer_is_sound]}
    )


@pytest.fixture(scope="module")
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with api_client(server.base_url) as http:
        yield http


StartServer = Callable[..., tuple[LiveServer, httpx.Client]]


@pytest.fixture
def start_server(database_url: str) -> Iterator[StartServer]:
    """Another server on this module's database, with settings of the test's own choosing."""
    with ExitStack() as stack:

        def start(**overrides: Any) -> tuple[LiveServer, httpx.Client]:
            running = stack.enter_context(
                live_server(settings_for(database_url, **overrides), FrozenClock())
            )
            http = stack.enter_context(api_client(running.base_url))
            return running, http

        yield start
