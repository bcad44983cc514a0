"""Writes confirm the acting device: a request that proved its device before a sign-out answered
writes nothing after it, whatever the use case (services/acting.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from screengate.domain.devices import DeviceType
from screengate.domain.errors import SignedOut, StreamEnded
from screengate.domain.ids import DeviceId, ProfileId, StreamId
from screengate.domain.sessions import Principal, TokenPair
from screengate.ports import Ports
from screengate.services import accounts, auth, downloads, profiles, sign_out, streams
from screengate.services.acting import serving_request
from screengate.services.profiles import ProfileChanges

EMAIL = "ana@example.com"
PASSWORD = "correct horse battery"
TITLE = "the-long-orbit"


async def _household(ports: Ports) -> tuple[TokenPair, TokenPair]:
    await accounts.sign_up(ports, email=EMAIL, password=PASSWORD, plan="premium")
    owner = await auth.sign_in(ports, email=EMAIL, password=PASSWORD, device_type=DeviceType.PHONE)
    intruder = await auth.sign_in(
        ports, email=EMAIL, password=PASSWORD, device_type=DeviceType.GAME_CONSOLE
    )
    return owner, intruder


async def _first_profile(ports: Ports, principal: Principal) -> ProfileId:
    return (await profiles.list_profiles(ports, principal))[0].id


Write = Callable[[Ports, Principal, ProfileId], Awaitable[Any]]

WRITES: dict[str, Write] = {
    "create a profile": lambda p, who, _: profiles.create_profile(p, who, name="Intruder"),
    "remove a PIN": lambda p, who, pid: profiles.update_profile(
        p, who, pid, ProfileChanges(remove_pin=True)
    ),
    "rename a profile": lambda p, who, pid: profiles.update_profile(
        p, who, pid, ProfileChanges(name="Mallory")
    ),
    "press Play": lambda p, who, pid: streams.start_stream(p, who, profile_id=pid, title_id=TITLE),
    "download": lambda p, who, pid: downloads.start_download(
        p, who, profile_id=pid, title_id=TITLE
    ),
    "sign out of all devices": lambda p, who, _: sign_out.sign_out_everywhere(p, who),
    "change the password": lambda p, who, _: accounts.change_password(
        p, who, current_password=PASSWORD, new_password="a brand new horse battery"
    ),
    "choose a profile": lambda p, who, pid: profiles.choose_profile(p, who, pid, None),
}


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
async def test_a_write_for_a_device_signed_out_after_it_proved_itself_is_refused(
    ports: Ports, write: Write
) -> None:
    owner, intruder = await _household(ports)
    owner_principal = await auth.authenticate(ports, owner.access_token)
    profile_id = await _first_profile(ports, owner_principal)
    with serving_request():
        proved = await auth.authenticate(ports, intruder.access_token)
        # The owner signs the intruder out while the intruder's request is still in flight.
        await _owner_signs_out(ports, owner, intruder)
        before = await _everything(ports)
        with pytest.raises(SignedOut) as refused:
            await write(ports, proved, profile_id)
    assert refused.value.reason == "signed_out_remotely"
    assert await _everything(ports) == before


async def test_a_device_that_signs_itself_out_finishes_its_own_sign_out(ports: Ports) -> None:
    _, intruder = await _household(ports)
    with serving_request():
        proved = await auth.authenticate(ports, intruder.access_token)
        receipt = await sign_out.sign_out_everywhere(ports, proved)
    assert len(receipt.devices) == 2


async def test_writes_outside_a_request_are_not_tied_to_any_device(ports: Ports) -> None:
    """The operator's commands act for nobody; a stale principal passed by hand is the
    caller's own business, as it was."""
    owner, _ = await _household(ports)
    proved = await auth.authenticate(ports, owner.access_token)
    await sign_out.operator_sign_out(ports, EMAIL, None)
    await accounts.change_plan(ports, EMAIL, "basic")
    assert (await profiles.list_profiles(ports, proved))[0].name


async def test_a_heartbeat_racing_a_sign_out_learns_its_stream_ended_and_why(
    ports: Ports,
) -> None:
    owner, intruder = await _household(ports)
    owner_principal = await auth.authenticate(ports, owner.access_token)
    profile_id = await _first_profile(ports, owner_principal)
    with serving_request():
        proved = await auth.authenticate(ports, intruder.access_token)
        stream = await streams.start_stream(ports, proved, profile_id=profile_id, title_id=TITLE)
    with serving_request():
        proved = await auth.authenticate(ports, intruder.access_token)
        await _owner_signs_out(ports, owner, intruder)
        with pytest.raises(StreamEnded) as ended:
            await streams.heartbeat(ports, proved, StreamId(stream.id))
    assert ended.value.reason == "signed_out_remotely"


async def test_each_request_confirms_only_its_own_device(ports: Ports) -> None:
    owner, intruder = await _household(ports)
    with serving_request():
        await auth.authenticate(ports, intruder.access_token)
    with serving_request():
        proved = await auth.authenticate(ports, owner.access_token)
        created = await profiles.create_profile(ports, proved, name="Ben")
    assert created.name == "Ben"


async def _owner_signs_out(ports: Ports, owner: TokenPair, intruder: TokenPair) -> None:
    """The owner's own request, on another phone: a request of its own."""
    with serving_request():
        who = await auth.authenticate(ports, owner.access_token)
        await sign_out.sign_out_device(ports, who, DeviceId(intruder.device_id))


async def _everything(ports: Ports) -> object:
    async with ports.reader() as uow:
        account = await uow.accounts.by_email(EMAIL)
        assert account is not None
        return (
            account,
            await uow.profiles.for_account(account.id),
            await uow.sessions.live_for_account(account.id),
            await uow.streams.open_for_account(account.id),
            await uow.downloads.open_for_account(account.id),
        )
