"""The browser's session: prove the device from its cookies, refreshing them when they expire."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from litestar import Request

from screengate.api.deps import client_ip
from screengate.domain.errors import InvalidToken, TokenExpired
from screengate.domain.sessions import Principal, TokenPair, hash_token
from screengate.ports import Ports
from screengate.services import auth
from screengate.web.cookies import send_later, session_cookies
from screengate.web.surfaces import Surface

MAX_TOKEN_LENGTH = 512


class NotSignedIn(Exception):
    """No usable session cookie: the person has to sign in."""


@dataclass(frozen=True, slots=True)
class Viewer:
    """The device behind this request, and the access token it proved itself with."""

    principal: Principal
    access_token: str
    surface: Surface


class Refresher:
    """Spends each refresh token once, however many requests find the access token expired.

    A page, its event stream and a player's heartbeat often arrive together just after the
    access token lapses. Sending the same refresh token twice would be a replay and sign the
    device out (token_reuse), so requests carrying the same refresh token on this instance
    share one refresh and its answer for a short while.
    """

    def __init__(self, *, grace: timedelta = timedelta(seconds=30), size: int = 10_000) -> None:
        self._grace = grace
        self._size = size
        self._locks: dict[str, asyncio.Lock] = {}
        self._recent: OrderedDict[str, tuple[TokenPair, datetime]] = OrderedDict()

    async def refresh(self, ports: Ports, refresh_token: str, ip: str | None) -> TokenPair:
        key = hash_token(refresh_token)
        lock = self._locks.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                now = ports.clock.now()
                recent = self._recent.get(key)
                if recent is not None and recent[1] > now:
                    return recent[0]
                pair = await auth.refresh(ports, refresh_token, ip)
                self._recent[key] = (pair, now + self._grace)
                while len(self._recent) > self._size:
                    self._recent.popitem(last=False)
                return pair
        finally:
            if not lock.locked() and self._locks.get(key) is lock:
                del self._locks[key]


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
    try:
        pair = await refresher.refresh(ports, refresh_token, ip)
    except InvalidToken:
        raise NotSignedIn() from None
    send_later(request, session_cookies(request, surface, pair, ports.policy))
    return Viewer(await auth.authenticate(ports, pair.access_token, ip), pair.access_token, surface)


def _cookie(request: Request[Any, Any, Any], key: str) -> str | None:
    value = request.cookies.get(key)
    if not value or len(value) > MAX_TOKEN_LENGTH:
        return None
    return value
