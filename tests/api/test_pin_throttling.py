"""A locked profile's PIN through the API: five wrong PINs pause it, the right one included,
on every device and every instance, until the window moves on."""

from __future__ import annotations

import os
import time
from typing import Any

import httpx
import pytest

from tests.api.conftest import StartServer
from tests.support.api import (
    PASSWORD,
    Device,
    account_with_devices,
    activity,
    assert_problem,
)

PIN = "4826"
WRONG = [f"{n:04d}" for n in range(1000, 1100)]
TITLE = "night-harbour"
FIFTEEN_MINUTES = 15 * 60
REDIS_URL = os.environ.get("SCREENGATE_TEST_REDIS_URL")


def locked_profile(client: httpx.Client, device: Device, name: str = "Ben", pin: str = PIN) -> str:
    answer = client.post("/v1/profiles", json={"name": name, "pin": pin}, headers=device.auth)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["profile_id"])


def play(client: httpx.Client, device: Device, profile_id: str, pin: str | None) -> httpx.Response:
    body: dict[str, Any] = {"profile_id": profile_id, "title_id": TITLE}
    if pin is not None:
        body["pin"] = pin
    return client.post("/v1/streams", json=body, headers=device.auth)


def guess_wrong(client: httpx.Client, device: Device, profile_id: str, times: int) -> None:
    for pin in WRONG[:times]:
        assert_problem(play(client, device, profile_id, pin), 403, "profile_locked")


def assert_paused(answer: httpx.Response, at_most: int) -> int:
    """429 too_many_pin_attempts, with the wait in Retry-After, the body and the sentence."""
    body = assert_problem(answer, 429, "too_many_pin_attempts")
    wait = int(answer.headers["Retry-After"])
    assert 1 <= wait <= at_most
    assert body["retry_after"] == wait
    assert body["detail"].startswith("Too many wrong PINs. Try again in ")
    return wait


def test_five_wrong_pins_pause_the_profile_and_the_right_pin_is_refused_too(
    client: httpx.Client,
) -> None:
    account = account_with_devices(client, 2)
    guesser, owner = account.devices
    ben = locked_profile(client, owner)
    guess_wrong(client, guesser, ben, 4)
    assert_paused(play(client, guesser, ben, WRONG[4]), FIFTEEN_MINUTES)

    answer = play(client, guesser, ben, PIN)
    assert assert_paused(answer, FIFTEEN_MINUTES) > FIFTEEN_MINUTES - 60
    assert answer.json()["detail"] == "Too many wrong PINs. Try again in 15 minutes."
    # The profile is paused, whichever device asks, for downloads as for Play.
    assert_paused(play(client, owner, ben, PIN), FIFTEEN_MINUTES)
    assert_paused(play(client, owner, ben, None), FIFTEEN_MINUTES)
    download = client.post(
        "/v1/downloads", json={"profile_id": ben, "title_id": TITLE, "pin": PIN}, headers=owner.auth
    )
    assert_paused(download, FIFTEEN_MINUTES)


def test_another_profile_and_another_account_are_not_paused(client: httpx.Client) -> None:
    account = account_with_devices(client, 2)
    guesser, owner = account.devices
    ben, mum = locked_profile(client, owner), locked_profile(client, owner, "Mum", "1357")
    guess_wrong(client, guesser, ben, 4)
    assert_paused(play(client, guesser, ben, WRONG[4]), FIFTEEN_MINUTES)

    assert play(client, owner, mum, "1357").status_code == 201
    (neighbour,) = account_with_devices(client, 1).devices
    assert play(client, neighbour, locked_profile(client, neighbour), PIN).status_code == 201


def test_the_owners_correct_pin_does_not_reset_a_guessers_count(client: httpx.Client) -> None:
    account = account_with_devices(client, 2)
    guesser, owner = account.devices
    ben = locked_profile(client, owner)
    guess_wrong(client, guesser, ben, 4)
    assert play(client, owner, ben, PIN).status_code == 201
    assert_paused(play(client, guesser, ben, WRONG[4]), FIFTEEN_MINUTES)


def test_a_new_pin_does_not_lift_the_pause(client: httpx.Client) -> None:
    account = account_with_devices(client, 2)
    guesser, owner = account.devices
    ben = locked_profile(client, owner)
    guess_wrong(client, guesser, ben, 4)
    assert_paused(play(client, guesser, ben, WRONG[4]), FIFTEEN_MINUTES)
    new_pin = {"pin": "9151", "password": PASSWORD}
    changed = client.patch(f"/v1/profiles/{ben}", json=new_pin, headers=owner.auth)
    assert changed.status_code == 200, changed.text
    # Were a new PIN to lift the pause, whoever could change it could buy more guesses.
    assert_paused(play(client, owner, ben, "9151"), FIFTEEN_MINUTES)
    assert_paused(play(client, guesser, ben, "9151"), FIFTEEN_MINUTES)


def test_wrong_pins_and_the_pause_are_in_the_security_activity(client: httpx.Client) -> None:
    account = account_with_devices(client, 2)
    guesser, owner = account.devices
    ben = locked_profile(client, owner)
    guess_wrong(client, guesser, ben, 4)
    for _ in range(3):  # the fifth wrong PIN, then two refused without being tried
        assert_paused(play(client, guesser, ben, WRONG[4]), FIFTEEN_MINUTES)

    events = [e for e in activity(client, owner) if e["kind"].startswith("pin_")]
    assert [e["kind"] for e in events] == ["pin_attempts_exceeded"] + ["pin_failed"] * 5
    assert {e["device_name"] for e in events} == {guesser.name}
    assert events[0]["detail"]["profile_name"] == "Ben"
    assert 1 <= events[0]["detail"]["retry_after"] <= FIFTEEN_MINUTES


def test_once_the_window_has_passed_the_right_pin_plays(start_server: StartServer) -> None:
    # The counts keep real time (the `limits` library reads the system clock), so this server
    # pauses for two seconds, not fifteen minutes, and the test waits them out.
    _, client = start_server(pin_limit_per_profile="3/2 seconds")
    (owner,) = account_with_devices(client, 1).devices
    ben = locked_profile(client, owner)
    guess_wrong(client, owner, ben, 2)
    assert_paused(play(client, owner, ben, WRONG[2]), 2)
    wait = assert_paused(play(client, owner, ben, PIN), 2)

    time.sleep(wait)
    deadline = time.monotonic() + 2
    while (answer := play(client, owner, ben, PIN)).status_code == 429:
        assert time.monotonic() < deadline, answer.text
        time.sleep(0.1)
    assert answer.status_code == 201, answer.text


# Two instances share a database on SQLite and PostgreSQL; memory is one process's own.
@pytest.mark.redis
@pytest.mark.parametrize(
    "database_url",
    ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
    indirect=True,
)
def test_instances_sharing_redis_share_the_count(
    database_url: str, start_server: StartServer
) -> None:
    if not REDIS_URL:
        pytest.skip("set SCREENGATE_TEST_REDIS_URL to run against Redis")
    _, a = start_server(redis_url=REDIS_URL)
    _, b = start_server(redis_url=REDIS_URL)
    account = account_with_devices(a, 2)
    guesser, owner = account.devices
    ben = locked_profile(a, owner)
    guess_wrong(a, guesser, ben, 2)
    for pin in WRONG[2:4]:
        assert_problem(play(b, guesser, ben, pin), 403, "profile_locked")
    assert_paused(play(a, guesser, ben, WRONG[4]), FIFTEEN_MINUTES)
    assert_paused(play(b, owner, ben, PIN), FIFTEEN_MINUTES)
