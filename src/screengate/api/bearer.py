"""The bearer check, once per request, in front of the routes that need a device.

Litestar's dependency injection charged an async provider with two inputs (the request and
the ports) tens of microseconds per request, many times the check itself (~1.3 µs: SHA-256 of
the token and a dictionary lookup in the revocation view). So BearerCheck proves the device
straight from the ASGI scope before the route runs, and the route's `device` dependency is a
sync read of the outcome. A refusal is raised by that dependency, where the provider raised it
before: the same problem answer from the one error mapping, after the same body errors.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import Provide
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from screengate.api.deps import client_ip_of, header, ports_of
from screengate.domain.errors import InvalidToken
from screengate.domain.sessions import Principal
from screengate.services.auth import authenticate

# Where BearerCheck leaves the device (or why it was refused), in the scope's state.
OUTCOME = "screengate.device"
MAX_TOKEN_CHARS = 512


class BearerCheck:
    """ASGI middleware: `Authorization: Bearer <access token>` → the Principal, or the refusal."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # OPTIONS answers without a credential, as it did when the check was a dependency.
        if scope["type"] == ScopeType.HTTP and scope["method"] != "OPTIONS":
            outcome: Principal | Exception
            try:
                outcome = await prove(scope)
            except Exception as refused:  # re-raised by the route's dependency: see current_device
                outcome = refused
            scope["state"][OUTCOME] = outcome
        await self.app(scope, receive, send)


async def prove(scope: Scope) -> Principal:
    """The device behind the request's bearer token; raises InvalidToken, TokenExpired or
    SignedOut (the sign-out's receipt learns the device came back)."""
    scheme, _, token = (header(scope, b"authorization") or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_CHARS:
        raise InvalidToken("Send the access token as 'Authorization: Bearer <token>'.")
    app = scope["litestar_app"]
    return await authenticate(ports_of(app.state), token, client_ip_of(scope))


def current_device(request: Request[Any, Any, Any]) -> Principal:
    """The `device` dependency: what BearerCheck found, without awaiting anything."""
    outcome = request.scope["state"].get(OUTCOME)
    if isinstance(outcome, Principal):
        return outcome
    if outcome is None:
        raise RuntimeError("a route asks for the device without BearerCheck in front of it")
    raise outcome


DEVICE = {"device": Provide(current_device, sync_to_thread=False)}
