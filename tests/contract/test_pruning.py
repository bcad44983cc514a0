"""Growth, over every store: ended sessions are pruned with what hangs on them, and devices
left with no session go; signed-out sessions are listed a page at a time."""

from __future__ import annotations

from datetime import timedelta

from screengate.domain.sessions import SignOutReason, SignOutScope
from tests.contract.factories import (
    T0,
    make_account,
    make_credential,
    make_device,
    make_download,
    make_session,
    make_stream,
)
from tests.contract.test_stores import UowFactory, session_named, store

CUTOFF = T0 + timedelta(days=90)
UNSEEN_CUTOFF = T0 + timedelta(days=60)
LONG_AGO = T0 + timedelta(days=1)


async def test_sessions_signed_out_before_the_cutoff_are_pruned_and_later_ones_kept(
    uow_factory: UowFactory,
) -> None:
    account = make_account()
    old_device, new_device = make_device(account), make_device(account)
    old = make_session(
        old_device, signed_out_at=LONG_AGO, sign_out_reason=SignOutReason.SIGNED_OUT_HERE
    )
    recent = make_session(
        new_device,
        signed_out_at=CUTOFF + timedelta(seconds=1),
        sign_out_reason=SignOutReason.SIGNED_OUT_REMOTELY,
    )
    await store(uow_factory, account, old_device, new_device, old, recent)

    async with uow_factory() as uow:
        pruned = await uow.sessions.prune(CUTOFF, UNSEEN_CUTOFF, limit=100)
        await uow.commit()

    assert pruned == [account.id]
    assert await session_named(uow_factory, old.id) is None
    assert await session_named(uow_factory, recent.id) == recent


async def test_a_live_session_unseen_since_the_cutoff_is_pruned_and_a_seen_one_kept(
    uow_factory: UowFactory,
) -> None:
    account = make_account()
    idle_device, busy_device = make_device(account), make_device(account)
    idle = make_session(idle_device, last_seen_at=UNSEEN_CUTOFF - timedelta(seconds=1))
    busy = make_session(busy_device, last_seen_at=UNSEEN_CUTOFF)
    await store(uow_factory, account, idle_device, busy_device, idle, busy)

    async with uow_factory() as uow:
        pruned = await uow.sessions.prune(CUTOFF, UNSEEN_CUTOFF, limit=100)
        await uow.commit()

    assert pruned == [account.id]
    assert await session_named(uow_factory, idle.id) is None
    assert await session_named(uow_factory, busy.id) == busy


async def test_a_pruned_session_takes_its_credentials_streams_and_downloads_along(
    uow_factory: UowFactory,
) -> None:
    account = make_account()
    device = make_device(account)
    session = make_session(device, signed_out_at=LONG_AGO, sign_out_reason=SignOutReason.EXPIRED)
    credential = make_credential(session)
    stream = make_stream(session)
    download = make_download(session)
    await store(uow_factory, account, device, session, credential, stream, download)

    async with uow_factory() as uow:
        await uow.sessions.prune(CUTOFF, UNSEEN_CUTOFF, limit=100)
        await uow.commit()

    async with uow_factory() as uow:
        assert await uow.credentials.get(credential.token_hash) is None
        assert await uow.streams.get(account.id, stream.id) is None
        assert await uow.downloads.get(account.id, download.id) is None


async def test_pruning_goes_oldest_first_at_most_the_limit_at_a_time(
    uow_factory: UowFactory,
) -> None:
    account = make_account()
    device = make_device(account)
    ended = [
        make_session(
            device,
            signed_out_at=T0 + timedelta(hours=hours),
            sign_out_reason=SignOutReason.SIGNED_OUT_HERE,
        )
        for hours in (5, 1, 3)
    ]
    await store(uow_factory, account, device, *ended)

    async with uow_factory() as uow:
        first = await uow.sessions.prune(CUTOFF, UNSEEN_CUTOFF, limit=2)
        await uow.commit()
    async with uow_factory() as uow:
        second = await uow.sessions.prune(CUTOFF, UNSEEN_CUTOFF, limit=2)
        await uow.commit()

    assert (len(first), len(second)) == (2, 1)
    assert await session_named(uow_factory, ended[0].id) is None  # the newest went last


async def test_only_devices_with_no_session_left_are_pruned_and_only_the_accounts_own(
    uow_factory: UowFactory,
) -> None:
    account, other = make_account(), make_account()
    bare, holding, elsewhere = make_device(account), make_device(account), make_device(other)
    await store(uow_factory, account, other, bare, holding, elsewhere, make_session(holding))

    async with uow_factory() as uow:
        pruned = await uow.devices.prune_unused(account.id)
        await uow.commit()

    assert pruned == 1
    async with uow_factory() as uow:
        assert await uow.devices.get(account.id, bare.id) is None
        assert await uow.devices.get(account.id, holding.id) == holding
        assert await uow.devices.get(other.id, elsewhere.id) == elsewhere


async def test_nothing_to_prune_prunes_nothing(uow_factory: UowFactory) -> None:
    account = make_account()
    device = make_device(account)
    await store(uow_factory, account, device, make_session(device, last_seen_at=CUTOFF))

    async with uow_factory() as uow:
        assert await uow.sessions.prune(CUTOFF, UNSEEN_CUTOFF, limit=100) == []
        assert await uow.devices.prune_unused(account.id) == 0
        await uow.commit()


async def test_signed_out_sessions_come_most_recent_first_a_limited_number_at_a_time(
    uow_factory: UowFactory,
) -> None:
    account = make_account()
    devices = [make_device(account) for _ in range(3)]
    sessions = [make_session(device) for device in devices]
    await store(uow_factory, account, *devices, *sessions)
    for hours, session in enumerate(sessions):
        async with uow_factory() as uow:
            await uow.sessions.end(
                SignOutScope(account.id, session_id=session.id),
                SignOutReason.SIGNED_OUT_REMOTELY,
                T0 + timedelta(hours=hours),
            )
            await uow.commit()

    async with uow_factory() as uow:
        first_two = await uow.sessions.signed_out_since(account.id, T0, 2)
        every = await uow.sessions.signed_out_since(account.id, T0)

    assert [s.id for s in first_two] == [sessions[2].id, sessions[1].id]
    assert [s.id for s in every] == [s.id for s in reversed(sessions)]
