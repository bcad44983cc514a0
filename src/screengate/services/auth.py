"""Signing in, refreshing, and proving a device on every request."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import NoReturn

from screengate.domain.accounts import Account, normalise_email
from screengate.domain.devices import Device, DeviceType, choose_device_name, proves
from screengate.domain.errors import (
    DeviceLimit,
    InvalidCredentials,
    InvalidEmail,
    InvalidToken,
    PasswordResetRequired,
    SecondFactorRequired,
    SignedOut,
    TokenExpired,
)
from screengate.domain.events import Detail, EventKind, SecurityEvent
from screengate.domain.ids import AccountId, DeviceId, SessionId
from screengate.domain.sessions import (
    Credential,
    CredentialKind,
    Principal,
    Session,
    SignOutReason,
    SignOutScope,
    TokenPair,
    follows_its_refresh,
    hash_token,
    signed_in_devices,
)
from screengate.domain.two_step import Challenge, ChallengeKind, Method, PendingDevice
from screengate.ports import Guesser, Ports, UnitOfWork
from screengate.services.acting import act_for
from screengate.services.alerts import alert_if_new
from screengate.services.announce import account_changed, announce
from screengate.services.mail import mail_committed
from screengate.services.sign_out import end_and_log
from screengate.services.views import SignOutReceipt


async def sign_in(
    ports: Ports,
    *,
    email: str,
    password: str,
    device_type: DeviceType,
    device_name: str | None = None,
    device_id: str | None = None,
    device_secret: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> TokenPair:
    """Sign a device in. Every attempt counts against its address before anything is hashed;
    a device id counts as this device's only with the secret its last sign-in gave it."""
    async with ports.throttle.attempt(ip):
        try:
            email = normalise_email(email)
        except InvalidEmail:
            # No account can have it, so there is nothing to hash, and nothing to learn.
            raise InvalidCredentials() from None
        async with ports.throttle.turn(email):
            account, known = await _judge(
                ports, email, password, ip, device_id, device_secret, device_type
            )
        rehashed = None
        if ports.hasher.needs_rehash(account.password_hash):
            rehashed = await ports.hasher.hash(password)
    pending = PendingDevice(
        device_type.value,
        device_name,
        known,
        user_agent,
        secret_hash=hash_token(device_secret) if known and device_secret else None,
    )
    if account.two_step_on:
        await second_step(ports, account, pending, rehashed, ip)
    async with ports.uow() as uow:
        await uow.lock_account(account.id)
        fresh = await uow.accounts.get(account.id)
        if fresh is None:
            raise InvalidCredentials()
        if not fresh.two_step_on:
            if fresh.failed_sign_ins or rehashed:
                fresh.failed_sign_ins = 0
                fresh.password_hash = rehashed or fresh.password_hash
                await uow.accounts.save(fresh)
            opened = await open_session(uow, ports, fresh, pending, ip)
            await uow.commit()
    if fresh.two_step_on:
        # Turned on between the password check and here: the second step all the same.
        await second_step(ports, fresh, pending, rehashed, ip)
    return await session_opened(ports, opened)


async def open_session(
    uow: UnitOfWork,
    ports: Ports,
    account: Account,
    pending: PendingDevice,
    ip: str | None,
    *,
    detail: Detail | None = None,
) -> OpenedSession:
    """The device signs in (within the caller's unit of work, under the account's lock): its
    session, its tokens and a new device secret, the log line, a new device's alert. Signing
    in proves who one is, so the session starts confirmed. Once committed, session_opened()
    tells whom it must."""
    if account.password_reset_required:
        # "This wasn't me" locked the account: no way in (not a code, not a passkey) but a reset.
        raise PasswordResetRequired()
    now = ports.clock.now()
    location = ports.geo.locate(ip)
    secret = ports.tokens.token()
    known = DeviceId(pending.device_id) if pending.device_id else None
    device, new_device = await _device_for(
        uow,
        ports,
        account.id,
        known,
        pending.secret_hash,
        DeviceType(pending.type),
        pending.name,
        pending.user_agent,
        now,
    )
    await ensure_room_for(uow, ports, device, now)
    # A new secret at every sign-in: the one just used is spent.
    device.secret_hash = hash_token(secret)
    await uow.devices.save(device)
    # A device holds one session: signing in again ends the one it had, as signing out
    # there would (its stream stops, its downloads go), so it is listed once.
    replaced = await end_and_log(
        uow,
        ports,
        SignOutScope(account.id, device_id=device.id),
        SignOutReason.SIGNED_OUT_HERE,
        None,
        ip,
    )
    session = Session(
        id=SessionId(ports.tokens.new_id()),
        account_id=account.id,
        device_id=device.id,
        created_at=now,
        last_seen_at=now,
        ip=ip,
        location=location,
        proven_at=now,
    )
    await uow.sessions.add(session)
    pair = await issue_tokens(uow, ports, session, now)
    await uow.events.add(
        SecurityEvent(
            account_id=account.id,
            kind=EventKind.SIGNED_IN,
            at=now,
            device_id=device.id,
            device_name=device.name,
            session_id=session.id,
            ip=ip,
            location=location,
            detail={
                "device_type": device.type.value,
                "new_device": new_device,
                **(detail or {}),
            },
        )
    )
    alerted = new_device and await alert_if_new(uow, ports, account, device, location, now)
    return OpenedSession(replace(pair, device_secret=secret), account.id, replaced, alerted)


