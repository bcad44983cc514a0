"""Every way to sign out takes effect the moment the call returns, and touches nothing else.

Each test signs several devices into an account (and another account beside it), signs some out,
then proves with the very next requests that the signed-out devices' access *and* refresh tokens
are refused with `signed_out` and the right reason, while every other device keeps working.
"""

from __future__ import annotations

import httpx

from screengate.domain.ids import DeviceId
from screengate.services.sign_out import operator_sign_out
from tests.support.api import (
    PASSWORD,
    Account,
    Device,
    account_with_devices,
    activity,
    assert_problem,
    assert_signed_in,
    assert_signed_out,
    device_ids,
    refresh,
    sign_in,
)
from tests.support.live_server import LiveServer

NEW_PASSWORD = "a brand new pass phrase"


def a_bystander(client: httpx.Client) -> Account:
    """Another account, with two devices, that no sign-out here may touch."""
    return account_with_devices(client, 2)


def assert_untouched(client: httpx.Client, *devices: Device) -> None:
    for device in devices:
        assert_signed_in(client, device)


def test_signing_out_here_refuses_this_device_at_once(client: httpx.Client) -> None:
    account, other = account_with_devices(client, 3), a_bystander(client)
    tv, phone, console = account.devices

    answer = client.post("/v1/auth/sign-out", headers=tv.auth)

    assert answer.status_code == 204
    assert answer.content == b""
    assert_signed_out(client, tv, "signed_out_here")
    assert_untouched(client, phone, console, *other.devices)
    assert tv.device_id not in device_ids(client, phone)


def test_signing_out_here_twice_says_the_device_is_already_signed_out(
    client: httpx.Client,
) -> None:
    account = account_with_devices(client, 1)
    (tv,) = account.devices
    client.post("/v1/auth/sign-out", headers=tv.auth)

    again = client.post("/v1/auth/sign-out", headers=tv.auth)

    assert assert_problem(again, 401, "signed_out")["reason"] == "signed_out_here"


def test_signing_out_one_device_remotely_refuses_only_that_device(client: httpx.Client) -> None:
    account, other = account_with_devices(client, 3), a_bystander(client)
    hotel_tv, phone, console = account.devices

    answer = client.post(f"/v1/devices/{hotel_tv.device_id}/sign-out", headers=phone.auth)

    assert answer.status_code == 200
    assert answer.json()["signed_out"] == [hotel_tv.device_id]
    assert_signed_out(client, hotel_tv, "signed_out_remotely")
    assert hotel_tv.device_id not in device_ids(client, phone)
    assert sorted(device_ids(client, phone)) == sorted([phone.device_id, console.device_id])
    assert_untouched(client, phone, console, *other.devices)
    logged = [e for e in activity(client, phone) if e["kind"] == "signed_out"]
    assert logged[0]["device_id"] == hotel_tv.device_id
    assert logged[0]["detail"]["reason"] == "signed_out_remotely"
    assert logged[0]["detail"]["by_device_id"] == phone.device_id


def test_signing_out_a_device_twice_finds_no_device_the_second_time(
    client: httpx.Client,
) -> None:
    account = account_with_devices(client, 2)
    hotel_tv, phone = account.devices
    client.post(f"/v1/devices/{hotel_tv.device_id}/sign-out", headers=phone.auth)

    again = client.post(f"/v1/devices/{hotel_tv.device_id}/sign-out", headers=phone.auth)

    assert_problem(again, 404, "device_not_found")
    assert_signed_out(client, hotel_tv, "signed_out_remotely")


def test_signing_out_of_all_devices_signs_out_every_device_this_one_too(
    client: httpx.Client,
) -> None:
    account, other = account_with_devices(client, 4), a_bystander(client)
    caller = account.devices[1]

    answer = client.post(
        "/v1/devices/sign-out-all", json={"keep_this_device": False}, headers=caller.auth
    )

    assert answer.status_code == 200
    listed = answer.json()["signed_out"]
    assert sorted((d["device_id"], d["name"]) for d in listed) == sorted(
        (d.device_id, d.name) for d in account.devices
    )
    assert all(set(d) >= {"device_id", "name", "notified"} for d in listed)
    assert all(isinstance(d["notified"], bool) for d in listed)
    for device in account.devices:
        assert_signed_out(client, device, "signed_out_everywhere")
    assert_untouched(client, *other.devices)


def test_signing_out_of_all_devices_without_a_body_includes_this_device(
    client: httpx.Client,
) -> None:
    account = account_with_devices(client, 2)

    answer = client.post("/v1/devices/sign-out-all", headers=account.devices[0].auth)

    assert answer.status_code == 200
    assert len(answer.json()["signed_out"]) == 2
    for device in account.devices:
        assert_signed_out(client, device, "signed_out_everywhere")


def test_signing_out_of_all_devices_can_keep_this_one(client: httpx.Client) -> None:
    account, other = account_with_devices(client, 4), a_bystander(client)
    caller, *others = account.devices

    answer = client.post(
        "/v1/devices/sign-out-all", json={"keep_this_device": True}, headers=caller.auth
    )

    assert answer.status_code == 200
    assert sorted(d["device_id"] for d in answer.json()["signed_out"]) == sorted(
        d.device_id for d in others
    )
    for device in others:
        assert_signed_out(client, device, "signed_out_everywhere")
    assert device_ids(client, caller) == [caller.device_id]
    assert_untouched(client, caller, *other.devices)


