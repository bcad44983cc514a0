"""TV sign-in with a code (RFC 8628) through real HTTP: an OAuth library's device flow, each
error the RFC names, approving and denying from a phone, and what can go wrong on purpose."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from oauthlib.oauth2 import DeviceClient  # type: ignore[import-untyped]
from oauthlib.oauth2.rfc6749.errors import OAuth2Error  # type: ignore[import-untyped]

from tests.api.conftest import StartServer, api_client, settings_for
from tests.support.api import (
    Device,
    activity,
    assert_problem,
    assert_signed_in,
    assert_signed_out,
    refresh,
    sign_in,
    sign_up,
)
from tests.support.clock import FrozenClock
from tests.support.live_server import LiveServer, live_server

GRANT = "urn:ietf:params:oauth:grant-type:device_code"
USER_CODE = re.compile(r"^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$")
INTERVAL = timedelta(seconds=5)


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[LiveServer]:
    # Sweeps often, so a temporary sign-in's end shows within a test's patience; every test's
    # wrong codes come from 127.0.0.1, so the per-address limit has a test of its own.
    settings = settings_for(database_url, sweep_seconds=0.1, code_limit_per_client="1000/minute")
    with live_server(settings, FrozenClock()) as running:
        yield running


@pytest.fixture(scope="module")
def tv(server: LiveServer) -> Iterator[httpx.Client]:
    """A device's plain HTTP: its OAuth answers are RFC 6749 JSON, not problem+json."""
    with httpx.Client(base_url=server.base_url, timeout=15) as http:
        yield http


