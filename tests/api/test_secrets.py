"""No secret ever reaches a log line or an error body: not a password, not a token."""

from __future__ import annotations

import logging

import httpx
import pytest
import structlog

from tests.api.conftest import api_client, settings_for
from tests.support.api import account_with_devices, refresh
from tests.support.clock import FrozenClock
from tests.support.live_server import live_server

WRONG = "Wr0ng-but-close-Secret-7731"
UNKNOWN_EMAILS_PASSWORD = "N0body-Has-This-Secret-2297"
WRONG_CURRENT = "N0t-The-Current-Secret-4410"
NEW = "Brand-New-Secret-Phrase-5518"
TOO_SHORT = "Qz7$kP"


def test_no_password_or_token_reaches_a_log_or_an_error_body(
    database_url: str,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = settings_for(database_url, log_level="DEBUG")
    answers: list[httpx.Response] = []
    with (
        live_server(settings, FrozenClock(), log_level="debug", access_log=True) as server,
        api_client(server.base_url) as client,
        structlog.testing.capture_logs() as app_logs,
    ):

        def keep(answer: httpx.Response) -> None:
            answer.read()
            answers.append(answer)

        client.event_hooks["response"].append(keep)
        account = account_with_devices(client, 3)
        tv, phone, console = account.devices
        spent_refresh = console.refresh_token
        refresh(client, console)
        secrets = [account.password, WRONG, UNKNOWN_EMAILS_PASSWORD, WRONG_CURRENT, NEW, TOO_SHORT]

        for email, password in [(account.email, WRONG), ("nobody@example.com", WRONG)]:
            client.post(
                "/v1/auth/sign-in",
                json={"email": email, "password": password, "device": {"type": "phone"}},
            )
        client.post(
            "/v1/auth/sign-in",
            json={"email": "x@example.com", "password": UNKNOWN_EMAILS_PASSWORD, "device": {}},
        )
        client.post(  # malformed JSON that holds a password
            "/v1/auth/sign-in",
            content=f'{{"email": "{account.email}", "password": "{WRONG}"'.encode(),
            headers={"Content-Type": "application/json"},
        )
        client.post(  # a typo'd field holding a password
            "/v1/auth/sign-up",
            json={"email": account.email, "password": WRONG, "passwrod": WRONG},
        )
        for current, new in [(WRONG_CURRENT, NEW), (account.password, TOO_SHORT)]:
            client.post(
                "/v1/account/password",
                json={"current_password": current, "new_password": new},
                headers=phone.auth,
            )
        client.post(f"/v1/devices/{tv.device_id}/sign-out", headers=phone.auth)
        client.post("/v1/auth/sign-out", headers=phone.auth)
        client.post("/v1/auth/refresh", json={"refresh_token": spent_refresh})  # token reuse
        for device in (tv, phone, console):
            client.get("/v1/account", headers=device.auth)
            client.post("/v1/auth/refresh", json={"refresh_token": device.refresh_token})
        client.get("/v1/account", headers={"Authorization": f"Bearer {WRONG}"})

        tokens = [t for d in account.devices for t in (*d.tokens, *d.history)]
        tokens.append(spent_refresh)

    printed = capfd.readouterr()
    logged = caplog.text + "\n".join(str(entry) for entry in app_logs)
    assert "/v1/auth/sign-in" in caplog.text  # the capture did see the server's access log
    error_bodies = [a.text for a in answers if a.status_code >= 400]
    assert len(error_bodies) >= 15
    assert {a.status_code for a in answers} >= {400, 401, 403, 422}
    for secret in [*secrets, *tokens]:
        assert secret not in logged, secret
        assert secret not in printed.out + printed.err, secret
        for body in error_bodies:
            assert secret not in body, (secret, body)
