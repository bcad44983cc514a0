"""What every HTTP request passes through before either edge (the API, the pages) sees it."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request
from litestar.enums import ScopeType
from litestar.exceptions import ClientException, HTTPException
from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send

from screengate.services.acting import serving_request


class ActingDevice:
    """ASGI middleware: each request gets its own record of the device it proves, which every
    unit of work it opens then confirms is still signed in (services/acting.py)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        with serving_request():
            await self.app(scope, receive, send)


class BodyTimeout(HTTPException):
    status_code = 408
    detail = "The request body did not arrive in time"


class BodyDeadline:
    """ASGI middleware: a request body must have fully arrived within a bound of the moment
    the app first reads it, or the answer is 408 and the connection closes. A client that sends
    its headers and holds back the body would otherwise keep a request (and a proved device)
    waiting for ever. Nothing is buffered: the bound wraps the app's own reads of the body.

    The clock starts at the first read, not when the request came in: a busy server may take a
    while to get to a body the client sent at once, and that wait is not the client's."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        seconds: float = scope["litestar_app"].state.settings.body_timeout_seconds
        deadline: float | None = None
        arrived = False

        async def receive_in_time() -> ReceiveMessage:
            nonlocal arrived, deadline
            if arrived:
                # After the body, a read waits for the client to hang up (an event stream does
                # this for hours): no deadline on that.
                return await receive()
            if deadline is None:
                deadline = asyncio.get_running_loop().time() + seconds
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise BodyTimeout(headers={"Connection": "close"}) from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                arrived = True
            return message

        await self.app(scope, receive_in_time, send)


class BodyRequest(Request[Any, Any, Any]):
    """Litestar's request, but every JSON body its decoder cannot read is a malformed body
    (400), not only the ones it reports as such: nested deeper than its recursion limit (about
    a thousand `[`), it raises RecursionError; a string holding bytes that are not UTF-8
    (`"\x80"`), UnicodeDecodeError. Both were 500s. Every JSON body of the API and the pages is
    decoded here, so no route has to remember it."""

    async def json(self) -> Any:
        try:
            return await super().json()
        except RecursionError:
            raise ClientException("The request body is nested too deeply") from None
        except UnicodeDecodeError:
            raise ClientException("The request body is not UTF-8") from None
