"""The stores behind TV codes and temporary sign-ins, the same on memory, SQLite and PostgreSQL:
codes found by device code and user code, an account's unspent codes, codes that ran out,
temporary sign-ins whose end has come, and stream leases nobody renewed."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from screengate.domain.device_codes import AuthorizationStatus, DeviceAuthorization
from screengate.domain.devices import DeviceType
from screengate.domain.ids import AccountId
from tests.contract.factories import T0, make_stream, new_id
from tests.contract.test_stores import UowFactory, a_signed_in_device, store

TEN_MINUTES = timedelta(minutes=10)


def make_authorization(**fields: object) -> DeviceAuthorization:
    values: dict[str, object] = {
        "id": new_id(),
        "device_code_hash": new_id(),
        "user_code": new_id()[:8].upper(),
        "client_id": "tv",
        "device_type": DeviceType.SMART_TV,
        "device_name": "Hotel Room TV",
        "requested_at": T0,
        "expires_at": T0 + TEN_MINUTES,
        "interval_seconds": 5,
        "ip": "203.0.113.7",
        "location": "Lisbon, Portugal",
    }
    values.update(fields)
    return DeviceAuthorization(**values)  # type: ignore[arg-type]


async def add(uow_factory: UowFactory, *authorizations: DeviceAuthorization) -> None:
    async with uow_factory() as uow:
        for authorization in authorizations:
            await uow.device_authorizations.add(authorization)
        await uow.commit()


async def test_a_code_is_found_by_its_device_code_hash_and_by_its_user_code(
    uow_factory: UowFactory,
) -> None:
    older = make_authorization(user_code="BCDFGHJK", requested_at=T0 - timedelta(days=2))
    newer = make_authorization(user_code="BCDFGHJK")
    await add(uow_factory, older, newer)
    async with uow_factory() as uow:
        assert await uow.device_authorizations.by_device_code(newer.device_code_hash) == newer
        assert await uow.device_authorizations.by_user_code("BCDFGHJK") == newer
        assert await uow.device_authorizations.by_user_code("ZZZZZZZZ") is None
        assert await uow.device_authorizations.by_device_code("nope") is None


async def test_every_field_of_a_decided_code_is_kept(uow_factory: UowFactory) -> None:
    account, device, session = await a_signed_in_device(uow_factory)
    code = make_authorization()
    await add(uow_factory, code)
    decided = replace(
        code,
        status=AuthorizationStatus.APPROVED,
        last_polled_at=T0 + timedelta(seconds=5),
        account_id=account.id,
        decided_at=T0 + timedelta(seconds=30),
        decided_by_device_id=device.id,
        signed_in_until=T0 + timedelta(days=1),
        device_id=device.id,
        session_id=session.id,
        interval_seconds=10,
        user_agent="Tizen",
    )
    async with uow_factory() as uow:
        await uow.device_authorizations.save(decided)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.device_authorizations.by_device_code(code.device_code_hash) == decided


async def test_an_accounts_unspent_codes_are_those_looked_up_or_approved_and_not_used(
    uow_factory: UowFactory,
) -> None:
    account, _, _ = await a_signed_in_device(uow_factory)
    looked_up = make_authorization(account_id=account.id)
    approved = make_authorization(account_id=account.id, status=AuthorizationStatus.APPROVED)
    used = make_authorization(account_id=account.id, status=AuthorizationStatus.REDEEMED)
    denied = make_authorization(account_id=account.id, status=AuthorizationStatus.DENIED)
    nobodys = make_authorization()
    someone_elses = make_authorization(account_id=AccountId(new_id()))
    await add(uow_factory, looked_up, approved, used, denied, nobodys, someone_elses)
    async with uow_factory() as uow:
        claimed = await uow.device_authorizations.claimed(account.id)
    assert {c.id for c in claimed} == {looked_up.id, approved.id}


async def test_codes_that_ran_out_unspent_are_listed_and_old_ones_pruned(
    uow_factory: UowFactory,
) -> None:
    account, _, _ = await a_signed_in_device(uow_factory)
    ran_out = make_authorization(account_id=account.id, expires_at=T0)
    running = make_authorization(account_id=account.id, expires_at=T0 + TEN_MINUTES)
    unclaimed = make_authorization(expires_at=T0)
    used = make_authorization(
        account_id=account.id, expires_at=T0, status=AuthorizationStatus.REDEEMED
    )
    await add(uow_factory, ran_out, running, unclaimed, used)
    async with uow_factory() as uow:
        lapsed = await uow.device_authorizations.lapsed(T0 + timedelta(seconds=1), 10)
        assert [a.id for a in lapsed] == [ran_out.id]
        assert await uow.device_authorizations.prune(T0 + timedelta(seconds=1)) == 3
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.device_authorizations.by_device_code(running.device_code_hash)


async def test_temporary_sign_ins_whose_end_has_come_are_found_and_kept_signed_in_until(
    uow_factory: UowFactory,
) -> None:
    account, _, session = await a_signed_in_device(uow_factory)
    async with uow_factory() as uow:
        stored = await uow.sessions.get(session.id)
        assert stored is not None
        stored.signed_in_until = T0 + timedelta(hours=4)
        await uow.sessions.save(stored)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.sessions.time_up(T0 + timedelta(hours=3), 10) == []
        due = await uow.sessions.time_up(T0 + timedelta(hours=4), 10)
        again = await uow.sessions.get(session.id)
    assert due == [(account.id, session.id)]
    assert again is not None
    assert again.signed_in_until == T0 + timedelta(hours=4)


async def test_streams_nobody_renewed_are_found_until_they_are_ended(
    uow_factory: UowFactory,
) -> None:
    _, _, session = await a_signed_in_device(uow_factory)
    stale = make_stream(session, expires_at=T0 + timedelta(seconds=90))
    fresh = make_stream(session, expires_at=T0 + timedelta(seconds=200))
    await store(uow_factory, stale, fresh)
    async with uow_factory() as uow:
        lapsed = await uow.streams.lapsed(T0 + timedelta(seconds=100), 10)
    assert [s.id for s in lapsed] == [stale.id]


async def test_a_code_is_saved_only_while_it_has_the_status_and_no_other_account(
    uow_factory: UowFactory,
) -> None:
    first, _, _ = await a_signed_in_device(uow_factory)
    second, _, _ = await a_signed_in_device(uow_factory)
    code = make_authorization()
    await add(uow_factory, code)
    pending = AuthorizationStatus.PENDING
    async with uow_factory() as uow:
        mine = replace(code, account_id=first.id)
        assert await uow.device_authorizations.save_if(mine, pending)
        assert not await uow.device_authorizations.save_if(
            replace(code, account_id=second.id), pending
        )
        approved = replace(mine, status=AuthorizationStatus.APPROVED)
        assert await uow.device_authorizations.save_if(approved, pending)
        assert not await uow.device_authorizations.save_if(approved, pending)  # approved once
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.device_authorizations.by_device_code(code.device_code_hash) == approved


async def test_a_poll_records_its_time_and_interval_and_nothing_else(
    uow_factory: UowFactory,
) -> None:
    code = make_authorization(status=AuthorizationStatus.APPROVED)
    await add(uow_factory, code)
    async with uow_factory() as uow:
        await uow.device_authorizations.polled(code.id, T0 + timedelta(seconds=7), 10)
        await uow.commit()
    async with uow_factory() as uow:
        found = await uow.device_authorizations.by_device_code(code.device_code_hash)
    assert found == replace(code, last_polled_at=T0 + timedelta(seconds=7), interval_seconds=10)
