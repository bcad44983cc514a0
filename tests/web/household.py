"""Setting the scene through the JSON API: accounts, profiles, other devices and their streams."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.api import PASSWORD, Account, Device, sign_in, sign_up


def household(
    api: httpx.Client, plan: str = "premium", email: str | None = None, password: str = PASSWORD
) -> tuple[Account, Device]:
    """A new account and a TV signed in to it through the API (the "other device")."""
    created = sign_up(api, email, password, plan)
    return created, sign_in(api, created, "Living Room TV", "smart_tv")


def profiles(api: httpx.Client, device: Device) -> list[dict[str, Any]]:
    answer = api.get("/v1/profiles", headers=device.auth)
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()
    return found


def rename_first_profile(api: httpx.Client, device: Device, name: str) -> str:
    first = profiles(api, device)[0]
    answer = api.patch(
        f"/v1/profiles/{first['profile_id']}", json={"name": name}, headers=device.auth
    )
    assert answer.status_code == 200, answer.text
    return str(first["profile_id"])


def add_profile(api: httpx.Client, device: Device, name: str, pin: str | None = None) -> str:
    body: dict[str, Any] = {"name": name, **({"pin": pin} if pin else {})}
    answer = api.post("/v1/profiles", json=body, headers=device.auth)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["profile_id"])


def play(api: httpx.Client, device: Device, profile_id: str, title_id: str) -> str:
    answer = api.post(
        "/v1/streams", json={"profile_id": profile_id, "title_id": title_id}, headers=device.auth
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["stream_id"])


def streaming_devices(api: httpx.Client, device: Device) -> list[str]:
    """The names of the devices holding the account's screens, as the API sees them."""
    answer = api.get("/v1/streams", headers=device.auth)
    assert answer.status_code == 200, answer.text
    return [str(s["device_name"]) for s in answer.json()]


def refused_because(api: httpx.Client, device: Device) -> str | None:
    """Why the device's credential is refused now (its sign-out reason), or None if it works."""
    answer = api.get("/v1/account", headers=device.auth)
    if answer.status_code == 200:
        return None
    assert answer.status_code == 401, answer.text
    return str(answer.json().get("reason"))
