"""Two-step sign-in: the authenticator app, recovery codes, and the sign-in's second step."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from screengate.domain.accounts import Account, normalise_email
from screengate.domain.errors import (
    AccountNotFound,
    InvalidChallenge,
    InvalidCode,
    InvalidToken,
    NoPendingEnrolment,
    TwoStepAlreadyOn,
    TwoStepOff,
    WrongSecondFactor,
)
from screengate.domain.events import EventKind, SecurityEvent
from screengate.domain.ids import AccountId
from screengate.domain.sessions import Principal, SignOutReason, SignOutScope, TokenPair, hash_token
from screengate.domain.two_step import (
    RECOVERY_CODE_COUNT,
    ChallengeKind,
    Method,
    hash_recovery_code,
    matching_step,
    new_recovery_code,
    new_totp_secret,
    otpauth_uri,
)
from screengate.ports import Ports, UnitOfWork
from screengate.services.announce import announce, security_changed
from screengate.services.auth import open_session, session_opened
from screengate.services.reauth import require_proof
from screengate.services.sign_out import end_and_log
from screengate.services.views import SignOutReceipt


@dataclass(frozen=True, slots=True)
class Enrolment:
    """The authenticator app's secret, shown once, as text and as an otpauth:// URI (the QR)."""

    secret: str
    otpauth_uri: str


@dataclass(frozen=True, slots=True)
class TwoStepStatus:
    on: bool
    pending: bool
    recovery_codes_left: int
    passkeys: int


async def status(ports: Ports, principal: Principal) -> TwoStepStatus:
    async with ports.reader() as uow:
        account = await _account(uow, principal.account_id)
        left = await uow.two_step.recovery_codes_left(account.id)
        passkeys = await uow.two_step.passkeys(account.id)
    pending = account.totp_secret is not None and not account.two_step_on
    return TwoStepStatus(account.two_step_on, pending, left, len(passkeys))


async def pending_enrolment(ports: Ports, principal: Principal) -> Enrolment | None:
    """The secret being set up, to show again (a wrong first code); None once on or never."""
    async with ports.reader() as uow:
        account = await _account(uow, principal.account_id)
    if account.totp_secret is None or account.two_step_on:
        return None
    secret = ports.cipher.open(account.totp_secret)
    return Enrolment(secret, otpauth_uri(secret, account.email))


async def start_totp(ports: Ports, principal: Principal) -> Enrolment:
    """A new secret, pending until a first code confirms the app has it."""
    secret = new_totp_secret()
    async with ports.uow() as uow:
        await uow.lock_account(principal.account_id)
        await require_proof(uow, ports, principal)
        account = await _account(uow, principal.account_id)
        if account.two_step_on:
            raise TwoStepAlreadyOn()
        account.totp_secret = ports.cipher.seal(secret)
        account.totp_confirmed_at = None
        account.totp_last_step = None
        await uow.accounts.save(account)
        await uow.commit()
    return Enrolment(secret, otpauth_uri(secret, account.email))


