"""Playback: start a stream within the plan's screens, keep it alive, stop it here or elsewhere."""

from __future__ import annotations

from datetime import datetime

from screengate.domain.catalogue import Title
from screengate.domain.devices import Activity
from screengate.domain.errors import (
    ProfileNotFound,
    SignedOut,
    StreamEnded,
    StreamNotFound,
    TooManyStreams,
)
from screengate.domain.ids import AccountId, ProfileId, StreamId
from screengate.domain.plans import Plan
from screengate.domain.profiles import Profile
from screengate.domain.sessions import Principal
from screengate.domain.streams import Stream, StreamEndReason, streams_to_replace
from screengate.ports import Ports, UnitOfWork
from screengate.services.announce import account_changed, streams_ended
from screengate.services.profiles import require_pin
from screengate.services.views import StreamHolder


async def start_stream(
    ports: Ports,
    principal: Principal,
    *,
    profile_id: ProfileId,
    title_id: str,
    pin: str | None = None,
) -> Stream:
    """Press Play. However many devices press it at once, the plan's limit holds exactly."""
    profile, plan, title = await choose_title(ports, principal, profile_id, title_id, pin)
    now = ports.clock.now()
    stream = Stream(
        id=StreamId(ports.tokens.new_id()),
        account_id=principal.account_id,
        session_id=principal.session_id,
        device_id=principal.device_id,
        profile_id=profile.id,
        title_id=title.id,
        started_at=now,
        expires_at=now + ports.streaming.lease,
    )
    if ports.leases is None:
        return await _admit_in_store(ports, principal, stream, plan, title, now)
    return await _admit_by_lease(ports, principal, stream, plan, title, now)


async def _admit_in_store(
    ports: Ports, principal: Principal, stream: Stream, plan: Plan, title: Title, now: datetime
) -> Stream:
    async with ports.uow() as uow:
        # The account lock serialises every Play (and every sign-out) of one account.
        await uow.lock_account(principal.account_id)
        live = await uow.streams.live_for_account(principal.account_id, now)
        decision = streams_to_replace(
            live, session_id=principal.session_id, max_streams=plan.max_streams
        )
        if decision is None:
            holders = await _holders(uow, live, now)
            raise TooManyStreams(plan.max_streams, [h.as_problem() for h in holders])
        for replaced in decision[0]:
            replaced.end(StreamEndReason.REPLACED, now)
            await uow.streams.save(replaced)
        await _record(uow, principal, stream, title, now)
        await uow.commit()
    await streams_ended(ports, decision[0])
    await account_changed(ports, principal.account_id)
    return stream


async def _admit_by_lease(
    ports: Ports, principal: Principal, stream: Stream, plan: Plan, title: Title, now: datetime
) -> Stream:
    assert ports.leases is not None
    grant = await ports.leases.acquire(stream, limit=plan.max_streams, now=now)
    if not grant.admitted:
        async with ports.reader() as uow:
            holders = await _holders(uow, list(grant.holders), now)
        raise TooManyStreams(plan.max_streams, [h.as_problem() for h in holders])
    replaced_streams = []
    try:
        async with ports.uow() as uow:
            await uow.lock_account(principal.account_id)
            for stream_id in grant.replaced:
                replaced = await uow.streams.get(principal.account_id, stream_id)
                if replaced is not None and replaced.end(StreamEndReason.REPLACED, now):
                    await uow.streams.save(replaced)
                    replaced_streams.append(replaced)
            await _record(uow, principal, stream, title, now)
            await uow.commit()
    except BaseException:
        # Nothing recorded, so nothing may hold the slot.
        await ports.leases.release(principal.account_id, [stream.id])
        raise
    await streams_ended(ports, replaced_streams)
    await account_changed(ports, principal.account_id)
    return stream


