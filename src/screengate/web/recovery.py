"""Forgot password?, the mailed links' pages, and "This wasn't me", for people.

A mailed link only opens a page: mail scanners fetch links to check them, so nothing happens
until the person presses the page's button (a POST, with the page's CSRF token)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.params import QueryParameter

from screengate.domain.errors import InvalidLink, TooManyAttempts, WeakPassword
from screengate.domain.mail import LinkPurpose
from screengate.ports import Ports
from screengate.services import recovery
from screengate.web.errors import go_to
from screengate.web.forms import FormErrors, form_of
from screengate.web.render import page

TokenQuery = Annotated[str, QueryParameter(name="token", max_length=512)]


@get("/forgot-password")
async def forgot_password_page(request: Request[Any, Any, Any]) -> Response[Any]:
    return page(request, "forgot_password.html", email="", errors=FormErrors())


@post("/forgot-password")
async def forgot_password(
    request: Request[Any, Any, Any], ports: Ports, ip: str | None
) -> Response[Any]:
    form = await form_of(request)
    raw = form.get("email", "")[:254]
    try:
        email = await recovery.check_reset_request(ports, raw, ip)
    except TooManyAttempts as error:
        response = page(
            request, "forgot_password.html", status=429, email=raw, errors=FormErrors(error.detail)
        )
        response.headers["Retry-After"] = str(error.retry_after_seconds)
        return response
    # The same page, in the same time, whether or not the email has an account: the lookup
    # and the mail happen after it has gone.
    response = page(request, "forgot_password_sent.html", email=raw)
    response.background = BackgroundTask(recovery.mail_reset_link, ports, email, ip)
    return response


@get("/reset-password")
async def reset_password_page(
    request: Request[Any, Any, Any], ports: Ports, token: TokenQuery
) -> Response[Any]:
    try:
        opened = await recovery.open_link(ports, token, LinkPurpose.RESET_PASSWORD)
    except InvalidLink:
        return _invalid(request)
    return page(
        request, "reset_password.html", token=token, email=opened.email, errors=FormErrors()
    )


@post("/reset-password")
async def reset_password(
    request: Request[Any, Any, Any], ports: Ports, ip: str | None
) -> Response[Any]:
    form = await form_of(request)
    token = form.get("token", "")
    try:
        await recovery.reset_password(ports, token, form.get("new_password", ""), ip)
    except InvalidLink:
        return _invalid(request)
    except WeakPassword as error:
        return page(
            request,
            "reset_password.html",
            status=422,
            token=token,
            email=None,
            errors=FormErrors.of(error),
        )
    return go_to(request, "/sign-in?done=password_reset")


@get("/secure-account")
async def secure_account_page(
    request: Request[Any, Any, Any], ports: Ports, token: TokenQuery
) -> Response[Any]:
    try:
        opened = await recovery.open_link(ports, token, LinkPurpose.SECURE_ACCOUNT)
    except InvalidLink:
        return _invalid(request)
    return page(request, "secure_account.html", token=token, email=opened.email)


@post("/secure-account")
async def secure_account(
    request: Request[Any, Any, Any], ports: Ports, ip: str | None
) -> Response[Any]:
    form = await form_of(request)
    try:
        receipt = await recovery.secure_account(ports, form.get("token", ""), ip)
    except InvalidLink:
        return _invalid(request)
    return page(request, "secure_account_done.html", devices=receipt.devices)


def _invalid(request: Request[Any, Any, Any]) -> Response[Any]:
    return page(request, "link_invalid.html", status=400)
