"""The session store's sign-out bookkeeping, the same on every store: recent sign-outs and
their receipts (told live, confirmed at the next contact)."""

from __future__ import annotations

from datetime import timedelta

from screengate.domain.events import EventKind, SecurityEvent
from screengate.domain.sessions import ReceiptStatus, SignOutReason
from tests.contract.factories import T0, make_account, make_device, make_session
from tests.contract.test_stores import UowFactory, store


async def test_recent_sign_outs_of_any_account_come_oldest_first(uow_factory: UowFactory) -> None:
    sessions = []
    for minutes in (3, 1, 2):
        account = make_account()
        device = make_device(account)
        session = make_session(device)
        session.sign_out(SignOutReason.OPERATOR, T0 + timedelta(minutes=minutes))
        sessions.append(session)
        await store(uow_factory, account, device, session)
    live_account = make_account()
    live_device = make_device(live_account)
    await store(uow_factory, live_account, live_device, make_session(live_device))
    async with uow_factory() as uow:
        after = await uow.sessions.signed_out_after(T0 + timedelta(minutes=1), 10)
        first_only = await uow.sessions.signed_out_after(T0, 1)
    assert after == [
        (sessions[2].id, T0 + timedelta(minutes=2)),
        (sessions[0].id, T0 + timedelta(minutes=3)),
    ]
    assert first_only == [(sessions[1].id, T0 + timedelta(minutes=1))]


async def test_an_accounts_sign_outs_since_a_moment_are_most_recent_first(
    uow_factory: UowFactory,
) -> None:
    account = make_account()
    device = make_device(account)
    old, new, live = make_session(device), make_session(device), make_session(device)
    old.sign_out(SignOutReason.SIGNED_OUT_HERE, T0)
    new.sign_out(SignOutReason.PASSWORD_CHANGED, T0 + timedelta(days=2))
    await store(uow_factory, account, device, old, new, live)
    async with uow_factory() as uow:
        recent = await uow.sessions.signed_out_since(account.id, T0 + timedelta(days=1))
        everything = await uow.sessions.signed_out_since(account.id, T0)
    assert [s.id for s in recent] == [new.id]
    assert [s.id for s in everything] == [new.id, old.id]
    assert recent[0].sign_out_reason is SignOutReason.PASSWORD_CHANGED


async def test_receipts_keep_their_first_time(uow_factory: UowFactory) -> None:
    account = make_account()
    device = make_device(account)
    session = make_session(device)
    session.sign_out(SignOutReason.SIGNED_OUT_REMOTELY, T0)
    await store(uow_factory, account, device, session)
    assert session.receipt is ReceiptStatus.PENDING
    async with uow_factory() as uow:
        await uow.sessions.mark_told([session.id], T0 + timedelta(seconds=1))
        await uow.sessions.mark_told([session.id], T0 + timedelta(seconds=2))
        first = await uow.sessions.mark_confirmed(session.id, T0 + timedelta(seconds=3))
        second = await uow.sessions.mark_confirmed(session.id, T0 + timedelta(seconds=4))
        await uow.commit()
    async with uow_factory() as uow:
        read = await uow.sessions.get(session.id)
    assert (first, second) == (True, False)
    assert read is not None
    assert read.told_at == T0 + timedelta(seconds=1)
    assert read.confirmed_at == T0 + timedelta(seconds=3)
    assert read.receipt is ReceiptStatus.CONFIRMED


async def test_saving_a_session_keeps_its_receipt(uow_factory: UowFactory) -> None:
    account = make_account()
    device = make_device(account)
    session = make_session(device)
    session.sign_out(SignOutReason.OPERATOR, T0)
    await store(uow_factory, account, device, session)
    async with uow_factory() as uow:
        await uow.sessions.mark_told([session.id], T0)
        await uow.commit()
    async with uow_factory() as uow:
        await uow.sessions.save(session)
        await uow.commit()
    async with uow_factory() as uow:
        read = await uow.sessions.get(session.id)
    assert read is not None
    assert read.told_at == T0


async def test_many_sessions_and_events_are_written_at_once_in_order(
    uow_factory: UowFactory,
) -> None:
    account = make_account()
    device = make_device(account)
    sessions = [make_session(device) for _ in range(5)]
    await store(uow_factory, account, device, *sessions)
    for n, session in enumerate(sessions):
        session.sign_out(SignOutReason.SIGNED_OUT_EVERYWHERE, T0 + timedelta(seconds=n))
    events = [
        SecurityEvent(
            account_id=account.id,
            kind=EventKind.SIGNED_OUT,
            at=T0,
            session_id=s.id,
            detail={"n": n},
        )
        for n, s in enumerate(sessions)
    ]
    async with uow_factory() as uow:
        await uow.sessions.save_many(sessions)
        await uow.events.add_many(events)
        await uow.commit()
    async with uow_factory() as uow:
        read = [await uow.sessions.get(s.id) for s in sessions]
        logged = await uow.events.page(account.id, before_id=None, limit=10)
    assert [(r.sign_out_reason, r.signed_out_at) for r in read if r] == [
        (SignOutReason.SIGNED_OUT_EVERYWHERE, T0 + timedelta(seconds=n)) for n in range(5)
    ]
    assert [e.detail["n"] for e in logged] == [4, 3, 2, 1, 0]
