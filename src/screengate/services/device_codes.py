"""TV sign-in with a code (RFC 8628): the TV asks for a code, a signed-in person approves it
(or denies it) after seeing what asks, and the TV collects its tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from screengate.domain.device_codes import (
    AuthorizationStatus,
    DeviceAuthorization,
    PollAnswer,
    normalise_user_code,
    shown,
)
from screengate.domain.devices import Device, DeviceType, choose_device_name
from screengate.domain.errors import CodeNotFound, DeviceFlowError, DeviceLimit
from screengate.domain.events import EventKind, SecurityEvent
from screengate.domain.ids import AccountId, DeviceId, SessionId
from screengate.domain.notices import CodeDecided
from screengate.domain.sessions import Principal, Session, TokenPair, hash_token
from screengate.ports import Ports, UnitOfWork
from screengate.services.announce import account_changed
from screengate.services.auth import ensure_room_for, issue_tokens

MAX_CLIENT_ID = 128


@dataclass(frozen=True, slots=True)
class IssuedCode:
    """What the device is given (RFC 8628 §3.2): the device code only this once."""

    authorization_id: str
    device_code: str
    user_code: str
    expires_at: datetime
    expires_in: int
    interval: int


@dataclass(frozen=True, slots=True)
class Decided:
    approved: bool
    device_id: DeviceId | None
    signed_in_until: datetime | None


async def request_code(
    ports: Ports,
    *,
    client_id: str,
    device_type: DeviceType = DeviceType.SMART_TV,
    device_name: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> IssuedCode:
    """A new code for a device to show (RFC 8628 §3.1-3.2)."""
    if not client_id or len(client_id) > MAX_CLIENT_ID:
        raise DeviceFlowError("invalid_request", "client_id is required (at most 128 characters)")
    await ports.code_throttle.requested(ip)
    now = ports.clock.now()
    policy = ports.device_codes
    device_code = ports.tokens.token()
    async with ports.uow() as uow:
        user_code = await _unused_user_code(uow, ports)
        authorization = DeviceAuthorization(
            id=ports.tokens.new_id(),
            device_code_hash=hash_token(device_code),
            user_code=user_code,
            client_id=client_id,
            device_type=device_type,
            device_name=choose_device_name(
                device_name, ports.namer.name_for(user_agent), device_type
            ),
            requested_at=now,
            expires_at=now + policy.lifetime,
            interval_seconds=int(policy.interval.total_seconds()),
            ip=ip,
            location=ports.geo.locate(ip),
            user_agent=user_agent[:512] if user_agent else None,
        )
        await uow.device_authorizations.add(authorization)
        await uow.commit()
    return IssuedCode(
        authorization_id=authorization.id,
        device_code=device_code,
        user_code=shown(user_code),
        expires_at=authorization.expires_at,
        expires_in=int(policy.lifetime.total_seconds()),
        interval=authorization.interval_seconds,
    )


async def _unused_user_code(uow: UnitOfWork, ports: Ports) -> str:
    """A code no other authorization has: collisions are one in billions, but cheap to avoid."""
    for _ in range(5):
        code = ports.tokens.user_code()
        if await uow.device_authorizations.by_user_code(code) is None:
            return code
    raise RuntimeError("no unused user code after 5 draws")  # pragma: no cover


async def collect_tokens(
    ports: Ports,
    device_code: str,
    client_id: str | None,
    ip: str | None = None,
    *,
    pace: bool = True,
) -> TokenPair:
    """The device's poll (RFC 8628 §3.4-3.5): its tokens once approved, else why not yet."""
    if not device_code or len(device_code) > 512:
        raise DeviceFlowError("invalid_request", "device_code is required")
    now = ports.clock.now()
    code_hash = hash_token(device_code)
    async with ports.uow() as uow:
        authorization = await uow.device_authorizations.by_device_code(code_hash)
        if authorization is None or (client_id and client_id != authorization.client_id):
            raise DeviceFlowError("invalid_grant", "Unknown device_code")
        if authorization.account_id is not None:
            # The approval, a sign-out of every device and this poll, one at a time.
            await uow.lock_account(authorization.account_id)
            authorization = await uow.device_authorizations.by_device_code(code_hash)
            if authorization is None:  # pragma: no cover - pruned between two reads
                raise DeviceFlowError("invalid_grant", "Unknown device_code")
        answer = authorization.poll(now, pace=pace)
        if answer is not PollAnswer.APPROVED:
            await uow.device_authorizations.polled(
                authorization.id, now, authorization.interval_seconds
            )
            await uow.commit()
            raise DeviceFlowError(answer.value, _WHY[answer])
        pair = await _sign_in(uow, ports, authorization, ip, now)
        await uow.commit()
    await account_changed(ports, _account_of(authorization))
    return pair