@dataclass(frozen=True, slots=True)
class OpenedSession:
    pair: TokenPair
    account_id: AccountId
    # The session the device held before, ended by this sign-in.
    replaced: SignOutReceipt
    # A "new sign-in" mail is waiting in the outbox.
    alerted: bool


async def session_opened(ports: Ports, opened: OpenedSession) -> TokenPair:
    """After the sign-in committed: send its mail, announce what it ended, refresh views."""
    if opened.alerted:
        mail_committed(ports)
    await announce(ports, opened.replaced)
    await account_changed(ports, opened.account_id)
    return opened.pair


async def second_step(
    ports: Ports,
    account: Account,
    device: PendingDevice,
    rehashed: str | None,
    ip: str | None,
) -> NoReturn:
    """The password was right and two-step is on: a challenge for the second step."""
    now = ports.clock.now()
    token = ports.tokens.token()
    async with ports.uow() as uow:
        await uow.lock_account(account.id)
        fresh = await uow.accounts.get(account.id)
        if fresh is None:
            raise InvalidCredentials()
        if fresh.failed_sign_ins or rehashed:
            fresh.failed_sign_ins = 0
            fresh.password_hash = rehashed or fresh.password_hash
            await uow.accounts.save(fresh)
        await uow.two_step.add_challenge(
            Challenge(
                token_hash=hash_token(token),
                kind=ChallengeKind.SECOND_FACTOR,
                created_at=now,
                expires_at=now + ports.two_step.challenge_ttl,
                account_id=account.id,
                device=device,
            )
        )
        methods = [Method.TOTP, Method.RECOVERY_CODE]
        if await uow.two_step.passkeys(account.id):
            methods.append(Method.PASSKEY)
        await uow.two_step.prune_challenges(now - ports.two_step.challenge_ttl)
        await uow.commit()
    ttl = int(ports.two_step.challenge_ttl.total_seconds())
    raise SecondFactorRequired(token, [m.value for m in methods], ttl)


async def ensure_room_for(uow: UnitOfWork, ports: Ports, device: Device, now: datetime) -> None:
    """Refuse a device that would sign the account in on more devices than it may be (a
    device signing in again holds its place). Under the account's lock, as every sign-in is."""
    others = signed_in_devices(
        await uow.sessions.live_for_account(device.account_id), now, ports.policy
    )
    others.discard(device.id)
    if len(others) >= ports.policy.max_devices:
        raise DeviceLimit(ports.policy.max_devices)


async def _device_for(
    uow: UnitOfWork,
    ports: Ports,
    account_id: AccountId,
    known: DeviceId | None,
    secret_hash: str | None,
    device_type: DeviceType,
    device_name: str | None,
    user_agent: str | None,
    now: datetime,
) -> tuple[Device, bool]:
    """A device that proved itself keeps its identity (and its place in the list); any other
    sign-in is a new device, whatever id it sent. Proved again here, under the account's lock:
    of two sign-ins sent with one secret, one is that device, the other a new one. True when
    the device is new to the account."""
    device = await uow.devices.get(account_id, known) if known else None
    if device is not None and _proves_by_hash(device, secret_hash):
        if device_name:
            device.name = choose_device_name(device_name, None, device_type)
        return device, False
    device = Device(
        id=DeviceId(ports.tokens.new_id()),
        account_id=account_id,
        type=device_type,
        name=choose_device_name(device_name, ports.namer.name_for(user_agent), device_type),
        created_at=now,
        user_agent=user_agent[:512] if user_agent else None,
    )
    await uow.devices.add(device)
    return device, True


def _proves_by_hash(device: Device, secret_hash: str | None) -> bool:
    """proves() from the secret's hash: what a sign-in's second step kept of it."""
    if secret_hash is None or device.secret_hash is None:
        return False
    return hmac.compare_digest(device.secret_hash, secret_hash)


