"""Security activity: the account's audit trail, newest first, a page at a time."""

from __future__ import annotations

from screengate.domain.sessions import Principal
from screengate.ports import Ports
from screengate.services.views import ActivityPage

MAX_PAGE = 100
# Event ids are 64-bit integers in the store: a cursor past the largest is no cursor at all
# (refused at the edge with 400, where the database would otherwise overflow).
MAX_CURSOR = 2**63 - 1


async def security_activity(
    ports: Ports, principal: Principal, *, cursor: int | None = None, limit: int = 20
) -> ActivityPage:
    limit = max(1, min(limit, MAX_PAGE))
    async with ports.reader() as uow:
        # One more than asked tells whether another page follows.
        events = await uow.events.page(principal.account_id, before_id=cursor, limit=limit + 1)
    more = len(events) > limit
    events = events[:limit]
    return ActivityPage(events=events, next_cursor=events[-1].id if more and events else None)
