"""The bus's wire format, the same whichever bus carries it (Redis pub/sub, PostgreSQL NOTIFY)."""

from __future__ import annotations

from datetime import datetime

import msgspec

from screengate.domain.ids import AccountId, DeviceId, SessionId
from screengate.domain.notices import (
    Announcement,
    BusMessage,
    CodeDecided,
    Delivery,
    Notice,
    NoticeKind,
)


class _Notices(msgspec.Struct, array_like=True):
    """An announcement's notices, in order, with what they share written once: "Sign out of
    all devices" tells ten thousand devices the same thing at the same moment."""

    shapes: list[tuple[NoticeKind, datetime, dict[str, str | list[str] | None]]]
    # (id, session id, device id, index into shapes)
    notices: list[tuple[str, str, str, int]]


class _Announcement(msgspec.Struct, tag="announcement"):
    id: str
    account_id: str
    revoked: list[str]
    notices: _Notices


class _Delivery(msgspec.Struct, tag="delivery"):
    announcement_id: str
    session_ids: list[str]
    at: datetime


class _CodeDecided(msgspec.Struct, tag="code_decided"):
    authorization_id: str
    decision: str


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(_Announcement | _Delivery | _CodeDecided)


def encode(message: BusMessage) -> bytes:
    if isinstance(message, CodeDecided):
        return _encoder.encode(_CodeDecided(message.authorization_id, message.decision))
    if isinstance(message, Delivery):
        return _encoder.encode(
            _Delivery(message.announcement_id, list(message.session_ids), message.at)
        )
    shapes: dict[tuple[NoticeKind, datetime, int], int] = {}
    shared: list[tuple[NoticeKind, datetime, dict[str, str | list[str] | None]]] = []
    notices: list[tuple[str, str, str, int]] = []
    for n in message.notices:
        # The same data object means the same data (it is never changed once made).
        key = (n.kind, n.at, id(n.data))
        shape = shapes.get(key)
        if shape is None:
            shape = shapes[key] = len(shared)
            shared.append((n.kind, n.at, dict(n.data)))
        notices.append((n.id, n.session_id, n.device_id, shape))
    return _encoder.encode(
        _Announcement(
            message.id, message.account_id, list(message.revoked), _Notices(shared, notices)
        )
    )


def decode(data: str | bytes) -> BusMessage:
    """Raises msgspec.ValidationError (a ValueError) for anything that is not a message."""
    body = _decoder.decode(data)
    if isinstance(body, _CodeDecided):
        return CodeDecided(body.authorization_id, body.decision)
    if isinstance(body, _Delivery):
        return Delivery(
            body.announcement_id, tuple(SessionId(s) for s in body.session_ids), body.at
        )
    account_id = AccountId(body.account_id)
    shapes = body.notices.shapes
    return Announcement(
        id=body.id,
        account_id=account_id,
        revoked=tuple(SessionId(s) for s in body.revoked),
        notices=tuple(
            Notice(
                id,
                shapes[shape][0],
                account_id,
                SessionId(session_id),
                DeviceId(device_id),
                shapes[shape][1],
                shapes[shape][2],
            )
            for id, session_id, device_id, shape in body.notices.notices
        ),
    )
