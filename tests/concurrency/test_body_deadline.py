"""A body that has not fully arrived within a bound of the request's start is answered 408, and
the connection is closed: nobody holds a request (and the device it proved) open for ever."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from bench.server import RunningServer, serve

from tests.concurrency.test_play_race import FAST_ARGON2
from tests.support.api import PASSWORD, new_email
from tests.support.databases import migrated_database
from tests.support.raw_http import hold

DEADLINE_SECONDS = 1.5


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    folder = tmp_path_factory.mktemp("deadline")
    env = FAST_ARGON2 | {"SCREENGATE_BODY_TIMEOUT_SECONDS": str(DEADLINE_SECONDS)}
    with (
        migrated_database("sqlite", folder) as url,
        serve(url, folder / "server.log", env=env) as running,
    ):
        yield running


@pytest.fixture(scope="module")
def device(server: RunningServer) -> dict[str, str]:
    with httpx.Client(base_url=server.base_url) as client:
        email = new_email("deadline")
        client.post(
            "/v1/auth/sign-up", json={"email": email, "password": PASSWORD, "plan": "basic"}
        )
        answer = client.post(
            "/v1/auth/sign-in",
            json={"email": email, "password": PASSWORD, "device": {"type": "phone"}},
        )
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def test_a_body_held_back_past_the_deadline_is_answered_408_and_the_connection_closed(
    server: RunningServer, device: dict[str, str]
) -> None:
    body = b'{"name": "Slow"}'
    headers = device | {"Content-Type": "application/json"}
    held = hold(server.host, server.port, "POST", "/v1/profiles", headers, body, held_back=3)
    try:
        started = time.monotonic()
        answer = held.answered_already(within=DEADLINE_SECONDS + 10)
        waited = time.monotonic() - started
        closed = held.server_closed(within=5)
    finally:
        held.close()
    assert answer is not None
    assert answer.status == 408
    assert json.loads(answer.body)["code"] == "body_timeout"
    assert answer.headers.get("connection") == "close"
    assert closed
    assert DEADLINE_SECONDS - 0.2 < waited < DEADLINE_SECONDS + 5
    with httpx.Client(base_url=server.base_url) as client:
        names = [p["name"] for p in client.get("/v1/profiles", headers=device).json()]
    assert "Slow" not in names


def test_an_unauthenticated_body_held_back_is_cut_off_too(server: RunningServer) -> None:
    body = b'{"email": "someone@example.com", "password": "x", "device": {"type": "phone"}}'
    held = hold(
        server.host,
        server.port,
        "POST",
        "/v1/auth/sign-in",
        {"Content-Type": "application/json"},
        body,
        held_back=10,
    )
    try:
        answer = held.answered_already(within=DEADLINE_SECONDS + 10)
    finally:
        held.close()
    assert answer is not None
    assert answer.status == 408


def test_a_slow_body_that_arrives_within_the_deadline_is_served(
    server: RunningServer, device: dict[str, str]
) -> None:
    body = b'{"name": "Patient"}'
    headers = device | {"Content-Type": "application/json"}
    held = hold(server.host, server.port, "POST", "/v1/profiles", headers, body, held_back=5)
    try:
        time.sleep(DEADLINE_SECONDS / 3)
        answer = held.finish()
    finally:
        held.close()
    assert answer.status == 201, answer.body
    assert json.loads(answer.body)["name"] == "Patient"


def test_a_page_form_held_back_is_answered_408_as_a_page(
    server: RunningServer, tmp_path: Path
) -> None:
    with httpx.Client(base_url=server.base_url) as browser:
        form = browser.get("/sign-in")
        cookies = "; ".join(f"{c.name}={c.value}" for c in browser.cookies.jar)
    # The form's token (bound to the browser's signed-out CSRF key: web/csrf.py).
    found = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
    assert found, form.text[:300]
    token = found.group(1)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": cookies,
        "X-CSRFToken": token,
        "Accept": "text/html",
    }
    body = b"email=someone%40example.com&password=whatever+it+is"
    held = hold(server.host, server.port, "POST", "/sign-in", headers, body, held_back=4)
    try:
        answer = held.answered_already(within=DEADLINE_SECONDS + 10)
    finally:
        held.close()
    assert answer is not None
    assert answer.status == 408
    assert answer.headers["content-type"].startswith("text/html")
