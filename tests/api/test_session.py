"""GET /v1/auth/session: is this device still signed in? The revocation check and nothing else."""

from __future__ import annotations

import httpx

from tests.support.api import account_with_devices, assert_problem


def test_a_signed_in_device_learns_who_it_is(client: httpx.Client) -> None:
    tv, _ = account_with_devices(client, 2).devices
    answer = client.get("/v1/auth/session", headers=tv.auth)
    assert answer.status_code == 200
    body = answer.json()
    assert (body["device_id"], body["session_id"]) == (tv.device_id, tv.session_id)
    assert body["access_token_expires_at"].endswith("Z")


def test_a_signed_out_device_is_told_why(client: httpx.Client) -> None:
    tv, phone = account_with_devices(client, 2).devices
    client.post(f"/v1/devices/{tv.device_id}/sign-out", headers=phone.auth)
    problem = assert_problem(client.get("/v1/auth/session", headers=tv.auth), 401, "signed_out")
    assert problem["reason"] == "signed_out_remotely"
