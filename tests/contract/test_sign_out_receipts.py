"""The session store's sign-out bookkeeping, the same on every store: recent sign-outs and
their receipts (told live, confirmed at the next contact)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from screengate.adapters.sql import stores as sql_stores
from screengate.domain.events import EventKind, SecurityEvent
from screengate.domain.sessions import EndingSession, ReceiptStatus, SignOutReason, SignOutScope
from tests.contract.factories import T0, make_account, make_device, make_session
from tests.contract.test_stores import UowFactory, store

T1 = T0 + timedelta(minutes=10)


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


async def test_a_sign_out_scope_ends_and_logs_exactly_the_live_sessions_it_covers(
    uow_factory: UowFactory,
) -> None:
    account, other_account = make_account(), make_account()
    devices = [make_device(account, name=f"TV {n}") for n in range(4)]
    sessions = [
        make_session(d, last_seen_at=T0 + timedelta(minutes=n)) for n, d in enumerate(devices)
    ]
    kept, already_out = sessions[0], sessions[1]
    already_out.sign_out(SignOutReason.EXPIRED, T0)
    stranger = make_device(other_account)
    await store(
        uow_factory, account, other_account, *devices, *sessions, stranger, make_session(stranger)
    )
    scope = SignOutScope(account.id, keep=kept.id)
    entry = SecurityEvent(
        account_id=account.id,
        kind=EventKind.SIGNED_OUT,
        at=T1,
        ip="203.0.113.9",
        detail={"reason": "signed_out_everywhere"},
    )
    async with uow_factory() as uow:
        ending = await uow.sessions.ending(scope)
        await uow.events.add_for_sessions(scope, entry)
        ended = await uow.sessions.end(scope, SignOutReason.SIGNED_OUT_EVERYWHERE, T1)
        again = await uow.sessions.ending(scope)
        await uow.commit()
    async with uow_factory() as uow:
        live = await uow.sessions.live_for_account(account.id)
        logged = await uow.events.page(account.id, before_id=None, limit=10)
        strangers = await uow.sessions.live_for_account(other_account.id)
        read = await uow.sessions.get(sessions[3].id)
    # Most recently seen first; the kept one and the one already signed out are left alone.
    assert ending == [
        EndingSession(s.id, s.device_id, f"TV {n}") for n, s in ((3, sessions[3]), (2, sessions[2]))
    ]
    assert ended == 2
    assert again == []
    assert [s.id for s in live] == [kept.id]
    assert len(strangers) == 1
    assert read is not None
    assert (read.signed_out_at, read.sign_out_reason) == (T1, SignOutReason.SIGNED_OUT_EVERYWHERE)
    # One entry per ended device, logged in the same order, each naming its device.
    assert [(e.session_id, e.device_id, e.device_name) for e in reversed(logged)] == [
        (e.session_id, e.device_id, e.device_name) for e in ending
    ]
    assert {(e.kind, e.at, e.ip, e.detail["reason"]) for e in logged} == {
        (EventKind.SIGNED_OUT, T1, "203.0.113.9", "signed_out_everywhere")
    }


async def test_a_sign_out_scope_can_name_one_device_or_one_session(
    uow_factory: UowFactory,
) -> None:
    account = make_account()
    devices = [make_device(account) for _ in range(3)]
    sessions = [make_session(d) for d in devices]
    await store(uow_factory, account, *devices, *sessions)
    async with uow_factory() as uow:
        by_device = await uow.sessions.end(
            SignOutScope(account.id, device_id=devices[0].id), SignOutReason.OPERATOR, T1
        )
        by_session = await uow.sessions.end(
            SignOutScope(account.id, session_id=sessions[1].id), SignOutReason.OPERATOR, T1
        )
        elsewhere = await uow.sessions.end(
            SignOutScope(make_account().id, session_id=sessions[2].id), SignOutReason.OPERATOR, T1
        )
        await uow.commit()
    async with uow_factory() as uow:
        live = await uow.sessions.live_for_account(account.id)
    assert (by_device, by_session, elsewhere) == (1, 1, 0)
    assert [s.id for s in live] == [sessions[2].id]


async def test_many_told_at_once_are_marked_and_logged_each_with_its_device_batch_after_batch(
    uow_factory: UowFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The SQL stores send ids in batches (SQLite's limit on bound parameters); batches of 50
    # exercise the same cuts as batches of 5,000 without storing twelve thousand rows first.
    monkeypatch.setattr(sql_stores, "BATCH", 50)
    account = make_account()
    devices = [make_device(account, name=f"Phone {n}") for n in range(120)]
    sessions = [make_session(d) for d in devices]
    for session in sessions:
        session.sign_out(SignOutReason.SIGNED_OUT_EVERYWHERE, T0)
    await store(uow_factory, account, *devices, *sessions)
    told = [s.id for s in sessions[:110]]  # more than two batches of ids, the last one short
    entry = SecurityEvent(
        account_id=account.id, kind=EventKind.SIGN_OUT_TOLD, at=T1, detail={"reason": "r"}
    )
    async with uow_factory() as uow:
        await uow.sessions.mark_told(told, T1)
        await uow.events.add_for_each(told, entry)
        await uow.commit()
    async with uow_factory() as uow:
        marked = [await uow.sessions.get(s.id) for s in (sessions[0], sessions[109], sessions[-1])]
        logged = await uow.events.page(account.id, before_id=None, limit=10_000)
    assert [s.told_at if s else None for s in marked] == [T1, T1, None]
    names = {d.id: d.name for d in devices}
    assert sorted((e.session_id or "") for e in logged) == sorted(told)
    assert all(e.device_id is not None and e.device_name == names[e.device_id] for e in logged)
    assert {(e.kind, e.at, e.detail["reason"]) for e in logged} == {
        (EventKind.SIGN_OUT_TOLD, T1, "r")
    }
