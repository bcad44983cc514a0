"""The cookies that make a browser a signed-in device: HttpOnly, SameSite=Lax, Secure over https."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Request
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from screengate.domain.sessions import SessionPolicy, TokenPair
from screengate.web.surfaces import Surface

# Where a route leaves cookies for the middleware to send with whatever answer follows.
PENDING = "screengate.web.cookies"
DEVICE_COOKIE_SECONDS = 400 * 24 * 60 * 60  # 400 days, the longest browsers keep a cookie


def is_https(request: Request[Any, Any, Any]) -> bool:
    """https here, or at a trusted proxy in front of us that says so."""
    if request.url.scheme == "https":
        return True
    peer = request.client.host if request.client else None
    if peer not in request.app.state.trusted_proxies:
        return False
    proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return proto == "https"


def cookie(
    request: Request[Any, Any, Any],
    surface: Surface,
    key: str,
    value: str,
    max_age: int | None,
    path: str | None = None,
) -> Cookie:
    return Cookie(
        key=key,
        value=value,
        max_age=max_age,
        path=path or surface.cookie_path,
        secure=is_https(request),
        httponly=True,
        samesite="lax",
    )


def session_cookies(
    request: Request[Any, Any, Any], surface: Surface, pair: TokenPair, policy: SessionPolicy
) -> list[Cookie]:
    # The refresh token lives as long as the session may stay idle; the access token only
    # while it is valid, after which the refresh token gets a new one.
    idle = int(policy.idle_ttl / timedelta(seconds=1))
    cookies = [
        cookie(request, surface, surface.access_cookie, pair.access_token, pair.expires_in),
        cookie(request, surface, surface.refresh_cookie, pair.refresh_token, idle),
    ]
    if pair.device_secret is not None:  # a sign-in: the device cookie gets the new secret
        value = f"{pair.device_id}{_DEVICE_SEPARATOR}{pair.device_secret}"
        cookies.append(
            cookie(request, surface, surface.device_cookie, value, DEVICE_COOKIE_SECONDS)
        )
    return cookies


def device_of(request: Request[Any, Any, Any], surface: Surface) -> tuple[str | None, str | None]:
    """The (device id, device secret) this browser's device cookie holds, if any: what the
    next sign-in sends to stay the same device (OWASP's device cookie)."""
    value = request.cookies.get(surface.device_cookie) or ""
    device_id, _, secret = value.partition(_DEVICE_SEPARATOR)
    return device_id or None, secret or None


# Ids and secrets are URL-safe base64 or UUIDs: neither has a dot.
_DEVICE_SEPARATOR = "."


def cleared_cookies(surface: Surface) -> list[Cookie]:
    """Forget the session and the profile choice; keep the device id for the next sign-in."""
    return [
        Cookie(key=key, value="", max_age=0, expires=0, path=surface.cookie_path, httponly=True)
        for key in (surface.access_cookie, surface.refresh_cookie, surface.profile_cookie)
    ]


def send_later(request: Request[Any, Any, Any], cookies: list[Cookie]) -> None:
    """Set these cookies on the answer, whichever the route or its error handler gives."""
    pending: list[Cookie] = request.state.setdefault(PENDING, [])
    pending.extend(cookies)


class PendingCookies:
    """Adds the cookies routes left in the request state (a refreshed session) to the answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_cookies(message: Message) -> None:
            if message["type"] == "http.response.start":
                pending: list[Cookie] = scope.get("state", {}).get(PENDING, [])
                if pending:
                    headers = MutableScopeHeaders.from_message(message)
                    for item in pending:
                        headers.add("set-cookie", item.to_header(header=""))
            await send(message)

        await self.app(scope, receive, send_with_cookies)
