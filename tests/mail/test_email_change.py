"""Changing the account's email: the new address confirms, the old one is told and may undo."""

from __future__ import annotations

from datetime import timedelta

import httpx

from tests.support.api import PASSWORD, new_email, sign_in, sign_up
from tests.support.live_server import LiveServer
from tests.support.smtp import Inbox


def ask(client: httpx.Client, auth: dict[str, str], new: str, password: str = PASSWORD) -> int:
    answer = client.post(
        "/v1/account/email", json={"new_email": new, "password": password}, headers=auth
    )
    return answer.status_code


def confirm(client: httpx.Client, token: str) -> httpx.Response:
    return client.post("/v1/account/email/confirm", json={"token": token})


def test_nothing_changes_until_the_new_address_confirms(client: httpx.Client, inbox: Inbox) -> None:
    account = sign_up(client)
    phone = sign_in(client, account, "Ana's phone", "phone")
    new = new_email("moved")

    assert ask(client, phone.auth, new) == 202
    [confirmation] = inbox.wait_for(new, subject="Confirm your new email")
    assert client.get("/v1/account", headers=phone.auth).json()["email"] == account.email

    assert confirm(client, confirmation.token).status_code == 204
    assert client.get("/v1/account", headers=phone.auth).json()["email"] == new
    [told] = inbox.wait_for(account.email, subject="Your screengate email was changed")
    assert new in told.text
    assert told.link.startswith("https://watch.example.com/confirm-email?token=")
    sign_in(client, new, password=PASSWORD)
    assert confirm(client, confirmation.token).status_code == 400


def test_the_old_address_undoes_the_change_and_secures_the_account(
    client: httpx.Client, inbox: Inbox
) -> None:
    account = sign_up(client)
    phone = sign_in(client, account, "Ana's phone", "phone")
    intruders = new_email("intruder")
    ask(client, phone.auth, intruders)
    confirm(client, inbox.wait_for(intruders, subject="Confirm")[0].token)
    [told] = inbox.wait_for(account.email, subject="Your screengate email was changed")

    assert confirm(client, told.token).status_code == 204
    refused = client.get("/v1/account", headers=phone.auth)
    assert refused.json()["reason"] == "account_secured"
    [reset] = inbox.wait_for(account.email, subject="We signed everyone out")
    done = client.post(
        "/v1/auth/password-reset/confirm",
        json={"token": reset.token, "new_password": "taken back battery"},
    )
    assert done.status_code == 204
    sign_in(client, account.email, password="taken back battery")


def test_the_undo_link_lasts_seven_days(
    client: httpx.Client, inbox: Inbox, server: LiveServer
) -> None:
    account = sign_up(client)
    phone = sign_in(client, account, "Ana's phone", "phone")
    new = new_email("moved")
    ask(client, phone.auth, new)
    confirm(client, inbox.wait_for(new, subject="Confirm")[0].token)
    [told] = inbox.wait_for(account.email, subject="Your screengate email was changed")

    server.clock.advance(timedelta(days=7, seconds=1))
    assert confirm(client, told.token).status_code == 400


def test_a_wrong_password_or_a_taken_address_changes_nothing(
    client: httpx.Client, inbox: Inbox
) -> None:
    account, other = sign_up(client), sign_up(client)
    phone = sign_in(client, account, "Ana's phone", "phone")
    assert ask(client, phone.auth, new_email(), password="not the password") == 403
    assert ask(client, phone.auth, other.email) == 409
    assert ask(client, phone.auth, "a@b.c\r\nBcc: thief@example.net") == 422
    assert inbox.to("thief@example.net") == []