async def _record_failure(
    ports: Ports, account: Account, ip: str | None, device_id: DeviceId | None
) -> None:
    async with ports.uow() as uow:
        await uow.lock_account(account.id)
        fresh = await uow.accounts.get(account.id)
        if fresh is None:
            return
        fresh.failed_sign_ins += 1
        await uow.accounts.save(fresh)
        device = await uow.devices.get(account.id, device_id) if device_id else None
        await uow.events.add(
            SecurityEvent(
                account_id=fresh.id,
                kind=EventKind.SIGN_IN_FAILED,
                at=ports.clock.now(),
                device_id=device.id if device else None,
                device_name=device.name if device else None,
                ip=ip,
                location=ports.geo.locate(ip),
                detail={"consecutive_failures": fresh.failed_sign_ins},
            )
        )
        await uow.commit()


async def issue_tokens(uow: UnitOfWork, ports: Ports, session: Session, now: datetime) -> TokenPair:
    """A new access and refresh token for this session. The access token never outlives a
    temporary sign-in's end; the refresh token may (an extended end must not strand the
    device), but refreshing at or past the end signs the device out (Session.has_lapsed)."""
    access, refresh = ports.tokens.token(), ports.tokens.token()
    access_until = now + ports.policy.access_ttl
    refresh_until = now + ports.policy.idle_ttl
    if session.signed_in_until is not None:
        access_until = min(access_until, session.signed_in_until)
    for token, kind, expires_at in (
        (access, CredentialKind.ACCESS, access_until),
        (refresh, CredentialKind.REFRESH, refresh_until),
    ):
        await uow.credentials.add(
            Credential(
                token_hash=hash_token(token),
                kind=kind,
                session_id=session.id,
                account_id=session.account_id,
                device_id=session.device_id,
                issued_at=now,
                expires_at=expires_at,
            )
        )
    return TokenPair(
        access_token=access,
        refresh_token=refresh,
        expires_in=max(0, int((access_until - now).total_seconds())),
        session_id=session.id,
        device_id=session.device_id,
    )


async def _judge(
    ports: Ports,
    email: str,
    password: str,
    ip: str | None,
    device_id: str | None,
    device_secret: str | None,
    device_type: DeviceType,
) -> tuple[Account, DeviceId | None]:
    """The account whose password this is, and the account's device that is asking, if it
    proved itself; every failure counted before the next is judged. An unknown email is
    judged exactly like a known one with a wrong password: same counts, same hashing, same
    answer; and no count ever locks the account's own devices out."""
    async with ports.reader() as uow:
        account = await uow.accounts.by_email(email)
        claimed = (
            await uow.devices.get(account.id, DeviceId(device_id))
            if account is not None and device_id
            else None
        )
    known = None
    if claimed is not None and claimed.type == device_type and proves(claimed, device_secret):
        known = claimed.id
    guesser = Guesser(email, ip, known)
    await ports.throttle.check(guesser)
    if account is None:
        await ports.hasher.verify_dummy(password)
        await ports.throttle.failed(guesser)
        raise InvalidCredentials()
    if not await ports.hasher.verify(account.password_hash, password):
        await _record_failure(ports, account, ip, known)
        await ports.throttle.failed(guesser)
        raise InvalidCredentials()
    await ports.throttle.succeeded(guesser)
    if account.password_reset_required:
        # "This wasn't me": the password may be the intruder's too, right or not.
        raise PasswordResetRequired()
    return account, known


async def refresh(ports: Ports, refresh_token: str, ip: str | None = None) -> TokenPair:
    """Rotate: the old refresh token is spent; presenting it again signs the device out."""
    outcome = await _rotate(ports, refresh_token, ip, leeway=None)
    if isinstance(outcome, Principal):  # pragma: no cover - only a leeway lets a spent token by
        raise InvalidToken()
    return outcome


async def refresh_for_browser(
    ports: Ports, refresh_token: str, ip: str | None
) -> TokenPair | Principal:
    """refresh() for a browser, whose requests can race their own new cookies: the token just
    spent, again from the address that spent it within the policy's leeway, is the session for
    that one request (a Principal, and no tokens); from anywhere else, or later, a replay."""
    return await _rotate(ports, refresh_token, ip, leeway=ports.policy.browser_refresh_leeway)


