"""New sign-in alerts and "This wasn't me", end to end through a real SMTP server."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx

from tests.support.api import PASSWORD, sign_in, sign_up
from tests.support.live_server import LiveServer
from tests.support.smtp import Inbox

ALERT = "New sign-in on"


def test_a_device_the_account_has_never_seen_is_mailed_to_the_owner(
    client: httpx.Client, inbox: Inbox
) -> None:
    account = sign_up(client)
    sign_in(client, account, "Ana's phone", "phone")
    sign_in(client, account, "Hotel TV", "smart_tv")

    [alert] = inbox.wait_for(account.email, subject=ALERT)
    assert alert.subject == "New sign-in on Hotel TV"
    assert "Hotel TV (Smart TV)" in alert.text
    assert "UTC" in alert.text
    assert alert.link.startswith("https://watch.example.com/secure-account?token=")
    assert "This wasn&#39;t me" in alert.html or "This wasn't me" in alert.html


def test_neither_the_first_device_nor_a_known_one_is_an_alert(
    client: httpx.Client, inbox: Inbox
) -> None:
    account = sign_up(client)
    phone = sign_in(client, account, "Ana's phone", "phone")
    sign_in(
        client,
        account,
        "Ana's phone",
        "phone",
        device_id=phone.device_id,
        device_secret=phone.device_secret,
    )
    tv = sign_in(client, account, "Living Room TV", "smart_tv")
    inbox.wait_for(account.email, subject=ALERT)
    # The TV signs in again as itself, under a new name: still a device the account knows.
    sign_in(
        client,
        account,
        "Bedroom TV",
        "smart_tv",
        device_id=tv.device_id,
        device_secret=tv.device_secret,
    )
    time.sleep(0.5)
    alerts = [m.subject for m in inbox.to(account.email) if ALERT in m.subject]
    assert alerts == ["New sign-in on Living Room TV"]


def test_one_alert_per_device_per_hour(
    client: httpx.Client, inbox: Inbox, server: LiveServer
) -> None:
    account = sign_up(client)
    sign_in(client, account, "Ana's phone", "phone")
    for _ in range(3):
        sign_in(client, account, "Hotel TV", "smart_tv")
    inbox.wait_for(account.email, subject=ALERT)
    time.sleep(0.5)
    assert len([m for m in inbox.to(account.email) if ALERT in m.subject]) == 1

    server.clock.advance(timedelta(hours=1, seconds=1))
    sign_in(client, account, "Hotel TV", "smart_tv")
    inbox.wait_for(account.email, 2, subject=ALERT)


def test_this_wasnt_me_signs_everyone_out_and_forces_a_reset(
    client: httpx.Client, inbox: Inbox
) -> None:
    account = sign_up(client)
    phone = sign_in(client, account, "Ana's phone", "phone")
    intruder = sign_in(client, account, "Unknown console", "game_console")
    [alert] = inbox.wait_for(account.email, subject=ALERT)

    secured = client.post("/v1/auth/secure-account", json={"token": alert.token})
    assert secured.status_code == 200
    names = sorted(d["name"] for d in secured.json()["signed_out"])
    assert names == ["Ana's phone", "Unknown console"]
    for device in (phone, intruder):
        refused = client.get("/v1/account", headers=device.auth)
        assert refused.status_code == 401
        assert refused.json()["reason"] == "account_secured"
    again = client.post(
        "/v1/auth/sign-in",
        json={"email": account.email, "password": PASSWORD, "device": {"type": "phone"}},
    )
    assert again.status_code == 403
    assert again.json()["code"] == "password_reset_required"

    [reset_mail] = inbox.wait_for(account.email, subject="We signed everyone out")
    assert "2 devices" in reset_mail.text
    assert reset_mail.link.startswith("https://watch.example.com/reset-password?token=")
    done = client.post(
        "/v1/auth/password-reset/confirm",
        json={"token": reset_mail.token, "new_password": "a fresh start battery"},
    )
    assert done.status_code == 204
    sign_in(client, account, password="a fresh start battery")


def test_this_wasnt_me_voids_reset_links_already_mailed(client: httpx.Client, inbox: Inbox) -> None:
    account = sign_up(client)
    sign_in(client, account, "Ana's phone", "phone")
    sign_in(client, account, "Unknown console", "game_console")
    [alert] = inbox.wait_for(account.email, subject=ALERT)
    # The intruder, who may read the mail too, asked for a reset first.
    client.post("/v1/auth/password-reset", json={"email": account.email})
    [earlier] = inbox.wait_for(account.email, subject="Reset your")

    assert client.post("/v1/auth/secure-account", json={"token": alert.token}).status_code == 200
    stale = client.post(
        "/v1/auth/password-reset/confirm",
        json={"token": earlier.token, "new_password": "the intruder's battery"},
    )
    assert stale.status_code == 400


def test_a_this_wasnt_me_link_works_once(client: httpx.Client, inbox: Inbox) -> None:
    account = sign_up(client)
    sign_in(client, account, "Ana's phone", "phone")
    sign_in(client, account, "Unknown console", "game_console")
    [alert] = inbox.wait_for(account.email, subject=ALERT)

    assert client.post("/v1/auth/secure-account", json={"token": alert.token}).status_code == 200
    replayed = client.post("/v1/auth/secure-account", json={"token": alert.token})
    assert replayed.status_code == 400
    assert replayed.json()["code"] == "invalid_token"


def test_a_device_name_with_line_breaks_cannot_add_a_header(
    client: httpx.Client, inbox: Inbox
) -> None:
    account = sign_up(client)
    sign_in(client, account, "Ana's phone", "phone")
    sign_in(client, account, "TV\r\nBcc: thief@example.net\r\nX-Evil: 1", "smart_tv")

    [alert] = inbox.wait_for(account.email, subject=ALERT)
    assert alert.recipients == [account.email]
    assert alert.message["Bcc"] is None
    assert alert.message["X-Evil"] is None
    assert "\n" not in alert.subject
    assert "\r" not in alert.subject
    assert inbox.to("thief@example.net") == []
