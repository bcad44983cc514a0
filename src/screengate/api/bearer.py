"""The bearer check, once per request, in front of the routes that need a device.

Litestar's dependency injection charged an async provider with two inputs (the request and
the ports) tens of microseconds per request, many times the check itself (SHA-256 of the token
and a dictionary lookup in the revocation view). So BearerCheck proves the device straight from
the ASGI scope before the route runs, and the route's `device` dependency only reads the
outcome: a sync provider with no inputs, which Litestar calls without parsing any. A refusal is
raised by that dependency, where the provider raised it before: the same problem answer from
the one error mapping, in the same order with respect to the body's errors.
"""

from __future__ import annotations

from contextvars import ContextVar

from litestar.di import NamedDependency, Provide
from litestar.enums import ScopeType
from litestar.params import SkipValidation
from litestar.types import ASGIApp, Receive, Scope, Send

from screengate.api.deps import client_ip_of, header, ports_of
from screengate.domain.errors import InvalidToken
from screengate.domain.sessions import Principal
from screengate.services.auth import authenticate

MAX_TOKEN_CHARS = 512

# The request's device (or why it was refused), from BearerCheck to the `device` dependency.
# A context variable, not the scope, so that the dependency needs no input: each request runs
# in its own context, and BearerCheck resets it when the request is done.
_checked: ContextVar[Principal | Exception] = ContextVar("screengate_device")


class BearerCheck:
    """ASGI middleware: `Authorization: Bearer <access token>` → the Principal, or the refusal."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # OPTIONS answers without a credential, as it did when the check was a dependency.
        if scope["type"] != ScopeType.HTTP or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        outcome: Principal | Exception
        try:
            outcome = await prove(scope)
        except Exception as refused:  # raised by the route's dependency: see current_device
            outcome = refused
        checked = _checked.set(outcome)
        try:
            await self.app(scope, receive, send)
        finally:
            _checked.reset(checked)


async def prove(scope: Scope) -> Principal:
    """The device behind the request's bearer token; raises InvalidToken, TokenExpired or
    SignedOut (the sign-out's receipt learns the device came back)."""
    scheme, _, token = (header(scope, b"authorization") or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_CHARS:
        raise InvalidToken("Send the access token as 'Authorization: Bearer <token>'.")
    return await authenticate(ports_of(scope["litestar_app"].state), token, client_ip_of(scope))


def current_device() -> Principal:
    """The `device` dependency: what BearerCheck found, without awaiting anything."""
    try:
        outcome = _checked.get()
    except LookupError:
        raise RuntimeError("a route asks for the device without BearerCheck in front") from None
    if isinstance(outcome, Principal):
        return outcome
    raise outcome


DEVICE = {"device": Provide(current_device, sync_to_thread=False)}
# How routes take it. The value is a Principal from our own provider, so Litestar's signature
# model need not convert it again on every request.
Device = SkipValidation[NamedDependency[Principal]]
