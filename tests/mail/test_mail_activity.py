"""Each mail is in the security log with its delivery state; alerts say whether their link was
opened. Password changes and "Sign out of all devices" are mailed too."""

from __future__ import annotations

import time
from typing import Any

import httpx

from screengate.domain.events import EventKind, SecurityEvent
from screengate.web.render import describe
from tests.support.api import PASSWORD, sign_in, sign_up
from tests.support.smtp import Inbox


def mails(client: httpx.Client, auth: dict[str, str]) -> list[dict[str, Any]]:
    page = client.get("/v1/account/activity", params={"limit": 100}, headers=auth).json()
    return [e["detail"] for e in page["events"] if e["kind"] == "mail_queued"]


def test_an_alert_is_logged_delivered_and_then_opened(client: httpx.Client, inbox: Inbox) -> None:
    account = sign_up(client)
    phone = sign_in(client, account, "Ana's phone", "phone")
    sign_in(client, account, "Hotel TV", "smart_tv")
    [alert] = inbox.wait_for(account.email, subject="New sign-in on")

    deadline = time.monotonic() + 5
    while (found := mails(client, phone.auth))[0].get("delivery") != "sent":
        assert time.monotonic() < deadline, found
        time.sleep(0.05)
    [logged] = found
    assert logged["mail"] == "new_sign_in"
    assert logged["to"] == account.email
    assert logged["opened"] is False

    # Opening the link's page (not pressing its button) is what "opened" records.
    assert client.get(f"/secure-account?token={alert.token}").status_code == 200
    [logged] = mails(client, phone.auth)
    assert logged["opened"] is True
    assert client.get("/v1/account", headers=phone.auth).status_code == 200


def test_changing_the_password_and_signing_out_everywhere_are_mailed(
    client: httpx.Client, inbox: Inbox
) -> None:
    account = sign_up(client)
    phone = sign_in(client, account, "Ana's phone", "phone")
    sign_in(client, account, "Hotel TV", "smart_tv")
    changed = client.post(
        "/v1/account/password",
        json={
            "current_password": PASSWORD,
            "new_password": "another horse battery",
            "sign_out_all_devices": True,
        },
        headers=phone.auth,
    )
    assert changed.status_code == 204
    [told] = inbox.wait_for(account.email, subject="Your password was changed")
    assert "Every other device was signed out" in told.text

    sign_in(client, account, "Ana's laptop", "pc_app", password="another horse battery")
    everywhere = client.post("/v1/devices/sign-out-all", json={}, headers=phone.auth)
    assert everywhere.status_code == 200
    [count] = inbox.wait_for(account.email, subject="You signed out of all devices")
    assert f"{len(everywhere.json()['signed_out'])} devices signed out" in count.text
    assert "Ana's phone" in count.text


def test_the_security_activity_page_says_how_each_mail_fared() -> None:
    base: dict[str, Any] = {"message_id": "m1", "mail": "new_sign_in", "to": "ana@example.com"}
    event = SecurityEvent(account_id="a", kind=EventKind.MAIL_QUEUED, at=None, detail=base)  # type: ignore[arg-type]
    assert describe(event) == "Email sent: New sign-in alert, to ana@example.com"
    opened = SecurityEvent(
        account_id="a",  # type: ignore[arg-type]
        kind=EventKind.MAIL_QUEUED,
        at=None,  # type: ignore[arg-type]
        detail={**base, "delivery": "sent", "opened": True},
    )
    assert describe(opened) == (
        "Email sent: New sign-in alert, to ana@example.com · delivered · opened from the link"
    )
