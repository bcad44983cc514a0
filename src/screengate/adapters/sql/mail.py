"""The outbox and the mailed links' tokens over one SQLAlchemy AsyncConnection."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, exists, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from screengate.adapters.sql.tables import mail_links, outbox
from screengate.domain.ids import AccountId
from screengate.domain.mail import DeliveryState, Link, LinkPurpose, MailKind, Message

# A stored error is for the operator's eyes: enough to diagnose, never a whole transcript.
MAX_ERROR = 500


class SqlOutbox:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, message: Message) -> None:
        await self._connection.execute(insert(outbox).values(_message_values(message)))

    async def claim(self, now: datetime, until: datetime, limit: int) -> list[Message]:
        due = (
            select(outbox.c.id)
            .where(
                outbox.c.state == DeliveryState.PENDING.value,
                or_(outbox.c.next_attempt_at.is_(None), outbox.c.next_attempt_at <= now),
                or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until <= now),
            )
            .order_by(outbox.c.created_at, outbox.c.id)
            .limit(limit)
        )
        if self._connection.dialect.name == "postgresql":
            # Several instances share one outbox: each takes rows the others have not locked,
            # without waiting for them. On SQLite BEGIN IMMEDIATE already serialises claims.
            due = due.with_for_update(skip_locked=True)
        ids = list((await self._connection.execute(due)).scalars())
        if not ids:
            return []
        claimed = (
            update(outbox)
            .where(outbox.c.id.in_(ids))
            .values(claimed_until=until, attempts=outbox.c.attempts + 1)
            .returning(*outbox.c)
        )
        rows = (await self._connection.execute(claimed)).all()
        return sorted((_message(row) for row in rows), key=lambda m: (m.created_at, m.id))

    async def sent(self, message_id: str, at: datetime) -> None:
        await self._set(message_id, state=DeliveryState.SENT.value, sent_at=at, claimed_until=None)

    async def retry(self, message_id: str, error: str, at: datetime) -> None:
        await self._set(
            message_id, last_error=error[:MAX_ERROR], next_attempt_at=at, claimed_until=None
        )

    async def give_up(self, message_id: str, error: str) -> None:
        await self._set(
            message_id,
            state=DeliveryState.FAILED.value,
            last_error=error[:MAX_ERROR],
            claimed_until=None,
        )

    async def _set(self, message_id: str, **values: Any) -> None:
        await self._connection.execute(
            update(outbox).where(outbox.c.id == message_id).values(**values)
        )

    async def get(self, message_id: str) -> Message | None:
        query = select(outbox).where(outbox.c.id == message_id)
        row = (await self._connection.execute(query)).one_or_none()
        return _message(row) if row else None

    async def recent(self, limit: int, state: DeliveryState | None = None) -> list[Message]:
        query = select(outbox).order_by(outbox.c.created_at.desc(), outbox.c.id.desc())
        if state is not None:
            query = query.where(outbox.c.state == state.value)
        rows = await self._connection.execute(query.limit(limit))
        return [_message(row) for row in rows]

    async def states(self, message_ids: Sequence[str]) -> dict[str, DeliveryState]:
        if not message_ids:
            return {}
        query = select(outbox.c.id, outbox.c.state).where(outbox.c.id.in_(list(message_ids)))
        return {row.id: DeliveryState(row.state) for row in await self._connection.execute(query)}


class SqlLinkStore:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, link: Link) -> None:
        await self._connection.execute(insert(mail_links).values(_link_values(link)))

    async def get(self, token_hash: str) -> Link | None:
        query = select(mail_links).where(mail_links.c.token_hash == token_hash)
        row = (await self._connection.execute(query)).one_or_none()
        return _link(row) if row else None

    async def use(self, token_hash: str, at: datetime) -> bool:
        # One statement: of two concurrent uses, the second finds used_at set and changes nothing.
        spent = (
            update(mail_links)
            .where(mail_links.c.token_hash == token_hash, mail_links.c.used_at.is_(None))
            .values(used_at=at)
        )
        return (await self._connection.execute(spent)).rowcount == 1

    async def mark_opened(self, token_hash: str, at: datetime) -> bool:
        opened = (
            update(mail_links)
            .where(mail_links.c.token_hash == token_hash, mail_links.c.opened_at.is_(None))
            .values(opened_at=at)
        )
        return (await self._connection.execute(opened)).rowcount == 1

    async def void(self, account_id: AccountId, purpose: LinkPurpose, at: datetime) -> int:
        voided = (
            update(mail_links)
            .where(
                mail_links.c.account_id == account_id,
                mail_links.c.purpose == purpose.value,
                mail_links.c.used_at.is_(None),
            )
            .values(used_at=at)
        )
        return (await self._connection.execute(voided)).rowcount

    async def sent_since(
        self, account_id: AccountId, purpose: LinkPurpose, device_key: str, since: datetime
    ) -> bool:
        query = select(
            exists().where(
                and_(
                    mail_links.c.account_id == account_id,
                    mail_links.c.purpose == purpose.value,
                    mail_links.c.device_key == device_key,
                    mail_links.c.created_at >= since,
                )
            )
        )
        return bool((await self._connection.execute(query)).scalar())

    async def opened(self, message_ids: Sequence[str]) -> set[str]:
        if not message_ids:
            return set()
        query = select(mail_links.c.message_id).where(
            mail_links.c.message_id.in_(list(message_ids)), mail_links.c.opened_at.is_not(None)
        )
        return {row.message_id for row in await self._connection.execute(query)}


def _message_values(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "account_id": message.account_id,
        "kind": message.kind.value,
        "recipient": message.to,
        "subject": message.subject,
        "text": message.text,
        "html": message.html,
        "created_at": message.created_at,
        "state": message.state.value,
        "attempts": message.attempts,
        "next_attempt_at": message.next_attempt_at,
        "claimed_until": message.claimed_until,
        "sent_at": message.sent_at,
        "last_error": message.last_error,
    }


def _message(row: Row[Any]) -> Message:
    return Message(
        id=row.id,
        to=row.recipient,
        subject=row.subject,
        text=row.text,
        html=row.html,
        kind=MailKind(row.kind),
        created_at=row.created_at,
        account_id=AccountId(row.account_id) if row.account_id else None,
        state=DeliveryState(row.state),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        claimed_until=row.claimed_until,
        sent_at=row.sent_at,
        last_error=row.last_error,
    )


def _link_values(link: Link) -> dict[str, Any]:
    return {
        "token_hash": link.token_hash,
        "purpose": link.purpose.value,
        "account_id": link.account_id,
        "created_at": link.created_at,
        "expires_at": link.expires_at,
        "used_at": link.used_at,
        "opened_at": link.opened_at,
        "message_id": link.message_id,
        "email": link.email,
        "device_key": link.device_key,
    }


def _link(row: Row[Any]) -> Link:
    return Link(
        token_hash=row.token_hash,
        purpose=LinkPurpose(row.purpose),
        account_id=AccountId(row.account_id),
        created_at=row.created_at,
        expires_at=row.expires_at,
        used_at=row.used_at,
        opened_at=row.opened_at,
        message_id=row.message_id,
        email=row.email,
        device_key=row.device_key,
    )
