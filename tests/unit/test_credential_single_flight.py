"""The credential check's store read is single-flight per token hash (adapters/revocation.py):
concurrent checks of an uncached token share one read, and nothing revoked is ever accepted."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime

import pytest

from screengate.adapters.revocation import LocalRevocationView
from screengate.domain.errors import SignedOut
from screengate.domain.ids import AccountId, DeviceId, SessionId
from screengate.domain.sessions import Principal
from screengate.ports import Ports
from screengate.services import auth
from tests.unit.test_acting import _household

TOKEN = "token-hash"
PRINCIPAL = Principal(
    account_id=AccountId("a1"),
    device_id=DeviceId("d1"),
    session_id=SessionId("s1"),
    expires_at=datetime(2030, 1, 1, tzinfo=UTC),
)


async def settle() -> None:
    """Let every task started so far run up to where it waits."""
    for _ in range(5):
        await asyncio.sleep(0)


class Store:
    """A store read that waits until released, counting how often it is asked."""

    def __init__(self) -> None:
        self.reads = 0
        self.release = asyncio.Event()
        self.signed_out = False

    async def read(self) -> Principal:
        self.reads += 1
        await self.release.wait()
        if self.signed_out:
            raise SignedOut("signed_out_here", None)
        return PRINCIPAL


async def test_concurrent_checks_of_one_token_share_one_store_read() -> None:
    view, store = LocalRevocationView(caching=True), Store()
    checks = [asyncio.create_task(view.read_through(TOKEN, store.read)) for _ in range(20)]
    await settle()
    store.release.set()
    assert await asyncio.gather(*checks) == [PRINCIPAL] * 20
    assert store.reads == 1


async def test_a_check_never_joins_a_read_begun_before_a_revocation() -> None:
    view, store = LocalRevocationView(caching=True), Store()
    first = asyncio.create_task(view.read_through(TOKEN, store.read))
    await settle()
    view.revoke([SessionId("some-other-session")])
    second = asyncio.create_task(view.read_through(TOKEN, store.read))
    await settle()
    assert store.reads == 2
    store.release.set()
    assert list(await asyncio.gather(first, second)) == [PRINCIPAL, PRINCIPAL]


async def test_a_session_revoked_during_the_shared_read_is_refused_not_handed_out() -> None:
    view, store = LocalRevocationView(caching=True), Store()
    checks = [asyncio.create_task(view.read_through(TOKEN, store.read)) for _ in range(5)]
    await settle()
    view.revoke([PRINCIPAL.session_id])
    store.signed_out = True  # the sign-out committed, then was heard here
    store.release.set()
    for outcome in await asyncio.gather(*checks, return_exceptions=True):
        assert isinstance(outcome, SignedOut)


async def test_a_caller_that_goes_away_does_not_cancel_the_read_for_the_others() -> None:
    view, store = LocalRevocationView(caching=True), Store()
    leaving = asyncio.create_task(view.read_through(TOKEN, store.read))
    staying = asyncio.create_task(view.read_through(TOKEN, store.read))
    await settle()
    leaving.cancel()
    await settle()
    store.release.set()
    assert await staying == PRINCIPAL
    assert store.reads == 1
    with pytest.raises(asyncio.CancelledError):
        await leaving


async def test_without_a_trusted_cache_every_check_reads_the_store_itself() -> None:
    view, store = LocalRevocationView(caching=False), Store()
    store.release.set()
    await asyncio.gather(*(view.read_through(TOKEN, store.read) for _ in range(3)))
    assert store.reads == 3


async def test_checks_of_an_uncached_token_through_the_service_read_the_store_once(
    ports: Ports,
) -> None:
    owner, _ = await _household(ports)
    ports.revocations.trust_cache(True)  # empties the cache: the next checks go to the store
    reads = 0
    reader = ports.reader

    def counting_reader() -> object:
        nonlocal reads
        reads += 1
        return reader()

    counted = dataclasses.replace(ports, reader=counting_reader)  # type: ignore[arg-type]
    principals = await asyncio.gather(
        *(auth.authenticate(counted, owner.access_token) for _ in range(10))
    )
    assert len({p.session_id for p in principals}) == 1
    assert reads == 1
