"""The stores of ports.py over one SQLAlchemy AsyncConnection (the unit of work's)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Row,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.expression import ColumnElement

from screengate.adapters.sql.tables import (
    accounts,
    credentials,
    device_authorizations,
    devices,
    downloads,
    passkeys,
    profiles,
    recovery_codes,
    security_events,
    sessions,
    sign_in_challenges,
    streams,
)
from screengate.domain.accounts import Account
from screengate.domain.device_codes import AuthorizationStatus, DeviceAuthorization
from screengate.domain.devices import UNKNOWN_DEVICE, Activity, Device, DeviceType
from screengate.domain.downloads import Download, DownloadEndReason
from screengate.domain.errors import EmailTaken
from screengate.domain.events import EventKind, SecurityEvent
from screengate.domain.ids import AccountId, DeviceId, DownloadId, ProfileId, SessionId, StreamId
from screengate.domain.profiles import Profile
from screengate.domain.sessions import (
    Credential,
    CredentialKind,
    EndingSession,
    Session,
    SignOutReason,
    SignOutScope,
)
from screengate.domain.streams import Stream, StreamEndReason
from screengate.domain.two_step import Challenge, ChallengeKind, Passkey, PendingDevice


class SqlStore:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection


class SqlAccountStore(SqlStore):
    async def add(self, account: Account) -> None:
        try:
            # A savepoint, so that a refused insert leaves the transaction usable (PostgreSQL).
            async with self._connection.begin_nested():
                await self._connection.execute(insert(accounts).values(_account_values(account)))
        except IntegrityError:
            if await self._email_exists(account.email):
                raise EmailTaken(field="email") from None
            raise

    async def get(self, account_id: AccountId) -> Account | None:
        return await self._one(accounts.c.id == account_id)

    async def by_email(self, email: str) -> Account | None:
        return await self._one(accounts.c.email == email)

    async def save(self, account: Account) -> None:
        values = _account_values(account)
        await self._connection.execute(
            update(accounts).where(accounts.c.id == account.id).values(values)
        )

    async def _one(self, where: Any) -> Account | None:
        row = (await self._connection.execute(select(accounts).where(where))).one_or_none()
        return _account(row) if row else None

    async def _email_exists(self, email: str) -> bool:
        query = select(exists().where(accounts.c.email == email))
        return bool((await self._connection.execute(query)).scalar())


class SqlProfileStore(SqlStore):
    async def add(self, profile: Profile) -> None:
        await self._connection.execute(insert(profiles).values(_profile_values(profile)))

    async def for_account(self, account_id: AccountId) -> list[Profile]:
        query = (
            select(profiles)
            .where(profiles.c.account_id == account_id)
            .order_by(profiles.c.created_at, profiles.c.id)
        )
        return [_profile(row) for row in await self._connection.execute(query)]

    async def save(self, profile: Profile) -> None:
        await self._connection.execute(
            update(profiles).where(profiles.c.id == profile.id).values(_profile_values(profile))
        )

    async def delete(self, profile_id: ProfileId) -> None:
        await self._connection.execute(delete(profiles).where(profiles.c.id == profile_id))


class SqlDeviceStore(SqlStore):
    async def add(self, device: Device) -> None:
        await self._connection.execute(insert(devices).values(_device_values(device)))

    async def get(self, account_id: AccountId, device_id: DeviceId) -> Device | None:
        query = select(devices).where(devices.c.id == device_id, devices.c.account_id == account_id)
        row = (await self._connection.execute(query)).one_or_none()
        return _device(row) if row else None

    async def for_account(self, account_id: AccountId) -> list[Device]:
        query = (
            select(devices)
            .where(devices.c.account_id == account_id)
            .order_by(devices.c.created_at, devices.c.id)
        )
        return [_device(row) for row in await self._connection.execute(query)]

    async def save(self, device: Device) -> None:
        await self._connection.execute(
            update(devices).where(devices.c.id == device.id).values(_device_values(device))
        )

    async def prune_unused(self, account_id: AccountId) -> int:
        holding = select(sessions.c.id).where(sessions.c.device_id == devices.c.id)
        result = await self._connection.execute(
            delete(devices).where(devices.c.account_id == account_id, ~exists(holding))
        )
        return result.rowcount


class SqlSessionStore(SqlStore):
    async def add(self, session: Session) -> None:
        await self._connection.execute(insert(sessions).values(_session_values(session)))

    async def get(self, session_id: SessionId) -> Session | None:
        query = select(sessions).where(sessions.c.id == session_id)
        row = (await self._connection.execute(query)).one_or_none()
        return _session(row) if row else None

    async def live_for_account(self, account_id: AccountId) -> list[Session]:
        query = (
            select(sessions)
            .where(sessions.c.account_id == account_id, sessions.c.signed_out_at.is_(None))
            .order_by(sessions.c.last_seen_at.desc(), sessions.c.id)
        )
        return [_session(row) for row in await self._connection.execute(query)]

    async def save(self, session: Session) -> None:
        await self._connection.execute(
            update(sessions).where(sessions.c.id == session.id).values(_session_values(session))
        )

    async def ending(self, scope: SignOutScope) -> list[EndingSession]:
        query = (
            select(sessions.c.id, sessions.c.device_id, devices.c.name)
            .select_from(_with_device)
            .where(*_covered_by(scope))
            .order_by(sessions.c.last_seen_at.desc(), sessions.c.id)
        )
        return [
            EndingSession(SessionId(row.id), DeviceId(row.device_id), row.name)
            for row in await self._connection.execute(query)
        ]

    async def end(self, scope: SignOutScope, reason: SignOutReason, at: datetime) -> int:
        result = await self._connection.execute(
            update(sessions)
            .where(*_covered_by(scope))
            .values(signed_out_at=at, sign_out_reason=reason.value)
        )
        return result.rowcount

    async def touch(
        self, session_id: SessionId, at: datetime, ip: str | None, location: str | None
    ) -> None:
        seen = literal(at, sessions.c.last_seen_at.type)
        await self._connection.execute(
            update(sessions)
            .where(sessions.c.id == session_id)
            .values(
                # Contacts may be recorded out of order; last_seen_at never goes back.
                last_seen_at=case(
                    (sessions.c.last_seen_at < seen, seen), else_=sessions.c.last_seen_at
                ),
                # An unknown address keeps the last known one, as a refresh does.
                ip=func.coalesce(ip, sessions.c.ip),
                location=func.coalesce(location, sessions.c.location),
            )
        )

    async def signed_out_after(
        self, since: datetime, limit: int
    ) -> list[tuple[SessionId, datetime]]:
        query = (
            select(sessions.c.id, sessions.c.signed_out_at)
            .where(sessions.c.signed_out_at > since)
            .order_by(sessions.c.signed_out_at)
            .limit(limit)
        )
        return [
            (SessionId(row.id), row.signed_out_at) for row in await self._connection.execute(query)
        ]

    async def signed_out_since(
        self, account_id: AccountId, since: datetime, limit: int | None = None
    ) -> list[Session]:
        query = (
            select(sessions)
            .where(sessions.c.account_id == account_id, sessions.c.signed_out_at >= since)
            .order_by(sessions.c.signed_out_at.desc(), sessions.c.id)
            .limit(limit)
        )
        return [_session(row) for row in await self._connection.execute(query)]

    async def prune(
        self, ended_before: datetime, unseen_before: datetime, limit: int
    ) -> list[AccountId]:
        # Two queries, each on its own partial index (signed out / live), oldest first.
        ended = (
            select(sessions.c.id, sessions.c.account_id, sessions.c.signed_out_at.label("at"))
            .where(sessions.c.signed_out_at < ended_before)
            .order_by(sessions.c.signed_out_at, sessions.c.id)
            .limit(limit)
        )
        unseen = (
            select(sessions.c.id, sessions.c.account_id, sessions.c.last_seen_at.label("at"))
            .where(sessions.c.signed_out_at.is_(None), sessions.c.last_seen_at < unseen_before)
            .order_by(sessions.c.last_seen_at, sessions.c.id)
            .limit(limit)
        )
        found = [*await self._connection.execute(ended), *await self._connection.execute(unseen)]
        due = sorted(found, key=lambda row: (row.at, row.id))[:limit]
        for batch in _batches([row.id for row in due]):
            # Their credentials, streams and downloads go with them (ON DELETE CASCADE).
            await self._connection.execute(delete(sessions).where(sessions.c.id.in_(batch)))
        return [AccountId(row.account_id) for row in due]

    async def mark_told(self, session_ids: Sequence[SessionId], at: datetime) -> None:
        for batch in _batches(session_ids):
            await self._connection.execute(
                update(sessions)
                .where(sessions.c.id.in_(batch), sessions.c.told_at.is_(None))
                .values(told_at=at)
            )

    async def mark_confirmed(self, session_id: SessionId, at: datetime) -> bool:
        result = await self._connection.execute(
            update(sessions)
            .where(sessions.c.id == session_id, sessions.c.confirmed_at.is_(None))
            .values(confirmed_at=at)
        )
        return result.rowcount == 1

    async def time_up(self, now: datetime, limit: int) -> list[tuple[AccountId, SessionId]]:
        query = (
            select(sessions.c.account_id, sessions.c.id)
            .where(
                sessions.c.signed_out_at.is_(None),
                sessions.c.signed_in_until.is_not(None),
                sessions.c.signed_in_until <= now,
            )
            .order_by(sessions.c.signed_in_until, sessions.c.id)
            .limit(limit)
        )
        return [
            (AccountId(row.account_id), SessionId(row.id))
            for row in await self._connection.execute(query)
        ]


class SqlCredentialStore(SqlStore):
    async def add(self, credential: Credential) -> None:
        await self._connection.execute(insert(credentials).values(_credential_values(credential)))

    async def get(self, token_hash: str) -> Credential | None:
        query = select(credentials).where(credentials.c.token_hash == token_hash)
        row = (await self._connection.execute(query)).one_or_none()
        return _credential(row) if row else None

    async def claim(self, token_hash: str, at: datetime) -> bool:
        # One statement: the row lock (PostgreSQL) or the write lock (SQLite) decides the race,
        # and the loser's WHERE no longer matches.
        result = await self._connection.execute(
            update(credentials)
            .where(credentials.c.token_hash == token_hash, credentials.c.used_at.is_(None))
            .values(used_at=at)
        )
        return result.rowcount == 1

    async def prune(self, before: datetime) -> int:
        result = await self._connection.execute(
            delete(credentials).where(credentials.c.expires_at < before)
        )
        return result.rowcount


class SqlSecurityLog(SqlStore):
    async def add(self, event: SecurityEvent) -> None:
        await self._connection.execute(insert(security_events).values(_event_values(event)))

    async def add_for_sessions(self, scope: SignOutScope, event: SecurityEvent) -> None:
        await self._add_per_session(event, _covered_by(scope))

    async def add_for_each(self, session_ids: Sequence[SessionId], event: SecurityEvent) -> None:
        for batch in _batches(session_ids):
            await self._add_per_session(event, [sessions.c.id.in_(batch)])

    async def _add_per_session(
        self, event: SecurityEvent, where: list[ColumnElement[bool]]
    ) -> None:
        # INSERT ... SELECT: ten thousand audit rows without ten thousand rows of parameters.
        values = _event_values(event)
        per_session = {
            "device_id": sessions.c.device_id,
            "device_name": func.coalesce(devices.c.name, UNKNOWN_DEVICE),
            "session_id": sessions.c.id,
        }
        columns = [
            per_session.get(name, literal(value, security_events.c[name].type)).label(name)
            for name, value in values.items()
        ]
        rows = (
            select(*columns)
            .select_from(_with_device)
            .where(*where)
            .order_by(sessions.c.last_seen_at.desc(), sessions.c.id)
        )
        await self._connection.execute(insert(security_events).from_select(list(values), rows))

    async def page(
        self, account_id: AccountId, *, before_id: int | None, limit: int
    ) -> list[SecurityEvent]:
        query = select(security_events).where(security_events.c.account_id == account_id)
        if before_id is not None:
            query = query.where(security_events.c.id < before_id)
        query = query.order_by(security_events.c.id.desc()).limit(limit)
        return [_event(row) for row in await self._connection.execute(query)]


class SqlStreamStore(SqlStore):
    async def add(self, stream: Stream) -> None:
        await self._connection.execute(insert(streams).values(_stream_values(stream)))

    async def get(self, account_id: AccountId, stream_id: StreamId) -> Stream | None:
        query = select(streams).where(streams.c.id == stream_id, streams.c.account_id == account_id)
        row = (await self._connection.execute(query)).one_or_none()
        return _stream(row) if row else None

    async def live_for_account(self, account_id: AccountId, now: datetime) -> list[Stream]:
        query = (
            select(streams)
            .where(
                streams.c.account_id == account_id,
                streams.c.ended_at.is_(None),
                streams.c.expires_at > now,
            )
            .order_by(streams.c.started_at, streams.c.id)
        )
        return [_stream(row) for row in await self._connection.execute(query)]

    async def open_for_account(self, account_id: AccountId) -> list[Stream]:
        query = (
            select(streams)
            .where(streams.c.account_id == account_id, streams.c.ended_at.is_(None))
            .order_by(streams.c.started_at, streams.c.id)
        )
        return [_stream(row) for row in await self._connection.execute(query)]

    async def save(self, stream: Stream) -> None:
        await self._connection.execute(
            update(streams).where(streams.c.id == stream.id).values(_stream_values(stream))
        )

    async def lapsed(self, now: datetime, limit: int) -> list[Stream]:
        query = (
            select(streams)
            .where(streams.c.ended_at.is_(None), streams.c.expires_at <= now)
            .order_by(streams.c.expires_at, streams.c.id)
            .limit(limit)
        )
        return [_stream(row) for row in await self._connection.execute(query)]

    async def renew(
        self, session_id: SessionId, stream_id: StreamId, expires_at: datetime, now: datetime
    ) -> bool:
        # One statement and no read: the WHERE is the whole rule, so a stream ended or expired
        # by a concurrent sign-out or stop is never brought back.
        result = await self._connection.execute(
            update(streams)
            .where(
                streams.c.id == stream_id,
                streams.c.session_id == session_id,
                streams.c.ended_at.is_(None),
                streams.c.expires_at > now,
            )
            .values(expires_at=expires_at)
        )
        return result.rowcount == 1


# Spent or ended: nothing more can happen to these codes.
_UNCLAIMABLE = [
    AuthorizationStatus.DENIED.value,
    AuthorizationStatus.REDEEMED.value,
    AuthorizationStatus.VOIDED.value,
    AuthorizationStatus.EXPIRED.value,
]


class SqlDeviceAuthorizationStore(SqlStore):
    async def add(self, authorization: DeviceAuthorization) -> None:
        await self._connection.execute(
            insert(device_authorizations).values(_authorization_values(authorization))
        )

    async def by_device_code(self, device_code_hash: str) -> DeviceAuthorization | None:
        query = select(device_authorizations).where(
            device_authorizations.c.device_code_hash == device_code_hash
        )
        row = (await self._connection.execute(query)).one_or_none()
        return _authorization(row) if row else None

    async def by_user_code(self, user_code: str) -> DeviceAuthorization | None:
        query = (
            select(device_authorizations)
            .where(device_authorizations.c.user_code == user_code)
            .order_by(device_authorizations.c.requested_at.desc())
            .limit(1)
        )
        row = (await self._connection.execute(query)).one_or_none()
        return _authorization(row) if row else None

    async def save(self, authorization: DeviceAuthorization) -> None:
        await self._connection.execute(
            update(device_authorizations)
            .where(device_authorizations.c.id == authorization.id)
            .values(_authorization_values(authorization))
        )

    async def save_if(
        self, authorization: DeviceAuthorization, status: AuthorizationStatus
    ) -> bool:
        # On PostgreSQL a racing UPDATE waits for the first to commit, then finds the status
        # changed and updates nothing.
        table = device_authorizations
        result = await self._connection.execute(
            update(table)
            .where(
                table.c.id == authorization.id,
                table.c.status == status.value,
                table.c.account_id.is_(None) | (table.c.account_id == authorization.account_id),
            )
            .values(_authorization_values(authorization))
        )
        return result.rowcount == 1

    async def polled(self, authorization_id: str, at: datetime, interval_seconds: int) -> None:
        await self._connection.execute(
            update(device_authorizations)
            .where(device_authorizations.c.id == authorization_id)
            .values(last_polled_at=at, interval_seconds=interval_seconds)
        )

    async def claimed(self, account_id: AccountId) -> list[DeviceAuthorization]:
        query = select(device_authorizations).where(
            device_authorizations.c.account_id == account_id,
            device_authorizations.c.status.not_in(_UNCLAIMABLE),
        )
        return [_authorization(row) for row in await self._connection.execute(query)]

    async def lapsed(self, now: datetime, limit: int) -> list[DeviceAuthorization]:
        query = (
            select(device_authorizations)
            .where(
                device_authorizations.c.account_id.is_not(None),
                device_authorizations.c.status.not_in(_UNCLAIMABLE),
                device_authorizations.c.expires_at <= now,
            )
            .order_by(device_authorizations.c.expires_at, device_authorizations.c.id)
            .limit(limit)
        )
        return [_authorization(row) for row in await self._connection.execute(query)]

    async def prune(self, before: datetime) -> int:
        result = await self._connection.execute(
            delete(device_authorizations).where(device_authorizations.c.expires_at < before)
        )
        return result.rowcount


def _authorization_values(a: DeviceAuthorization) -> dict[str, Any]:
    return {
        "id": a.id,
        "device_code_hash": a.device_code_hash,
        "user_code": a.user_code,
        "client_id": a.client_id,
        "device_type": a.device_type.value,
        "device_name": a.device_name,
        "requested_at": a.requested_at,
        "expires_at": a.expires_at,
        "interval_seconds": a.interval_seconds,
        "ip": a.ip,
        "location": a.location,
        "user_agent": a.user_agent,
        "status": a.status.value,
        "last_polled_at": a.last_polled_at,
        "account_id": a.account_id,
        "decided_at": a.decided_at,
        "decided_by_device_id": a.decided_by_device_id,
        "signed_in_until": a.signed_in_until,
        "device_id": a.device_id,
        "session_id": a.session_id,
    }


def _authorization(row: Row[Any]) -> DeviceAuthorization:
    return DeviceAuthorization(
        id=row.id,
        device_code_hash=row.device_code_hash,
        user_code=row.user_code,
        client_id=row.client_id,
        device_type=DeviceType(row.device_type),
        device_name=row.device_name,
        requested_at=row.requested_at,
        expires_at=row.expires_at,
        interval_seconds=row.interval_seconds,
        ip=row.ip,
        location=row.location,
        user_agent=row.user_agent,
        status=AuthorizationStatus(row.status),
        last_polled_at=row.last_polled_at,
        account_id=AccountId(row.account_id) if row.account_id else None,
        decided_at=row.decided_at,
        decided_by_device_id=DeviceId(row.decided_by_device_id)
        if row.decided_by_device_id
        else None,
        signed_in_until=row.signed_in_until,
        device_id=DeviceId(row.device_id) if row.device_id else None,
        session_id=SessionId(row.session_id) if row.session_id else None,
    )


class SqlDownloadStore(SqlStore):
    async def add(self, download: Download) -> None:
        await self._connection.execute(insert(downloads).values(_download_values(download)))

    async def get(self, account_id: AccountId, download_id: DownloadId) -> Download | None:
        query = select(downloads).where(
            downloads.c.id == download_id, downloads.c.account_id == account_id
        )
        row = (await self._connection.execute(query)).one_or_none()
        return _download(row) if row else None

    async def live_for_account(self, account_id: AccountId, now: datetime) -> list[Download]:
        query = (
            select(downloads)
            .where(
                downloads.c.account_id == account_id,
                downloads.c.revoked_at.is_(None),
                downloads.c.expires_at > now,
            )
            .order_by(downloads.c.created_at, downloads.c.id)
        )
        return [_download(row) for row in await self._connection.execute(query)]

    async def open_for_account(self, account_id: AccountId) -> list[Download]:
        query = (
            select(downloads)
            .where(downloads.c.account_id == account_id, downloads.c.revoked_at.is_(None))
            .order_by(downloads.c.created_at, downloads.c.id)
        )
        return [_download(row) for row in await self._connection.execute(query)]

    async def save(self, download: Download) -> None:
        await self._connection.execute(
            update(downloads)
            .where(downloads.c.id == download.id)
            .values(_download_values(download))
        )


class SqlTwoStepStore(SqlStore):
    async def replace_recovery_codes(
        self, account_id: AccountId, code_hashes: Sequence[str], at: datetime
    ) -> None:
        await self._connection.execute(
            delete(recovery_codes).where(recovery_codes.c.account_id == account_id)
        )
        if code_hashes:
            rows = [
                {"account_id": account_id, "code_hash": h, "created_at": at} for h in code_hashes
            ]
            await self._connection.execute(insert(recovery_codes), rows)

    async def use_recovery_code(self, account_id: AccountId, code_hash: str, at: datetime) -> bool:
        result = await self._connection.execute(
            update(recovery_codes)
            .where(
                recovery_codes.c.account_id == account_id,
                recovery_codes.c.code_hash == code_hash,
                recovery_codes.c.used_at.is_(None),
            )
            .values(used_at=at)
        )
        return result.rowcount == 1

    async def recovery_codes_left(self, account_id: AccountId) -> int:
        query = select(func.count()).where(
            recovery_codes.c.account_id == account_id, recovery_codes.c.used_at.is_(None)
        )
        return int((await self._connection.execute(query)).scalar_one())

    async def add_challenge(self, challenge: Challenge) -> None:
        await self._connection.execute(
            insert(sign_in_challenges).values(_challenge_values(challenge))
        )

    async def challenge(self, token_hash: str) -> Challenge | None:
        query = select(sign_in_challenges).where(sign_in_challenges.c.token_hash == token_hash)
        row = (await self._connection.execute(query)).one_or_none()
        return _challenge(row) if row else None

    async def save_challenge(self, challenge: Challenge) -> None:
        await self._connection.execute(
            update(sign_in_challenges)
            .where(sign_in_challenges.c.token_hash == challenge.token_hash)
            .values(_challenge_values(challenge))
        )

    async def prune_challenges(self, before: datetime) -> int:
        result = await self._connection.execute(
            delete(sign_in_challenges).where(sign_in_challenges.c.expires_at < before)
        )
        return result.rowcount

    async def add_passkey(self, passkey: Passkey) -> None:
        await self._connection.execute(insert(passkeys).values(_passkey_values(passkey)))

    async def passkeys(self, account_id: AccountId) -> list[Passkey]:
        query = (
            select(passkeys)
            .where(passkeys.c.account_id == account_id)
            .order_by(passkeys.c.created_at, passkeys.c.id)
        )
        return [_passkey(row) for row in await self._connection.execute(query)]

    async def passkey_by_credential(self, credential_id: str) -> Passkey | None:
        query = select(passkeys).where(passkeys.c.credential_id == credential_id)
        row = (await self._connection.execute(query)).one_or_none()
        return _passkey(row) if row else None

    async def save_passkey(self, passkey: Passkey) -> None:
        await self._connection.execute(
            update(passkeys).where(passkeys.c.id == passkey.id).values(_passkey_values(passkey))
        )

    async def delete_passkey(self, account_id: AccountId, passkey_id: str) -> bool:
        result = await self._connection.execute(
            delete(passkeys).where(passkeys.c.id == passkey_id, passkeys.c.account_id == account_id)
        )
        return result.rowcount == 1


def _challenge_values(challenge: Challenge) -> dict[str, Any]:
    device = challenge.device
    return {
        "token_hash": challenge.token_hash,
        "kind": challenge.kind.value,
        "account_id": challenge.account_id,
        "session_id": challenge.session_id,
        "created_at": challenge.created_at,
        "expires_at": challenge.expires_at,
        "device_type": device.type if device else None,
        "device_name": device.name if device else None,
        "device_id": device.device_id if device else None,
        "user_agent": device.user_agent if device else None,
        "device_secret_hash": device.secret_hash if device else None,
        "webauthn": challenge.webauthn,
        "failures": challenge.failures,
        "used_at": challenge.used_at,
    }


def _challenge(row: Row[Any]) -> Challenge:
    device = None
    if row.device_type is not None:
        device = PendingDevice(
            row.device_type,
            row.device_name,
            row.device_id,
            row.user_agent,
            row.device_secret_hash,
        )
    return Challenge(
        token_hash=row.token_hash,
        kind=ChallengeKind(row.kind),
        created_at=row.created_at,
        expires_at=row.expires_at,
        account_id=AccountId(row.account_id) if row.account_id else None,
        session_id=SessionId(row.session_id) if row.session_id else None,
        device=device,
        webauthn=row.webauthn,
        failures=row.failures,
        used_at=row.used_at,
    )


def _passkey_values(passkey: Passkey) -> dict[str, Any]:
    return {
        "id": passkey.id,
        "account_id": passkey.account_id,
        "credential_id": passkey.credential_id,
        "public_key": passkey.public_key,
        "sign_count": passkey.sign_count,
        "name": passkey.name,
        "created_at": passkey.created_at,
        "last_used_at": passkey.last_used_at,
    }


def _passkey(row: Row[Any]) -> Passkey:
    return Passkey(
        id=row.id,
        account_id=AccountId(row.account_id),
        credential_id=row.credential_id,
        public_key=row.public_key,
        sign_count=row.sign_count,
        name=row.name,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
    )


def _account_values(account: Account) -> dict[str, Any]:
    return {
        "id": account.id,
        "email": account.email,
        "password_hash": account.password_hash,
        "plan": account.plan,
        "created_at": account.created_at,
        "password_changed_at": account.password_changed_at,
        "totp_secret": account.totp_secret,
        "failed_sign_ins": account.failed_sign_ins,
        "totp_confirmed_at": account.totp_confirmed_at,
        "totp_last_step": account.totp_last_step,
        "password_reset_required": account.password_reset_required,
    }


def _account(row: Row[Any]) -> Account:
    return Account(
        id=AccountId(row.id),
        email=row.email,
        password_hash=row.password_hash,
        plan=row.plan,
        created_at=row.created_at,
        password_changed_at=row.password_changed_at,
        totp_secret=row.totp_secret,
        failed_sign_ins=row.failed_sign_ins,
        totp_confirmed_at=row.totp_confirmed_at,
        totp_last_step=row.totp_last_step,
        password_reset_required=row.password_reset_required,
    )


def _profile_values(profile: Profile) -> dict[str, Any]:
    return {
        "id": profile.id,
        "account_id": profile.account_id,
        "name": profile.name,
        "kids": profile.kids,
        "created_at": profile.created_at,
        "pin_hash": profile.pin_hash,
    }


def _profile(row: Row[Any]) -> Profile:
    return Profile(
        id=ProfileId(row.id),
        account_id=AccountId(row.account_id),
        name=row.name,
        kids=row.kids,
        created_at=row.created_at,
        pin_hash=row.pin_hash,
    )


def _device_values(device: Device) -> dict[str, Any]:
    activity = device.last_activity
    return {
        "id": device.id,
        "account_id": device.account_id,
        "type": device.type.value,
        "name": device.name,
        "created_at": device.created_at,
        "user_agent": device.user_agent,
        "last_activity_at": activity.at if activity else None,
        "last_activity_profile_id": activity.profile_id if activity else None,
        "last_activity_title_id": activity.title_id if activity else None,
        "secret_hash": device.secret_hash,
    }


def _device(row: Row[Any]) -> Device:
    activity = None
    if row.last_activity_at is not None:
        activity = Activity(
            at=row.last_activity_at,
            profile_id=ProfileId(row.last_activity_profile_id),
            title_id=row.last_activity_title_id,
        )
    return Device(
        id=DeviceId(row.id),
        account_id=AccountId(row.account_id),
        type=DeviceType(row.type),
        name=row.name,
        created_at=row.created_at,
        user_agent=row.user_agent,
        last_activity=activity,
        secret_hash=row.secret_hash,
    )


_with_device = sessions.outerjoin(devices, devices.c.id == sessions.c.device_id)


# Ids per IN (...): SQLite allows 32,766 bound parameters in one statement.
BATCH = 5_000


def _batches(ids: Sequence[SessionId]) -> Iterator[list[SessionId]]:
    for first in range(0, len(ids), BATCH):
        yield list(ids[first : first + BATCH])


def _covered_by(scope: SignOutScope) -> list[ColumnElement[bool]]:
    """SignOutScope.covers() as a WHERE clause."""
    where = [sessions.c.account_id == scope.account_id, sessions.c.signed_out_at.is_(None)]
    if scope.session_id is not None:
        where.append(sessions.c.id == scope.session_id)
    if scope.device_id is not None:
        where.append(sessions.c.device_id == scope.device_id)
    if scope.keep is not None:
        where.append(sessions.c.id != scope.keep)
    return where


def _session_values(session: Session) -> dict[str, Any]:
    reason = session.sign_out_reason
    return {
        "id": session.id,
        "account_id": session.account_id,
        "device_id": session.device_id,
        "created_at": session.created_at,
        "last_seen_at": session.last_seen_at,
        "ip": session.ip,
        "location": session.location,
        "signed_out_at": session.signed_out_at,
        "sign_out_reason": reason.value if reason else None,
        "proven_at": session.proven_at,
        "signed_in_until": session.signed_in_until,
    }


def _session(row: Row[Any]) -> Session:
    reason = row.sign_out_reason
    return Session(
        id=SessionId(row.id),
        account_id=AccountId(row.account_id),
        device_id=DeviceId(row.device_id),
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        ip=row.ip,
        location=row.location,
        signed_out_at=row.signed_out_at,
        sign_out_reason=SignOutReason(reason) if reason else None,
        told_at=row.told_at,
        confirmed_at=row.confirmed_at,
        proven_at=row.proven_at,
        signed_in_until=row.signed_in_until,
    )


def _credential_values(credential: Credential) -> dict[str, Any]:
    return {
        "token_hash": credential.token_hash,
        "kind": credential.kind.value,
        "session_id": credential.session_id,
        "account_id": credential.account_id,
        "device_id": credential.device_id,
        "issued_at": credential.issued_at,
        "expires_at": credential.expires_at,
        "used_at": credential.used_at,
    }


def _credential(row: Row[Any]) -> Credential:
    return Credential(
        token_hash=row.token_hash,
        kind=CredentialKind(row.kind),
        session_id=SessionId(row.session_id),
        account_id=AccountId(row.account_id),
        device_id=DeviceId(row.device_id),
        issued_at=row.issued_at,
        expires_at=row.expires_at,
        used_at=row.used_at,
    )


def _event_values(event: SecurityEvent) -> dict[str, Any]:
    # The id is the database's to give: it is the pagination cursor.
    return {
        "account_id": event.account_id,
        "kind": event.kind.value,
        "at": event.at,
        "device_id": event.device_id,
        "device_name": event.device_name,
        "session_id": event.session_id,
        "ip": event.ip,
        "location": event.location,
        "detail": dict(event.detail),
    }


def _event(row: Row[Any]) -> SecurityEvent:
    return SecurityEvent(
        account_id=AccountId(row.account_id),
        kind=EventKind(row.kind),
        at=row.at,
        device_id=DeviceId(row.device_id) if row.device_id else None,
        device_name=row.device_name,
        session_id=SessionId(row.session_id) if row.session_id else None,
        ip=row.ip,
        location=row.location,
        detail=dict(row.detail),
        id=row.id,
    )


def _stream_values(stream: Stream) -> dict[str, Any]:
    reason = stream.end_reason
    return {
        "id": stream.id,
        "account_id": stream.account_id,
        "session_id": stream.session_id,
        "device_id": stream.device_id,
        "profile_id": stream.profile_id,
        "title_id": stream.title_id,
        "started_at": stream.started_at,
        "expires_at": stream.expires_at,
        "ended_at": stream.ended_at,
        "end_reason": reason.value if reason else None,
    }


def _stream(row: Row[Any]) -> Stream:
    reason = row.end_reason
    return Stream(
        id=StreamId(row.id),
        account_id=AccountId(row.account_id),
        session_id=SessionId(row.session_id),
        device_id=DeviceId(row.device_id),
        profile_id=ProfileId(row.profile_id),
        title_id=row.title_id,
        started_at=row.started_at,
        expires_at=row.expires_at,
        ended_at=row.ended_at,
        end_reason=StreamEndReason(reason) if reason else None,
    )


def _download_values(download: Download) -> dict[str, Any]:
    reason = download.revoke_reason
    return {
        "id": download.id,
        "account_id": download.account_id,
        "device_id": download.device_id,
        "session_id": download.session_id,
        "profile_id": download.profile_id,
        "title_id": download.title_id,
        "created_at": download.created_at,
        "expires_at": download.expires_at,
        "revoked_at": download.revoked_at,
        "revoke_reason": reason.value if reason else None,
    }


def _download(row: Row[Any]) -> Download:
    reason = row.revoke_reason
    return Download(
        id=DownloadId(row.id),
        account_id=AccountId(row.account_id),
        device_id=DeviceId(row.device_id),
        session_id=SessionId(row.session_id),
        profile_id=ProfileId(row.profile_id),
        title_id=row.title_id,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        revoke_reason=DownloadEndReason(reason) if reason else None,
    )