async def heartbeat(ports: Ports, principal: Principal, stream_id: StreamId) -> datetime:
    """Keep the lease; a stream that ended (stopped, expired, signed out) answers why."""
    now = ports.clock.now()
    expires_at = now + ports.streaming.lease
    if ports.leases is not None:
        if await ports.leases.renew(
            principal.account_id, principal.session_id, stream_id, expires_at=expires_at, now=now
        ):
            return expires_at
    elif ports.renewals is not None:
        # One statement that also requires the session to be live: nothing after a sign-out.
        if await ports.renewals.renew_while_signed_in(
            principal.account_id, principal.session_id, stream_id, expires_at=expires_at, now=now
        ):
            return expires_at
    else:
        try:
            async with ports.uow() as uow:
                if await uow.streams.renew(principal.session_id, stream_id, expires_at, now):
                    await uow.commit()
                    return expires_at
        except SignedOut as signed_out:
            # Signed out after the request came in: the stream ended with the session.
            raise StreamEnded(signed_out.reason) from None
    async with ports.reader() as uow:
        stream = await uow.streams.get(principal.account_id, stream_id)
    if stream is None or stream.session_id != principal.session_id:
        raise StreamNotFound(stream_id=stream_id)
    raise StreamEnded(stream.why_ended(now).value)


async def stop_stream(ports: Ports, principal: Principal, stream_id: StreamId) -> Stream:
    """Stop playback: on this device, or another device's from the too-many-streams list."""
    now = ports.clock.now()
    async with ports.uow() as uow:
        await uow.lock_account(principal.account_id)
        stream = await uow.streams.get(principal.account_id, stream_id)
        if stream is None:
            raise StreamNotFound(stream_id=stream_id)
        reason = (
            StreamEndReason.STOPPED
            if stream.session_id == principal.session_id
            else StreamEndReason.STOPPED_BY_OWNER
        )
        ended = stream.end(reason, now)
        if ended:
            await uow.streams.save(stream)
        await uow.commit()
    if ended and ports.leases is not None:
        await ports.leases.release(principal.account_id, [stream.id])
    if ended:
        await streams_ended(ports, [stream])
    return stream


async def choose_title(
    ports: Ports, principal: Principal, profile_id: ProfileId, title_id: str, pin: str | None
) -> tuple[Profile, Plan, Title]:
    """Who's watching what, checked: the profile's PIN when it is locked (wrong ones counted
    towards a pause), kids' titles for a kids profile; and the account's plan, for the limits."""
    profile, plan = await profile_and_plan(ports, principal, profile_id)
    # Everything that needs no PIN first: no hashing for a title that is not there.
    title = ports.catalogue.playable(title_id, kids=profile.kids)
    await require_pin(ports, principal, profile, pin)
    return profile, plan, title


async def profile_and_plan(
    ports: Ports, principal: Principal, profile_id: ProfileId
) -> tuple[Profile, Plan]:
    async with ports.reader() as uow:
        account = await uow.accounts.get(principal.account_id)
        profiles = await uow.profiles.for_account(principal.account_id)
    profile = next((p for p in profiles if p.id == profile_id), None)
    if account is None or profile is None:
        raise ProfileNotFound(profile_id=profile_id)
    return profile, ports.plans[account.plan]


async def _record(
    uow: UnitOfWork, principal: Principal, stream: Stream, title: Title, now: datetime
) -> None:
    await uow.streams.add(stream)
    device = await uow.devices.get(principal.account_id, principal.device_id)
    if device is not None:
        device.last_activity = Activity(at=now, profile_id=stream.profile_id, title_id=title.id)
        await uow.devices.save(device)


async def active_streams(ports: Ports, principal: Principal) -> list[StreamHolder]:
    """Who holds the account's screens right now, oldest first."""
    now = ports.clock.now()
    async with ports.reader() as uow:
        return await _holders(uow, await live_streams(ports, uow, principal.account_id, now), now)


async def live_streams(
    ports: Ports, uow: UnitOfWork, account_id: AccountId, now: datetime
) -> list[Stream]:
    """The streams holding slots: the store's, or Redis's when the leases live there."""
    if ports.leases is None:
        return await uow.streams.live_for_account(account_id, now)
    return await ports.leases.live(account_id, now)


async def _holders(uow: UnitOfWork, streams: list[Stream], now: datetime) -> list[StreamHolder]:
    if not streams:
        return []
    account_id = streams[0].account_id
    devices = {d.id: d for d in await uow.devices.for_account(account_id)}
    profiles = {p.id: p.name for p in await uow.profiles.for_account(account_id)}
    return [
        StreamHolder(
            stream_id=s.id,
            device_id=s.device_id,
            device_name=devices[s.device_id].name if s.device_id in devices else None,
            device_type=devices[s.device_id].type.value if s.device_id in devices else None,
            profile_name=profiles.get(s.profile_id),
            title_id=s.title_id,
            started_at=s.started_at,
        )
        for s in sorted(streams, key=lambda s: s.started_at)
    ]
