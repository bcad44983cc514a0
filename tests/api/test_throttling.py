"""Sign-in throttling: every attempt counted against its address before any hashing; wrong
passwords per (email, address), per email from devices it does not know, and per known device;
no lock-out of the account's own devices, and an unknown email answered like a known one."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.api.conftest import StartServer, settings_for
from tests.support.api import (
    PASSWORD,
    Device,
    assert_problem,
    assert_signed_in,
    new_email,
    sign_in,
    sign_up,
)
from tests.support.clock import FrozenClock
from tests.support.live_server import LiveServer, live_server

PER_ACCOUNT_CLIENT = 5  # wrong passwords a minute from one address, the default
PER_ACCOUNT = 20  # wrong passwords a minute from everywhere, from devices it does not know
_addresses = (f"198.51.{n // 250}.{n % 250 + 1}" for n in itertools.count(250))


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[LiveServer]:
    """Behind a trusted proxy, so each test can be a client (or many) of its own."""
    settings = settings_for(
        database_url,
        trusted_proxies=["127.0.0.1"],
        sign_in_limit_per_account_client=f"{PER_ACCOUNT_CLIENT}/minute;20/hour",
        sign_in_limit_per_account=f"{PER_ACCOUNT}/minute",
    )
    with live_server(settings, FrozenClock()) as running:
        yield running


def a_client_address() -> dict[str, str]:
    return {"X-Forwarded-For": next(_addresses)}


def attempt(
    client: httpx.Client,
    email: str,
    password: str,
    headers: dict[str, str],
    device: dict[str, Any] | None = None,
) -> httpx.Response:
    return client.post(
        "/v1/auth/sign-in",
        json={"email": email, "password": password, "device": device or {"type": "phone"}},
        headers=headers,
    )


def as_known(device: Device) -> dict[str, Any]:
    """What a device that signed in before sends: its type, its id and its secret."""
    return {
        "type": device.type,
        "device_id": device.device_id,
        "device_secret": device.device_secret,
    }


def assert_throttled(answer: httpx.Response, at_most: int) -> int:
    assert_problem(answer, 429, "too_many_attempts")
    retry_after = answer.headers["Retry-After"]
    assert retry_after.isdigit(), retry_after
    assert 1 <= int(retry_after) <= at_most
    assert answer.json()["retry_after"] == int(retry_after)
    return int(retry_after)


def test_wrong_passwords_from_one_address_pause_that_address_even_the_right_password(
    client: httpx.Client,
) -> None:
    account = sign_up(client)
    address = a_client_address()
    for _ in range(PER_ACCOUNT_CLIENT):
        assert_problem(
            attempt(client, account.email, "wrong guess!", address), 401, "invalid_credentials"
        )

    assert_throttled(attempt(client, account.email, "wrong guess!", address), at_most=60)
    assert_throttled(attempt(client, account.email, PASSWORD, address), at_most=60)


def test_a_stranger_guessing_from_one_address_does_not_stop_the_owner_elsewhere(
    client: httpx.Client,
) -> None:
    account = sign_up(client)
    stranger = a_client_address()
    for _ in range(PER_ACCOUNT_CLIENT + 3):
        attempt(client, account.email, "wrong guess!", stranger)

    assert attempt(client, account.email, PASSWORD, a_client_address()).status_code == 201


def test_a_hundred_wrong_guesses_from_strangers_do_not_stop_the_owners_known_device(
    client: httpx.Client,
) -> None:
    account = sign_up(client)
    home = a_client_address()
    tv = sign_in(client, account, "Living Room TV", "smart_tv", headers=home)
    # A hundred guesses, spread over addresses so that no one address's count stops them.
    answers = [
        attempt(client, account.email, f"guess {n}", a_client_address()).status_code
        for n in range(100)
    ]
    assert answers.count(401) == PER_ACCOUNT
    assert answers.count(429) == 100 - PER_ACCOUNT
    # Strangers (a device the account does not know) are throttled, the right password too...
    assert_throttled(attempt(client, account.email, PASSWORD, a_client_address()), at_most=60)

    # ...but the owner's TV, with its id and secret, signs in with the right password, at
    # home or anywhere else, and stays the same device.
    for where in (home, a_client_address()):
        again = attempt(client, account.email, PASSWORD, where, as_known(tv))
        assert again.status_code == 201, again.text
        assert again.json()["device_id"] == tv.device_id
        body = again.json()
        tv.device_secret, tv.session_id = body["device_secret"], body["session_id"]
        tv.access_token, tv.refresh_token = body["access_token"], body["refresh_token"]
    assert_signed_in(client, tv)


def test_a_known_device_is_judged_on_its_own_count_of_wrong_passwords(
    client: httpx.Client,
) -> None:
    account = sign_up(client)
    address = a_client_address()
    tv = sign_in(client, account, "Living Room TV", "smart_tv", headers=address)
    for _ in range(5):  # sign_in_limit_per_device's default, 5 a minute
        wrong = attempt(client, account.email, "fat fingers", address, as_known(tv))
        assert_problem(wrong, 401, "invalid_credentials")
    assert_throttled(attempt(client, account.email, PASSWORD, address, as_known(tv)), 60)
    # Its count is its own: the same address as a stranger still has all of its tries.
    assert attempt(client, account.email, PASSWORD, address).status_code == 201


def test_throttling_one_account_leaves_other_accounts_alone(client: httpx.Client) -> None:
    target, bystander = sign_up(client), sign_up(client)
    address = a_client_address()
    for _ in range(PER_ACCOUNT_CLIENT + 1):
        attempt(client, target.email, "wrong guess!", address)

    assert attempt(client, bystander.email, PASSWORD, address).status_code == 201


def test_a_successful_sign_in_clears_that_addresses_failures(client: httpx.Client) -> None:
    account = sign_up(client)
    address = a_client_address()
    for _ in range(PER_ACCOUNT_CLIENT - 1):
        attempt(client, account.email, "wrong guess!", address)
    assert attempt(client, account.email, PASSWORD, address).status_code == 201

    for _ in range(PER_ACCOUNT_CLIENT - 1):
        assert attempt(client, account.email, "wrong guess!", address).status_code == 401
    assert attempt(client, account.email, PASSWORD, address).status_code == 201


def test_an_unknown_email_is_answered_exactly_like_a_known_one_throttled_or_not(
    client: httpx.Client,
) -> None:
    known, unknown = sign_up(client).email, new_email("nobody")
    seen = []
    for email in (known, unknown):
        address = a_client_address()
        seen.append([answer_of(attempt(client, email, "wrong guess!", address)) for _ in range(7)])
    assert seen[0] == seen[1]
    assert [status for status, _, _ in seen[0]] == [401] * 5 + [429] * 2


def answer_of(answer: httpx.Response) -> tuple[int, dict[str, Any], bool]:
    """Status, body and whether it says when to retry: all but the seconds, which tick."""
    body = {k: v for k, v in answer.json().items() if k not in {"retry_after", "detail"}}
    return answer.status_code, body, "Retry-After" in answer.headers


def test_a_hundred_wrong_passwords_lock_nothing_and_the_email_answers_as_an_unknown_one(
    start_server: StartServer,
) -> None:
    # Counts out of the way, so the hundred come quickly: what is left is any lock-out.
    _, client = start_server(
        sign_in_limit_per_account_client="1000/minute", sign_in_limit_per_account="1000/minute"
    )
    account = sign_up(client)
    unknown = new_email("nobody")
    for n in range(1, 101):
        for email in (account.email, unknown):
            assert_problem(
                attempt(client, email, f"wrong guess {n}", {}), 401, "invalid_credentials"
            )

    after_known = attempt(client, account.email, "wrong guess 101", {})
    after_unknown = attempt(client, unknown, "wrong guess 101", {})
    assert after_known.status_code == after_unknown.status_code == 401
    assert after_known.json() == after_unknown.json()
    assert after_known.headers.get("Retry-After") == after_unknown.headers.get("Retry-After")
    assert attempt(client, account.email, PASSWORD, {}).status_code == 201


def test_every_attempt_counts_against_its_address_malformed_and_successful_ones_too(
    start_server: StartServer,
) -> None:
    _, client = start_server(trusted_proxies=["127.0.0.1"], sign_in_limit_per_client="6/minute")
    account = sign_up(client)
    address = a_client_address()
    assert attempt(client, account.email, PASSWORD, address).status_code == 201
    assert attempt(client, account.email, PASSWORD, address).status_code == 201
    for malformed in ("not an email", "no-at.example.com", "a" * 200 + "@"):
        assert_problem(attempt(client, malformed, PASSWORD, address), 401, "invalid_credentials")
    made = client.post(
        "/v1/auth/sign-up", json={"email": new_email(), "password": PASSWORD}, headers=address
    )
    assert made.status_code == 201
    # Six from this address in the minute: the seventh is refused before anything is hashed,
    # the right password too; another address is not held up.
    assert_throttled(attempt(client, account.email, PASSWORD, address), at_most=60)
    refused = client.post(
        "/v1/auth/sign-up", json={"email": new_email(), "password": PASSWORD}, headers=address
    )
    assert_throttled(refused, at_most=60)
    assert attempt(client, account.email, PASSWORD, a_client_address()).status_code == 201


def test_a_client_guessing_across_many_emails_is_throttled(start_server: StartServer) -> None:
    _, client = start_server(trusted_proxies=["127.0.0.1"], sign_in_limit_per_client="10/minute")
    account = sign_up(client)
    address = a_client_address()
    for _ in range(10):
        answer = attempt(client, new_email("guess"), "a guessed password", address)
        assert_problem(answer, 401, "invalid_credentials")

    assert_throttled(attempt(client, new_email("guess"), "a guessed password", address), 60)
    assert_throttled(attempt(client, account.email, PASSWORD, address), 60)
    # The account itself is fine from any other client.
    assert attempt(client, account.email, PASSWORD, a_client_address()).status_code == 201
