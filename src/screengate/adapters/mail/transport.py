"""Handing a message over: to an SMTP server (aiosmtplib), or to a folder of .eml files."""

from __future__ import annotations

import asyncio
import os
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from screengate.domain.mail import Message, header_safe


class DeliveryFailed(Exception):
    """The message was not handed over. `permanent`: trying again will not help."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


class MailTransport(Protocol):
    async def deliver(self, message: Message) -> None:
        """Hand the message over, or raise DeliveryFailed."""

    @property
    def name(self) -> str: ...


def to_email(message: Message, sender: str) -> EmailMessage:
    """The message as RFC 5322 text: multipart/alternative, plain text first.

    EmailMessage refuses a header value holding CR or LF; header_safe() has already made each
    value one line, so a device named "TV\\r\\nBcc: x" cannot add a recipient."""
    email = EmailMessage()
    email["From"] = header_safe(sender, 200)
    email["To"] = header_safe(message.to, 254)
    email["Subject"] = header_safe(message.subject, 200)
    email["Date"] = format_datetime(message.created_at)
    email["Message-ID"] = make_msgid(idstring=message.id.replace("-", ""), domain="screengate")
    email["X-Screengate-Message"] = message.id
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.text)
    email.add_alternative(message.html, subtype="html")
    return email


@dataclass(frozen=True, slots=True)
class SmtpServer:
    hostname: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool
    start_tls: bool

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        """smtp://user:pass@host:port (plain, or ?starttls), smtps://… (TLS from the start)."""
        parts = urlsplit(url)
        query = parse_qs(parts.query, keep_blank_values=True)
        use_tls = parts.scheme == "smtps"
        # smtps:// is TLS from the first byte: there is nothing left to upgrade.
        asked = "starttls" in query and query["starttls"][0].lower() not in ("0", "false")
        start_tls = asked and not use_tls
        default_port = 465 if use_tls else (587 if start_tls else 25)
        return cls(
            hostname=parts.hostname or "localhost",
            port=parts.port or default_port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_tls=use_tls,
            start_tls=start_tls,
        )


class SmtpTransport:
    def __init__(
        self,
        url: str,
        sender: str,
        *,
        timeout: float = 30.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self._server = SmtpServer.from_url(url)
        self._sender = sender
        self._timeout = timeout
        self._tls_context = tls_context

    @property
    def name(self) -> str:
        return f"smtp {self._server.hostname}:{self._server.port}"

    async def deliver(self, message: Message) -> None:
        server = self._server
        try:
            await aiosmtplib.send(
                to_email(message, self._sender),
                hostname=server.hostname,
                port=server.port,
                username=server.username,
                password=server.password,
                use_tls=server.use_tls,
                start_tls=server.start_tls,
                tls_context=self._tls_context,
                timeout=self._timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            codes = [r.code for r in error.recipients]
            raise DeliveryFailed(
                f"recipient refused: {codes}", permanent=all(c >= 500 for c in codes)
            ) from None
        except aiosmtplib.SMTPResponseException as error:
            raise DeliveryFailed(
                f"smtp {error.code}: {error.message[:200]}", permanent=error.code >= 500
            ) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise DeliveryFailed(f"{type(error).__name__}: {error}"[:300]) from None


class EmlFolder:
    """The embedded default: each message becomes <folder>/<when>-<id>.eml, for `screengate
    mail list` and `mail show` (and any mail program) to read."""

    def __init__(self, folder: Path, sender: str) -> None:
        self._folder = folder
        self._sender = sender

    @property
    def name(self) -> str:
        return f"folder {self._folder}"

    async def deliver(self, message: Message) -> None:
        try:
            await asyncio.to_thread(self._write, message)
        except OSError as error:
            raise DeliveryFailed(f"{type(error).__name__}: {error}"[:300]) from None

    def _write(self, message: Message) -> None:
        self._folder.mkdir(parents=True, exist_ok=True)
        name = f"{message.created_at:%Y%m%dT%H%M%S}-{message.id}.eml"
        final = self._folder / name
        partial = self._folder / f".{name}.partial"
        # Written whole, then renamed: a reader never sees half a message. 0600: the links in
        # it are as good as a password for an hour.
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(bytes(to_email(message, self._sender)))
        os.replace(partial, final)