_WHY = {
    PollAnswer.AUTHORIZATION_PENDING: "Nobody has approved the code yet",
    PollAnswer.SLOW_DOWN: "Polling too fast: wait `interval` seconds, now 5 more",
    PollAnswer.ACCESS_DENIED: "The sign-in was denied",
    PollAnswer.EXPIRED_TOKEN: "The code expired: ask for a new one",
    PollAnswer.INVALID_GRANT: "The code was already used",
}


def _account_of(authorization: DeviceAuthorization) -> AccountId:
    if authorization.account_id is None:  # pragma: no cover - approved means claimed
        raise DeviceFlowError("invalid_grant")
    return authorization.account_id


async def _sign_in(
    uow: UnitOfWork, ports: Ports, authorization: DeviceAuthorization, ip: str | None, now: datetime
) -> TokenPair:
    account_id = _account_of(authorization)
    device_id = authorization.device_id
    device = await uow.devices.get(account_id, device_id) if device_id else None
    if device is None:
        raise DeviceFlowError("access_denied", "The device was removed from the account")
    try:
        await ensure_room_for(uow, ports, device, now)
    except DeviceLimit as full:  # filled up since the approval
        raise DeviceFlowError("access_denied", full.detail) from None
    session = Session(
        id=SessionId(ports.tokens.new_id()),
        account_id=account_id,
        device_id=device.id,
        created_at=now,
        last_seen_at=now,
        ip=ip or authorization.ip,
        location=ports.geo.locate(ip) or authorization.location,
        signed_in_until=authorization.signed_in_until,
    )
    await uow.sessions.add(session)
    pair = await issue_tokens(uow, ports, session, now)
    authorization.status = AuthorizationStatus.REDEEMED
    authorization.session_id = session.id
    await uow.device_authorizations.save(authorization)
    until = authorization.signed_in_until
    await uow.events.add(
        SecurityEvent(
            account_id=account_id,
            kind=EventKind.SIGNED_IN,
            at=now,
            device_id=device.id,
            device_name=device.name,
            session_id=session.id,
            ip=session.ip,
            location=session.location,
            detail={
                "device_type": device.type.value,
                "new_device": True,
                "with_code": True,
                "signed_in_until": _iso(until) if until else None,
            },
        )
    )
    return pair


async def look_up(
    ports: Ports, principal: Principal, user_code: str, ip: str | None
) -> DeviceAuthorization:
    """What asks to be signed in with this code, for the person to judge (RFC 8628 §5.4).
    The first account to look a code up holds it: nobody else can approve it after."""
    async with ports.code_throttle.turn(principal.account_id):
        await ports.code_throttle.check(principal.account_id, ip)
        now = ports.clock.now()
        async with ports.uow() as uow:
            authorization = await _open_code(uow, principal, user_code, now)
            if authorization is not None and authorization.account_id is None:
                authorization.account_id = principal.account_id
                await uow.device_authorizations.save(authorization)
                await uow.events.add(
                    _code_event(EventKind.DEVICE_CODE_REQUESTED, authorization, now)
                )
                await uow.commit()
        if authorization is None:
            await ports.code_throttle.failed(principal.account_id, ip)
            raise CodeNotFound()
    return authorization


async def decide(
    ports: Ports,
    principal: Principal,
    user_code: str,
    *,
    approve: bool,
    until: datetime | None = None,
    ip: str | None = None,
) -> Decided:
    """Approve (until a time, or for good) or deny the code; a code is decided once."""
    now = ports.clock.now()
    if approve and until is not None:
        until = ports.device_codes.check_until(until, now)
    async with ports.code_throttle.turn(principal.account_id):
        await ports.code_throttle.check(principal.account_id, ip)
        async with ports.uow() as uow:
            authorization = await _open_code(uow, principal, user_code, now)
            if authorization is not None:
                outcome = await _decide(uow, ports, principal, authorization, approve, until, ip)
                await uow.commit()
        if authorization is None:
            await ports.code_throttle.failed(principal.account_id, ip)
            raise CodeNotFound()
    await ports.bus.publish(CodeDecided(authorization.id, authorization.status.value))
    return outcome


