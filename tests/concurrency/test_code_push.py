"""Two instances share PostgreSQL (and Redis, or PostgreSQL's own LISTEN/NOTIFY, as the bus).
A TV page waits on its code on instance A; a phone approves the code through instance B; the
TV hears of it at once, not at its next poll, and collects its sign-in from A."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from bench.server import RunningServer, serve

from tests.concurrency.test_play_race import FAST_ARGON2, PASSWORD, REDIS_ENV
from tests.support.databases import migrated_database

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@pytest.fixture
def two_instances(tmp_path: Path) -> Iterator[tuple[RunningServer, RunningServer]]:
    """Over the scale-out bus, Redis (the wire format every bus shares is tested on its own,
    in tests/contract/test_buses.py)."""
    env = dict(FAST_ARGON2)
    redis_url = os.environ.get(REDIS_ENV)
    if not redis_url:
        pytest.skip(f"Redis not configured: set {REDIS_ENV}")
    env["SCREENGATE_REDIS_URL"] = redis_url
    with (
        migrated_database("postgresql", tmp_path) as url,
        serve(url, tmp_path / "a.log", env=env) as a,
        serve(url, tmp_path / "b.log", env=env) as b,
    ):
        yield a, b


def test_a_code_approved_on_one_instance_reaches_the_tv_waiting_on_another_at_once(
    two_instances: tuple[RunningServer, RunningServer],
) -> None:
    a, b = two_instances
    tv = httpx.Client(base_url=a.base_url, timeout=10)
    phone = httpx.Client(base_url=b.base_url, timeout=10)
    offer = tv.post("/oauth/device_authorization", data={"client_id": "tv"}).json()
    heard: dict[str, float] = {}
    waiting = threading.Event()

    def wait_on_a() -> None:
        cookies = {"sg_tv_code": offer["device_code"]}
        with (
            httpx.Client(base_url=a.base_url, timeout=20, cookies=cookies) as page,
            page.stream("GET", "/tv/sign-in/code/events") as events,
        ):
            for line in events.iter_lines():
                if line.startswith(": waiting"):
                    waiting.set()
                if line.startswith("data:") and "approved" in line:
                    heard["at"] = time.monotonic()
                    return

    listener = threading.Thread(target=wait_on_a, daemon=True)
    listener.start()
    assert waiting.wait(10), "the TV page's stream did not open"
    email = f"tv-{time.monotonic_ns()}@example.com"
    body = {"email": email, "password": PASSWORD, "plan": "premium"}
    assert phone.post("/v1/auth/sign-up", json=body).status_code == 201
    signed_in = phone.post(
        "/v1/auth/sign-in", json={"email": email, "password": PASSWORD, "device": {"type": "phone"}}
    ).json()
    phone.headers["Authorization"] = f"Bearer {signed_in['access_token']}"
    approved_at = time.monotonic()
    decided = phone.post(
        f"/v1/device-authorizations/{offer['user_code']}", json={"decision": "approve"}
    )
    assert decided.status_code == 200, decided.text
    listener.join(10)
    assert "at" in heard, "the TV page was not told"
    assert heard["at"] - approved_at < 1.0
    tokens = tv.post(
        "/oauth/token",
        data={"grant_type": GRANT, "device_code": offer["device_code"], "client_id": "tv"},
    )
    assert tokens.status_code == 200, tokens.text
    assert tokens.json()["device_id"] == decided.json()["device_id"]
    tv.close()
    phone.close()
