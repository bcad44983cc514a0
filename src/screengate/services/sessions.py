"""Growth: sessions that ended long ago are deleted, so the store does not grow for ever."""

from __future__ import annotations

from dataclasses import dataclass

from screengate.ports import Ports

# Sessions deleted per transaction: short transactions, however much there is to prune.
PRUNE_BATCH = 500


@dataclass(frozen=True, slots=True)
class Pruned:
    sessions: int
    devices: int
    credentials: int


async def prune_ended_sessions(ports: Ports, *, batch: int = PRUNE_BATCH) -> Pruned:
    """Delete the sessions signed out, or lapsed unseen, more than `policy.keep_ended` ago
    (their credentials, streams and downloads with them), the devices left with no session,
    and credentials that expired as long ago."""
    now = ports.clock.now()
    policy = ports.policy
    ended_before = now - policy.keep_ended
    # A live session unseen this long lapsed (idle) `keep_ended` ago at least.
    unseen_before = ended_before - policy.idle_ttl
    sessions = devices = 0
    while True:
        async with ports.uow() as uow:
            accounts = await uow.sessions.prune(ended_before, unseen_before, batch)
            await uow.commit()
        sessions += len(accounts)
        for account_id in dict.fromkeys(accounts):
            # Under the account's lock, as a sign-in that may give one of them a session is.
            async with ports.uow() as uow:
                await uow.lock_account(account_id)
                devices += await uow.devices.prune_unused(account_id)
                await uow.commit()
        if len(accounts) < batch:
            break
    async with ports.uow() as uow:
        credentials = await uow.credentials.prune(ended_before)
        await uow.commit()
    return Pruned(sessions=sessions, devices=devices, credentials=credentials)
