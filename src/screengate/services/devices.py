"""Manage access and devices: every signed-in device, the current one marked."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from screengate.domain.accounts import normalise_email
from screengate.domain.errors import AccountNotFound
from screengate.domain.ids import AccountId, SessionId
from screengate.domain.sessions import Principal, SessionPolicy
from screengate.ports import Ports, UnitOfWork
from screengate.services.streams import live_streams
from screengate.services.views import (
    AccountDevices,
    DevicePage,
    DeviceView,
    LastActivity,
    SignedOutView,
)

# The most devices one page lists: as many as an account may be signed in on by default.
MAX_DEVICE_PAGE = 100


async def list_devices(ports: Ports, principal: Principal) -> list[DeviceView]:
    """Most recently seen first. A device whose session lapsed is no longer signed in."""
    now = ports.clock.now()

    async def read() -> AccountDevices:
        async with ports.reader() as uow:
            return await _read(ports, uow, principal.account_id, now)

    found = await ports.device_lists.read_through(principal.account_id, read)
    return _shape(found, principal.session_id, now, ports.policy)


async def list_devices_for_operator(ports: Ports, email: str) -> list[DeviceView]:
    """The support desk's view of an account's devices: the same list, no device is current."""
    now = ports.clock.now()
    async with ports.reader() as uow:
        account = await uow.accounts.by_email(normalise_email(email))
        if account is None:
            raise AccountNotFound(email=email)
        found = await _read(ports, uow, account.id, now)
    return _shape(found, None, now, ports.policy)


async def device_page(
    ports: Ports,
    principal: Principal,
    *,
    cursor: int = 0,
    limit: int = MAX_DEVICE_PAGE,
    include_signed_out: bool = False,
) -> DevicePage:
    """One page of Manage access and devices: the signed-in devices (current first, then most
    recently seen), then, if asked, those signed out lately; `cursor` devices skipped."""
    limit = max(1, min(limit, MAX_DEVICE_PAGE))
    live = await list_devices(ports, principal)
    shown = live[cursor : cursor + limit]
    more = cursor + limit < len(live)
    ended: list[SignedOutView] = []
    if include_signed_out and not more:
        skip = max(0, cursor - len(live))
        room = limit - len(shown)
        # One more than fits tells whether another page follows.
        found = await signed_out_devices(ports, principal, limit=skip + room + 1)
        ended = found[skip : skip + room]
        more = len(found) > skip + room
    return DevicePage(shown, ended, cursor + limit if more else None)


async def signed_out_devices(
    ports: Ports,
    principal: Principal,
    *,
    within: timedelta = timedelta(days=30),
    limit: int | None = None,
) -> list[SignedOutView]:
    """Devices signed out lately, most recent first, each with its sign-out receipt."""
    now = ports.clock.now()
    async with ports.reader() as uow:
        ended = await uow.sessions.signed_out_since(principal.account_id, now - within, limit)
        devices = {d.id: d for d in await uow.devices.for_account(principal.account_id)}
    views = []
    for session in ended:
        device = devices.get(session.device_id)
        if device is None or session.signed_out_at is None or session.receipt is None:
            continue
        views.append(
            SignedOutView(
                device_id=device.id,
                session_id=session.id,
                name=device.name,
                type=device.type,
                signed_in_at=session.created_at,
                signed_out_at=session.signed_out_at,
                reason=str(session.sign_out_reason),
                receipt=session.receipt,
                told_at=session.told_at,
                confirmed_at=session.confirmed_at,
            )
        )
    return views


async def _read(
    ports: Ports, uow: UnitOfWork, account_id: AccountId, now: datetime
) -> AccountDevices:
    return AccountDevices(
        sessions=await uow.sessions.live_for_account(account_id),
        devices={d.id: d for d in await uow.devices.for_account(account_id)},
        profiles={p.id: p.name for p in await uow.profiles.for_account(account_id)},
        streams=[
            (s.session_id, s.expires_at) for s in await live_streams(ports, uow, account_id, now)
        ],
        downloads=[
            (d.session_id, d.expires_at)
            for d in await uow.downloads.live_for_account(account_id, now)
        ],
    )


def _shape(
    found: AccountDevices, current: SessionId | None, now: datetime, policy: SessionPolicy
) -> list[DeviceView]:
    profiles = found.profiles
    streaming = {session_id for session_id, until in found.streams if until > now}
    downloads = Counter(session_id for session_id, until in found.downloads if until > now)
    views = []
    for session in found.sessions:
        device = found.devices.get(session.device_id)
        if device is None or session.has_lapsed(now, policy):
            continue
        activity = device.last_activity
        views.append(
            DeviceView(
                device_id=device.id,
                session_id=session.id,
                name=device.name,
                type=device.type,
                current=session.id == current,
                signed_in_at=session.created_at,
                last_seen_at=session.last_seen_at,
                location=session.location,
                last_activity=LastActivity(
                    at=activity.at,
                    profile_id=activity.profile_id,
                    profile_name=profiles.get(activity.profile_id),
                    title_id=activity.title_id,
                )
                if activity
                else None,
                streaming=session.id in streaming,
                downloads=downloads[session.id],
                signed_in_until=session.signed_in_until,
            )
        )
    views.sort(key=lambda v: (v.current, v.last_seen_at), reverse=True)
    return views
