"""Security activity: the account's audit trail, newest first, a page at a time."""

from __future__ import annotations

from dataclasses import replace

from screengate.domain.events import EventKind, SecurityEvent
from screengate.domain.sessions import Principal
from screengate.ports import Ports, UnitOfWork
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
        events = await _with_delivery(uow, events[:limit])
    return ActivityPage(events=events, next_cursor=events[-1].id if more and events else None)


async def _with_delivery(uow: UnitOfWork, events: list[SecurityEvent]) -> list[SecurityEvent]:
    """Each mail as it stands now: its delivery state, and whether its link was opened."""
    ids = [
        str(e.detail["message_id"])
        for e in events
        if e.kind is EventKind.MAIL_QUEUED and e.detail.get("message_id")
    ]
    if not ids:
        return events
    states, opened = await uow.outbox.states(ids), await uow.links.opened(ids)
    enriched = []
    for event in events:
        message_id = str(event.detail.get("message_id"))
        if event.kind is EventKind.MAIL_QUEUED and message_id in states:
            detail = {
                **event.detail,
                "delivery": states[message_id].value,
                "opened": message_id in opened,
            }
            event = replace(event, detail=detail)
        enriched.append(event)
    return enriched
