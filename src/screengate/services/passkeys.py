"""Passkeys (WebAuthn): add, name, list and remove them; sign in with one alone; confirm it's
you with one. Each ceremony's challenge is kept (hashed) until the browser answers, found
again from the challenge the answer signed, and used once."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from screengate.domain.errors import InvalidPasskey, InvalidToken, PasskeyNotFound
from screengate.domain.events import EventKind, SecurityEvent
from screengate.domain.sessions import Principal, TokenPair, hash_token
from screengate.domain.two_step import (
    Challenge,
    ChallengeKind,
    Method,
    Passkey,
    PendingDevice,
    RelyingParty,
    clean_passkey_name,
)
from screengate.ports import Ports, UnitOfWork
from screengate.services.announce import security_changed
from screengate.services.auth import open_session, session_opened
from screengate.services.reauth import confirm_session, log_refused_proof, require_proof

Credential = Mapping[str, Any]


async def registration_options(
    ports: Ports, principal: Principal, rp: RelyingParty
) -> dict[str, Any]:
    """What navigator.credentials.create() needs; adding a passkey needs a fresh proof."""
    challenge = _new_challenge(ports)
    now = ports.clock.now()
    async with ports.uow() as uow:
        await uow.lock_account(principal.account_id)
        await require_proof(uow, ports, principal)
        account = await uow.accounts.get(principal.account_id)
        if account is None:
            raise InvalidToken()
        existing = await uow.two_step.passkeys(account.id)
        await uow.two_step.add_challenge(
            Challenge(
                token_hash=hash_token(_b64(challenge)),
                kind=ChallengeKind.PASSKEY_REGISTRATION,
                created_at=now,
                expires_at=now + ports.two_step.challenge_ttl,
                account_id=account.id,
                session_id=principal.session_id,
                webauthn=_b64(challenge),
            )
        )
        await uow.commit()
    return ports.ceremonies.registration_options(
        rp,
        user_id=account.id,
        user_name=account.email,
        challenge=challenge,
        exclude=[p.credential_id for p in existing],
    )


async def add_passkey(
    ports: Ports,
    principal: Principal,
    rp: RelyingParty,
    credential: Credential,
    name: str | None,
    ip: str | None = None,
) -> Passkey:
    signed = ports.ceremonies.challenge_of(credential)
    now = ports.clock.now()
    async with ports.uow() as uow:
        await uow.lock_account(principal.account_id)
        await require_proof(uow, ports, principal)
        if signed is None:
            raise InvalidPasskey()
        challenge = await uow.two_step.challenge(hash_token(signed))
        if (
            challenge is None
            or not challenge.usable(ChallengeKind.PASSKEY_REGISTRATION, now)
            or challenge.account_id != principal.account_id
            or challenge.session_id != principal.session_id
            or challenge.webauthn is None
        ):
            raise InvalidPasskey("That passkey request has expired; try adding it again.")
        key = ports.ceremonies.verify_registration(
            rp, credential, challenge=_bytes(challenge.webauthn)
        )
        challenge.used_at = now
        await uow.two_step.save_challenge(challenge)
        if await uow.two_step.passkey_by_credential(key.credential_id) is not None:
            raise InvalidPasskey("That passkey is already registered.")
        existing = await uow.two_step.passkeys(principal.account_id)
        passkey = Passkey(
            id=ports.tokens.new_id(),
            account_id=principal.account_id,
            credential_id=key.credential_id,
            public_key=key.public_key,
            sign_count=key.sign_count,
            name=clean_passkey_name(name, f"Passkey {len(existing) + 1}"),
            created_at=now,
        )
        await uow.two_step.add_passkey(passkey)
        await uow.events.add(
            _event(ports, principal, EventKind.PASSKEY_ADDED, ip, passkey_name=passkey.name)
        )
        await uow.commit()
    await security_changed(ports, principal.account_id, EventKind.PASSKEY_ADDED)
    return passkey


async def list_passkeys(ports: Ports, principal: Principal) -> list[Passkey]:
    async with ports.reader() as uow:
        return await uow.two_step.passkeys(principal.account_id)


async def remove_passkey(
    ports: Ports, principal: Principal, passkey_id: str, ip: str | None = None
) -> None:
    async with ports.uow() as uow:
        await uow.lock_account(principal.account_id)
        await require_proof(uow, ports, principal)
        found = [p for p in await uow.two_step.passkeys(principal.account_id) if p.id == passkey_id]
        if not found or not await uow.two_step.delete_passkey(principal.account_id, passkey_id):
            raise PasskeyNotFound()
        await uow.events.add(
            _event(ports, principal, EventKind.PASSKEY_REMOVED, ip, passkey_name=found[0].name)
        )
        await uow.commit()
    await security_changed(ports, principal.account_id, EventKind.PASSKEY_REMOVED)


async def sign_in_options(ports: Ports, rp: RelyingParty) -> dict[str, Any]:
    """What navigator.credentials.get() needs: no account named (the passkey says whose)."""
    challenge = _new_challenge(ports)
    now = ports.clock.now()
    async with ports.uow() as uow:
        await uow.two_step.add_challenge(
            Challenge(
                token_hash=hash_token(_b64(challenge)),
                kind=ChallengeKind.PASSKEY_SIGN_IN,
                created_at=now,
                expires_at=now + ports.two_step.challenge_ttl,
                webauthn=_b64(challenge),
            )
        )
        await uow.two_step.prune_challenges(now - ports.two_step.challenge_ttl)
        await uow.commit()
    return ports.ceremonies.authentication_options(rp, challenge=challenge)


async def sign_in_with_passkey(
    ports: Ports,
    rp: RelyingParty,
    credential: Credential,
    device: PendingDevice,
    ip: str | None = None,
) -> TokenPair:
    """A passkey alone signs the device in: it is something held and, verified by the
    authenticator, something known or a face, so two-step is satisfied too."""
    async with ports.uow() as uow:
        passkey = await _verified(uow, ports, rp, credential)
        account = await uow.accounts.get(passkey.account_id)
        if account is None:
            raise InvalidPasskey()
        detail: dict[str, str | int | bool | None] = {"method": Method.PASSKEY.value}
        opened = await open_session(uow, ports, account, device, ip, detail=detail)
        await uow.commit()
    return await session_opened(ports, opened)


async def reauthenticate_with_passkey(
    ports: Ports, principal: Principal, rp: RelyingParty, credential: Credential, ip: str | None
) -> None:
    """Confirm it's you with one of this account's passkeys. A refused answer counts and is
    logged like a wrong password or code."""
    await ports.second_factor_throttle.check(principal.account_id)
    try:
        async with ports.uow() as uow:
            passkey = await _verified(uow, ports, rp, credential)
            if passkey.account_id != principal.account_id:
                raise InvalidPasskey("That passkey is not one of this account's.")
            await uow.commit()
    except InvalidPasskey:
        await log_refused_proof(ports, principal, Method.PASSKEY.value, ip)
        raise
    await confirm_session(ports, principal, Method.PASSKEY.value, ip)


async def _verified(
    uow: UnitOfWork, ports: Ports, rp: RelyingParty, credential: Credential
) -> Passkey:
    """The passkey that answered the sign-in challenge, its counter moved on and the
    challenge spent (inside the caller's unit of work, which must commit)."""
    signed = ports.ceremonies.challenge_of(credential)
    credential_id = ports.ceremonies.credential_id_of(credential)
    if signed is None or credential_id is None:
        raise InvalidPasskey()
    now = ports.clock.now()
    passkey = await uow.two_step.passkey_by_credential(credential_id)
    if passkey is None:
        raise InvalidPasskey("That passkey is not registered here (it may have been removed).")
    await uow.lock_account(passkey.account_id)
    challenge = await uow.two_step.challenge(hash_token(signed))
    if (
        challenge is None
        or not challenge.usable(ChallengeKind.PASSKEY_SIGN_IN, now)
        or challenge.webauthn is None
    ):
        raise InvalidPasskey("That passkey request has expired; try again.")
    passkey.sign_count = ports.ceremonies.verify_authentication(
        rp,
        credential,
        challenge=_bytes(challenge.webauthn),
        public_key=passkey.public_key,
        sign_count=passkey.sign_count,
    )
    passkey.last_used_at = now
    challenge.used_at = now
    await uow.two_step.save_challenge(challenge)
    await uow.two_step.save_passkey(passkey)
    return passkey


def _new_challenge(ports: Ports) -> bytes:
    # The token source's 256 random bits (as text): WebAuthn asks for at least 16 bytes.
    return ports.tokens.token().encode()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _bytes(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


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
