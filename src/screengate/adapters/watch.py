"""An embedded server is one process, but the operator's CLI is another: sign-outs it commits
reach the running server's revocation view through this watcher, within a fraction of a second."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from screengate.ports import Clock, RevocationView, UnitOfWorkFactory

log = logging.getLogger("screengate.watch")

EVERY_SECONDS = 0.2
# Commits may land out of timestamp order; looking back this far again costs nothing.
OVERLAP = timedelta(seconds=5)
BATCH = 1000


async def watch_sign_outs(
    reader: UnitOfWorkFactory, revocations: RevocationView, clock: Clock
) -> None:
    since = clock.now() - OVERLAP
    while True:
        await asyncio.sleep(EVERY_SECONDS)
        try:
            since = await _catch_up(reader, revocations, since)
        except Exception:  # a busy or broken store: try again, the view stays as it was
            log.exception("sign_out_watch_failed")


async def _catch_up(
    reader: UnitOfWorkFactory, revocations: RevocationView, since: datetime
) -> datetime:
    cursor = since - OVERLAP
    while True:
        async with reader() as uow:
            ended = await uow.sessions.signed_out_after(cursor, BATCH)
        revocations.revoke(session_id for session_id, _ in ended)
        if len(ended) < BATCH:
            return max([since, *(at for _, at in ended)])
        cursor = ended[-1][1]