async def _rotate(
    ports: Ports, refresh_token: str, ip: str | None, *, leeway: timedelta | None
) -> TokenPair | Principal:
    now = ports.clock.now()
    token_hash = hash_token(refresh_token)
    receipt = None
    async with ports.uow() as uow:
        credential = await uow.credentials.get(token_hash)
        if credential is None or credential.kind is not CredentialKind.REFRESH:
            raise InvalidToken()
        await uow.lock_account(credential.account_id)
        session = await uow.sessions.get(credential.session_id)
        if session is None:
            raise InvalidToken()
        if session.live:
            lapsed = session.has_lapsed(now, ports.policy) or credential.expires_at <= now
            reused = not lapsed and not await uow.credentials.claim(token_hash, now)
            if reused and leeway is not None:
                # Read again under the lock: when, and from where, the winner spent it.
                spent = await uow.credentials.get(token_hash)
                if spent is not None and follows_its_refresh(spent, session, ip, now, leeway):
                    return Principal(
                        account_id=session.account_id,
                        device_id=session.device_id,
                        session_id=session.id,
                        expires_at=now + leeway,
                    )
            if not lapsed and not reused:
                session.last_seen_at = now
                session.ip = ip or session.ip
                session.location = ports.geo.locate(ip) or session.location
                await uow.sessions.save(session)
                pair = await issue_tokens(uow, ports, session, now)
                await uow.commit()
                await account_changed(ports, session.account_id)
                return pair
            reason = session.lapse_reason(now) if lapsed else SignOutReason.TOKEN_REUSE
            kind = EventKind.TOKEN_REUSE if reused else EventKind.SIGNED_OUT
            scope = SignOutScope(session.account_id, session_id=session.id)
            receipt = await end_and_log(uow, ports, scope, reason, None, ip, kind=kind)
            await uow.commit()
    if receipt is None:
        await _confirm(ports, session, ip)
        raise SignedOut(str(session.sign_out_reason), session.signed_out_at)
    await announce(ports, receipt)
    raise SignedOut(receipt.sign_out.reason.value, now)


async def authenticate(ports: Ports, access_token: str, ip: str | None = None) -> Principal:
    """The check every request makes. Revoked is refused the moment the sign-out returned."""
    now = ports.clock.now()
    token_hash = hash_token(access_token)
    principal = ports.revocations.get(token_hash)
    if principal is None:
        principal = await ports.revocations.read_through(
            token_hash, lambda: _principal_from_store(ports, token_hash, now)
        )
        ports.revocations.put(token_hash, principal)
    if principal.expires_at <= now:  # a shared read's principal too
        raise TokenExpired()
    if ports.revocations.due_for_touch(principal.session_id, now):
        async with ports.uow() as uow:
            await uow.sessions.touch(principal.session_id, now, ip, ports.geo.locate(ip))
            await uow.commit()
        await account_changed(ports, principal.account_id)
    act_for(principal)
    return principal


async def live_session_of(ports: Ports, *tokens: str | None) -> SessionId | None:
    """The live session the first known of these tokens (access or refresh, expired or spent)
    belongs to, using none of them up: what the website binds its forms' CSRF tokens to."""
    for token in tokens:
        if token:
            cached = ports.revocations.get(hash_token(token))
            if cached is not None:
                return cached.session_id  # a live access token: the bus keeps this view
    async with ports.reader() as uow:
        for token in tokens:
            credential = await uow.credentials.get(hash_token(token)) if token else None
            if credential is not None:
                session = await uow.sessions.get(credential.session_id)
                return session.id if session is not None and session.live else None
    return None


async def _principal_from_store(ports: Ports, token_hash: str, now: datetime) -> Principal:
    async with ports.reader() as uow:
        credential = await uow.credentials.get(token_hash)
        if credential is None or credential.kind is not CredentialKind.ACCESS:
            raise InvalidToken()
        session = await uow.sessions.get(credential.session_id)
    if session is None:
        raise InvalidToken()
    if not session.live:
        await _confirm(ports, session, None)
        raise SignedOut(str(session.sign_out_reason), session.signed_out_at)
    if credential.expires_at <= now:
        raise TokenExpired()
    return Principal(
        account_id=credential.account_id,
        device_id=credential.device_id,
        session_id=credential.session_id,
        expires_at=credential.expires_at,
    )


async def _confirm(ports: Ports, session: Session, ip: str | None) -> None:
    """The sign-out receipt's last word: the device came back and was refused."""
    if session.confirmed_at is not None:
        return
    now = ports.clock.now()
    async with ports.uow() as uow:
        if await uow.sessions.mark_confirmed(session.id, now):
            device = await uow.devices.get(session.account_id, session.device_id)
            await uow.events.add(
                SecurityEvent(
                    account_id=session.account_id,
                    kind=EventKind.SIGN_OUT_CONFIRMED,
                    at=now,
                    device_id=session.device_id,
                    device_name=device.name if device else None,
                    session_id=session.id,
                    ip=ip,
                    location=ports.geo.locate(ip),
                    detail={"reason": str(session.sign_out_reason)},
                )
            )
            await uow.commit()
