"""CSRF on the pages: Litestar's check, with its cookie Secure whenever the request came over https.

Litestar's CSRFConfig takes `cookie_secure` once, for every request; whether a request came
over https is known only per request (directly, or from a trusted proxy's X-Forwarded-Proto),
so this keeps one CSRFMiddleware for each answer and hands each request to the right one.
The secret too is known only once the app has started (wiring.web_secret).
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.config.csrf import CSRFConfig
from litestar.enums import ScopeType
from litestar.middleware.csrf import CSRFMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from screengate.web.cookies import is_https
from screengate.web.deps import web_keys_of

# Litestar's CSRF middleware sets its cookie only when there is none; a token signed with a
# secret this process no longer has (a restart) must be dropped for a fresh one to be set.
CSRF_COOKIE = "csrftoken"


class PageCSRF:
    """Every form must carry the token of the CSRF cookie; the cookie is Secure over https."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.checks: dict[tuple[str, bool], CSRFMiddleware] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        request: Request[Any, Any, Any] = scope["litestar_app"].request_class(scope=scope)
        await self._check(request)(scope, receive, send)

    def _check(self, request: Request[Any, Any, Any]) -> CSRFMiddleware:
        # The secret is known once the app has started: it may come from the database.
        key = (web_keys_of(request.app.state).secret.decode(), is_https(request))
        check = self.checks.get(key)
        if check is None:
            check = self.checks[key] = CSRFMiddleware(self.app, _config(*key))
        return check


def _config(secret: str, secure: bool) -> CSRFConfig:
    return CSRFConfig(
        secret=secret, cookie_name=CSRF_COOKIE, cookie_httponly=True, cookie_secure=secure
    )
