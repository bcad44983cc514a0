"""`screengate mail`: the .eml files the embedded default writes instead of sending, and the
outbox's state (what is waiting, what was given up on)."""

from __future__ import annotations

import asyncio
import email
import email.policy
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from screengate.config import Settings
from screengate.domain.mail import DeliveryState, Message
from screengate.wiring import open_ports

mail_app = typer.Typer(
    help="Mail: the .eml files written when no SMTP server is set, and the outbox.",
    no_args_is_help=True,
)

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


@dataclass(frozen=True, slots=True)
class Letter:
    id: str
    path: Path
    message: EmailMessage

    @property
    def sent_at(self) -> datetime | None:
        date = self.message["Date"]
        return parsedate_to_datetime(str(date)) if date else None


def letters(folder: Path) -> list[Letter]:
    """The folder's messages, oldest first."""
    found = []
    for path in sorted(folder.glob("*.eml")) if folder.is_dir() else []:
        parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if isinstance(parsed, EmailMessage):
            message_id = str(parsed["X-Screengate-Message"] or path.stem)
            found.append(Letter(message_id, path, parsed))
    return found


def _wide() -> Console:
    return out if out.is_terminal else Console(highlight=False, width=240)


@mail_app.command("list")
def mail_list() -> None:
    """The messages written under SCREENGATE_MAIL_FOLDER (var/mail), newest first."""
    folder = _settings().mail_folder
    found = letters(folder)
    if not found:
        out.print(f"No mail in {escape(str(folder))} yet.")
        return
    table = Table(title=f"Mail in {escape(str(folder))}", title_justify="left")
    for column in ("Id", "Sent", "To", "Subject"):
        table.add_column(column, no_wrap=column == "Id")
    for letter in reversed(found):
        sent = f"{letter.sent_at:%Y-%m-%d %H:%M:%S}" if letter.sent_at else ""
        table.add_row(
            letter.id,
            sent,
            escape(str(letter.message["To"])),
            escape(str(letter.message["Subject"])),
        )
    _wide().print(table)


@mail_app.command("show")
def mail_show(
    message_id: Annotated[str, typer.Argument(help="The id from `mail list` (a prefix will do).")],
    html: Annotated[bool, typer.Option("--html", help="Print the HTML part instead.")] = False,
) -> None:
    """One message: its headers and its text, with every link in full."""
    matches = [
        letter for letter in letters(_settings().mail_folder) if letter.id.startswith(message_id)
    ]
    if len(matches) != 1:
        _fail(
            f"No message {message_id!r}."
            if not matches
            else f"{len(matches)} messages start with {message_id!r}: give more of the id."
        )
    message = matches[0].message
    for header in ("From", "To", "Date", "Subject"):
        out.print(f"[bold]{header}:[/] {escape(str(message[header]))}")
    out.print()
    part = message.get_body(preferencelist=("html",) if html else ("plain",))
    if part is None:
        _fail("That message has no such part.")
    out.print(escape(str(part.get_content())), soft_wrap=True)


@mail_app.command("outbox")
def mail_outbox(
    failed: Annotated[
        bool, typer.Option("--failed", help="Only what the sender gave up on.")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many, newest first.")] = 50,
) -> None:
    """The outbox: each message's delivery state, tries and last error."""
    settings = _settings()

    async def recent() -> list[Message]:
        async with open_ports(settings) as ports, ports.reader() as uow:
            return await uow.outbox.recent(limit, DeliveryState.FAILED if failed else None)

    messages = asyncio.run(recent())
    if not messages:
        out.print("Nothing in the outbox." if not failed else "No message was given up on.")
        return
    table = Table(title="Outbox", title_justify="left")
    for column in ("Id", "Created", "Kind", "To", "State", "Tries", "Last error"):
        table.add_column(column, no_wrap=column == "Id")
    for message in messages:
        table.add_row(
            message.id,
            f"{message.created_at:%Y-%m-%d %H:%M:%S}",
            message.kind.value,
            escape(message.to),
            message.state.value,
            str(message.attempts),
            escape(message.last_error or ""),
        )
    _wide().print(table)


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        _fail(f"Invalid settings: {error.errors()[0]['msg']}")


def _fail(message: str) -> NoReturn:
    err.print(f"[bold red]error:[/] [red]{escape(message)}[/]", soft_wrap=True)
    raise typer.Exit(1)
