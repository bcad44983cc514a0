"""Mail through a real SMTP server (aiosmtpd) started by the tests, on every backend."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from screengate.config import Settings
from tests.api.conftest import api_client, settings_for
from tests.api.conftest import database_url as database_url
from tests.support.live_server import LiveServer, live_server
from tests.support.smtp import Inbox, smtp_server

# Retries fast enough for a test to watch them.
FAST_MAIL: dict[str, Any] = {
    "mail_poll_seconds": 0.1,
    "mail_retry_first_seconds": 0.2,
    "mail_retry_max_seconds": 0.4,
    "password_reset_limit_per_email": "1000/minute",
    "password_reset_limit_per_address": "1000/minute",
    "public_url": "https://watch.example.com",
}


def mail_settings(database_url: str, smtp_port: int, **overrides: Any) -> Settings:
    values = {"smtp_url": f"smtp://127.0.0.1:{smtp_port}", **FAST_MAIL, **overrides}
    return settings_for(database_url, **values)


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Inbox, int]]:
    with smtp_server() as running:
        yield running


@pytest.fixture(scope="module")
def inbox(smtp: tuple[Inbox, int]) -> Inbox:
    return smtp[0]


@pytest.fixture(scope="module")
def server(database_url: str, smtp: tuple[Inbox, int]) -> Iterator[LiveServer]:
    with live_server(mail_settings(database_url, smtp[1])) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with api_client(server.base_url) as http:
        yield http
