"""In-memory stores for unit tests of the services: the same contract as SQL, no I/O."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType
from typing import Self

from screengate.domain.accounts import Account
from screengate.domain.device_codes import AuthorizationStatus, DeviceAuthorization
from screengate.domain.devices import UNKNOWN_DEVICE, Device
from screengate.domain.downloads import Download
from screengate.domain.errors import EmailTaken
from screengate.domain.events import SecurityEvent
from screengate.domain.ids import AccountId, DeviceId, DownloadId, ProfileId, SessionId, StreamId
from screengate.domain.mail import DeliveryState, Link, LinkPurpose, Message
from screengate.domain.profiles import Profile
from screengate.domain.sessions import (
    Credential,
    EndingSession,
    Session,
    SignOutReason,
    SignOutScope,
)
from screengate.domain.streams import Stream
from screengate.domain.two_step import Challenge, Passkey


@dataclass
class MemoryState:
    accounts: dict[AccountId, Account] = field(default_factory=dict)
    profiles: dict[ProfileId, Profile] = field(default_factory=dict)
    devices: dict[DeviceId, Device] = field(default_factory=dict)
    sessions: dict[SessionId, Session] = field(default_factory=dict)
    credentials: dict[str, Credential] = field(default_factory=dict)
    events: list[SecurityEvent] = field(default_factory=list)
    streams: dict[StreamId, Stream] = field(default_factory=dict)
    downloads: dict[DownloadId, Download] = field(default_factory=dict)
    # (account, code hash) -> when used (None: unused)
    recovery_codes: dict[tuple[AccountId, str], datetime | None] = field(default_factory=dict)
    challenges: dict[str, Challenge] = field(default_factory=dict)
    passkeys: dict[str, Passkey] = field(default_factory=dict)
    outbox: dict[str, Message] = field(default_factory=dict)
    links: dict[str, Link] = field(default_factory=dict)
    device_authorizations: dict[str, DeviceAuthorization] = field(default_factory=dict)


class MemoryDatabase:
    """One shared state; a unit of work works on a copy and swaps it in on commit."""

    def __init__(self) -> None:
        self.state = MemoryState()
        # One writer at a time, as SQLite's BEGIN IMMEDIATE gives; that is also the account lock.
        self.lock = asyncio.Lock()
        self.holder: asyncio.Task[object] | None = None


class _Stores:
    def __init__(self, state: MemoryState) -> None:
        self.state = state


class MemoryAccountStore(_Stores):
    async def add(self, account: Account) -> None:
        if any(a.email == account.email for a in self.state.accounts.values()):
            raise EmailTaken(field="email")
        self.state.accounts[account.id] = replace(account)

    async def get(self, account_id: AccountId) -> Account | None:
        found = self.state.accounts.get(account_id)
        return replace(found) if found else None

    async def by_email(self, email: str) -> Account | None:
        for account in self.state.accounts.values():
            if account.email == email:
                return replace(account)
        return None

    async def save(self, account: Account) -> None:
        self.state.accounts[account.id] = replace(account)


class MemoryProfileStore(_Stores):
    async def add(self, profile: Profile) -> None:
        self.state.profiles[profile.id] = replace(profile)

    async def for_account(self, account_id: AccountId) -> list[Profile]:
        mine = [replace(p) for p in self.state.profiles.values() if p.account_id == account_id]
        return sorted(mine, key=lambda p: p.created_at)

    async def save(self, profile: Profile) -> None:
        self.state.profiles[profile.id] = replace(profile)

    async def delete(self, profile_id: ProfileId) -> None:
        self.state.profiles.pop(profile_id, None)


class MemoryDeviceStore(_Stores):
    async def add(self, device: Device) -> None:
        self.state.devices[device.id] = replace(device)

    async def get(self, account_id: AccountId, device_id: DeviceId) -> Device | None:
        found = self.state.devices.get(device_id)
        return replace(found) if found and found.account_id == account_id else None

    async def for_account(self, account_id: AccountId) -> list[Device]:
        return [replace(d) for d in self.state.devices.values() if d.account_id == account_id]

    async def save(self, device: Device) -> None:
        self.state.devices[device.id] = replace(device)

    async def prune_unused(self, account_id: AccountId) -> int:
        used = {s.device_id for s in self.state.sessions.values()}
        gone = [
            d.id
            for d in self.state.devices.values()
            if d.account_id == account_id and d.id not in used
        ]
        for device_id in gone:
            del self.state.devices[device_id]
        return len(gone)


class MemorySessionStore(_Stores):
    async def add(self, session: Session) -> None:
        self.state.sessions[session.id] = replace(session)

    async def get(self, session_id: SessionId) -> Session | None:
        found = self.state.sessions.get(session_id)
        return replace(found) if found else None

    async def live_for_account(self, account_id: AccountId) -> list[Session]:
        live = [
            replace(s)
            for s in self.state.sessions.values()
            if s.account_id == account_id and s.live
        ]
        return sorted(live, key=lambda s: s.last_seen_at, reverse=True)

    async def save(self, session: Session) -> None:
        # The receipt is written only by mark_told / mark_confirmed, as on SQL.
        stored = self.state.sessions.get(session.id)
        told, confirmed = (stored.told_at, stored.confirmed_at) if stored else (None, None)
        self.state.sessions[session.id] = replace(session, told_at=told, confirmed_at=confirmed)

    async def ending(self, scope: SignOutScope) -> list[EndingSession]:
        covered = [s for s in self.state.sessions.values() if scope.covers(s)]
        covered.sort(key=lambda s: s.id)
        covered.sort(key=lambda s: s.last_seen_at, reverse=True)
        return [EndingSession(s.id, s.device_id, self._device_name(s.device_id)) for s in covered]

    async def end(self, scope: SignOutScope, reason: SignOutReason, at: datetime) -> int:
        return sum(s.sign_out(reason, at) for s in self.state.sessions.values() if scope.covers(s))

    def _device_name(self, device_id: DeviceId) -> str | None:
        device = self.state.devices.get(device_id)
        return device.name if device else None

    async def touch(
        self, session_id: SessionId, at: datetime, ip: str | None, location: str | None
    ) -> None:
        session = self.state.sessions.get(session_id)
        if session is not None:
            session.last_seen_at = max(session.last_seen_at, at)
            session.ip = ip or session.ip
            session.location = location or session.location

    async def signed_out_after(
        self, since: datetime, limit: int
    ) -> list[tuple[SessionId, datetime]]:
        ended = sorted(
            (s.signed_out_at, s.id)
            for s in self.state.sessions.values()
            if s.signed_out_at is not None and s.signed_out_at > since
        )
        return [(session_id, at) for at, session_id in ended[:limit]]

    async def signed_out_since(
        self, account_id: AccountId, since: datetime, limit: int | None = None
    ) -> list[Session]:
        ended = [
            replace(s)
            for s in self.state.sessions.values()
            if s.account_id == account_id
            and s.signed_out_at is not None
            and s.signed_out_at >= since
        ]
        ended.sort(key=lambda s: s.id)
        ended.sort(key=lambda s: s.signed_out_at or since, reverse=True)
        return ended[:limit] if limit is not None else ended

    async def prune(
        self, ended_before: datetime, unseen_before: datetime, limit: int
    ) -> list[AccountId]:
        def gone_since(session: Session) -> datetime | None:
            if session.signed_out_at is not None:
                return session.signed_out_at if session.signed_out_at < ended_before else None
            return session.last_seen_at if session.last_seen_at < unseen_before else None

        due = sorted(
            (at, s.id) for s in self.state.sessions.values() if (at := gone_since(s)) is not None
        )[:limit]
        gone = {session_id for _, session_id in due}
        accounts = [self.state.sessions.pop(session_id).account_id for _, session_id in due]
        # As the SQL foreign keys cascade.
        state = self.state
        state.credentials = {h: c for h, c in state.credentials.items() if c.session_id not in gone}
        state.streams = {i: s for i, s in state.streams.items() if s.session_id not in gone}
        state.downloads = {i: d for i, d in state.downloads.items() if d.session_id not in gone}
        return accounts

    async def mark_told(self, session_ids: Sequence[SessionId], at: datetime) -> None:
        for session_id in session_ids:
            session = self.state.sessions.get(session_id)
            if session is not None and session.told_at is None:
                session.told_at = at

    async def mark_confirmed(self, session_id: SessionId, at: datetime) -> bool:
        session = self.state.sessions.get(session_id)
        if session is None or session.confirmed_at is not None:
            return False
        session.confirmed_at = at
        return True

    async def time_up(self, now: datetime, limit: int) -> list[tuple[AccountId, SessionId]]:
        ended = sorted(
            (s for s in self.state.sessions.values() if s.live and s.time_is_up(now)),
            key=lambda s: (s.signed_in_until or now, s.id),
        )
        return [(s.account_id, s.id) for s in ended[:limit]]


class MemoryCredentialStore(_Stores):
    async def add(self, credential: Credential) -> None:
        self.state.credentials[credential.token_hash] = replace(credential)

    async def get(self, token_hash: str) -> Credential | None:
        found = self.state.credentials.get(token_hash)
        return replace(found) if found else None

    async def claim(self, token_hash: str, at: datetime) -> bool:
        credential = self.state.credentials.get(token_hash)
        if credential is None or credential.used_at is not None:
            return False
        credential.used_at = at
        return True

    async def prune(self, before: datetime) -> int:
        gone = [h for h, c in self.state.credentials.items() if c.expires_at < before]
        for token_hash in gone:
            del self.state.credentials[token_hash]
        return len(gone)


class MemorySecurityLog(_Stores):
    async def add(self, event: SecurityEvent) -> None:
        self.state.events.append(replace(event, id=len(self.state.events) + 1))

    async def add_for_sessions(self, scope: SignOutScope, event: SecurityEvent) -> None:
        for ending in await MemorySessionStore(self.state).ending(scope):
            await self.add(
                replace(
                    event,
                    device_id=ending.device_id,
                    device_name=ending.device_name or UNKNOWN_DEVICE,
                    session_id=ending.session_id,
                )
            )

    async def add_for_each(self, session_ids: Sequence[SessionId], event: SecurityEvent) -> None:
        for session_id in session_ids:
            session = self.state.sessions.get(session_id)
            if session is None:
                continue
            device = self.state.devices.get(session.device_id)
            await self.add(
                replace(
                    event,
                    device_id=session.device_id,
                    device_name=device.name if device else UNKNOWN_DEVICE,
                    session_id=session_id,
                )
            )

    async def page(
        self, account_id: AccountId, *, before_id: int | None, limit: int
    ) -> list[SecurityEvent]:
        mine = [
            e
            for e in reversed(self.state.events)
            if e.account_id == account_id and (before_id is None or (e.id or 0) < before_id)
        ]
        return mine[:limit]


class MemoryStreamStore(_Stores):
    async def add(self, stream: Stream) -> None:
        self.state.streams[stream.id] = replace(stream)

    async def get(self, account_id: AccountId, stream_id: StreamId) -> Stream | None:
        found = self.state.streams.get(stream_id)
        return replace(found) if found and found.account_id == account_id else None

    async def live_for_account(self, account_id: AccountId, now: datetime) -> list[Stream]:
        live = [
            replace(s)
            for s in self.state.streams.values()
            if s.account_id == account_id and s.is_live(now)
        ]
        return sorted(live, key=lambda s: s.started_at)

    async def open_for_account(self, account_id: AccountId) -> list[Stream]:
        mine = [
            replace(s)
            for s in self.state.streams.values()
            if s.account_id == account_id and s.ended_at is None
        ]
        return sorted(mine, key=lambda s: (s.started_at, s.id))

    async def save(self, stream: Stream) -> None:
        self.state.streams[stream.id] = replace(stream)

    async def lapsed(self, now: datetime, limit: int) -> list[Stream]:
        found = sorted(
            (s for s in self.state.streams.values() if s.ended_at is None and s.expires_at <= now),
            key=lambda s: (s.expires_at, s.id),
        )
        return [replace(s) for s in found[:limit]]

    async def renew(
        self, session_id: SessionId, stream_id: StreamId, expires_at: datetime, now: datetime
    ) -> bool:
        stream = self.state.streams.get(stream_id)
        if stream is None or stream.session_id != session_id or not stream.is_live(now):
            return False
        stream.expires_at = expires_at
        return True


class MemoryDownloadStore(_Stores):
    async def add(self, download: Download) -> None:
        self.state.downloads[download.id] = replace(download)

    async def get(self, account_id: AccountId, download_id: DownloadId) -> Download | None:
        found = self.state.downloads.get(download_id)
        return replace(found) if found and found.account_id == account_id else None

    async def live_for_account(self, account_id: AccountId, now: datetime) -> list[Download]:
        live = [
            replace(d)
            for d in self.state.downloads.values()
            if d.account_id == account_id and d.is_live(now)
        ]
        return sorted(live, key=lambda d: d.created_at)

    async def open_for_account(self, account_id: AccountId) -> list[Download]:
        mine = [
            replace(d)
            for d in self.state.downloads.values()
            if d.account_id == account_id and d.revoked_at is None
        ]
        return sorted(mine, key=lambda d: (d.created_at, d.id))

    async def save(self, download: Download) -> None:
        self.state.downloads[download.id] = replace(download)


class MemoryTwoStepStore(_Stores):
    async def replace_recovery_codes(
        self, account_id: AccountId, code_hashes: Sequence[str], at: datetime
    ) -> None:
        codes = self.state.recovery_codes
        for key in [k for k in codes if k[0] == account_id]:
            del codes[key]
        for code_hash in code_hashes:
            codes[(account_id, code_hash)] = None

    async def use_recovery_code(self, account_id: AccountId, code_hash: str, at: datetime) -> bool:
        key = (account_id, code_hash)
        if key not in self.state.recovery_codes or self.state.recovery_codes[key] is not None:
            return False
        self.state.recovery_codes[key] = at
        return True

    async def recovery_codes_left(self, account_id: AccountId) -> int:
        codes = self.state.recovery_codes
        return sum(1 for (owner, _), used in codes.items() if owner == account_id and not used)

    async def add_challenge(self, challenge: Challenge) -> None:
        self.state.challenges[challenge.token_hash] = replace(challenge)

    async def challenge(self, token_hash: str) -> Challenge | None:
        found = self.state.challenges.get(token_hash)
        return replace(found) if found else None

    async def save_challenge(self, challenge: Challenge) -> None:
        self.state.challenges[challenge.token_hash] = replace(challenge)

    async def prune_challenges(self, before: datetime) -> int:
        gone = [h for h, c in self.state.challenges.items() if c.expires_at < before]
        for token_hash in gone:
            del self.state.challenges[token_hash]
        return len(gone)

    async def add_passkey(self, passkey: Passkey) -> None:
        self.state.passkeys[passkey.id] = replace(passkey)

    async def passkeys(self, account_id: AccountId) -> list[Passkey]:
        mine = [replace(p) for p in self.state.passkeys.values() if p.account_id == account_id]
        return sorted(mine, key=lambda p: (p.created_at, p.id))

    async def passkey_by_credential(self, credential_id: str) -> Passkey | None:
        for passkey in self.state.passkeys.values():
            if passkey.credential_id == credential_id:
                return replace(passkey)
        return None

    async def save_passkey(self, passkey: Passkey) -> None:
        self.state.passkeys[passkey.id] = replace(passkey)

    async def delete_passkey(self, account_id: AccountId, passkey_id: str) -> bool:
        found = self.state.passkeys.get(passkey_id)
        if found is None or found.account_id != account_id:
            return False
        del self.state.passkeys[passkey_id]
        return True


class MemoryOutbox(_Stores):
    async def add(self, message: Message) -> None:
        self.state.outbox[message.id] = replace(message)

    async def claim(self, now: datetime, until: datetime, limit: int) -> list[Message]:
        due = [
            m
            for m in self.state.outbox.values()
            if m.state is DeliveryState.PENDING
            and (m.next_attempt_at is None or m.next_attempt_at <= now)
            and (m.claimed_until is None or m.claimed_until <= now)
        ]
        due.sort(key=lambda m: (m.created_at, m.id))
        for message in due[:limit]:
            message.claimed_until = until
            message.attempts += 1
        return [replace(m) for m in due[:limit]]

    async def sent(self, message_id: str, at: datetime) -> None:
        message = self.state.outbox[message_id]
        message.state, message.sent_at, message.claimed_until = DeliveryState.SENT, at, None

    async def retry(self, message_id: str, error: str, at: datetime) -> None:
        message = self.state.outbox[message_id]
        message.last_error, message.next_attempt_at, message.claimed_until = error, at, None

    async def give_up(self, message_id: str, error: str) -> None:
        message = self.state.outbox[message_id]
        message.state, message.last_error, message.claimed_until = DeliveryState.FAILED, error, None

    async def get(self, message_id: str) -> Message | None:
        found = self.state.outbox.get(message_id)
        return replace(found) if found else None

    async def recent(self, limit: int, state: DeliveryState | None = None) -> list[Message]:
        mine = [replace(m) for m in self.state.outbox.values() if state in (None, m.state)]
        mine.sort(key=lambda m: (m.created_at, m.id), reverse=True)
        return mine[:limit]

    async def states(self, message_ids: Sequence[str]) -> dict[str, DeliveryState]:
        return {i: self.state.outbox[i].state for i in message_ids if i in self.state.outbox}


class MemoryLinkStore(_Stores):
    async def add(self, link: Link) -> None:
        self.state.links[link.token_hash] = replace(link)

    async def get(self, token_hash: str) -> Link | None:
        found = self.state.links.get(token_hash)
        return replace(found) if found else None

    async def use(self, token_hash: str, at: datetime) -> bool:
        link = self.state.links.get(token_hash)
        if link is None or link.used_at is not None:
            return False
        link.used_at = at
        return True

    async def mark_opened(self, token_hash: str, at: datetime) -> bool:
        link = self.state.links.get(token_hash)
        if link is None or link.opened_at is not None:
            return False
        link.opened_at = at
        return True

    async def void(self, account_id: AccountId, purpose: LinkPurpose, at: datetime) -> int:
        voided = 0
        for link in self.state.links.values():
            if link.account_id == account_id and link.purpose is purpose and link.used_at is None:
                link.used_at = at
                voided += 1
        return voided

    async def sent_since(
        self, account_id: AccountId, purpose: LinkPurpose, device_key: str, since: datetime
    ) -> bool:
        return any(
            link.account_id == account_id
            and link.purpose is purpose
            and link.device_key == device_key
            and link.created_at >= since
            for link in self.state.links.values()
        )

    async def opened(self, message_ids: Sequence[str]) -> set[str]:
        wanted = set(message_ids)
        return {
            link.message_id
            for link in self.state.links.values()
            if link.message_id in wanted and link.opened_at is not None
        }


# Spent or ended: nothing more can happen to these codes.
_UNCLAIMABLE = {
    AuthorizationStatus.DENIED,
    AuthorizationStatus.REDEEMED,
    AuthorizationStatus.VOIDED,
    AuthorizationStatus.EXPIRED,
}


class MemoryDeviceAuthorizationStore(_Stores):
    async def add(self, authorization: DeviceAuthorization) -> None:
        self.state.device_authorizations[authorization.id] = replace(authorization)

    async def by_device_code(self, device_code_hash: str) -> DeviceAuthorization | None:
        for found in self.state.device_authorizations.values():
            if found.device_code_hash == device_code_hash:
                return replace(found)
        return None

    async def by_user_code(self, user_code: str) -> DeviceAuthorization | None:
        matching = [
            a for a in self.state.device_authorizations.values() if a.user_code == user_code
        ]
        latest = max(matching, key=lambda a: a.requested_at, default=None)
        return replace(latest) if latest else None

    async def save(self, authorization: DeviceAuthorization) -> None:
        self.state.device_authorizations[authorization.id] = replace(authorization)

    async def save_if(
        self, authorization: DeviceAuthorization, status: AuthorizationStatus
    ) -> bool:
        stored = self.state.device_authorizations.get(authorization.id)
        if (
            stored is None
            or stored.status is not status
            or stored.account_id not in (None, authorization.account_id)
        ):
            return False
        self.state.device_authorizations[authorization.id] = replace(authorization)
        return True

    async def polled(self, authorization_id: str, at: datetime, interval_seconds: int) -> None:
        stored = self.state.device_authorizations.get(authorization_id)
        if stored is not None:
            stored.last_polled_at = at
            stored.interval_seconds = interval_seconds

    async def claimed(self, account_id: AccountId) -> list[DeviceAuthorization]:
        return [
            replace(a)
            for a in self.state.device_authorizations.values()
            if a.account_id == account_id and a.status not in _UNCLAIMABLE
        ]

    async def lapsed(self, now: datetime, limit: int) -> list[DeviceAuthorization]:
        found = sorted(
            (
                a
                for a in self.state.device_authorizations.values()
                if a.account_id is not None and a.status not in _UNCLAIMABLE and a.expires_at <= now
            ),
            key=lambda a: (a.expires_at, a.id),
        )
        return [replace(a) for a in found[:limit]]

    async def prune(self, before: datetime) -> int:
        gone = [k for k, a in self.state.device_authorizations.items() if a.expires_at < before]
        for key in gone:
            del self.state.device_authorizations[key]
        return len(gone)


class MemoryUnitOfWork:
    accounts: MemoryAccountStore
    profiles: MemoryProfileStore
    devices: MemoryDeviceStore
    sessions: MemorySessionStore
    credentials: MemoryCredentialStore
    events: MemorySecurityLog
    streams: MemoryStreamStore
    downloads: MemoryDownloadStore
    two_step: MemoryTwoStepStore
    outbox: MemoryOutbox
    links: MemoryLinkStore
    device_authorizations: MemoryDeviceAuthorizationStore

    def __init__(self, database: MemoryDatabase) -> None:
        self._database = database
        self._committed = False

    async def __aenter__(self) -> Self:
        if self._database.holder is not None and self._database.holder is asyncio.current_task():
            # On SQLite this would wait for its own write lock; fail at once instead.
            raise RuntimeError("a unit of work was opened inside another one")
        await self._database.lock.acquire()
        self._database.holder = asyncio.current_task()
        self._committed = False
        self._working = copy.deepcopy(self._database.state)
        self.accounts = MemoryAccountStore(self._working)
        self.profiles = MemoryProfileStore(self._working)
        self.devices = MemoryDeviceStore(self._working)
        self.sessions = MemorySessionStore(self._working)
        self.credentials = MemoryCredentialStore(self._working)
        self.events = MemorySecurityLog(self._working)
        self.streams = MemoryStreamStore(self._working)
        self.downloads = MemoryDownloadStore(self._working)
        self.two_step = MemoryTwoStepStore(self._working)
        self.outbox = MemoryOutbox(self._working)
        self.links = MemoryLinkStore(self._working)
        self.device_authorizations = MemoryDeviceAuthorizationStore(self._working)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._database.holder = None
        self._database.lock.release()

    async def commit(self) -> None:
        self._database.state = self._working
        self._working = copy.deepcopy(self._working)
        self._committed = True
        self._rebind()

    def _rebind(self) -> None:
        for store in (
            self.accounts,
            self.profiles,
            self.devices,
            self.sessions,
            self.credentials,
            self.events,
            self.streams,
            self.downloads,
            self.two_step,
            self.outbox,
            self.links,
            self.device_authorizations,
        ):
            store.state = self._working

    async def lock_account(self, account_id: AccountId) -> None:
        """Units of work are already one at a time."""


def memory_unit_of_work_factory(
    database: MemoryDatabase | None = None,
) -> Callable[[], MemoryUnitOfWork]:
    shared = database or MemoryDatabase()
    return lambda: MemoryUnitOfWork(shared)
