"""Signing a device in with a code from the client library and from `screengate device
sign-in --code`, which shows the code and a QR code in the terminal and waits."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from screengate.client import CodeSignInError, ScreengateClient
from tests.client.conftest import PASSWORD, client_settings, new_email
from tests.client.test_device_cli import Running
from tests.support.databases import migrated_database
from tests.support.live_server import LiveServer, live_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with migrated_database("sqlite", tmp_path_factory.mktemp("codes")) as url:
        settings = client_settings(url).model_copy(update={"device_code_interval_seconds": 1})
        with live_server(settings) as running:
            yield running


def phone_of(server: LiveServer) -> httpx.Client:
    http = httpx.Client(base_url=server.base_url, timeout=10)
    email = new_email()
    body = {"email": email, "password": PASSWORD, "plan": "premium"}
    assert http.post("/v1/auth/sign-up", json=body).status_code == 201
    device = {"type": "phone"}
    signed_in = http.post(
        "/v1/auth/sign-in", json={"email": email, "password": PASSWORD, "device": device}
    )
    http.headers["Authorization"] = f"Bearer {signed_in.json()['access_token']}"
    return http


async def test_the_client_library_polls_until_the_code_is_approved(server: LiveServer) -> None:
    phone = phone_of(server)
    async with ScreengateClient(server.base_url) as client:
        offer = await client.request_code("library", "smart_tv", "Den TV")
        waits: list[float] = []

        async def wait(seconds: float) -> None:
            waits.append(seconds)
            server.clock.advance(timedelta(seconds=seconds))
            if len(waits) == 2:
                decided = phone.post(
                    f"/v1/device-authorizations/{offer.user_code}", json={"decision": "approve"}
                )
                assert decided.status_code == 200, decided.text

        device = await client.sign_in_with_code("library", offer, sleep=wait)
        assert waits == [1.0, 1.0]
        assert (await device.account()).email
    phone.close()


async def test_a_denied_code_ends_the_wait_with_access_denied(server: LiveServer) -> None:
    phone = phone_of(server)
    async with ScreengateClient(server.base_url) as client:
        offer = await client.request_code("library")

        async def wait(seconds: float) -> None:
            server.clock.advance(timedelta(seconds=seconds))
            phone.post(f"/v1/device-authorizations/{offer.user_code}", json={"decision": "deny"})

        with pytest.raises(CodeSignInError) as denied:
            await client.sign_in_with_code("library", offer, sleep=wait)
    assert denied.value.code == "access_denied"
    phone.close()


def test_the_emulator_shows_the_code_and_a_qr_code_and_waits_for_the_approval(
    server: LiveServer, tmp_path: Path
) -> None:
    phone = phone_of(server)
    tv = Running(tmp_path, "sign-in", "--code", "--url", server.base_url, "--name", "Hotel Room TV")
    try:
        line = tv.wait_for("and enter the code")
        code = line.split("enter the code ", 1)[1].split(",", 1)[0]
        tv.wait_for("█")  # the QR code, drawn in the terminal
        tv.wait_for("Waiting for the approval")
        decided = phone.post(f"/v1/device-authorizations/{code}", json={"decision": "approve"})
        assert decided.status_code == 200, decided.text
        server.clock.advance(timedelta(seconds=2))
        tv.wait_for("Signed in as Hotel Room TV (smart_tv)")
        assert tv.exit_code() == 0
    finally:
        tv.kill()
        phone.close()
    saved = json.loads((tmp_path / "var" / "devices" / "hotel-room-tv.json").read_text())
    assert saved["device_id"] == decided.json()["device_id"]
