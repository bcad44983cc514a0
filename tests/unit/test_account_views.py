"""The account page is served from this instance's cache, and a change shows at once."""

from __future__ import annotations

import asyncio

from screengate.adapters.views import LocalViews
from screengate.domain.devices import DeviceType
from screengate.domain.ids import AccountId
from screengate.ports import Ports
from screengate.services import accounts, auth, profiles

EMAIL = "ana@example.com"
PASSWORD = "correct horse battery"


async def test_a_profile_change_shows_on_the_very_next_read(ports: Ports) -> None:
    await accounts.sign_up(ports, email=EMAIL, password=PASSWORD, plan="standard")
    pair = await auth.sign_in(ports, email=EMAIL, password=PASSWORD, device_type=DeviceType.PHONE)
    me = await auth.authenticate(ports, pair.access_token)
    first = await accounts.get_account(ports, me)
    assert await accounts.get_account(ports, me) is first
    added = await profiles.create_profile(ports, me, name="Kids", kids=True)
    assert [p.name for p in (await accounts.get_account(ports, me)).profiles] == ["Ana", "Kids"]
    await profiles.update_profile(ports, me, added.id, profiles.ProfileChanges(name="Little ones"))
    assert (await accounts.get_account(ports, me)).profiles[1].name == "Little ones"
    await profiles.delete_profile(ports, me, added.id)
    assert len((await accounts.get_account(ports, me)).profiles) == 1
    await accounts.change_plan(ports, EMAIL, "premium")
    assert (await accounts.get_account(ports, me)).plan.max_streams == 4


def test_a_read_that_raced_a_change_is_not_kept() -> None:
    views = LocalViews[object](enabled=True, max_age_seconds=60)
    account = AccountId("a")
    stale = object()
    before = views.generation(account)
    views.forget(account)  # a write committed while the read was in flight
    views.put(account, stale, before)
    assert views.get(account) is None


def test_an_untrusted_cache_keeps_nothing() -> None:
    views = LocalViews[object](enabled=True, max_age_seconds=60)
    account, view = AccountId("a"), object()
    views.put(account, view, views.generation(account))
    assert views.get(account) is view
    views.trust(False)
    assert views.get(account) is None
    views.put(account, view, views.generation(account))
    assert views.get(account) is None


def test_views_older_than_their_age_are_read_again() -> None:
    views = LocalViews[object](enabled=True, max_age_seconds=0)
    account = AccountId("a")
    views.put(account, object(), views.generation(account))
    assert views.get(account) is None


async def test_requests_missing_the_same_view_at_once_share_one_store_read() -> None:
    views = LocalViews[object](enabled=True, max_age_seconds=60)
    account, view = AccountId("a"), object()
    reads, release = 0, asyncio.Event()

    async def read() -> object:
        nonlocal reads
        reads += 1
        await release.wait()
        return view

    waiting = [asyncio.create_task(views.read_through(account, read)) for _ in range(50)]
    await asyncio.sleep(0)
    release.set()
    assert {id(v) for v in await asyncio.gather(*waiting)} == {id(view)}
    assert reads == 1
    assert views.get(account) is view


async def test_a_request_after_a_change_does_not_join_a_read_that_began_before_it() -> None:
    views = LocalViews[object](enabled=True, max_age_seconds=60)
    account = AccountId("a")
    old, new = object(), object()
    release_old = asyncio.Event()

    async def read_old() -> object:
        await release_old.wait()
        return old

    async def read_new() -> object:
        return new

    first = asyncio.create_task(views.read_through(account, read_old))
    await asyncio.sleep(0)
    views.forget(account)  # a write committed while the first read was in flight
    assert await views.read_through(account, read_new) is new
    release_old.set()
    assert await first is old
    assert views.get(account) is new  # the older read is not kept over the newer one


async def test_a_caller_that_goes_away_does_not_cancel_the_read_for_the_others() -> None:
    views = LocalViews[object](enabled=True, max_age_seconds=60)
    account, view = AccountId("a"), object()
    release = asyncio.Event()

    async def read() -> object:
        await release.wait()
        return view

    leaving = asyncio.create_task(views.read_through(account, read))
    await asyncio.sleep(0)
    staying = asyncio.create_task(views.read_through(account, read))
    await asyncio.sleep(0)
    leaving.cancel()
    release.set()
    assert await staying is view
