"""The heartbeat in one statement (ports.StreamRenewals) on SQLite and PostgreSQL: it renews a
live stream of a live session, and nothing once the session is signed out."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event

from screengate.adapters.sql.engine import create_engine_for
from screengate.adapters.sql.migrate import upgrade
from screengate.adapters.sql.uow import SqlStreamRenewals, SqlUnitOfWork, sql_stores
from screengate.domain.sessions import SignOutReason
from screengate.domain.streams import Stream, StreamEndReason
from tests.contract.conftest import _empty_every_table
from tests.contract.factories import T0, make_stream
from tests.contract.test_stores import a_signed_in_device, store

NOW = T0 + timedelta(seconds=30)
LATER = NOW + timedelta(seconds=90)

Stores = tuple[Callable[[], SqlUnitOfWork], SqlStreamRenewals, list[str]]


@pytest.fixture
async def stores(sql_store_url: str) -> AsyncIterator[Stores]:
    """(unit of work, renewals, every statement and BEGIN/COMMIT sent, as text)."""
    await upgrade(sql_store_url)
    engine = create_engine_for(sql_store_url)
    sent: list[str] = []

    def statement(connection: Any, cursor: Any, text: str, *args: Any) -> None:
        sent.append(text)

    def transaction(name: str) -> Callable[..., None]:
        def hook(connection: Any, *args: Any) -> None:
            autocommit = connection.get_execution_options().get("isolation_level")
            if autocommit != "AUTOCOMMIT" and engine.dialect.name == "postgresql":
                sent.append(name)

        return hook

    event.listen(engine.sync_engine, "before_cursor_execute", statement)
    event.listen(engine.sync_engine, "begin", transaction("BEGIN"))
    event.listen(engine.sync_engine, "commit", transaction("COMMIT"))
    try:
        if engine.dialect.name == "postgresql":
            await _empty_every_table(engine)
        uow, _, renewals = sql_stores(engine)
        yield uow, renewals, sent
    finally:
        await engine.dispose()


async def _expiry(uow: Callable[[], SqlUnitOfWork], stream: Stream) -> Any:
    async with uow() as unit:
        found = await unit.streams.get(stream.account_id, stream.id)
    assert found is not None
    return found.expires_at


async def _renew(renewals: SqlStreamRenewals, stream: Stream) -> bool:
    return await renewals.renew_while_signed_in(
        stream.account_id, stream.session_id, stream.id, expires_at=LATER, now=NOW
    )


async def test_a_heartbeat_renews_a_live_stream_in_one_statement(stores: Stores) -> None:
    uow, renewals, sent = stores
    _, _, session = await a_signed_in_device(uow)
    stream = make_stream(session)
    await store(uow, stream)
    sent.clear()
    assert await _renew(renewals, stream)
    assert len(sent) == 1, sent
    assert sent[0].lstrip().upper().startswith("UPDATE"), sent
    assert await _expiry(uow, stream) == LATER


async def test_a_heartbeat_after_a_sign_out_renews_nothing(stores: Stores) -> None:
    uow, renewals, _ = stores
    _, _, session = await a_signed_in_device(uow)
    stream = make_stream(session)
    await store(uow, stream)
    # Only the session is marked: the statement itself must refuse a signed-out session.
    async with uow() as unit:
        await unit.sessions.save(
            dataclasses.replace(
                session, signed_out_at=NOW, sign_out_reason=SignOutReason.SIGNED_OUT_HERE
            )
        )
        await unit.commit()
    assert not await _renew(renewals, stream)
    assert await _expiry(uow, stream) == stream.expires_at


async def test_a_heartbeat_renews_no_ended_expired_or_other_sessions_stream(
    stores: Stores,
) -> None:
    uow, renewals, _ = stores
    _, _, mine = await a_signed_in_device(uow)
    _, _, theirs = await a_signed_in_device(uow)
    ended = make_stream(mine)
    ended.end(StreamEndReason.STOPPED, T0 + timedelta(seconds=5))
    expired = make_stream(mine, expires_at=NOW - timedelta(seconds=1))
    other = make_stream(theirs)
    await store(uow, ended, expired, other)
    for stream in (ended, expired):
        assert not await _renew(renewals, stream)
    assert not await renewals.renew_while_signed_in(
        mine.account_id, mine.id, other.id, expires_at=LATER, now=NOW
    )
    assert await _expiry(uow, other) == other.expires_at


async def test_a_heartbeat_racing_a_sign_out_waits_for_it_and_renews_nothing(
    stores: Stores,
) -> None:
    """The sign-out has marked the session and ended the stream but not yet committed; the
    heartbeat comes in between: it waits (PostgreSQL's row lock, SQLite's write lock) and then
    finds the stream ended."""
    uow, renewals, _ = stores
    _, _, session = await a_signed_in_device(uow)
    stream = make_stream(session)
    await store(uow, stream)
    async with uow() as sign_out:
        await sign_out.sessions.save(
            dataclasses.replace(
                session, signed_out_at=NOW, sign_out_reason=SignOutReason.SIGNED_OUT_REMOTELY
            )
        )
        ended = dataclasses.replace(stream)
        ended.end(StreamEndReason.SIGNED_OUT_REMOTELY, NOW)
        await sign_out.streams.save(ended)
        heartbeat = asyncio.create_task(_renew(renewals, stream))
        await asyncio.sleep(0.2)
        assert not heartbeat.done()  # held until the sign-out ends
        await sign_out.commit()
    assert not await asyncio.wait_for(heartbeat, timeout=5)
    assert await _expiry(uow, stream) == stream.expires_at
