"""What ends by the clock alone: temporary sign-ins whose time is up, stream leases nobody
renewed, and TV codes that ran out. Each is a plain use case over the ports, run every few
seconds by the server's housekeeping (chore end_what_ran_out), on every instance: each end is
judged under the account's lock, so two instances sweeping at once end a thing once."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from screengate.domain.device_codes import AuthorizationStatus
from screengate.domain.events import EventKind, SecurityEvent
from screengate.domain.ids import AccountId, SessionId
from screengate.domain.sessions import SignOutReason, SignOutScope
from screengate.domain.streams import Stream, StreamEndReason
from screengate.ports import Ports
from screengate.services.announce import account_changed, announce, streams_ended
from screengate.services.sign_out import end_and_log

# At most this many of each per sweep; the rest wait for the next one, seconds later.
BATCH = 500
# Codes are kept this long after they expire (what the TV page and the log may still ask).
KEEP_CODES = timedelta(days=1)


async def end_ended_temporary_sign_ins(ports: Ports, now: datetime) -> int:
    """Sign out every temporary sign-in whose end has come (temporary_access_ended): told
    at once, streams ended, downloads revoked, like any sign-out. How many it ended."""
    async with ports.reader() as uow:
        due = await uow.sessions.time_up(now, BATCH)
    by_account: dict[AccountId, list[SessionId]] = defaultdict(list)
    for account_id, session_id in due:
        by_account[account_id].append(session_id)
    ended = 0
    for account_id, session_ids in by_account.items():
        receipts = []
        async with ports.uow() as uow:
            await uow.lock_account(account_id)
            for session_id in session_ids:
                session = await uow.sessions.get(session_id)
                if session is None or not session.live or not session.time_is_up(now):
                    continue  # another instance got there first, or the end was moved
                scope = SignOutScope(account_id, session_id=session_id)
                receipts.append(
                    await end_and_log(
                        uow, ports, scope, SignOutReason.TEMPORARY_ACCESS_ENDED, None, None
                    )
                )
            await uow.commit()
        for receipt in receipts:
            await announce(ports, receipt)
            ended += len(receipt.devices)
    return ended


async def end_expired_leases(ports: Ports, now: datetime) -> int:
    """Close the streams whose lease ran out unrenewed, and tell their devices
    (stream_ended {reason: expired}). How many it ended."""
    async with ports.reader() as uow:
        lapsed = await uow.streams.lapsed(now, BATCH)
    by_account: dict[AccountId, list[Stream]] = defaultdict(list)
    for each in lapsed:
        by_account[each.account_id].append(each)
    ended: list[Stream] = []
    for account_id, candidates in by_account.items():
        # With Redis the leases live there and the rows keep their first expiry: Redis says
        # which are still held, and those rows learn their lease's expiry instead.
        held = (
            {s.id: s.expires_at for s in await ports.leases.live(account_id, now)}
            if ports.leases is not None
            else {}
        )
        mine: list[Stream] = []
        async with ports.uow() as uow:
            await uow.lock_account(account_id)
            for candidate in candidates:
                stream = await uow.streams.get(account_id, candidate.id)
                if stream is None or stream.ended_at is not None:
                    continue
                if stream.id in held:
                    stream.expires_at = held[stream.id]
                elif stream.expires_at <= now or ports.leases is not None:
                    stream.end(StreamEndReason.EXPIRED, min(now, stream.expires_at))
                    mine.append(stream)
                else:
                    continue  # renewed meanwhile
                await uow.streams.save(stream)
            await uow.commit()
        if mine:
            if ports.leases is not None:
                await ports.leases.release(account_id, [s.id for s in mine])
            await streams_ended(ports, mine)
            await account_changed(ports, account_id)
            ended.extend(mine)
    return len(ended)


async def expire_codes(ports: Ports, now: datetime) -> int:
    """TV codes an account looked up or approved that ran out unspent: logged as expired.
    Codes long gone are forgotten. How many expired."""
    async with ports.reader() as uow:
        lapsed = await uow.device_authorizations.lapsed(now, BATCH)
    expired = 0
    for candidate in lapsed:
        account_id = candidate.account_id
        if account_id is None:
            continue
        async with ports.uow() as uow:
            await uow.lock_account(account_id)
            found = await uow.device_authorizations.by_device_code(candidate.device_code_hash)
            if found is None or found.status in {
                AuthorizationStatus.REDEEMED,
                AuthorizationStatus.DENIED,
                AuthorizationStatus.VOIDED,
                AuthorizationStatus.EXPIRED,
            }:
                continue
            was = found.status
            found.status = AuthorizationStatus.EXPIRED
            await uow.device_authorizations.save(found)
            await uow.events.add(
                SecurityEvent(
                    account_id=account_id,
                    kind=EventKind.DEVICE_CODE_EXPIRED,
                    at=now,
                    device_id=found.device_id,
                    device_name=found.device_name,
                    ip=found.ip,
                    location=found.location,
                    detail={"was": was.value, "device_type": found.device_type.value},
                )
            )
            await uow.commit()
            expired += 1
    return expired


async def forget_old_codes(ports: Ports, now: datetime) -> int:
    """Codes that expired a day ago or more go; how many went."""
    async with ports.uow() as uow:
        gone = await uow.device_authorizations.prune(now - KEEP_CODES)
        await uow.commit()
    return gone


async def sweep(ports: Ports, now: datetime) -> None:
    """What runs every few seconds, once (forget_old_codes runs far less often)."""
    await end_ended_temporary_sign_ins(ports, now)
    await end_expired_leases(ports, now)
    await expire_codes(ports, now)
