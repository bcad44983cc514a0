"""CSRF on the pages: every form and htmx request carries a token bound to this browser's session.

Signed in, the token is an HMAC of the session's id: a token taken from another browser, or
from this one before it signed in or after it signed out, is refused, whatever cookies come
with it. Signed out (the sign-in and sign-up forms), it is an HMAC of a random key in an
HttpOnly cookie of this browser; the key is dropped as soon as a session is live and a new
one is made when none is, so it turns over at every sign-in and sign-out.

The token comes in the `_csrf_token` form field or the X-CSRFToken header (htmx and
session.js send the page's token there). The secret is the pages' own (wiring.web_secret),
the same for every worker and instance.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Any

from litestar import Request
from litestar.datastructures import Cookie
from litestar.enums import RequestEncodingType, ScopeType
from litestar.exceptions import PermissionDeniedException
from litestar.types import ASGIApp, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from screengate.api.deps import ports_of
from screengate.domain.ids import SessionId
from screengate.web.cookies import cookie, send_later
from screengate.web.deps import web_keys_of
from screengate.web.session import bound_session
from screengate.web.surfaces import Surface

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
HEADER = "x-csrftoken"
FIELD = "_csrf_token"
MAX_TOKEN = 256
_KEY = re.compile(r"[0-9a-f]{64}")


def session_token(secret: bytes, session_id: SessionId) -> str:
    """The token of every form a signed-in browser is shown, for as long as its session lasts."""
    return _sign(secret, f"csrf\0session\0{session_id}")


def browser_token(secret: bytes, key: str) -> str:
    """The token of a signed-out browser's forms: bound to the random key it holds."""
    return _sign(secret, f"csrf\0browser\0{key}")


class PageCSRF:
    """Refuses a state-changing request whose token is not this browser's session's (403, "This
    form has expired"), and gives the pages that token to render (csrf_token())."""

    def __init__(self, app: ASGIApp, surface: Surface) -> None:
        self.app = app
        self.surface = surface

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        request: Request[Any, Any, Any] = scope["litestar_app"].request_class(scope, receive)
        expected = await self._expected(request)
        if request.method not in SAFE_METHODS and not _same(await _sent(request), expected):
            raise PermissionDeniedException("CSRF token verification failed")
        ScopeState.from_scope(scope).csrf_token = expected
        await self.app(scope, receive, send)

    async def _expected(self, request: Request[Any, Any, Any]) -> str:
        secret = web_keys_of(request.app.state).secret
        surface = self.surface
        key = request.cookies.get(surface.csrf_cookie)
        session_id = await bound_session(request, ports_of(request.app.state), surface)
        if session_id is not None:
            if key is not None:  # the signed-out key goes with the sign-in
                send_later(request, [_forgotten(surface)])
            return session_token(secret, session_id)
        if key is None or not _KEY.fullmatch(key):
            key = secrets.token_hex(32)
            send_later(request, [cookie(request, surface, surface.csrf_cookie, key, None)])
        return browser_token(secret, key)


async def _sent(request: Request[Any, Any, Any]) -> str | None:
    token = request.headers.get(HEADER)
    if token:
        return token
    content_type, _ = request.content_type
    if content_type in {RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART}:
        # Parsed once: the route's own request.form() reads the same parse from the scope.
        value = (await request.form()).get(FIELD)
        return value if isinstance(value, str) else None
    return None


def _same(sent: str | None, expected: str) -> bool:
    if not sent or len(sent) > MAX_TOKEN:
        return False
    return hmac.compare_digest(sent.encode("utf-8", "replace"), expected.encode())


def _sign(secret: bytes, message: str) -> str:
    return hmac.new(secret, message.encode(), hashlib.sha256).hexdigest()


def _forgotten(surface: Surface) -> Cookie:
    return Cookie(
        key=surface.csrf_cookie,
        value="",
        max_age=0,
        expires=0,
        path=surface.cookie_path,
        httponly=True,
        samesite="lax",
    )
