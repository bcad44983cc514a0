"""Plain functions that make domain records for the store tests; every id is fresh."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from screengate.domain.accounts import Account
from screengate.domain.devices import Device, DeviceType
from screengate.domain.downloads import Download
from screengate.domain.events import EventKind, SecurityEvent
from screengate.domain.ids import AccountId, DeviceId, DownloadId, ProfileId, SessionId, StreamId
from screengate.domain.profiles import Profile
from screengate.domain.sessions import Credential, CredentialKind, Session
from screengate.domain.streams import Stream

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def new_id() -> str:
    return uuid.uuid4().hex


def make_account(**fields: Any) -> Account:
    account_id = AccountId(new_id())
    defaults: dict[str, Any] = {
        "id": account_id,
        "email": f"{account_id}@example.com",
        "password_hash": "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
        "plan": "standard",
        "created_at": T0,
        "password_changed_at": T0,
    }
    return Account(**(defaults | fields))


def make_profile(account: Account, **fields: Any) -> Profile:
    defaults: dict[str, Any] = {
        "id": ProfileId(new_id()),
        "account_id": account.id,
        "name": "Ana",
        "kids": False,
        "created_at": T0,
    }
    return Profile(**(defaults | fields))


def make_device(account: Account, **fields: Any) -> Device:
    defaults: dict[str, Any] = {
        "id": DeviceId(new_id()),
        "account_id": account.id,
        "type": DeviceType.SMART_TV,
        "name": "Living Room TV",
        "created_at": T0,
    }
    return Device(**(defaults | fields))


def make_session(device: Device, **fields: Any) -> Session:
    defaults: dict[str, Any] = {
        "id": SessionId(new_id()),
        "account_id": device.account_id,
        "device_id": device.id,
        "created_at": T0,
        "last_seen_at": T0,
    }
    return Session(**(defaults | fields))


def make_credential(session: Session, **fields: Any) -> Credential:
    defaults: dict[str, Any] = {
        "token_hash": new_id() + new_id(),
        "kind": CredentialKind.REFRESH,
        "session_id": session.id,
        "account_id": session.account_id,
        "device_id": session.device_id,
        "issued_at": T0,
        "expires_at": T0 + timedelta(days=30),
    }
    return Credential(**(defaults | fields))


def make_event(account: Account, **fields: Any) -> SecurityEvent:
    defaults: dict[str, Any] = {"account_id": account.id, "kind": EventKind.SIGNED_IN, "at": T0}
    return SecurityEvent(**(defaults | fields))


def make_stream(session: Session, **fields: Any) -> Stream:
    defaults: dict[str, Any] = {
        "id": StreamId(new_id()),
        "account_id": session.account_id,
        "session_id": session.id,
        "device_id": session.device_id,
        "profile_id": ProfileId(new_id()),
        "title_id": "80100172",
        "started_at": T0,
        "expires_at": T0 + timedelta(seconds=90),
    }
    return Stream(**(defaults | fields))


def make_download(session: Session, **fields: Any) -> Download:
    defaults: dict[str, Any] = {
        "id": DownloadId(new_id()),
        "account_id": session.account_id,
        "device_id": session.device_id,
        "session_id": session.id,
        "profile_id": ProfileId(new_id()),
        "title_id": "80100172",
        "created_at": T0,
        "expires_at": T0 + timedelta(days=7),
    }
    return Download(**(defaults | fields))
