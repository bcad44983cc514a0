"""The TwoStepStore contract (recovery codes, sign-in challenges, passkeys) on every backend,
and the account's authenticator fields and the session's proof time round-tripping."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from screengate.domain.two_step import Challenge, ChallengeKind, Passkey, PendingDevice
from tests.contract.factories import T0, make_account, make_device, make_session, new_id
from tests.contract.test_stores import UowFactory, store


def _challenge(account_id: str | None = None, **fields: object) -> Challenge:
    values: dict[str, object] = {
        "token_hash": new_id(),
        "kind": ChallengeKind.SECOND_FACTOR,
        "created_at": T0,
        "expires_at": T0 + timedelta(minutes=5),
        "account_id": account_id,
        "device": PendingDevice("smart_tv", "Living Room TV", None, "Agent/1.0"),
    }
    values.update(fields)
    return Challenge(**values)  # type: ignore[arg-type]


def _passkey(account_id: str, **fields: object) -> Passkey:
    values: dict[str, object] = {
        "id": new_id(),
        "account_id": account_id,
        "credential_id": new_id(),
        "public_key": "pQECAyYgASFYIA",
        "sign_count": 0,
        "name": "Laptop",
        "created_at": T0,
    }
    values.update(fields)
    return Passkey(**values)  # type: ignore[arg-type]


async def test_the_account_keeps_its_sealed_secret_confirmation_and_last_step(
    uow_factory: UowFactory,
) -> None:
    account = make_account(totp_secret="sealed", totp_confirmed_at=T0, totp_last_step=2**40)
    await store(uow_factory, account)
    async with uow_factory() as uow:
        found = await uow.accounts.get(account.id)
    assert found == account
    assert found is not None
    assert found.two_step_on


async def test_a_session_keeps_when_it_last_proved_who_it_is(uow_factory: UowFactory) -> None:
    account = make_account()
    device = make_device(account)
    session = make_session(device, proven_at=T0 + timedelta(seconds=7))
    await store(uow_factory, account, device, session)
    async with uow_factory() as uow:
        found = await uow.sessions.get(session.id)
        assert found is not None
        assert found.proven_at == T0 + timedelta(seconds=7)
        found.proven_at = T0 + timedelta(minutes=1)
        await uow.sessions.save(found)
        await uow.commit()
    async with uow_factory() as uow:
        again = await uow.sessions.get(session.id)
    assert again is not None
    assert again.proven_at == T0 + timedelta(minutes=1)


async def test_a_recovery_code_is_spent_once_and_new_codes_replace_the_old(
    uow_factory: UowFactory,
) -> None:
    account, other = make_account(), make_account()
    await store(uow_factory, account, other)
    async with uow_factory() as uow:
        await uow.two_step.replace_recovery_codes(account.id, ["a", "b", "c"], T0)
        await uow.two_step.replace_recovery_codes(other.id, ["a"], T0)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.two_step.use_recovery_code(account.id, "b", T0)
        assert not await uow.two_step.use_recovery_code(account.id, "b", T0)
        assert not await uow.two_step.use_recovery_code(account.id, "z", T0)
        assert await uow.two_step.recovery_codes_left(account.id) == 2
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.two_step.recovery_codes_left(other.id) == 1
        await uow.two_step.replace_recovery_codes(account.id, ["d"], T0)
        assert not await uow.two_step.use_recovery_code(account.id, "a", T0)
        assert await uow.two_step.recovery_codes_left(account.id) == 1


async def test_only_one_of_two_concurrent_uses_of_a_recovery_code_wins(
    uow_factory: UowFactory,
) -> None:
    account = make_account()
    await store(uow_factory, account)
    async with uow_factory() as uow:
        await uow.two_step.replace_recovery_codes(account.id, ["a"], T0)
        await uow.commit()

    async def use() -> bool:
        async with uow_factory() as uow:
            used = await uow.two_step.use_recovery_code(account.id, "a", T0)
            await uow.commit()
            return used

    assert sorted(await asyncio.gather(use(), use())) == [False, True]


async def test_a_challenge_round_trips_and_expired_ones_are_pruned(
    uow_factory: UowFactory,
) -> None:
    account = make_account()
    await store(uow_factory, account)
    fresh = _challenge(account.id)
    stale = _challenge(account.id, expires_at=T0 - timedelta(seconds=1))
    webauthn = _challenge(
        None, kind=ChallengeKind.PASSKEY_SIGN_IN, device=None, webauthn="Y2hhbGxlbmdl"
    )
    async with uow_factory() as uow:
        for challenge in (fresh, stale, webauthn):
            await uow.two_step.add_challenge(challenge)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.two_step.challenge(fresh.token_hash) == fresh
        assert await uow.two_step.challenge(webauthn.token_hash) == webauthn
        spent = replace(fresh, failures=3, used_at=T0)
        await uow.two_step.save_challenge(spent)
        assert await uow.two_step.prune_challenges(T0) == 1
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.two_step.challenge(fresh.token_hash) == spent
        assert await uow.two_step.challenge(stale.token_hash) is None


async def test_passkeys_are_listed_found_by_credential_and_removed_only_by_their_account(
    uow_factory: UowFactory,
) -> None:
    account, other = make_account(), make_account()
    await store(uow_factory, account, other)
    first = _passkey(account.id, name="Laptop")
    second = _passkey(account.id, name="Phone", created_at=T0 + timedelta(minutes=1))
    theirs = _passkey(other.id)
    async with uow_factory() as uow:
        for passkey in (second, first, theirs):
            await uow.two_step.add_passkey(passkey)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.two_step.passkeys(account.id) == [first, second]
        assert await uow.two_step.passkey_by_credential(theirs.credential_id) == theirs
        used = replace(first, sign_count=9, last_used_at=T0 + timedelta(hours=1))
        await uow.two_step.save_passkey(used)
        assert not await uow.two_step.delete_passkey(account.id, theirs.id)
        assert await uow.two_step.delete_passkey(account.id, second.id)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.two_step.passkeys(account.id) == [used]
        assert await uow.two_step.passkeys(other.id) == [theirs]
