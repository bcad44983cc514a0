"""`screengate mail list / show / outbox`: following every link without a mail server, and
seeing what the sender gave up on."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from screengate.adapters.mail.transport import EmlFolder
from screengate.adapters.sql.migrate import upgrade
from screengate.adapters.sql.uow import create_engine_for, sql_unit_of_work_factory
from screengate.cli import app
from screengate.domain.mail import MailKind, Message

runner = CliRunner()
AT = datetime(2026, 12, 1, 21, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SCREENGATE_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'sg.db'}")
    monkeypatch.setenv("SCREENGATE_MAIL_FOLDER", str(tmp_path / "mail"))
    return tmp_path / "mail"


def message(message_id: str, subject: str, link: str = "") -> Message:
    return Message(
        id=message_id,
        to="ana@example.com",
        subject=subject,
        text=f"Hi,\n\n{link}\n",
        html=f"<p>Hi, <a href='{link}'>here</a></p>",
        kind=MailKind.PASSWORD_RESET,
        created_at=AT,
    )


def test_mail_list_and_show_read_the_eml_files(folder: Path) -> None:
    link = "http://127.0.0.1:8000/reset-password?token=abc_DEF-123"
    eml = EmlFolder(folder, "screengate <no-reply@screengate.localhost>")
    asyncio.run(eml.deliver(message("11111111-aaaa", "Reset your screengate password", link)))
    asyncio.run(eml.deliver(message("22222222-bbbb", "Your password was changed")))

    listed = runner.invoke(app, ["mail", "list"])
    assert listed.exit_code == 0, listed.output
    assert listed.output.index("22222222-bbbb") < listed.output.index("11111111-aaaa")
    assert "Reset your screengate password" in listed.output

    shown = runner.invoke(app, ["mail", "show", "1111"])
    assert shown.exit_code == 0, shown.output
    assert "To: ana@example.com" in shown.output
    assert link in shown.output
    html = runner.invoke(app, ["mail", "show", "1111", "--html"])
    assert "<a href=" in html.output


def test_mail_show_refuses_an_unknown_or_ambiguous_id(folder: Path) -> None:
    eml = EmlFolder(folder, "no-reply@screengate.localhost")
    asyncio.run(eml.deliver(message("abc-1", "One")))
    asyncio.run(eml.deliver(message("abc-2", "Two")))
    assert runner.invoke(app, ["mail", "show", "zzz"]).exit_code == 1
    ambiguous = runner.invoke(app, ["mail", "show", "abc"])
    assert ambiguous.exit_code == 1
    assert "give more of the id" in ambiguous.output


def test_an_empty_folder_says_so() -> None:
    listed = runner.invoke(app, ["mail", "list"])
    assert listed.exit_code == 0
    assert "No mail in" in listed.output


def test_mail_outbox_lists_what_the_sender_gave_up_on(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'sg.db'}"

    async def seed() -> None:
        await upgrade(url)
        engine = create_engine_for(url)
        try:
            async with sql_unit_of_work_factory(engine)() as uow:
                await uow.outbox.add(message("dead-letter-1", "Reset"))
                await uow.outbox.add(message("still-waiting-2", "Changed"))
                await uow.outbox.give_up("dead-letter-1", "smtp 550: mailbox unavailable")
                await uow.commit()
        finally:
            await engine.dispose()

    asyncio.run(seed())
    failed = runner.invoke(app, ["mail", "outbox", "--failed"])
    assert failed.exit_code == 0, failed.output
    assert "dead-letter-1" in failed.output
    assert "smtp 550: mailbox unavailable" in failed.output
    assert "still-waiting-2" not in failed.output
    everything = runner.invoke(app, ["mail", "outbox"])
    assert "still-waiting-2" in everything.output
    assert "pending" in everything.output