async def confirm_totp(
    ports: Ports,
    principal: Principal,
    code: str,
    *,
    sign_out_other_devices: bool = False,
    ip: str | None = None,
) -> tuple[list[str], SignOutReceipt | None]:
    """The app's first code turns two-step on; the recovery codes, shown this once."""
    codes = _new_recovery_codes()
    async with ports.second_factor_throttle.turn(principal.account_id):
        await ports.second_factor_throttle.check(principal.account_id)
        async with ports.uow() as uow:
            await uow.lock_account(principal.account_id)
            await require_proof(uow, ports, principal)
            account = await _account(uow, principal.account_id)
            if account.two_step_on:
                raise TwoStepAlreadyOn()
            if account.totp_secret is None:
                raise NoPendingEnrolment()
            now = ports.clock.now()
            step = matching_step(ports.cipher.open(account.totp_secret), code, now, None)
            if step is not None:
                account.totp_confirmed_at = now
                account.totp_last_step = step
                await uow.accounts.save(account)
                await uow.two_step.replace_recovery_codes(
                    account.id, [hash_recovery_code(account.id, c) for c in codes], now
                )
                await uow.events.add(
                    _event(
                        ports,
                        principal,
                        EventKind.TWO_STEP_ENABLED,
                        ip,
                        signed_out_other_devices=sign_out_other_devices,
                    )
                )
                receipt = None
                if sign_out_other_devices:
                    others = SignOutScope(account.id, keep=principal.session_id)
                    receipt = await end_and_log(
                        uow, ports, others, SignOutReason.SIGNED_OUT_EVERYWHERE, principal, ip
                    )
                await uow.commit()
        if step is None:
            await ports.second_factor_throttle.failed(principal.account_id)
            raise InvalidCode("That code is not right. Check the app and try the newest code.")
    if receipt is not None:
        receipt = await announce(ports, receipt)
    await security_changed(ports, principal.account_id, EventKind.TWO_STEP_ENABLED)
    return codes, receipt


async def turn_off(ports: Ports, principal: Principal, *, ip: str | None = None) -> None:
    async with ports.uow() as uow:
        await uow.lock_account(principal.account_id)
        await require_proof(uow, ports, principal)
        account = await _account(uow, principal.account_id)
        was_on = account.two_step_on
        await _clear(uow, account)
        if was_on:
            await uow.events.add(_event(ports, principal, EventKind.TWO_STEP_DISABLED, ip))
        await uow.commit()
    if was_on:
        await security_changed(ports, principal.account_id, EventKind.TWO_STEP_DISABLED)


async def operator_turn_off(ports: Ports, email: str, reason: str) -> Account:
    """Support turns two-step off for someone who lost both phone and codes; logged with why."""
    async with ports.uow() as uow:
        account = await uow.accounts.by_email(normalise_email(email))
        if account is None:
            raise AccountNotFound(email=email)
        await uow.lock_account(account.id)
        was_on = account.two_step_on
        await _clear(uow, account)
        await uow.events.add(
            SecurityEvent(
                account_id=account.id,
                kind=EventKind.TWO_STEP_DISABLED,
                at=ports.clock.now(),
                detail={"by": "operator", "reason": reason[:200], "was_on": was_on},
            )
        )
        await uow.commit()
    await security_changed(ports, account.id, EventKind.TWO_STEP_DISABLED)
    return account


async def regenerate_recovery_codes(
    ports: Ports, principal: Principal, *, ip: str | None = None
) -> list[str]:
    """New codes; the old ones stop working at once."""
    codes = _new_recovery_codes()
    async with ports.uow() as uow:
        await uow.lock_account(principal.account_id)
        await require_proof(uow, ports, principal)
        account = await _account(uow, principal.account_id)
        if not account.two_step_on:
            raise TwoStepOff()
        now = ports.clock.now()
        await uow.two_step.replace_recovery_codes(
            account.id, [hash_recovery_code(account.id, c) for c in codes], now
        )
        await uow.events.add(_event(ports, principal, EventKind.RECOVERY_CODES_REGENERATED, ip))
        await uow.commit()
    await security_changed(ports, principal.account_id, EventKind.RECOVERY_CODES_REGENERATED)
    return codes


