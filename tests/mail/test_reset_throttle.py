"""Password-reset requests are throttled per email and per client address."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.api.conftest import api_client
from tests.mail.conftest import mail_settings
from tests.support.api import new_email
from tests.support.live_server import LiveServer, live_server
from tests.support.smtp import Inbox


@pytest.fixture(scope="module")
def server(database_url: str, smtp: tuple[Inbox, int]) -> Iterator[LiveServer]:
    settings = mail_settings(
        database_url,
        smtp[1],
        password_reset_limit_per_email="3/15 minutes",
        password_reset_limit_per_address="8/hour",
    )
    with live_server(settings) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with api_client(server.base_url) as http:
        yield http


def test_resets_are_throttled_per_email_then_per_address(client: httpx.Client) -> None:
    email = new_email()
    answers = [
        client.post("/v1/auth/password-reset", json={"email": email}).status_code for _ in range(4)
    ]
    assert answers == [202, 202, 202, 429]
    refused = client.post("/v1/auth/password-reset", json={"email": email})
    assert refused.json()["code"] == "too_many_attempts"
    assert int(refused.headers["Retry-After"]) > 0

    others = [
        client.post("/v1/auth/password-reset", json={"email": new_email()}).status_code
        for _ in range(6)
    ]
    # Eight per address: three for the first email, then five more, whatever the email.
    assert others == [202] * 5 + [429]
