"""Sign-in throttling: per account, per client address, and NIST's 100-consecutive-failures lock."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import httpx
import pytest

from screengate.services.accounts import unlock_sign_in
from tests.api.conftest import StartServer, settings_for
from tests.support.api import (
    PASSWORD,
    Account,
    activity,
    assert_problem,
    new_email,
    sign_in,
    sign_up,
)
from tests.support.clock import FrozenClock
from tests.support.live_server import LiveServer, live_server

PER_ACCOUNT = 5  # failures a minute, the default
PER_CLIENT = 30  # failures a minute, the default
_addresses = (f"198.51.100.{n}" for n in itertools.count(1))


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[LiveServer]:
    """The default limits, behind a trusted proxy, so each test can be a client of its own."""
    settings = settings_for(
        database_url,
        trusted_proxies=["127.0.0.1"],
        sign_in_limit_per_account=f"{PER_ACCOUNT}/minute;20/hour",
        sign_in_limit_per_client=f"{PER_CLIENT}/minute;300/hour",
    )
    with live_server(settings, FrozenClock()) as running:
        yield running


def a_client_address() -> dict[str, str]:
    return {"X-Forwarded-For": next(_addresses)}


def attempt(
    client: httpx.Client, email: str, password: str, headers: dict[str, str]
) -> httpx.Response:
    return client.post(
        "/v1/auth/sign-in",
        json={"email": email, "password": password, "device": {"type": "phone"}},
        headers=headers,
    )


def assert_throttled(answer: httpx.Response, at_most: int) -> int:
    assert_problem(answer, 429, "too_many_attempts")
    retry_after = answer.headers["Retry-After"]
    assert retry_after.isdigit(), retry_after
    assert 1 <= int(retry_after) <= at_most
    assert answer.json()["retry_after"] == int(retry_after)
    return int(retry_after)


def test_repeated_failures_on_an_account_are_throttled_even_the_right_password(
    client: httpx.Client,
) -> None:
    account = sign_up(client)
    address = a_client_address()
    for _ in range(PER_ACCOUNT):
        assert_problem(
            attempt(client, account.email, "wrong guess!", address), 401, "invalid_credentials"
        )

    assert_throttled(attempt(client, account.email, "wrong guess!", address), at_most=60)
    assert_throttled(attempt(client, account.email, PASSWORD, address), at_most=60)
    # From anywhere: the limit belongs to the account, not to the address.
    assert_throttled(attempt(client, account.email, PASSWORD, a_client_address()), at_most=60)


def test_throttling_one_account_leaves_other_accounts_alone(client: httpx.Client) -> None:
    target, bystander = sign_up(client), sign_up(client)
    address = a_client_address()
    for _ in range(PER_ACCOUNT + 1):
        attempt(client, target.email, "wrong guess!", address)

    assert attempt(client, bystander.email, PASSWORD, address).status_code == 201


def test_a_client_guessing_across_many_emails_is_throttled(client: httpx.Client) -> None:
    account = sign_up(client)
    address = a_client_address()
    for _ in range(PER_CLIENT):
        answer = attempt(client, new_email("guess"), "a guessed password", address)
        assert_problem(answer, 401, "invalid_credentials")

    assert_throttled(attempt(client, new_email("guess"), "a guessed password", address), 60)
    assert_throttled(attempt(client, account.email, PASSWORD, address), 60)
    # The account itself is fine from any other client.
    assert attempt(client, account.email, PASSWORD, a_client_address()).status_code == 201


def test_a_successful_sign_in_clears_the_accounts_failures(client: httpx.Client) -> None:
    account = sign_up(client)
    address = a_client_address()
    for _ in range(PER_ACCOUNT - 1):
        attempt(client, account.email, "wrong guess!", address)
    assert attempt(client, account.email, PASSWORD, address).status_code == 201

    for _ in range(PER_ACCOUNT - 1):
        assert attempt(client, account.email, "wrong guess!", address).status_code == 401
    assert attempt(client, account.email, PASSWORD, address).status_code == 201


def test_a_hundred_consecutive_failures_lock_the_account_until_support_unlocks_it(
    start_server: StartServer,
) -> None:
    # Per-minute limits out of the way, so the hundred come quickly.
    server, client = start_server(
        sign_in_limit_per_account="1000/minute", sign_in_limit_per_client="1000/minute"
    )
    account = sign_up(client)
    for n in range(1, 101):
        answer = attempt(client, account.email, f"wrong guess {n}", {})
        assert_problem(answer, 401, "invalid_credentials")

    assert_throttled(attempt(client, account.email, PASSWORD, {}), at_most=24 * 3600)
    assert_throttled(attempt(client, account.email, "wrong guess 101", {}), at_most=24 * 3600)

    server.run(unlock_sign_in(server.ports, account.email.upper()))

    device = sign_in(client, account)
    kinds = [e["kind"] for e in activity(client, device, limit=5)]
    assert kinds[:3] == ["signed_in", "sign_in_unlocked", "sign_in_failed"]
    failures = [e for e in activity(client, device) if e["kind"] == "sign_in_failed"]
    assert failures[0]["detail"]["consecutive_failures"] == 100


def test_a_successful_sign_in_resets_the_consecutive_count(start_server: StartServer) -> None:
    _, client = start_server(
        sign_in_limit_per_account="1000/minute", sign_in_limit_per_client="1000/minute"
    )
    account: Account = sign_up(client)
    for _ in range(99):
        attempt(client, account.email, "wrong guess!", {})
    assert attempt(client, account.email, PASSWORD, {}).status_code == 201

    assert attempt(client, account.email, "wrong guess!", {}).status_code == 401
    assert attempt(client, account.email, PASSWORD, {}).status_code == 201