async def _open_code(
    uow: UnitOfWork, principal: Principal, user_code: str, now: datetime
) -> DeviceAuthorization | None:
    code = normalise_user_code(user_code)
    found = await uow.device_authorizations.by_user_code(code) if code else None
    return found if found is not None and found.open_to(principal.account_id, now) else None


async def _decide(
    uow: UnitOfWork,
    ports: Ports,
    principal: Principal,
    authorization: DeviceAuthorization,
    approve: bool,
    until: datetime | None,
    ip: str | None,
) -> Decided:
    now = ports.clock.now()
    first_look = authorization.account_id is None
    authorization.account_id = principal.account_id
    if first_look:
        await uow.events.add(_code_event(EventKind.DEVICE_CODE_REQUESTED, authorization, now))
    if approve:
        # The TV becomes a device of the account now; its session begins when it collects.
        device = Device(
            id=DeviceId(ports.tokens.new_id()),
            account_id=principal.account_id,
            type=authorization.device_type,
            name=authorization.device_name,
            created_at=now,
            user_agent=authorization.user_agent,
        )
        # The account's device limit, as at any sign-in: said to the person approving.
        await ensure_room_for(uow, ports, device, now)
        await uow.devices.add(device)
        authorization.device_id = device.id
    authorization.decide(approve, principal.device_id, now, until)
    if not await uow.device_authorizations.save_if(authorization, AuthorizationStatus.PENDING):
        # Decided (or looked up by another account) since it was read: this decision is too
        # late, and nothing of it stays (the unit of work rolls back).
        raise CodeNotFound()
    by = await uow.devices.get(principal.account_id, principal.device_id)
    kind = EventKind.DEVICE_CODE_APPROVED if approve else EventKind.DEVICE_CODE_DENIED
    entry = _code_event(kind, authorization, now)
    await uow.events.add(
        SecurityEvent(
            account_id=entry.account_id,
            kind=kind,
            at=now,
            device_id=entry.device_id,
            device_name=entry.device_name,
            # Where the decision was made: the approving device's address.
            ip=ip,
            location=ports.geo.locate(ip),
            detail={
                **entry.detail,
                "by_device_id": principal.device_id,
                "by_device_name": by.name if by else None,
                "tv_ip": authorization.ip,
                "tv_location": authorization.location,
                "signed_in_until": _iso(until) if approve and until else None,
            },
        )
    )
    return Decided(approve, authorization.device_id, authorization.signed_in_until)


def _code_event(
    kind: EventKind, authorization: DeviceAuthorization, now: datetime
) -> SecurityEvent:
    if authorization.account_id is None:  # pragma: no cover - only claimed codes are logged
        raise CodeNotFound()
    return SecurityEvent(
        account_id=authorization.account_id,
        kind=kind,
        at=now,
        device_id=authorization.device_id,
        device_name=authorization.device_name,
        ip=authorization.ip,
        location=authorization.location,
        detail={
            "user_code": shown(authorization.user_code),
            "device_type": authorization.device_type.value,
            "requested_at": _iso(authorization.requested_at),
        },
    )


async def showing(ports: Ports, device_code: str | None) -> DeviceAuthorization | None:
    """For the TV page: the code its device code stands for, if it can still be shown (or
    collected): waiting or approved, and in time."""
    if not device_code or len(device_code) > 512:
        return None
    async with ports.reader() as uow:
        found = await uow.device_authorizations.by_device_code(hash_token(device_code))
    if found is None or found.has_expired(ports.clock.now()):
        return None
    if found.status not in {AuthorizationStatus.PENDING, AuthorizationStatus.APPROVED}:
        return None
    return found


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def suggested_ends(now: datetime, tz: str | None) -> list[tuple[str, datetime]]:
    """The "Sign in until..." choices a page offers: 4 hours, tomorrow 11:00 (in the person's
    own time zone when the page knows it), 3 days."""
    try:
        zone = ZoneInfo(tz) if tz else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = now.astimezone(zone)
    tomorrow = (local + timedelta(days=1)).replace(hour=11, minute=0, second=0, microsecond=0)
    return [
        ("4 hours", now + timedelta(hours=4)),
        ("Tomorrow 11:00", tomorrow.astimezone(now.tzinfo)),
        ("3 days", now + timedelta(days=3)),
    ]
