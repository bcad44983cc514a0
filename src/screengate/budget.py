"""The connection budget of event streams: one client address cannot hold every connection.

An event stream is the one request that stays open for hours, so it is what a single client
could pile up until the server has no connection left for anyone else. Each stream holds a
place of its client address's budget for exactly as long as its request runs (a device's own
few streams are the hub's: adapters/hub.py).
"""

from __future__ import annotations

from litestar.types import ASGIApp, Receive, Scope, Send

from screengate.api.deps import client_ip_of, ports_of

# The last event of a stream that newer streams of its device replaced; it then ends. Clients
# should not reopen it (that would replace one of the newer ones in turn).
REPLACED_DATA = {
    "reason": "newer_streams",
    "detail": "This device opened newer event streams; this one is closed.",
}


class EventStreamBudget:
    """Route middleware for the event streams (GET /v1/events, the pages' /events): past the
    address's budget on this instance, 429 too_many_event_streams before anything opens."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        hub = ports_of(scope["litestar_app"].state).hub
        # The place is given back when the request ends, however it ends (finished, the
        # client gone, cancelled at shutdown): it can never be lost to a stream that failed.
        with hub.admit(client_ip_of(scope)):
            await self.app(scope, receive, send)
