""" "Confirm it's you": a proof from the last few minutes on this session before any change to
who can get in (password, two-step, passkeys, recovery codes, a profile's PIN)."""

from __future__ import annotations

from screengate.domain.errors import (
    InvalidCode,
    InvalidToken,
    ReauthRequired,
    SignedOut,
    WrongPassword,
)
from screengate.domain.events import EventKind, SecurityEvent
from screengate.domain.sessions import Principal, SignOutReason
from screengate.domain.two_step import matching_step, proven_recently
from screengate.ports import Ports, UnitOfWork
from screengate.services.announce import account_changed


async def require_proof(uow: UnitOfWork, ports: Ports, principal: Principal) -> None:
    """Inside the caller's unit of work (which holds the account's lock): ReauthRequired
    unless this session proved who it is within the window."""
    session = await uow.sessions.get(principal.session_id)
    if session is None or not session.live:
        reason = session.sign_out_reason if session else None
        raise SignedOut(str(reason or SignOutReason.SIGNED_OUT_HERE), None)
    if proven_recently(session.proven_at, ports.clock.now(), ports.two_step):
        return
    raise ReauthRequired(await _methods(uow, principal))


async def proof_methods(ports: Ports, principal: Principal) -> list[str]:
    """How this account can confirm it's you: the password, and a code or a passkey if set."""
    async with ports.reader() as uow:
        return await _methods(uow, principal)


async def _methods(uow: UnitOfWork, principal: Principal) -> list[str]:
    account = await uow.accounts.get(principal.account_id)
    methods = ["password"]
    if account is not None and account.two_step_on:
        methods.append("totp")
    if await uow.two_step.passkeys(principal.account_id):
        methods.append("passkey")
    return methods


async def is_proven(ports: Ports, principal: Principal) -> bool:
    """Whether this session proved who it is within the window (a passkey just did, say)."""
    async with ports.reader() as uow:
        session = await uow.sessions.get(principal.session_id)
    return (
        session is not None
        and session.live
        and proven_recently(session.proven_at, ports.clock.now(), ports.two_step)
    )


async def reauthenticate(
    ports: Ports,
    principal: Principal,
    *,
    password: str | None = None,
    code: str | None = None,
    ip: str | None = None,
) -> None:
    """Prove it with the password or an authenticator code: this session is confirmed for the
    policy's window. Wrong answers count against the account like wrong second-step codes."""
    if password is None and code is None:
        raise WrongPassword("Send the password, a code or a passkey.", field="password")
    async with ports.second_factor_throttle.turn(principal.account_id):
        await ports.second_factor_throttle.check(principal.account_id)
        async with ports.reader() as uow:
            account = await uow.accounts.get(principal.account_id)
        if account is None:
            raise InvalidToken()
        if password is not None:
            right = await ports.hasher.verify(account.password_hash, password)
            method = "password"
        else:
            right = await _code_is_right(ports, principal, code or "")
            method = "totp"
        if not right:
            await log_refused_proof(ports, principal, method, ip)
            if password is not None:
                raise WrongPassword(field="password")
            raise InvalidCode(field="code")
    await confirm_session(ports, principal, method, ip)


async def _code_is_right(ports: Ports, principal: Principal, code: str) -> bool:
    """Spends the code (its time step) when right: the same code proves nothing twice."""
    async with ports.uow() as uow:
        account = await uow.accounts.get(principal.account_id)
        if account is None or not account.two_step_on or account.totp_secret is None:
            return False
        secret = ports.cipher.open(account.totp_secret)
        step = matching_step(secret, code, ports.clock.now(), account.totp_last_step)
        if step is None:
            return False
        account.totp_last_step = step
        await uow.accounts.save(account)
        await uow.commit()
    return True


async def confirm_session(ports: Ports, principal: Principal, method: str, ip: str | None) -> None:
    """This session proved who it is, now."""
    now = ports.clock.now()
    async with ports.uow() as uow:
        session = await uow.sessions.get(principal.session_id)
        if session is None or not session.live:
            raise InvalidToken()
        session.proven_at = now
        await uow.sessions.save(session)
        await uow.events.add(_event(ports, principal, EventKind.REAUTHENTICATED, method, ip))
        await uow.commit()
    await account_changed(ports, principal.account_id)


async def log_refused_proof(
    ports: Ports, principal: Principal, method: str, ip: str | None
) -> None:
    """A wrong answer to "confirm it's you": in the log, and on the account's throttle."""
    async with ports.uow() as uow:
        await uow.events.add(_event(ports, principal, EventKind.REAUTH_FAILED, method, ip))
        await uow.commit()
    await ports.second_factor_throttle.failed(principal.account_id)


def _event(
    ports: Ports, principal: Principal, kind: EventKind, method: str, ip: str | None
) -> SecurityEvent:
    return SecurityEvent(
        account_id=principal.account_id,
        kind=kind,
        at=ports.clock.now(),
        device_id=principal.device_id,
        session_id=principal.session_id,
        ip=ip,
        location=ports.geo.locate(ip),
        detail={"method": method},
    )
