"""A signed-in device proving it knows the account password, before a change that needs it
(the password itself, a profile's PIN)."""

from __future__ import annotations

from screengate.domain.accounts import Account
from screengate.domain.errors import InvalidToken, WrongPassword
from screengate.domain.events import EventKind, SecurityEvent
from screengate.domain.sessions import Principal
from screengate.ports import Guesser, Ports
from screengate.services.acting import still_signed_in


async def confirm_password(
    ports: Ports,
    principal: Principal,
    password: str | None,
    *,
    purpose: str,
    field: str,
    ip: str | None,
) -> Account:
    """The account, once `password` is its password. Counted against the address before
    anything is hashed, judged on this device's own count of wrong passwords (shared with its
    sign-ins: TooManyAttempts once full), and every wrong one goes to the security log."""
    # A device signed out meanwhile is told so, and gets no check (nor any hashing) at all.
    await still_signed_in(ports)
    if not password:
        raise WrongPassword("Enter the account password to make this change.", field=field)
    async with ports.throttle.attempt(ip):
        async with ports.reader() as uow:
            account = await uow.accounts.get(principal.account_id)
        if account is None:
            raise InvalidToken()  # the session outlived its account
        guesser = Guesser(account.email, ip, principal.device_id)
        async with ports.throttle.turn(account.email):
            await ports.throttle.check(guesser)
            if await ports.hasher.verify(account.password_hash, password):
                await ports.throttle.succeeded(guesser)
                return account
            await ports.throttle.failed(guesser)
    await _log_wrong_password(ports, principal, purpose, ip)
    raise WrongPassword(field=field)


async def _log_wrong_password(
    ports: Ports, principal: Principal, purpose: str, ip: str | None
) -> None:
    async with ports.uow() as uow:
        device = await uow.devices.get(principal.account_id, principal.device_id)
        await uow.events.add(
            SecurityEvent(
                account_id=principal.account_id,
                kind=EventKind.PASSWORD_CHECK_FAILED,
                at=ports.clock.now(),
                device_id=principal.device_id,
                device_name=device.name if device else None,
                session_id=principal.session_id,
                ip=ip,
                location=ports.geo.locate(ip),
                detail={"for": purpose},
            )
        )
        await uow.commit()
