"""GET /v1/devices, "Manage access and devices", and what another account's ids can do (nothing)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import httpx

from tests.support.api import (
    account_with_devices,
    activity,
    assert_problem,
    assert_signed_in,
    assert_signed_out,
    device_ids,
    sign_in,
    sign_up,
)
from tests.support.live_server import LiveServer

DEVICE_FIELDS = {
    "device_id",
    "session_id",
    "name",
    "type",
    "current",
    "signed_in_at",
    "last_seen_at",
    "location",
    "last_activity",
    "streaming",
    "downloads",
}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_the_list_shows_every_device_most_recent_first_with_the_caller_marked(
    server: LiveServer, client: httpx.Client
) -> None:
    account = sign_up(client)
    for name, type_ in [("Hotel TV", "smart_tv"), ("Phone", "phone"), ("Console", "game_console")]:
        sign_in(client, account, name, type_)
        server.clock.advance(timedelta(minutes=1))
    tv, phone, console = account.devices

    answer = client.get("/v1/devices", headers=phone.auth)

    assert answer.status_code == 200
    listing = answer.json()
    assert [d["device_id"] for d in listing] == [phone.device_id, console.device_id, tv.device_id]
    assert [d["current"] for d in listing] == [True, False, False]
    seen = [at(d["last_seen_at"]) for d in listing]
    assert seen == sorted(seen, reverse=True)
    assert seen[0] == server.clock.now()
    for entry, device in zip(listing, [phone, console, tv], strict=True):
        assert set(entry) >= DEVICE_FIELDS
        assert (entry["session_id"], entry["name"], entry["type"]) == (
            device.session_id,
            device.name,
            device.type,
        )
        assert at(entry["signed_in_at"]) <= at(entry["last_seen_at"])
        assert entry["location"] is None  # no GeoIP database in tests
        assert entry["last_activity"] is None
        assert entry["streaming"] is False
        assert entry["downloads"] == 0


def test_each_device_sees_itself_as_the_current_one(client: httpx.Client) -> None:
    account = account_with_devices(client, 3)

    for device in account.devices:
        listing = client.get("/v1/devices", headers=device.auth).json()
        assert [d["device_id"] for d in listing if d["current"]] == [device.device_id]


def test_another_accounts_device_cannot_be_signed_out(client: httpx.Client) -> None:
    mine, theirs = account_with_devices(client, 1), account_with_devices(client, 2)
    (me,) = mine.devices
    their_tv = theirs.devices[0]
    their_events = len(activity(client, theirs.devices[1]))

    answer = client.post(f"/v1/devices/{their_tv.device_id}/sign-out", headers=me.auth)

    assert_problem(answer, 404, "device_not_found")
    assert_signed_in(client, their_tv)
    assert their_tv.device_id in device_ids(client, theirs.devices[1])
    assert len(activity(client, theirs.devices[1])) == their_events
    assert their_tv.device_id not in device_ids(client, me)


def test_an_unknown_device_is_not_found_and_nothing_changes(client: httpx.Client) -> None:
    account = account_with_devices(client, 3)
    caller = account.devices[0]
    before = client.get("/v1/devices", headers=caller.auth).json()
    events_before = activity(client, caller)

    answer = client.post(f"/v1/devices/{uuid.uuid4()}/sign-out", headers=caller.auth)

    assert_problem(answer, 404, "device_not_found")
    after = client.get("/v1/devices", headers=caller.auth).json()
    assert [d["session_id"] for d in after] == [d["session_id"] for d in before]
    assert activity(client, caller) == events_before
    for device in account.devices:
        assert_signed_in(client, device)


def test_a_device_that_signs_in_again_keeps_its_identity_with_a_new_session(
    client: httpx.Client,
) -> None:
    account = account_with_devices(client, 2)
    tv, phone = account.devices
    client.post("/v1/auth/sign-out", headers=tv.auth)

    again = sign_in(
        client, account, None, "smart_tv", device_id=tv.device_id, device_secret=tv.device_secret
    )

    assert again.device_id == tv.device_id
    assert again.session_id != tv.session_id
    listing = client.get("/v1/devices", headers=phone.auth).json()
    assert sorted((d["device_id"], d["session_id"]) for d in listing) == sorted(
        [(tv.device_id, again.session_id), (phone.device_id, phone.session_id)]
    )
    assert [d["name"] for d in listing if d["device_id"] == tv.device_id] == ["Hotel TV"]


def test_a_device_signing_in_again_can_rename_itself(client: httpx.Client) -> None:
    account = account_with_devices(client, 1)
    (tv,) = account.devices
    client.post("/v1/auth/sign-out", headers=tv.auth)

    again = sign_in(
        client,
        account,
        "Bedroom TV",
        "smart_tv",
        device_id=tv.device_id,
        device_secret=tv.device_secret,
    )

    listing = client.get("/v1/devices", headers=again.auth).json()
    assert [(d["device_id"], d["name"]) for d in listing] == [(tv.device_id, "Bedroom TV")]


def test_another_accounts_device_id_cannot_be_taken_over_at_sign_in(
    client: httpx.Client,
) -> None:
    theirs = account_with_devices(client, 1)
    (their_tv,) = theirs.devices
    mine = sign_up(client)

    mine_tv = sign_in(client, mine, "My TV", "smart_tv", device_id=their_tv.device_id)

    assert mine_tv.device_id != their_tv.device_id
    assert device_ids(client, mine_tv) == [mine_tv.device_id]
    assert device_ids(client, their_tv) == [their_tv.device_id]
    assert_signed_in(client, their_tv)


def test_a_device_signing_in_again_while_signed_in_is_listed_once(client: httpx.Client) -> None:
    account = account_with_devices(client, 2)
    tv, phone = account.devices

    again = sign_in(
        client, account, None, "smart_tv", device_id=tv.device_id, device_secret=tv.device_secret
    )

    assert again.device_id == tv.device_id
    assert sorted(device_ids(client, phone)) == sorted([tv.device_id, phone.device_id])
    # Its earlier session ended as if it had signed out there; the new one works.
    assert_signed_out(client, tv, "signed_out_here")
    assert_signed_in(client, again)


def test_a_device_id_without_its_secret_gets_a_new_device_and_takes_nothing_over(
    client: httpx.Client,
) -> None:
    account = account_with_devices(client, 2)
    tv, phone = account.devices
    # Someone who knows the password and read the TV's id off the device list.
    for secret in (None, "not-the-secret", phone.device_secret):
        intruder = sign_in(
            client, account, "Hotel TV", "smart_tv", device_id=tv.device_id, device_secret=secret
        )
        assert intruder.device_id != tv.device_id
    assert_signed_in(client, tv)  # the TV's session was not ended by the intruder's sign-in
    listing = client.get("/v1/devices", headers=phone.auth).json()
    assert [d["session_id"] for d in listing if d["device_id"] == tv.device_id] == [tv.session_id]


def test_a_device_secret_works_once_the_next_sign_in_gives_another(client: httpx.Client) -> None:
    account = account_with_devices(client, 1)
    (tv,) = account.devices
    again = sign_in(
        client, account, None, "smart_tv", device_id=tv.device_id, device_secret=tv.device_secret
    )
    assert again.device_id == tv.device_id
    assert again.device_secret not in (None, tv.device_secret)
    replayed = sign_in(
        client, account, None, "smart_tv", device_id=tv.device_id, device_secret=tv.device_secret
    )
    assert replayed.device_id != tv.device_id
    assert_signed_in(client, again)
