"""/v1/profiles: "Who's watching?" — add, rename, lock with a PIN, unlock, delete."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx

from tests.support.api import PASSWORD, Device, account_with_devices, activity, assert_problem
from tests.support.live_server import LiveServer

PIN = "9731"


def a_device(client: httpx.Client) -> Device:
    return account_with_devices(client, 1).devices[0]


def profiles(client: httpx.Client, device: Device) -> list[dict[str, Any]]:
    answer = client.get("/v1/profiles", headers=device.auth)
    assert answer.status_code == 200, answer.text
    listing: list[dict[str, Any]] = answer.json()
    return listing


def create(client: httpx.Client, device: Device, **body: Any) -> httpx.Response:
    return client.post("/v1/profiles", json=body, headers=device.auth)


def test_a_new_profile_is_created_and_listed_after_the_older_ones(
    server: LiveServer, client: httpx.Client
) -> None:
    device = a_device(client)
    server.clock.advance(timedelta(seconds=1))

    answer = create(client, device, name="Kids", kids=True)

    assert answer.status_code == 201
    profile = answer.json()
    assert set(profile) >= {"profile_id", "name", "kids", "locked"}
    assert "pin" not in profile
    assert (profile["name"], profile["kids"], profile["locked"]) == ("Kids", True, False)
    listed = profiles(client, device)
    assert listed[-1] == profile
    assert len(listed) == 2
    account = client.get("/v1/account", headers=device.auth).json()
    assert account["profiles"] == listed


def test_an_account_has_at_most_five_profiles(client: httpx.Client) -> None:
    device = a_device(client)
    for n in range(2, 6):
        assert create(client, device, name=f"Viewer {n}").status_code == 201

    answer = create(client, device, name="Viewer 6")

    assert_problem(answer, 409, "profile_limit")
    assert len(profiles(client, device)) == 5


def test_profile_names_are_unique_within_an_account(client: httpx.Client) -> None:
    device = a_device(client)
    first = create(client, device, name="Grandma").json()

    assert_problem(create(client, device, name="  grandma "), 409, "profile_name_taken")
    other = create(client, device, name="Grandpa").json()
    renaming = client.patch(
        f"/v1/profiles/{other['profile_id']}", json={"name": "GRANDMA"}, headers=device.auth
    )
    assert_problem(renaming, 409, "profile_name_taken")
    names = [p["name"] for p in profiles(client, device)]
    assert names.count("Grandma") == 1
    assert "Grandpa" in names
    assert first in profiles(client, device)


def test_a_profile_is_renamed(client: httpx.Client) -> None:
    device = a_device(client)
    profile = create(client, device, name="Tom").json()

    answer = client.patch(
        f"/v1/profiles/{profile['profile_id']}", json={"name": "Thomas"}, headers=device.auth
    )

    assert answer.status_code == 200
    assert answer.json() == {**profile, "name": "Thomas"}
    assert {**profile, "name": "Thomas"} in profiles(client, device)


def test_a_pin_locks_a_profile_and_null_unlocks_it_and_the_pin_never_shows(
    client: httpx.Client,
) -> None:
    device = a_device(client)
    profile = create(client, device, name="Parents").json()
    url = f"/v1/profiles/{profile['profile_id']}"
    answers = []

    locking = client.patch(url, json={"pin": PIN, "password": PASSWORD}, headers=device.auth)
    answers.append(locking)
    assert locking.status_code == 200
    assert locking.json() == {**profile, "locked": True}
    answers.append(client.get("/v1/profiles", headers=device.auth))
    assert {**profile, "locked": True} in answers[-1].json()
    renaming = client.patch(url, json={"name": "Mum and Dad"}, headers=device.auth)
    answers.append(renaming)
    assert renaming.json()["locked"] is True  # leaving the PIN out keeps it

    unlocking = client.patch(url, json={"pin": None, "password": PASSWORD}, headers=device.auth)
    answers.append(unlocking)
    assert unlocking.status_code == 200
    assert unlocking.json()["locked"] is False
    answers.append(create(client, device, name="Locked", pin=PIN))
    assert answers[-1].json()["locked"] is True
    answers.append(client.get("/v1/account", headers=device.auth))
    answers.append(client.get("/v1/account/activity", headers=device.auth))

    for answer in answers:
        # Compared value by value: ids are random and may contain the PIN's digits.
        keys, values = _keys_and_values(answer.json())
        assert PIN not in values
        assert int(PIN) not in values
        assert not [k for k in keys if "pin" in k.lower()]


def _keys_and_values(body: object) -> tuple[list[str], list[object]]:
    keys: list[str] = []
    values: list[object] = []
    pending = [body]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            keys.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        else:
            values.append(item)
    return keys, values


def test_a_pin_is_four_digits(client: httpx.Client) -> None:
    device = a_device(client)
    profile = create(client, device, name="Parents").json()

    for pin in ["123", "12345", "abcd", 1234]:
        answer = client.patch(
            f"/v1/profiles/{profile['profile_id']}", json={"pin": pin}, headers=device.auth
        )
        body = assert_problem(answer, 422, "validation_error")
        assert [e["field"] for e in body["errors"]] == ["pin"]
    assert {**profile, "locked": False} in profiles(client, device)


def test_a_profile_is_deleted(client: httpx.Client) -> None:
    device = a_device(client)
    profile = create(client, device, name="Guest").json()

    answer = client.delete(f"/v1/profiles/{profile['profile_id']}", headers=device.auth)

    assert answer.status_code == 204
    assert profile not in profiles(client, device)
    again = client.delete(f"/v1/profiles/{profile['profile_id']}", headers=device.auth)
    assert_problem(again, 404, "profile_not_found")


def test_the_last_profile_cannot_be_deleted(client: httpx.Client) -> None:
    device = a_device(client)
    (only,) = profiles(client, device)

    answer = client.delete(f"/v1/profiles/{only['profile_id']}", headers=device.auth)

    assert_problem(answer, 409, "last_profile")
    assert profiles(client, device) == [only]


def test_another_accounts_profile_is_not_found_and_untouched(client: httpx.Client) -> None:
    mine, theirs = a_device(client), a_device(client)
    target = create(client, theirs, name="Theirs").json()
    url = f"/v1/profiles/{target['profile_id']}"

    assert_problem(
        client.patch(url, json={"name": "Mine now"}, headers=mine.auth), 404, "profile_not_found"
    )
    assert_problem(
        client.patch(url, json={"pin": PIN}, headers=mine.auth), 404, "profile_not_found"
    )
    assert_problem(client.delete(url, headers=mine.auth), 404, "profile_not_found")

    assert target in profiles(client, theirs)
    assert target not in profiles(client, mine)


def test_an_unknown_profile_is_not_found(client: httpx.Client) -> None:
    device = a_device(client)

    answer = client.patch(
        f"/v1/profiles/{uuid.uuid4()}", json={"name": "Ghost"}, headers=device.auth
    )

    assert_problem(answer, 404, "profile_not_found")


def test_setting_changing_or_removing_a_pin_needs_the_account_password(
    client: httpx.Client,
) -> None:
    owner, kid = account_with_devices(client, 2).devices
    ben = create(client, owner, name="Ben", pin=PIN).json()
    url = f"/v1/profiles/{ben['profile_id']}"

    # The kid's tablet, signed in, does not know the account password.
    for body in (
        {"pin": None},
        {"pin": "0000"},
        {"pin": None, "password": "a good guess"},
        {"pin": "0000", "password": "another guess"},
    ):
        refused = client.patch(url, json=body, headers=kid.auth)
        assert_problem(refused, 403, "wrong_password")
    assert {**ben, "locked": True} in profiles(client, owner)
    # A rename needs no password, and leaves the lock alone.
    renamed = client.patch(url, json={"name": "Benny"}, headers=kid.auth)
    assert renamed.json() == {**ben, "name": "Benny", "locked": True}

    changed = client.patch(url, json={"pin": "2468", "password": PASSWORD}, headers=owner.auth)
    assert changed.status_code == 200, changed.text
    removed = client.patch(url, json={"pin": None, "password": PASSWORD}, headers=owner.auth)
    assert removed.json()["locked"] is False

    events = activity(client, owner)
    wrong = [e for e in events if e["kind"] == "password_check_failed"]
    # Every wrong password is logged (no password at all is no guess).
    assert [e["device_name"] for e in wrong] == [kid.name] * 2
    pins = [e for e in events if e["kind"] == "profile_pin_changed"]
    assert [(e["device_name"], e["detail"]["lock"]) for e in pins] == [
        (owner.name, "removed"),
        (owner.name, "set"),
    ]
    assert PASSWORD not in str(events)


def test_wrong_passwords_for_a_pin_change_are_throttled_per_device(client: httpx.Client) -> None:
    owner, kid = account_with_devices(client, 2).devices
    ben = create(client, owner, name="Ben", pin=PIN).json()
    url = f"/v1/profiles/{ben['profile_id']}"
    for n in range(5):  # sign_in_limit_per_device's default: 5 a minute
        guess = {"pin": None, "password": f"guess {n}"}
        assert_problem(client.patch(url, json=guess, headers=kid.auth), 403, "wrong_password")

    paused = client.patch(url, json={"pin": None, "password": PASSWORD}, headers=kid.auth)
    assert_problem(paused, 429, "too_many_attempts")
    assert 1 <= int(paused.headers["Retry-After"]) <= 60
    assert {**ben, "locked": True} in profiles(client, owner)
    # The owner's phone has a count of its own.
    own = client.patch(url, json={"pin": None, "password": PASSWORD}, headers=owner.auth)
    assert own.status_code == 200, own.text