def ask_for_code(tv: httpx.Client, **extra: str) -> dict[str, Any]:
    answer = tv.post(
        "/oauth/device_authorization",
        data={"client_id": "tv-app", "device_name": "Hotel Room 412 TV", **extra},
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def poll(tv: httpx.Client, device_code: str) -> httpx.Response:
    return tv.post(
        "/oauth/token",
        data={"grant_type": GRANT, "device_code": device_code, "client_id": "tv-app"},
    )


def oauth_error(answer: httpx.Response) -> str:
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers["cache-control"] == "no-store"
    error: str = answer.json()["error"]
    return error


def approve(
    client: httpx.Client, phone: Device, user_code: str, until: datetime | None = None
) -> httpx.Response:
    body: dict[str, Any] = {"decision": "approve"}
    if until is not None:
        body["until"] = until.isoformat()
    return client.post(f"/v1/device-authorizations/{user_code}", json=body, headers=phone.auth)


def owner(client: httpx.Client) -> Device:
    return sign_in(client, sign_up(client), "Ana's phone", "phone")


def test_an_oauth_library_device_client_signs_the_tv_in_once_the_code_is_approved(
    server: LiveServer, client: httpx.Client, tv: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # 127.0.0.1 over plain http
    oauth = DeviceClient("tv-app")
    asked = urlsplit(oauth.prepare_request_uri(f"{server.base_url}/oauth/device_authorization"))
    started = tv.post(asked.path, data=dict(parse_qsl(asked.query)))
    assert started.status_code == 200, started.text
    code = started.json()
    phone = owner(client)
    tokens: dict[str, Any] | None = None
    for attempt in range(4):
        if attempt == 2:
            assert approve(client, phone, code["user_code"]).status_code == 200
        server.clock.advance(timedelta(seconds=code["interval"]))
        answer = tv.post(
            "/oauth/token",
            content=oauth.prepare_request_body(code["device_code"], include_client_id=True),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        try:
            tokens = dict(oauth.parse_request_body_response(answer.text))
            break
        except OAuth2Error as error:
            pending = error.error
        assert pending == "authorization_pending"
    assert tokens is not None
    assert tokens["token_type"] == "Bearer"
    assert tokens["refresh_token"]
    assert tokens["expires_in"] > 0
    signed_in = Device(
        "", "TV", "smart_tv", tokens["access_token"], tokens["refresh_token"],
        tokens["device_id"], tokens["session_id"],
    )  # fmt: skip
    assert_signed_in(client, signed_in)


def test_a_code_is_eight_consonants_shown_in_two_halves_with_the_rfc_fields(
    server: LiveServer, tv: httpx.Client
) -> None:
    code = ask_for_code(tv)
    assert USER_CODE.match(code["user_code"])
    assert code["verification_uri"] == f"{server.base_url}/activate"
    assert (
        code["verification_uri_complete"] == f"{server.base_url}/activate?code={code['user_code']}"
    )
    assert code["expires_in"] == 600
    assert code["interval"] == 5
    assert len(code["device_code"]) >= 40


def test_polling_faster_than_the_interval_is_told_to_slow_down_and_the_interval_grows(
    server: LiveServer, tv: httpx.Client
) -> None:
    code = ask_for_code(tv)
    assert oauth_error(poll(tv, code["device_code"])) == "authorization_pending"
    assert oauth_error(poll(tv, code["device_code"])) == "slow_down"
    server.clock.advance(INTERVAL)  # the old interval is no longer enough: 10 s now
    assert oauth_error(poll(tv, code["device_code"])) == "slow_down"
    server.clock.advance(timedelta(seconds=15))
    assert oauth_error(poll(tv, code["device_code"])) == "authorization_pending"


def test_a_denied_code_answers_access_denied(
    server: LiveServer, client: httpx.Client, tv: httpx.Client
) -> None:
    code = ask_for_code(tv)
    phone = owner(client)
    denied = client.post(
        f"/v1/device-authorizations/{code['user_code']}",
        json={"decision": "deny"},
        headers=phone.auth,
    )
    assert denied.status_code == 204
    server.clock.advance(INTERVAL)
    assert oauth_error(poll(tv, code["device_code"])) == "access_denied"
    kinds = [e["kind"] for e in activity(client, phone)]
    assert "device_code_denied" in kinds
    assert "device_code_requested" in kinds


def test_an_expired_code_answers_expired_token_and_cannot_be_approved(
    server: LiveServer, client: httpx.Client, tv: httpx.Client
) -> None:
    code = ask_for_code(tv)
    phone = owner(client)
    assert client.get(
        f"/v1/device-authorizations/{code['user_code']}", headers=phone.auth
    ).is_success
    server.clock.advance(timedelta(seconds=601))
    assert oauth_error(poll(tv, code["device_code"])) == "expired_token"
    assert_problem(approve(client, phone, code["user_code"]), 404, "code_not_found")
    kinds = [e["kind"] for e in _eventually(lambda: activity(client, phone), "device_code_expired")]
    assert "device_code_expired" in kinds


def test_a_code_hands_out_tokens_once_and_is_approved_once(
    server: LiveServer, client: httpx.Client, tv: httpx.Client
) -> None:
    code = ask_for_code(tv)
    phone = owner(client)
    assert approve(client, phone, code["user_code"]).status_code == 200
    assert_problem(approve(client, phone, code["user_code"]), 404, "code_not_found")
    server.clock.advance(INTERVAL)
    assert poll(tv, code["device_code"]).status_code == 200
    server.clock.advance(INTERVAL)
    assert oauth_error(poll(tv, code["device_code"])) == "invalid_grant"


def test_approvals_racing_for_one_code_sign_in_one_device_of_one_account(
    server: LiveServer, client: httpx.Client, tv: httpx.Client
) -> None:
    code = ask_for_code(tv)
    phones = [owner(client), owner(client)] * 4  # two accounts, four approvals each
    statuses: list[tuple[int, str]] = []

    def race(phone: Device) -> None:
        answer = approve(client, phone, code["user_code"])
        statuses.append((answer.status_code, phone.email))

    threads = [threading.Thread(target=race, args=(phone,)) for phone in phones]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    won = [email for status, email in statuses if status == 200]
    assert len(won) == 1, statuses
    assert sorted(status for status, _ in statuses) == [200] + [404] * 7
    server.clock.advance(INTERVAL)
    tokens = poll(tv, code["device_code"]).json()
    winner = next(p for p in phones if p.email == won[0])
    listed = client.get("/v1/devices", headers=winner.auth).json()
    assert tokens["device_id"] in [d["device_id"] for d in listed]
    for other in {p.email: p for p in phones if p.email != won[0]}.values():
        assert all(
            d["device_id"] != tokens["device_id"]
            for d in client.get("/v1/devices", headers=other.auth).json()
        )


def test_polls_racing_with_one_device_code_hand_out_tokens_once(
    server: LiveServer, client: httpx.Client, tv: httpx.Client
) -> None:
    code = ask_for_code(tv)
    assert approve(client, owner(client), code["user_code"]).status_code == 200
    server.clock.advance(INTERVAL)
    answers: list[httpx.Response] = []
    threads = [
        threading.Thread(target=lambda: answers.append(poll(tv, code["device_code"])))
        for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(a.status_code for a in answers) == [200] + [400] * 5
    assert {a.json()["error"] for a in answers if a.status_code == 400} <= {
        "invalid_grant",
        "slow_down",
    }


def test_the_token_endpoint_refuses_what_is_not_a_device_code_grant(tv: httpx.Client) -> None:
    assert oauth_error(poll(tv, "not-a-code-we-gave")) == "invalid_grant"
    other = tv.post("/oauth/token", data={"grant_type": "password", "device_code": "x"})
    assert oauth_error(other) == "unsupported_grant_type"
    assert (
        oauth_error(tv.post("/oauth/token", content=b"\xff\xfe", headers={})) == "invalid_request"
    )
    no_client = tv.post("/oauth/device_authorization", data={"device_name": "TV"})
    assert oauth_error(no_client) == "invalid_request"
    odd_type = tv.post(
        "/oauth/device_authorization", data={"client_id": "a", "device_type": "toaster"}
    )
    assert oauth_error(odd_type) == "invalid_request"


def test_the_phone_sees_what_asks_before_deciding_whatever_the_dashes_and_case(
    client: httpx.Client, tv: httpx.Client
) -> None:
    code = ask_for_code(tv, device_type="streaming_stick")
    phone = owner(client)
    typed = code["user_code"].replace("-", " ").lower()
    seen = client.get(f"/v1/device-authorizations/{typed}", headers=phone.auth)
    assert seen.status_code == 200, seen.text
    body = seen.json()
    assert body["user_code"] == code["user_code"]
    assert body["device"] == {"type": "streaming_stick", "name": "Hotel Room 412 TV"}
    assert {"location", "requested_at", "expires_at"} <= body.keys()


def test_another_account_cannot_approve_a_code_someone_already_looked_up(
    client: httpx.Client, tv: httpx.Client
) -> None:
    code = ask_for_code(tv)
    first, second = owner(client), owner(client)
    assert client.get(
        f"/v1/device-authorizations/{code['user_code']}", headers=first.auth
    ).is_success
    assert_problem(approve(client, second, code["user_code"]), 404, "code_not_found")


def test_until_must_be_between_the_minimum_and_thirty_days(
    server: LiveServer, client: httpx.Client, tv: httpx.Client
) -> None:
    code = ask_for_code(tv)
    phone = owner(client)
    now = server.clock.now()
    for until in (now + timedelta(minutes=5), now + timedelta(days=31)):
        assert_problem(approve(client, phone, code["user_code"], until), 422, "invalid_until")
    assert approve(client, phone, code["user_code"], now + timedelta(days=30)).status_code == 200


def test_guessing_codes_in_parallel_gets_ten_tries_then_too_many_attempts(
    client: httpx.Client, tv: httpx.Client
) -> None:
    phone = owner(client)
    statuses: list[int] = []

    def guess(n: int) -> None:
        answer = client.get(
            f"/v1/device-authorizations/BCDF-{'GHJK'[n % 4] * 4}", headers=phone.auth
        )
        statuses.append(answer.status_code)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(25)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(statuses) == [404] * 10 + [429] * 15
    # Even the right code waits now: the guesser cannot tell it from a wrong one.
    real = ask_for_code(tv)
    blocked = client.get(f"/v1/device-authorizations/{real['user_code']}", headers=phone.auth)
    assert assert_problem(blocked, 429, "too_many_attempts")
    assert int(blocked.headers["Retry-After"]) > 0


def test_wrong_codes_from_one_address_are_limited_across_accounts(
    start_server: StartServer,
) -> None:
    _, http = start_server(code_limit_per_client="10/15 minutes")
    statuses = []
    phones = [owner(http), owner(http)]
    for n in range(12):
        phone = phones[n // 6]  # six guesses from each account
        answer = http.get("/v1/device-authorizations/BCDF-GHJK", headers=phone.auth)
        statuses.append(answer.status_code)
    assert statuses == [404] * 10 + [429] * 2


def test_a_code_does_not_sign_in_more_devices_than_the_account_may_have(
    start_server: StartServer,
) -> None:
    running, http = start_server(max_devices_per_account=1)
    phone = owner(http)  # the one device the account may have
    with httpx.Client(base_url=running.base_url, timeout=15) as device:
        code = ask_for_code(device)
        refused = approve(http, phone, code["user_code"])
    assert assert_problem(refused, 409, "device_limit")


def test_a_temporary_sign_in_ends_with_temporary_access_ended_and_can_be_extended_first(
    server: LiveServer, client: httpx.Client, tv: httpx.Client
) -> None:
    code = ask_for_code(tv)
    phone = owner(client)
    until = server.clock.now() + timedelta(minutes=15)
    approved = approve(client, phone, code["user_code"], until)
    assert approved.status_code == 200
    assert _at(approved.json()["signed_in_until"]) == until
    server.clock.advance(INTERVAL)
    tokens = poll(tv, code["device_code"]).json()
    assert tokens["expires_in"] <= 900
    listed = {d["device_id"]: d for d in client.get("/v1/devices", headers=phone.auth).json()}
    assert _at(listed[tokens["device_id"]]["signed_in_until"]) == until
    assert listed[phone.device_id]["signed_in_until"] is None
    later = until + timedelta(hours=1)
    moved = client.post(
        f"/v1/devices/{tokens['device_id']}/signed-in-until",
        json={"until": later.isoformat()},
        headers=phone.auth,
    )
    assert moved.status_code == 200, moved.text
    server.clock.advance(timedelta(minutes=20))  # past the first end, not the second
    hotel_tv = Device(
        "", "TV", "smart_tv", tokens["access_token"], tokens["refresh_token"],
        tokens["device_id"], tokens["session_id"],
    )  # fmt: skip
    assert client.post(
        "/v1/auth/refresh", json={"refresh_token": hotel_tv.refresh_token}
    ).is_success
    server.clock.advance(timedelta(hours=1))
    assert refresh(client, phone).status_code == 200
    # Nobody touches the TV: the server's own sweep signs it out.
    log = _eventually(lambda: activity(client, phone), "signed_out")
    ended = next(e for e in log if e["kind"] == "signed_out")
    assert ended["device_id"] == hotel_tv.device_id
    assert ended["detail"]["reason"] == "temporary_access_ended"
    assert_signed_out(client, hotel_tv, "temporary_access_ended")


def test_the_owner_ends_a_temporary_sign_in_early(
    server: LiveServer, client: httpx.Client, tv: httpx.Client
) -> None:
    code = ask_for_code(tv)
    phone = owner(client)
    approve(client, phone, code["user_code"], server.clock.now() + timedelta(days=3))
    server.clock.advance(INTERVAL)
    tokens = poll(tv, code["device_code"]).json()
    keep = client.post(f"/v1/devices/{phone.device_id}/end-temporary-sign-in", headers=phone.auth)
    assert_problem(keep, 404, "device_not_found")  # not a temporary one
    ended = client.post(
        f"/v1/devices/{tokens['device_id']}/end-temporary-sign-in", headers=phone.auth
    )
    assert ended.status_code == 204
    answer = client.get(
        "/v1/account", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert assert_problem(answer, 401, "signed_out")["reason"] == "temporary_access_ended"


@pytest.mark.parametrize("taken_back_by", ["sign_out_all", "password_change"])
def test_taking_the_account_back_voids_an_approved_code_the_tv_has_not_collected(
    server: LiveServer, client: httpx.Client, tv: httpx.Client, taken_back_by: str
) -> None:
    code = ask_for_code(tv)
    phone = owner(client)
    assert approve(client, phone, code["user_code"]).status_code == 200
    if taken_back_by == "sign_out_all":
        answer = client.post(
            "/v1/devices/sign-out-all", json={"keep_this_device": True}, headers=phone.auth
        )
    else:
        answer = client.post(
            "/v1/account/password",
            json={
                "current_password": "correct horse battery staple",
                "new_password": "a different horse battery",
                "sign_out_all_devices": False,
            },
            headers=phone.auth,
        )
    assert answer.is_success, answer.text
    server.clock.advance(INTERVAL)
    assert oauth_error(poll(tv, code["device_code"])) == "access_denied"
    assert "device_code_voided" in [e["kind"] for e in activity(client, phone)]


def test_sign_out_all_ends_a_tv_signed_in_with_a_code_like_any_device(
    server: LiveServer, client: httpx.Client, tv: httpx.Client
) -> None:
    code = ask_for_code(tv)
    phone = owner(client)
    approve(client, phone, code["user_code"])
    server.clock.advance(INTERVAL)
    tokens = poll(tv, code["device_code"]).json()
    hotel_tv = Device(
        "", "TV", "smart_tv", tokens["access_token"], tokens["refresh_token"],
        tokens["device_id"], tokens["session_id"],
    )  # fmt: skip
    signed_out = client.post(
        "/v1/devices/sign-out-all", json={"keep_this_device": True}, headers=phone.auth
    )
    assert tokens["device_id"] in [d["device_id"] for d in signed_out.json()["signed_out"]]
    assert_signed_out(client, hotel_tv, "signed_out_everywhere")
    log = activity(client, phone)
    approved = next(e for e in log if e["kind"] == "device_code_approved")
    assert approved["detail"]["by_device_id"] == phone.device_id


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _eventually(read: Any, wanted: str | None, within: float = 10.0) -> list[dict[str, Any]]:
    """Poll `read` until an entry of kind `wanted` shows (or, with None, until it is empty)."""
    import time

    deadline = time.monotonic() + within
    while True:
        found: list[dict[str, Any]] = read()
        done = not found if wanted is None else any(e.get("kind") == wanted for e in found)
        if done or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_an_unsigned_in_caller_is_refused_the_phone_endpoints(tv: httpx.Client) -> None:
    with api_client(str(tv.base_url)) as http:
        assert_problem(http.get("/v1/device-authorizations/BCDF-GHJK"), 401, "invalid_token")
