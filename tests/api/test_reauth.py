""" "Confirm it's you": changes to who can get in need a proof from the last five minutes on
this session; a request carrying the right password needs none; sign-outs never do."""

from __future__ import annotations

from datetime import timedelta

import httpx

from tests.support.api import PASSWORD, sign_in, sign_up
from tests.support.live_server import LiveServer
from tests.support.two_step import signed_up_with_two_step

LATER = timedelta(minutes=5, seconds=1)


def _refused(answer: httpx.Response, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.json()["code"] == code


def test_adding_a_passkey_after_five_minutes_asks_to_confirm_and_then_goes_through(
    client: httpx.Client, server: LiveServer
) -> None:
    phone = sign_in(client, sign_up(client), "Phone", "phone")
    server.clock.advance(LATER)
    asked = client.post("/v1/account/passkeys/options", headers=phone.auth)
    _refused(asked, 403, "reauth_required")
    assert asked.json()["methods"] == ["password"]
    wrong = client.post("/v1/auth/reauth", json={"password": "not it at all"}, headers=phone.auth)
    _refused(wrong, 403, "wrong_password")
    proved = client.post("/v1/auth/reauth", json={"password": PASSWORD}, headers=phone.auth)
    assert proved.status_code == 204, proved.text
    options = client.post("/v1/account/passkeys/options", headers=phone.auth)
    assert options.status_code == 200, options.text
    # Five minutes on, the proof has run out again.
    server.clock.advance(LATER)
    again = client.post("/v1/account/passkeys/options", headers=phone.auth)
    _refused(again, 403, "reauth_required")


def test_the_password_change_carries_its_own_proof_and_sign_outs_need_none(
    client: httpx.Client, server: LiveServer
) -> None:
    account = sign_up(client)
    phone = sign_in(client, account, "Phone", "phone")
    server.clock.advance(LATER)
    changed = client.post(
        "/v1/account/password",
        json={
            "current_password": PASSWORD,
            "new_password": "another horse battery",
            "sign_out_all_devices": True,
        },
        headers=phone.auth,
    )
    assert changed.status_code == 204, changed.text
    everywhere = client.post(
        "/v1/devices/sign-out-all", json={"keep_this_device": False}, headers=phone.auth
    )
    assert everywhere.status_code == 200, everywhere.text


def test_turning_two_step_off_after_five_minutes_needs_a_proof_a_code_serves_once(
    client: httpx.Client, server: LiveServer
) -> None:
    account = sign_up(client)
    phone, two_step = signed_up_with_two_step(client, account, server.clock.now())
    server.clock.advance(LATER)
    asked = client.delete("/v1/account/two-step/totp", headers=phone.auth)
    _refused(asked, 403, "reauth_required")
    assert asked.json()["methods"] == ["password", "totp"]
    codes = client.post("/v1/account/two-step/recovery-codes", headers=phone.auth)
    _refused(codes, 403, "reauth_required")
    code = two_step.code(server.clock.now())
    proved = client.post("/v1/auth/reauth", json={"code": code}, headers=phone.auth)
    assert proved.status_code == 204, proved.text
    replayed = client.post("/v1/auth/reauth", json={"code": code}, headers=phone.auth)
    _refused(replayed, 400, "invalid_code")
    off = client.delete("/v1/account/two-step/totp", headers=phone.auth)
    assert off.status_code == 204, off.text


def test_a_proof_holds_for_its_own_session_only(client: httpx.Client, server: LiveServer) -> None:
    account = sign_up(client)
    phone = sign_in(client, account, "Phone", "phone")
    laptop = sign_in(client, account, "Laptop", "pc_app")
    server.clock.advance(LATER)
    proved = client.post("/v1/auth/reauth", json={"password": PASSWORD}, headers=phone.auth)
    assert proved.status_code == 204
    assert client.post("/v1/account/passkeys/options", headers=phone.auth).status_code == 200
    other = client.post("/v1/account/passkeys/options", headers=laptop.auth)
    _refused(other, 403, "reauth_required")


def test_wrong_proofs_are_throttled_and_logged(client: httpx.Client) -> None:
    account = sign_up(client)
    phone = sign_in(client, account, "Phone", "phone")
    answers = [
        client.post("/v1/auth/reauth", json={"password": f"wrong {n}"}, headers=phone.auth)
        for n in range(6)
    ]
    assert [a.status_code for a in answers] == [403] * 5 + [429]
    right = client.post("/v1/auth/reauth", json={"password": PASSWORD}, headers=phone.auth)
    assert right.status_code == 429
    events = client.get("/v1/account/activity", headers=phone.auth).json()["events"]
    assert [e["kind"] for e in events].count("reauth_failed") == 5