def change_password(
    client: httpx.Client, device: Device, new: str = NEW_PASSWORD, **flags: bool
) -> httpx.Response:
    body = {"current_password": PASSWORD, "new_password": new, **flags}
    return client.post("/v1/account/password", json=body, headers=device.auth)


def test_changing_the_password_signs_out_every_other_device(client: httpx.Client) -> None:
    account, other = account_with_devices(client, 3), a_bystander(client)
    caller, *others = account.devices

    answer = change_password(client, caller)

    assert answer.status_code == 204
    for device in others:
        assert_signed_out(client, device, "password_changed")
    assert_untouched(client, caller, *other.devices)
    old = client.post(
        "/v1/auth/sign-in",
        json={"email": account.email, "password": PASSWORD, "device": {"type": "phone"}},
    )
    assert_problem(old, 401, "invalid_credentials")
    sign_in(client, account.email, password=NEW_PASSWORD)
    kinds = [e["kind"] for e in activity(client, caller)]
    assert "password_changed" in kinds


def test_changing_the_password_can_leave_the_other_devices_signed_in(
    client: httpx.Client,
) -> None:
    account = account_with_devices(client, 3)
    caller, *others = account.devices

    answer = change_password(client, caller, sign_out_all_devices=False)

    assert answer.status_code == 204
    assert_untouched(client, caller, *others)
    sign_in(client, account.email, password=NEW_PASSWORD)


def test_a_wrong_current_password_changes_nothing(client: httpx.Client) -> None:
    account = account_with_devices(client, 2)
    caller, other = account.devices

    answer = client.post(
        "/v1/account/password",
        json={"current_password": "not it at all", "new_password": NEW_PASSWORD},
        headers=caller.auth,
    )

    assert_problem(answer, 403, "wrong_password")
    assert_untouched(client, caller, other)
    sign_in(client, account)


def test_a_weak_new_password_changes_nothing(client: httpx.Client) -> None:
    account = account_with_devices(client, 2)
    caller, other = account.devices

    answer = change_password(client, caller, new="password")

    body = assert_problem(answer, 422, "weak_password")
    assert [e["field"] for e in body["errors"]] == ["new_password"]
    assert_untouched(client, caller, other)
    sign_in(client, account)


def test_a_replayed_refresh_token_signs_that_device_out(client: httpx.Client) -> None:
    account, other = account_with_devices(client, 2), a_bystander(client)
    stolen, phone = account.devices
    spent = stolen.refresh_token

    rotated = refresh(client, stolen)
    assert rotated.status_code == 200
    assert set(rotated.json()) >= {"access_token", "refresh_token", "token_type", "expires_in"}
    assert spent not in stolen.tokens
    assert client.get("/v1/account", headers=stolen.auth).status_code == 200

    replay = client.post("/v1/auth/refresh", json={"refresh_token": spent})

    assert assert_problem(replay, 401, "signed_out")["reason"] == "token_reuse"
    # The newest pair, held by whoever had the device's tokens, is refused too.
    assert_signed_out(client, stolen, "token_reuse")
    assert_untouched(client, phone, *other.devices)
    reuse = [e for e in activity(client, phone) if e["kind"] == "token_reuse_detected"]
    assert [e["device_id"] for e in reuse] == [stolen.device_id]


def test_an_access_token_is_no_refresh_token(client: httpx.Client) -> None:
    account = account_with_devices(client, 1)
    (tv,) = account.devices

    answer = client.post("/v1/auth/refresh", json={"refresh_token": tv.access_token})

    assert_problem(answer, 401, "invalid_token")
    assert_signed_in(client, tv)


def test_the_support_desk_signs_out_one_device(server: LiveServer, client: httpx.Client) -> None:
    account, other = account_with_devices(client, 3), a_bystander(client)
    console, phone, tv = account.devices

    receipt = server.run(
        operator_sign_out(server.ports, account.email, DeviceId(console.device_id))
    )

    assert [d.device_id for d in receipt.devices] == [console.device_id]
    assert_signed_out(client, console, "operator")
    assert_untouched(client, phone, tv, *other.devices)
    logged = [e for e in activity(client, phone) if e["kind"] == "signed_out"]
    assert logged[0]["detail"]["reason"] == "operator"
    assert logged[0]["detail"]["by_device_name"] == "Customer support"


def test_the_support_desk_signs_out_every_device(server: LiveServer, client: httpx.Client) -> None:
    account, other = account_with_devices(client, 3), a_bystander(client)

    server.run(operator_sign_out(server.ports, account.email, None))

    for device in account.devices:
        assert_signed_out(client, device, "operator")
    assert_untouched(client, *other.devices)


def test_a_signed_out_device_signs_in_again_as_the_same_device(client: httpx.Client) -> None:
    account = account_with_devices(client, 2)
    tv, phone = account.devices
    client.post(f"/v1/devices/{tv.device_id}/sign-out", headers=phone.auth)

    again = sign_in(
        client,
        account,
        "Living Room TV",
        "smart_tv",
        device_id=tv.device_id,
        device_secret=tv.device_secret,
    )

    assert again.device_id == tv.device_id
    assert again.session_id != tv.session_id
    assert_signed_out(client, tv, "signed_out_remotely")
    assert_signed_in(client, again)
    assert sorted(device_ids(client, phone)) == sorted([tv.device_id, phone.device_id])
    assert PASSWORD not in str(activity(client, phone))
