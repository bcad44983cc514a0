"""Plain functions that drive the HTTP API the way an app would, so tests read as journeys."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

PROBLEM_JSON = "application/problem+json"
PASSWORD = "correct horse battery staple"
CHROME_ON_MACOS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)


def new_email(prefix: str = "viewer") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"


@dataclass
class Device:
    """One signed-in device: what an app keeps after signing in."""

    email: str
    name: str
    type: str
    access_token: str
    refresh_token: str
    device_id: str
    session_id: str
    history: list[str] = field(default_factory=list)
    # What proves device_id at the next sign-in (sign_in(..., device=this)).
    device_secret: str | None = None

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}

    @property
    def tokens(self) -> tuple[str, str]:
        return self.access_token, self.refresh_token


@dataclass
class Account:
    email: str
    password: str
    account_id: str
    devices: list[Device] = field(default_factory=list)


def sign_up(
    client: httpx.Client, email: str | None = None, password: str = PASSWORD, plan: str = "premium"
) -> Account:
    email = email or new_email()
    answer = client.post(
        "/v1/auth/sign-up", json={"email": email, "password": password, "plan": plan}
    )
    assert answer.status_code == 201, answer.text
    return Account(email=email, password=password, account_id=answer.json()["account_id"])


def sign_in(
    client: httpx.Client,
    account: Account | str,
    name: str | None = "Living Room TV",
    type_: str = "smart_tv",
    *,
    password: str | None = None,
    device_id: str | None = None,
    device_secret: str | None = None,
    headers: dict[str, str] | None = None,
) -> Device:
    email = account.email if isinstance(account, Account) else account
    if password is None:
        password = account.password if isinstance(account, Account) else PASSWORD
    device: dict[str, Any] = {"type": type_}
    if name is not None:
        device["name"] = name
    if device_id is not None:
        device["device_id"] = device_id
    if device_secret is not None:
        device["device_secret"] = device_secret
    answer = client.post(
        "/v1/auth/sign-in",
        json={"email": email, "password": password, "device": device},
        headers=headers,
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    signed_in = Device(
        email=email,
        name=name or "",
        type=type_,
        access_token=body["access_token"],
        refresh_token=body["refresh_token"],
        device_id=body["device_id"],
        session_id=body["session_id"],
        device_secret=body["device_secret"],
    )
    if isinstance(account, Account):
        account.devices.append(signed_in)
    return signed_in


DEVICE_KINDS = (
    ("Hotel TV", "smart_tv"),
    ("Ana's phone", "phone"),
    ("Living room console", "game_console"),
    ("Work laptop", "web_browser"),
    ("Kitchen tablet", "tablet"),
    ("Bedroom stick", "streaming_stick"),
)


def account_with_devices(client: httpx.Client, count: int, plan: str = "premium") -> Account:
    """A new account with `count` devices of different types signed in, in that order."""
    account = sign_up(client, plan=plan)
    for name, type_ in DEVICE_KINDS[:count]:
        sign_in(client, account, name, type_)
    return account


def refresh(client: httpx.Client, device: Device) -> httpx.Response:
    """Rotate the device's tokens; on success the device holds the new pair."""
    answer = client.post("/v1/auth/refresh", json={"refresh_token": device.refresh_token})
    if answer.status_code == 200:
        body = answer.json()
        device.history.append(device.refresh_token)
        device.access_token, device.refresh_token = body["access_token"], body["refresh_token"]
    return answer


def assert_problem(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """An RFC 9457 answer with this status and stable code; returns its body."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM_JSON), answer.headers
    body: dict[str, Any] = answer.json()
    assert body["code"] == code, body
    assert body["status"] == status
    assert body["title"]
    return body


def assert_signed_out(client: httpx.Client, device: Device, reason: str) -> None:
    """Both of the device's credentials are refused, each saying why."""
    by_access = client.get("/v1/account", headers=device.auth)
    assert assert_problem(by_access, 401, "signed_out")["reason"] == reason
    assert "WWW-Authenticate" in by_access.headers
    by_refresh = client.post("/v1/auth/refresh", json={"refresh_token": device.refresh_token})
    assert assert_problem(by_refresh, 401, "signed_out")["reason"] == reason


def assert_signed_in(client: httpx.Client, device: Device) -> None:
    """The device's access token works, and so does its refresh token (which it then rotates)."""
    listing = client.get("/v1/devices", headers=device.auth)
    assert listing.status_code == 200, listing.text
    current = [d for d in listing.json() if d["current"]]
    assert [d["device_id"] for d in current] == [device.device_id]
    answer = refresh(client, device)
    assert answer.status_code == 200, answer.text
    assert client.get("/v1/account", headers=device.auth).status_code == 200


def device_ids(client: httpx.Client, device: Device) -> list[str]:
    """What "Manage access and devices" lists, as seen from `device`."""
    answer = client.get("/v1/devices", headers=device.auth)
    assert answer.status_code == 200, answer.text
    return [d["device_id"] for d in answer.json()]


def activity(client: httpx.Client, device: Device, limit: int = 100) -> list[dict[str, Any]]:
    answer = client.get("/v1/account/activity", params={"limit": limit}, headers=device.auth)
    assert answer.status_code == 200, answer.text
    events: list[dict[str, Any]] = answer.json()["events"]
    return events
