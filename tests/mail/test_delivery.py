"""The sender: retries while the SMTP server is down, exactly once when it is back, gives up
after its bound, and shares one outbox between instances without sending anything twice."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from screengate.domain.mail import DeliveryState, MailKind, Message
from tests.api.conftest import api_client
from tests.mail.conftest import mail_settings
from tests.support.api import sign_up
from tests.support.databases import migrated_database
from tests.support.live_server import LiveServer, live_server
from tests.support.smtp import free_port, smtp_server


def ask_for_reset(running: LiveServer, email: str) -> None:
    with api_client(running.base_url) as client:
        answer = client.post("/v1/auth/password-reset", json={"email": email})
        assert answer.status_code == 202


def states(running: LiveServer, to: str | None = None) -> list[Message]:
    async def recent() -> list[Message]:
        async with running.ports.reader() as uow:
            return await uow.outbox.recent(1000)

    return [m for m in running.run(recent()) if to in (None, m.to)]


def test_mail_queued_while_smtp_is_down_arrives_once_it_is_back(database_url: str) -> None:
    port = free_port()
    with live_server(mail_settings(database_url, port)) as running:
        with api_client(running.base_url) as client:
            account = sign_up(client)
        ask_for_reset(running, account.email)
        deadline = time.monotonic() + 10
        while not any(m.attempts >= 2 for m in states(running, account.email)):
            assert time.monotonic() < deadline, "the sender never retried"
            time.sleep(0.05)
        [waiting] = states(running, account.email)
        assert waiting.state is DeliveryState.PENDING
        assert waiting.last_error

        with smtp_server(port=port) as (inbox, _):
            [mail] = inbox.wait_for(account.email, subject="Reset")
            time.sleep(1.0)  # several more polls: nothing is sent a second time
            assert len(inbox.to(account.email)) == 1
        assert mail.message.is_multipart()
        [sent] = states(running, account.email)
        assert sent.state is DeliveryState.SENT


def test_the_sender_gives_up_after_its_bound_and_says_so(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = mail_settings(database_url, free_port(), mail_max_attempts=3)
    with live_server(settings) as running:
        with api_client(running.base_url) as client:
            account = sign_up(client)
        ask_for_reset(running, account.email)
        deadline = time.monotonic() + 10
        while not any(m.state is DeliveryState.FAILED for m in states(running, account.email)):
            assert time.monotonic() < deadline, "the sender never gave up"
            time.sleep(0.05)
        [failed] = states(running, account.email)
        assert failed.attempts == 3
        assert "SMTPConnectError" in (failed.last_error or "")
        time.sleep(0.8)
        assert states(running, account.email)[0].attempts == 3
    logged = capsys.readouterr().out
    assert "mail_undeliverable" in logged
    assert failed.id in logged
    assert "token=" not in logged


@pytest.mark.postgres
@pytest.mark.serial  # two servers and twenty accounts at once
def test_two_instances_on_one_outbox_send_each_message_exactly_once(
    tmp_path: Path,
) -> None:
    with (
        migrated_database("postgresql", tmp_path) as url,
        smtp_server() as (inbox, port),
        live_server(mail_settings(url, port)) as first,
        live_server(mail_settings(url, port)) as second,
    ):
        with api_client(first.base_url) as client:
            accounts = [sign_up(client) for _ in range(20)]
        # Half asked on each instance: both senders wake, and both poll the shared outbox.
        for n, account in enumerate(accounts):
            ask_for_reset(first if n % 2 else second, account.email)
        for account in accounts:
            inbox.wait_for(account.email, subject="Reset")
        time.sleep(1.0)
        ids = Counter(str(r.message["X-Screengate-Message"]) for r in inbox.received)
        assert len(ids) == len(accounts)
        assert set(ids.values()) == {1}
        assert all(m.state is DeliveryState.SENT for m in states(first))
        assert {m.kind for m in states(first)} == {MailKind.PASSWORD_RESET}


def test_without_an_smtp_url_mail_is_written_as_eml_files(
    database_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "mail"
    settings = mail_settings(database_url, 1, smtp_url=None, mail_folder=folder)
    with live_server(settings) as running:
        with api_client(running.base_url) as client:
            account = sign_up(client)
        ask_for_reset(running, account.email)
        deadline = time.monotonic() + 10
        while not list(folder.glob("*.eml")):
            assert time.monotonic() < deadline, "no .eml file was written"
            time.sleep(0.05)
    [eml] = list(folder.glob("*.eml"))
    assert eml.stat().st_mode & 0o077 == 0
    text = eml.read_text()
    assert f"To: {account.email}" in text
    assert "reset-password?token=" in text
