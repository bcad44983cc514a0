"""The browser's session: prove the device from its cookies, refreshing them when they expire."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from litestar import Request

from screengate.api.deps import client_ip
from screengate.domain.errors import InvalidToken, TokenExpired
from screengate.domain.ids import SessionId
from screengate.domain.sessions import Principal, TokenPair, hash_token
from screengate.ports import Ports
from screengate.services import auth
from screengate.services.acting import act_for
from screengate.web.cookies import send_later, session_cookies
from screengate.web.surfaces import Surface

MAX_TOKEN_LENGTH = 512


class NotSignedIn(Exception):
    """No usable session cookie: the person has to sign in."""


@dataclass(frozen=True, slots=True)
class Viewer:
    """The device behind this request, and the access token it proved itself with (None for a
    request served on a refresh token its own browser had just spent: it was handed none)."""

    principal: Principal
    access_token: str | None
    surface: Surface


# Who sent a request, as far as one can tell: its client address and its User-Agent.
Binding = tuple[str | None, str | None]


@dataclass(frozen=True, slots=True)
class _Flight:
    binding: Binding
    outcome: asyncio.Future[TokenPair | Principal]


class Refresher:
    """Spends each refresh token once, however many requests of one browser find the access
    token expired at the same moment.

    A page, its event stream and a player's heartbeat often arrive together just after the
    access token lapses. Requests that arrive while a refresh of their token is in flight on
    this instance, from the same address and User-Agent, share its outcome (the same new
    pair). Nothing is kept afterwards: a request that comes later with the spent token goes to
    the store, which serves it without tokens if it is the same browser a moment late
    (auth.refresh_for_browser) and otherwise signs the device out as a replay (token_reuse).
    """

    def __init__(self) -> None:
        self._flights: dict[str, _Flight] = {}

    async def refresh(
        self, ports: Ports, refresh_token: str, binding: Binding
    ) -> TokenPair | Principal:
        key = hash_token(refresh_token)
        flight = self._flights.get(key)
        if flight is not None:
            if flight.binding == binding:
                return await asyncio.shield(flight.outcome)
            # Someone else with the same token: the first sender wins, then the store judges.
            await asyncio.wait([flight.outcome])
            return await auth.refresh_for_browser(ports, refresh_token, binding[0])
        outcome = asyncio.ensure_future(auth.refresh_for_browser(ports, refresh_token, binding[0]))
        self._flights[key] = _Flight(binding, outcome)
        outcome.add_done_callback(lambda _: self._landed(key, outcome))
        # Shielded: a sender that goes away must not cancel the others' refresh half-way.
        return await asyncio.shield(outcome)

    def _landed(self, key: str, outcome: asyncio.Future[TokenPair | Principal]) -> None:
        if not outcome.cancelled():
            outcome.exception()  # seen, even if every sender went away before it came
        if self._flights.get(key) is not None and self._flights[key].outcome is outcome:
            del self._flights[key]


async def current_viewer(
    request: Request[Any, Any, Any], ports: Ports, surface: Surface, refresher: Refresher
) -> Viewer:
    """The signed-in device, or NotSignedIn / SignedOut (with its reason)."""
    access = _cookie(request, surface.access_cookie)
    refresh_token = _cookie(request, surface.refresh_cookie)
    ip = client_ip(request)
    if access:
        try:
            return Viewer(await auth.authenticate(ports, access, ip), access, surface)
        except (TokenExpired, InvalidToken):
            pass  # an expired token is refreshed; an unknown one too, if there is a refresh
    if not refresh_token:
        raise NotSignedIn()
    binding = (ip, request.headers.get("user-agent"))
    try:
        outcome = await refresher.refresh(ports, refresh_token, binding)
    except InvalidToken:
        raise NotSignedIn() from None
    if isinstance(outcome, Principal):
        act_for(outcome)  # as authenticate() does: this request's writes are that session's
        return Viewer(outcome, None, surface)  # its browser has the new cookies already
    send_later(request, session_cookies(request, surface, outcome, ports.policy))
    principal = await auth.authenticate(ports, outcome.access_token, ip)
    return Viewer(principal, outcome.access_token, surface)


async def bound_session(
    request: Request[Any, Any, Any], ports: Ports, surface: Surface
) -> SessionId | None:
    """The live session this request's session cookies stand for, refreshing nothing."""
    access = _cookie(request, surface.access_cookie)
    refresh_token = _cookie(request, surface.refresh_cookie)
    return await auth.live_session_of(ports, access, refresh_token)


def _cookie(request: Request[Any, Any, Any], key: str) -> str | None:
    value = request.cookies.get(key)
    if not value or len(value) > MAX_TOKEN_LENGTH:
        return None
    return value
