"""Two-step sign-in, driven the way an app would: enrol, and sign in with a second step."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from screengate.domain.two_step import TOTP_PERIOD, code_at
from tests.support.api import Account, Device, sign_in

STEP = timedelta(seconds=TOTP_PERIOD)


@dataclass
class TwoStep:
    secret: str
    recovery_codes: list[str] = field(default_factory=list)

    def code(self, at: datetime) -> str:
        return code_at(self.secret, at)


def enable_two_step(client: httpx.Client, device: Device, now: datetime) -> TwoStep:
    """Turn two-step on from a freshly signed-in device (a sign-in is a fresh proof)."""
    started = client.post("/v1/account/two-step/totp", headers=device.auth)
    assert started.status_code == 201, started.text
    secret = started.json()["secret"]
    confirmed = client.post(
        "/v1/account/two-step/totp/confirm",
        json={"code": code_at(secret, now)},
        headers=device.auth,
    )
    assert confirmed.status_code == 200, confirmed.text
    return TwoStep(secret, confirmed.json()["recovery_codes"])


def password_step(
    client: httpx.Client, account: Account, type_: str = "phone", name: str = "Phone"
) -> dict[str, Any]:
    """The password alone: the 401 second_factor_required problem, as a dict."""
    answer = client.post(
        "/v1/auth/sign-in",
        json={
            "email": account.email,
            "password": account.password,
            "device": {"type": type_, "name": name},
        },
    )
    assert answer.status_code == 401, answer.text
    body: dict[str, Any] = answer.json()
    assert body["code"] == "second_factor_required", body
    return body


def second_step(client: httpx.Client, challenge: str, **proof: str) -> httpx.Response:
    return client.post("/v1/auth/sign-in/second-factor", json={"challenge": challenge, **proof})


def signed_up_with_two_step(
    client: httpx.Client, account: Account, now: datetime
) -> tuple[Device, TwoStep]:
    phone = sign_in(client, account, "Ana's phone", "phone")
    return phone, enable_two_step(client, phone, now)
