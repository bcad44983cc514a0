"""The page's own event stream: signed out elsewhere, an open page learns it at once and why.

The same bus-fed notices as `GET /v1/events` (the cookie session is a device like any other),
so a sign-out made on any instance reaches the page the moment it is announced.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any, Literal

from litestar import Request, get
from litestar.response import ServerSentEvent, ServerSentEventMessage

from screengate.budget import REPLACED_DATA, EventStreamBudget
from screengate.domain.errors import InvalidToken, SignedOut
from screengate.domain.notices import Notice, NoticeKind
from screengate.domain.sessions import Principal
from screengate.ports import Ports
from screengate.services.events import close_events, open_events
from screengate.web.cookies import cleared_cookies, send_later
from screengate.web.session import NotSignedIn, Refresher, Viewer, current_viewer
from screengate.web.surfaces import Surface

KEEPALIVE_SECONDS = 15.0
# A stream ends after this long and the browser opens a new one (EventSource reconnects by
# itself), which also brings a refreshed access token along.
MAX_STREAM_SECONDS = 600.0
RECONNECT_MS = 1000


async def wait_for_sign_out(
    ports: Ports,
    principal: Principal,
    *,
    within: float = MAX_STREAM_SECONDS,
    on_notice: Callable[[Notice], None] | None = None,
) -> SignedOut | Literal["replaced"] | None:
    """The sign-out of this session; "replaced" when newer streams of this browser (its other
    tabs) took this one's place; None when the stream should just end and reconnect. Other
    news for the page (who can get in changed) goes to `on_notice` meanwhile."""
    try:
        listener = await open_events(ports, principal, None)
    except SignedOut as signed_out:
        return signed_out
    except InvalidToken:
        return None  # the reconnect finds the session gone
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    try:
        while (left := deadline - loop.time()) > 0:
            notice = await listener.next(left)
            if notice is not None and notice.kind is NoticeKind.SIGNED_OUT:
                return SignedOut(str(notice.data.get("reason")), notice.at)
            if notice is not None and notice.kind is NoticeKind.SECURITY_CHANGED and on_notice:
                on_notice(notice)
            if listener.replaced:
                return "replaced"
        return None
    finally:
        await close_events(ports, principal, listener)


@get("/events", middleware=[EventStreamBudget])
async def events(
    request: Request[Any, Any, Any],
    ports: Ports,
    surface: Surface,
    refresher: Refresher,
    ip: str | None,
) -> ServerSentEvent:
    try:
        viewer = await current_viewer(request, ports, surface, refresher)
    except SignedOut as signed_out:
        send_later(request, cleared_cookies(surface))
        return _stream(_once(_signed_out(surface, signed_out)))
    except NotSignedIn:
        return _stream(_once(_signed_out(surface, None)))
    return _stream(_watch(ports, viewer, surface, ip))


def _stream(messages: AsyncIterator[ServerSentEventMessage]) -> ServerSentEvent:
    return ServerSentEvent(
        messages, headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )


async def _once(message: ServerSentEventMessage) -> AsyncIterator[ServerSentEventMessage]:
    yield message


async def _watch(
    ports: Ports, viewer: Viewer, surface: Surface, ip: str | None
) -> AsyncIterator[ServerSentEventMessage]:
    yield ServerSentEventMessage(data=None, comment="watching", retry=RECONNECT_MS)
    news: asyncio.Queue[Notice] = asyncio.Queue()
    watcher = asyncio.ensure_future(
        wait_for_sign_out(ports, viewer.principal, on_notice=news.put_nowait)
    )
    heard = asyncio.ensure_future(news.get())
    try:
        while not watcher.done():
            await asyncio.wait(
                {watcher, heard}, timeout=KEEPALIVE_SECONDS, return_when=asyncio.FIRST_COMPLETED
            )
            if heard.done():
                yield _security_changed(heard.result())
                heard = asyncio.ensure_future(news.get())
            elif not watcher.done():
                yield ServerSentEventMessage(data=None, comment="keep-alive")
        outcome = watcher.result()
        if isinstance(outcome, SignedOut):
            yield _signed_out(surface, outcome)
        elif outcome == "replaced":
            # session.js stops here (no reconnect) until the page is looked at again.
            yield ServerSentEventMessage(event="replaced", data=json.dumps(REPLACED_DATA))
    finally:
        watcher.cancel()
        heard.cancel()


def _security_changed(notice: Notice) -> ServerSentEventMessage:
    """Who can get in changed (two-step, passkeys, recovery codes): the page says so."""
    data = {"change": notice.data.get("change"), "detail": notice.data.get("detail")}
    return ServerSentEventMessage(event="security_changed", data=json.dumps(data))


def _signed_out(surface: Surface, error: SignedOut | None) -> ServerSentEventMessage:
    reason = error.reason if error else None
    location = surface.sign_in_url + (f"?reason={reason}" if reason else "")
    data = {"reason": reason, "detail": error.detail if error else None, "location": location}
    return ServerSentEventMessage(event="signed_out", data=json.dumps(data))
