"""Lifetimes on a frozen clock: revocation never waits for a token to expire, and expiry is exact.

The module's server has a clock of its own that only these tests move (always forward), and
each test signs in its own devices after any earlier jump.
"""

from __future__ import annotations

from datetime import timedelta

import httpx

from tests.support.api import (
    account_with_devices,
    assert_problem,
    assert_signed_in,
    assert_signed_out,
    device_ids,
    refresh,
    sign_in,
)
from tests.support.live_server import LiveServer

ACCESS = timedelta(minutes=15)
IDLE = timedelta(days=30)
ABSOLUTE = timedelta(days=365)
SECOND = timedelta(seconds=1)


def test_a_token_well_within_its_lifetime_is_refused_right_after_sign_out(
    server: LiveServer, client: httpx.Client
) -> None:
    account = account_with_devices(client, 2)
    tv, phone = account.devices
    for _ in range(3):  # warm every cache there is
        assert client.get("/v1/account", headers=tv.auth).status_code == 200
    server.clock.advance(timedelta(minutes=1))

    client.post(f"/v1/devices/{tv.device_id}/sign-out", headers=phone.auth)

    assert_signed_out(client, tv, "signed_out_remotely")


def test_an_access_token_works_until_the_last_second_of_its_lifetime(
    server: LiveServer, client: httpx.Client
) -> None:
    account = account_with_devices(client, 1)
    (tv,) = account.devices
    assert client.get("/v1/account", headers=tv.auth).status_code == 200

    server.clock.advance(ACCESS - SECOND)
    assert client.get("/v1/account", headers=tv.auth).status_code == 200
    server.clock.advance(SECOND)

    expired = client.get("/v1/account", headers=tv.auth)
    assert_problem(expired, 401, "token_expired")
    assert 'error="invalid_token"' in expired.headers["WWW-Authenticate"]


def test_an_expired_access_token_is_renewed_with_the_refresh_token(
    server: LiveServer, client: httpx.Client
) -> None:
    account = account_with_devices(client, 1)
    (tv,) = account.devices
    server.clock.advance(ACCESS + SECOND)
    assert_problem(client.get("/v1/account", headers=tv.auth), 401, "token_expired")

    answer = refresh(client, tv)

    assert answer.status_code == 200
    assert answer.json()["expires_in"] == int(ACCESS.total_seconds())
    assert client.get("/v1/account", headers=tv.auth).status_code == 200


def test_an_expired_access_token_of_a_signed_out_device_says_signed_out(
    server: LiveServer, client: httpx.Client
) -> None:
    account = account_with_devices(client, 2)
    tv, phone = account.devices
    client.post(f"/v1/devices/{tv.device_id}/sign-out", headers=phone.auth)
    server.clock.advance(ACCESS + SECOND)

    answer = client.get("/v1/account", headers=tv.auth)

    # Never a bare "expired": the device learns it was signed out, and why.
    assert assert_problem(answer, 401, "signed_out")["reason"] == "signed_out_remotely"


def test_a_device_idle_for_thirty_days_must_sign_in_again(
    server: LiveServer, client: httpx.Client
) -> None:
    account = account_with_devices(client, 1)
    (tv,) = account.devices
    server.clock.advance(IDLE)
    fresh = sign_in(client, account, "New phone", "phone")
    assert tv.device_id not in device_ids(client, fresh)

    answer = refresh(client, tv)

    assert assert_problem(answer, 401, "signed_out")["reason"] == "expired"
    assert_signed_out(client, tv, "expired")
    assert_signed_in(client, fresh)


def test_a_device_in_use_stays_signed_in_past_thirty_days(
    server: LiveServer, client: httpx.Client
) -> None:
    account = account_with_devices(client, 1)
    (tv,) = account.devices
    for _ in range(3):
        server.clock.advance(IDLE - timedelta(days=1))
        assert refresh(client, tv).status_code == 200

    assert_signed_in(client, tv)


def test_a_device_must_sign_in_again_after_a_year_however_active(
    server: LiveServer, client: httpx.Client
) -> None:
    account = account_with_devices(client, 1)
    (tv,) = account.devices
    step = timedelta(days=29)
    elapsed = timedelta(0)
    while elapsed + step < ABSOLUTE:
        server.clock.advance(step)
        elapsed += step
        assert refresh(client, tv).status_code == 200
    server.clock.advance(ABSOLUTE - elapsed)

    answer = refresh(client, tv)

    assert assert_problem(answer, 401, "signed_out")["reason"] == "expired"
