"""POST /v1/auth/sign-in: credentials for one device, and the same answer for every failure."""

from __future__ import annotations

import time

import argon2
import httpx

from tests.api.conftest import StartServer
from tests.support.api import (
    CHROME_ON_MACOS,
    PASSWORD,
    assert_problem,
    new_email,
    sign_in,
    sign_up,
)

# 128 bits of randomness take 22 base64url characters.
MIN_TOKEN_CHARS = 22
BASE64URL = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_signing_in_answers_a_bearer_token_pair_for_a_new_device(client: httpx.Client) -> None:
    account = sign_up(client)

    answer = client.post(
        "/v1/auth/sign-in",
        json={
            "email": account.email,
            "password": PASSWORD,
            "device": {"type": "smart_tv", "name": "Hotel TV"},
        },
    )

    assert answer.status_code == 201
    body = answer.json()
    assert set(body) >= {
        "access_token",
        "refresh_token",
        "token_type",
        "expires_in",
        "session_id",
        "device_id",
    }
    assert body["token_type"] == "Bearer"
    assert 0 < body["expires_in"] <= 900
    for token in (body["access_token"], body["refresh_token"]):
        assert len(token) >= MIN_TOKEN_CHARS
        assert set(token) <= BASE64URL
    assert body["access_token"] != body["refresh_token"]
    listing = client.get(
        "/v1/devices", headers={"Authorization": f"Bearer {body['access_token']}"}
    ).json()
    assert [(d["device_id"], d["session_id"], d["name"], d["type"]) for d in listing] == [
        (body["device_id"], body["session_id"], "Hotel TV", "smart_tv")
    ]


def test_every_sign_in_gets_tokens_of_its_own(client: httpx.Client) -> None:
    account = sign_up(client)

    first, second = sign_in(client, account), sign_in(client, account)

    tokens = {*first.tokens, *second.tokens}
    assert len(tokens) == 4
    assert first.device_id != second.device_id
    assert first.session_id != second.session_id


def test_the_email_signs_in_whatever_its_case(client: httpx.Client) -> None:
    account = sign_up(client)

    device = sign_in(client, account.email.upper(), password=PASSWORD)

    assert client.get("/v1/account", headers=device.auth).json()["email"] == account.email


def test_a_device_without_a_name_is_named_from_its_user_agent(client: httpx.Client) -> None:
    account = sign_up(client)

    device = sign_in(client, account, None, "web_browser", headers={"User-Agent": CHROME_ON_MACOS})

    listing = client.get("/v1/devices", headers=device.auth).json()
    assert [d["name"] for d in listing] == ["Chrome on macOS"]


def test_the_name_a_device_gives_wins_over_its_user_agent(client: httpx.Client) -> None:
    account = sign_up(client)

    device = sign_in(
        client, account, "Ana's laptop", "web_browser", headers={"User-Agent": CHROME_ON_MACOS}
    )

    listing = client.get("/v1/devices", headers=device.auth).json()
    assert [d["name"] for d in listing] == ["Ana's laptop"]


def test_a_device_with_no_name_and_no_user_agent_is_named_after_its_type(
    client: httpx.Client,
) -> None:
    account = sign_up(client)

    device = sign_in(client, account, None, "game_console", headers={"User-Agent": ""})

    listing = client.get("/v1/devices", headers=device.auth).json()
    assert [d["name"] for d in listing] == ["Game console"]


def _attempt(client: httpx.Client, email: str, password: str) -> httpx.Response:
    return client.post(
        "/v1/auth/sign-in",
        json={"email": email, "password": password, "device": {"type": "phone"}},
    )


def test_an_unknown_email_and_a_wrong_password_get_the_same_answer(client: httpx.Client) -> None:
    account = sign_up(client)

    unknown = _attempt(client, new_email("nobody"), PASSWORD)
    wrong = _attempt(client, account.email, "not the password at all")

    def comparable(answer: httpx.Response) -> tuple[int, str, dict[str, str]]:
        headers = {k: v for k, v in answer.headers.items() if k not in {"date"}}
        return answer.status_code, answer.text, headers

    assert_problem(unknown, 401, "invalid_credentials")
    assert comparable(unknown) == comparable(wrong)


def test_an_unknown_email_takes_about_as_long_as_a_wrong_password(
    start_server: StartServer,
) -> None:
    # A real argon2 cost here, so that a skipped verify would show; the bounds stay loose.
    cost = {"argon2_time_cost": 2, "argon2_memory_kib": 16 * 1024, "argon2_parallelism": 1}
    _, client = start_server(**cost, sign_in_limit_per_account="100/minute")
    account = sign_up(client)
    hasher = argon2.PasswordHasher(
        time_cost=2, memory_cost=16 * 1024, parallelism=1, type=argon2.Type.ID
    )
    hashed = hasher.hash(PASSWORD)

    # Minimums, interleaved: a busy machine can only make a sample slower, never faster.
    verify, unknown, wrong = [], [], []
    for _ in range(5):
        verify.append(_timed(lambda: hasher.verify(hashed, PASSWORD)))
        unknown.append(_timed(lambda: _attempt(client, new_email("nobody"), "a wrong guess")))
        wrong.append(_timed(lambda: _attempt(client, account.email, "a wrong guess")))
    one_verify, unknown_takes, wrong_takes = min(verify), min(unknown), min(wrong)

    # Neither path skips the verify...
    assert unknown_takes >= 0.5 * one_verify, (unknown, verify)
    assert wrong_takes >= 0.5 * one_verify, (wrong, verify)
    # ...and neither is wildly slower than the other.
    assert 0.25 < unknown_takes / wrong_takes < 4, (unknown, wrong)


def _timed(call: object) -> float:
    assert callable(call)
    started = time.perf_counter()
    call()
    return time.perf_counter() - started