async def finish_sign_in(
    ports: Ports,
    challenge: str,
    *,
    code: str | None = None,
    recovery_code: str | None = None,
    ip: str | None = None,
) -> TokenPair:
    """The second step: an authenticator code or a recovery code for the challenge the
    password earned. Wrong guesses count against the challenge (it dies after a few) and
    against the account (TooManyAttempts), and each is logged."""
    token_hash = hash_token(challenge)
    now = ports.clock.now()
    async with ports.reader() as uow:
        found = await uow.two_step.challenge(token_hash)
    if found is None or found.account_id is None:
        raise InvalidChallenge()
    account_id = found.account_id
    method = Method.RECOVERY_CODE if recovery_code is not None else Method.TOTP
    async with ports.second_factor_throttle.turn(account_id):
        await ports.second_factor_throttle.check(account_id)
        async with ports.uow() as uow:
            await uow.lock_account(account_id)
            # Read again under the lock: a parallel guess may have spent or finished it.
            pending = await uow.two_step.challenge(token_hash)
            if pending is None or not pending.usable(ChallengeKind.SECOND_FACTOR, now):
                raise InvalidChallenge()
            account = await _account(uow, account_id)
            if not account.two_step_on or account.totp_secret is None or pending.device is None:
                raise InvalidChallenge()
            right = await _second_factor_is_right(uow, ports, account, code, recovery_code)
            if right:
                pending.used_at = now
                await uow.two_step.save_challenge(pending)
                left = await uow.two_step.recovery_codes_left(account.id)
                detail: dict[str, str | int | bool | None] = {"second_factor": method.value}
                opened = await open_session(uow, ports, account, pending.device, ip, detail=detail)
                pair = opened.pair
                if method is Method.RECOVERY_CODE:
                    await uow.events.add(
                        SecurityEvent(
                            account_id=account.id,
                            kind=EventKind.RECOVERY_CODE_USED,
                            at=now,
                            device_id=pair.device_id,
                            session_id=pair.session_id,
                            ip=ip,
                            location=ports.geo.locate(ip),
                            detail={"codes_left": left},
                        )
                    )
            else:
                pending.failures += 1
                await uow.two_step.save_challenge(pending)
                await uow.events.add(
                    SecurityEvent(
                        account_id=account.id,
                        kind=EventKind.SECOND_FACTOR_FAILED,
                        at=now,
                        ip=ip,
                        location=ports.geo.locate(ip),
                        detail={"method": method.value, "challenge_failures": pending.failures},
                    )
                )
            await uow.commit()
        if not right:
            await ports.second_factor_throttle.failed(account_id)
            raise WrongSecondFactor()
    await session_opened(ports, opened)
    if method is Method.RECOVERY_CODE:
        await security_changed(ports, account_id, EventKind.RECOVERY_CODE_USED)
    return pair


async def _second_factor_is_right(
    uow: UnitOfWork,
    ports: Ports,
    account: Account,
    code: str | None,
    recovery_code: str | None,
) -> bool:
    now = ports.clock.now()
    if recovery_code is not None:
        code_hash = hash_recovery_code(account.id, recovery_code)
        return await uow.two_step.use_recovery_code(account.id, code_hash, now)
    if code is None or account.totp_secret is None:
        return False
    secret = ports.cipher.open(account.totp_secret)
    step = matching_step(secret, code, now, account.totp_last_step)
    if step is None:
        return False
    account.totp_last_step = step
    await uow.accounts.save(account)
    return True


async def _clear(uow: UnitOfWork, account: Account) -> None:
    account.totp_secret = None
    account.totp_confirmed_at = None
    account.totp_last_step = None
    await uow.accounts.save(account)
    await uow.two_step.replace_recovery_codes(account.id, [], account.created_at)


def _new_recovery_codes() -> list[str]:
    return [new_recovery_code(secrets.token_bytes(32)) for _ in range(RECOVERY_CODE_COUNT)]


async def _account(uow: UnitOfWork, account_id: AccountId) -> Account:
    account = await uow.accounts.get(account_id)
    if account is None:
        raise InvalidToken()
    return account


def _event(
    ports: Ports,
    principal: Principal,
    kind: EventKind,
    ip: str | None,
    **detail: str | int | bool | None,
) -> SecurityEvent:
    return SecurityEvent(
        account_id=principal.account_id,
        kind=kind,
        at=ports.clock.now(),
        device_id=principal.device_id,
        session_id=principal.session_id,
        ip=ip,
        location=ports.geo.locate(ip),
        detail=detail,
    )
