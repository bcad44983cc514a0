"""GET /v1/account: the account page, current after every change whoever made it."""

from __future__ import annotations

import httpx

from screengate.services.accounts import change_plan
from tests.support.api import account_with_devices, assert_problem
from tests.support.live_server import LiveServer


def test_the_account_page_shows_the_account_its_plan_and_its_profiles(
    client: httpx.Client,
) -> None:
    account = account_with_devices(client, 1, plan="standard")

    answer = client.get("/v1/account", headers=account.devices[0].auth)

    assert answer.status_code == 200
    page = answer.json()
    assert page["account_id"] == account.account_id
    assert page["email"] == account.email
    assert page["plan"] == {
        "name": "standard",
        "max_streams": 2,
        "max_download_devices": 2,
        "max_downloads_per_device": 100,
    }
    assert len(page["profiles"]) == 1


def test_the_account_page_shows_profile_changes_at_once_on_every_device(
    client: httpx.Client,
) -> None:
    account = account_with_devices(client, 2)
    tv, phone = account.devices
    client.get("/v1/account", headers=phone.auth)  # the phone has seen the page before

    created = client.post("/v1/profiles", json={"name": "Kids", "kids": True}, headers=tv.auth)
    kids = created.json()
    profiles = client.get("/v1/account", headers=phone.auth).json()["profiles"]
    assert kids in profiles

    lock = {"pin": "2468", "password": account.password}  # a PIN change needs the password
    client.patch(f"/v1/profiles/{kids['profile_id']}", json=lock, headers=tv.auth)
    profiles = client.get("/v1/account", headers=phone.auth).json()["profiles"]
    assert {**kids, "locked": True} in profiles

    client.delete(f"/v1/profiles/{kids['profile_id']}", headers=tv.auth)
    profiles = client.get("/v1/account", headers=phone.auth).json()["profiles"]
    assert kids["profile_id"] not in [p["profile_id"] for p in profiles]


def test_the_account_page_shows_a_plan_change_by_support_at_once(
    server: LiveServer, client: httpx.Client
) -> None:
    account = account_with_devices(client, 1, plan="basic")
    (tv,) = account.devices
    assert client.get("/v1/account", headers=tv.auth).json()["plan"]["name"] == "basic"

    server.run(change_plan(server.ports, account.email, "premium"))

    plan = client.get("/v1/account", headers=tv.auth).json()["plan"]
    assert (plan["name"], plan["max_streams"]) == ("premium", 4)


def test_the_account_page_is_refused_once_the_device_is_signed_out(
    client: httpx.Client,
) -> None:
    account = account_with_devices(client, 2)
    tv, phone = account.devices
    for device in (tv, phone):
        assert client.get("/v1/account", headers=device.auth).status_code == 200

    client.post(f"/v1/devices/{tv.device_id}/sign-out", headers=phone.auth)

    answer = client.get("/v1/account", headers=tv.auth)
    assert assert_problem(answer, 401, "signed_out")["reason"] == "signed_out_remotely"
    assert client.get("/v1/account", headers=phone.auth).status_code == 200
