"""The TV's "Sign in with your phone": a code and a QR code to show, the moment it is approved
the TV moves on to "Who's watching?" (pushed over the bus, from any instance), and a new code
by itself when one runs out. The device code is the TV browser's secret: an HttpOnly cookie."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import quote

import segno
from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import QueryParameter
from litestar.response import Redirect, ServerSentEvent, ServerSentEventMessage

from screengate.budget import EventStreamBudget
from screengate.domain.device_codes import AuthorizationStatus, DeviceAuthorization, shown
from screengate.domain.devices import DeviceType
from screengate.domain.errors import DeviceFlowError, SignedOut, TooManyAttempts, wait_in_words
from screengate.ports import Ports
from screengate.services import device_codes
from screengate.web.cookies import cleared_cookies, cookie, send_later, session_cookies
from screengate.web.entry import Next, Reason, sign_in_form
from screengate.web.errors import go_to
from screengate.web.forms import FormErrors, local_path
from screengate.web.render import page, signed_out_detail
from screengate.web.session import NotSignedIn, Refresher, current_viewer
from screengate.web.surfaces import TV

CLIENT_ID = "screengate-tv"
CODE_COOKIE = f"{TV.cookie_prefix}code"
KEEPALIVE_SECONDS = 15.0


def verification_uri(request: Request[Any, Any, Any]) -> str:
    return str(request.base_url).rstrip("/") + "/activate"


async def code_to_show(
    request: Request[Any, Any, Any], ports: Ports, ip: str | None, device_name: str
) -> tuple[DeviceAuthorization | str, str | None]:
    """The code this TV shows: the one it has while it lasts, else a new one. Returns it (or
    the new code's shown form) and the new device code to keep, if one was made."""
    current = await device_codes.showing(ports, request.cookies.get(CODE_COOKIE))
    if current is not None and current.status is AuthorizationStatus.PENDING:
        return current, None
    issued = await device_codes.request_code(
        ports,
        client_id=CLIENT_ID,
        device_type=DeviceType.SMART_TV,
        device_name=device_name,
        ip=ip,
        user_agent=request.headers.get("user-agent"),
    )
    max_age = int(ports.device_codes.lifetime / timedelta(seconds=1))
    send_later(request, [cookie(request, TV, CODE_COOKIE, issued.device_code, max_age)])
    found = await device_codes.showing(ports, issued.device_code)
    return (found if found is not None else issued.user_code), issued.device_code


def qr_svg(uri: str) -> str:
    """The QR code as inline SVG (segno): dark modules on white, with a quiet zone."""
    return str(
        segno.make(uri, error="m").svg_inline(
            scale=6, border=3, dark="#000", light="#fff", omitsize=True
        )
    )


def code_context(
    request: Request[Any, Any, Any], ports: Ports, authorization: DeviceAuthorization
) -> dict[str, Any]:
    code = shown(authorization.user_code)
    uri = verification_uri(request)
    complete = f"{uri}?code={quote(code)}"
    left = max(1, int((authorization.expires_at - ports.clock.now()).total_seconds()))
    return {
        "code": code,
        "verification_uri": uri,
        "verification_host": uri.split("://", 1)[-1],
        "qr": qr_svg(complete),
        "expires_in": left,
    }


@get("/sign-in/code/events", middleware=[EventStreamBudget])
async def code_events(request: Request[Any, Any, Any], ports: Ports) -> ServerSentEvent:
    """Tells the TV page when its code is decided (`approved`, `denied`, `voided`) or runs
    out (`expired`): at once, from whichever instance the phone used."""
    found = await device_codes.showing(ports, request.cookies.get(CODE_COOKIE))
    return ServerSentEvent(
        _watch(ports, found), headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )


async def _watch(
    ports: Ports, found: DeviceAuthorization | None
) -> AsyncIterator[ServerSentEventMessage]:
    if found is None:
        yield _event("expired")
        return
    if found.status is AuthorizationStatus.APPROVED:
        yield _event("approved")  # decided before this page listened
        return
    yield ServerSentEventMessage(data=None, comment="waiting", retry=1000)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + (found.expires_at - ports.clock.now()).total_seconds()
    while (left := deadline - loop.time()) > 0:
        decision = await ports.decisions.wait(found.id, min(left, KEEPALIVE_SECONDS))
        if decision is not None:
            yield _event(decision)
            return
        yield ServerSentEventMessage(data=None, comment="keep-alive")
    yield _event("expired")


def _event(outcome: str) -> ServerSentEventMessage:
    return ServerSentEventMessage(event="code", data=json.dumps({"outcome": outcome}))


@post("/sign-in/code")
async def finish_code_sign_in(
    request: Request[Any, Any, Any], ports: Ports, ip: str | None
) -> Response[Any]:
    """The page heard its code was approved: collect the tokens, become signed in."""
    device_code = request.cookies.get(CODE_COOKIE) or ""
    try:
        pair = await device_codes.collect_tokens(ports, device_code, CLIENT_ID, ip, pace=False)
    except DeviceFlowError as error:
        reason = "code_denied" if error.error == "access_denied" else None
        return go_to(request, TV.sign_in_url + (f"?reason={reason}" if reason else ""))
    send_later(request, session_cookies(request, TV, pair, ports.policy))
    send_later(request, [_forget_code()])
    return go_to(request, TV.url("/profiles"))


def _forget_code() -> Cookie:
    return Cookie(
        key=CODE_COOKIE, value="", max_age=0, expires=0, path=TV.cookie_path, httponly=True
    )


@get("/sign-in")
async def tv_sign_in_page(
    request: Request[Any, Any, Any],
    ports: Ports,
    refresher: Refresher,
    ip: str | None,
    reason: Reason = None,
    next_url: Next = None,
    with_: Annotated[str | None, QueryParameter(name="with", required=False, max_length=20)] = None,
) -> Response[Any]:
    """Sign in with your phone first (a code and a QR code); email and password second."""
    try:
        await current_viewer(request, ports, TV, refresher)
    except SignedOut as signed_out:
        send_later(request, cleared_cookies(TV))
        reason = signed_out.reason
    except NotSignedIn:
        pass
    else:
        return Redirect(local_path(next_url, TV.home_url))
    if with_ == "password":
        return sign_in_form(request, TV, reason=reason, next_url=next_url)
    user_agent = request.headers.get("user-agent")
    seen = ports.namer.name_for(user_agent)
    try:
        found, _ = await code_to_show(request, ports, ip, f"TV app ({seen})" if seen else "TV app")
    except TooManyAttempts as error:
        # This network asked for too many codes: email and password still work.
        busy = f"Codes are paused here for {wait_in_words(error.retry_after_seconds)}."
        return sign_in_form(request, TV, reason=reason, next_url=next_url, errors=FormErrors(busy))
    if not isinstance(found, DeviceAuthorization):  # pragma: no cover - read back at once
        raise NotSignedIn()
    detail = CODE_DENIED if reason == "code_denied" else signed_out_detail(reason)
    return page(
        request,
        "tv/sign_in_code.html",
        reason_detail=detail,
        **code_context(request, ports, found),
    )


CODE_DENIED = "The sign-in was denied on the phone. Here is a new code."
