"""Writing mail into the outbox, in the caller's unit of work, and the links it carries."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from screengate.domain.events import EventKind, SecurityEvent
from screengate.domain.ids import AccountId
from screengate.domain.mail import LINK_LIFETIMES, Link, LinkPurpose, MailKind, Message
from screengate.domain.sessions import hash_token
from screengate.ports import MailPorts, Ports, UnitOfWork

# Where each kind of link opens on the website: a page that asks before it acts.
LINK_PAGES = {
    LinkPurpose.RESET_PASSWORD: "/reset-password",
    LinkPurpose.SECURE_ACCOUNT: "/secure-account",
    LinkPurpose.CONFIRM_EMAIL: "/confirm-email",
    LinkPurpose.UNDO_EMAIL: "/confirm-email",
}


def mail_ports(ports: Ports) -> MailPorts:
    if ports.mail is None:  # pragma: no cover - create_app always wires mail
        raise RuntimeError("this use case mails, and no mail ports were wired")
    return ports.mail


def when(at: datetime) -> str:
    return f"{at:%-d %B %Y at %H:%M} UTC"


def forgot_link(ports: Ports) -> str:
    return f"{mail_ports(ports).public_url}/forgot-password"


async def new_link(
    uow: UnitOfWork,
    ports: Ports,
    purpose: LinkPurpose,
    account_id: AccountId,
    *,
    message_id: str,
    email: str | None = None,
    device_key: str | None = None,
) -> str:
    """A one-time link's address; only the token's hash is stored."""
    token = ports.tokens.token()
    now = ports.clock.now()
    await uow.links.add(
        Link(
            token_hash=hash_token(token),
            purpose=purpose,
            account_id=account_id,
            created_at=now,
            expires_at=now + LINK_LIFETIMES[purpose],
            message_id=message_id,
            email=email,
            device_key=device_key,
        )
    )
    return f"{mail_ports(ports).public_url}{LINK_PAGES[purpose]}?token={quote(token)}"


async def queue_mail(
    uow: UnitOfWork,
    ports: Ports,
    kind: MailKind,
    *,
    to: str,
    account_id: AccountId | None,
    context: dict[str, object],
    message_id: str | None = None,
) -> Message:
    """Compose the mail and put it in the outbox: it is sent if, and only if, the caller's
    unit of work commits. Logged on the account, where its delivery state is shown."""
    composed = mail_ports(ports).composer.compose(kind, {"email": to, **context})
    now = ports.clock.now()
    message = Message(
        id=message_id or ports.tokens.new_id(),
        to=to,
        subject=composed.subject,
        text=composed.text,
        html=composed.html,
        kind=kind,
        created_at=now,
        account_id=account_id,
    )
    await uow.outbox.add(message)
    if account_id is not None:
        await uow.events.add(
            SecurityEvent(
                account_id=account_id,
                kind=EventKind.MAIL_QUEUED,
                at=now,
                detail={"message_id": message.id, "mail": kind.value, "to": to},
            )
        )
    return message


def mail_committed(ports: Ports) -> None:
    """After the commit: the sender may look at once."""
    if ports.mail is not None:
        ports.mail.postman.wake()
