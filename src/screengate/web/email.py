"""Account → Email: asking for a new address, and the page its confirmation link opens."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.params import QueryParameter

from screengate.domain.errors import EmailTaken, InvalidEmail, InvalidLink, WrongPassword
from screengate.domain.mail import LinkPurpose
from screengate.ports import Ports
from screengate.services import accounts, email_change, recovery
from screengate.web.forms import FormErrors, form_of
from screengate.web.render import page
from screengate.web.session import Viewer

TokenQuery = Annotated[str, QueryParameter(name="token", max_length=512)]


@get("/account/email")
async def email_page(
    request: Request[Any, Any, Any], ports: Ports, viewer: Viewer
) -> Response[Any]:
    view = await accounts.get_account(ports, viewer.principal)
    return page(
        request, "email.html", current=view.account.email, new_email="", errors=FormErrors()
    )


@post("/account/email")
async def change_email(
    request: Request[Any, Any, Any], ports: Ports, viewer: Viewer, ip: str | None
) -> Response[Any]:
    form = await form_of(request)
    new_email = form.get("new_email", "")[:254]
    try:
        await email_change.request_email_change(
            ports, viewer.principal, new_email=new_email, password=form.get("password", ""), ip=ip
        )
    except (WrongPassword, InvalidEmail, EmailTaken) as error:
        view = await accounts.get_account(ports, viewer.principal)
        errors = FormErrors.of(error)
        if isinstance(error, InvalidEmail):
            errors.fields = {"new_email": error.detail}
        status = {WrongPassword: 403, EmailTaken: 409}.get(type(error), 422)
        return page(
            request,
            "email.html",
            status=status,
            current=view.account.email,
            new_email=new_email,
            errors=errors,
        )
    view = await accounts.get_account(ports, viewer.principal)
    return page(request, "email.html", current=view.account.email, sent_to=new_email.strip())


@get("/confirm-email")
async def confirm_email_page(
    request: Request[Any, Any, Any], ports: Ports, token: TokenQuery
) -> Response[Any]:
    try:
        opened = await recovery.open_link(
            ports, token, LinkPurpose.CONFIRM_EMAIL, LinkPurpose.UNDO_EMAIL
        )
    except InvalidLink:
        return page(request, "link_invalid.html", status=400)
    return page(request, "confirm_email.html", token=token, link=opened)


@post("/confirm-email")
async def confirm_email(
    request: Request[Any, Any, Any], ports: Ports, ip: str | None
) -> Response[Any]:
    form = await form_of(request)
    try:
        await email_change.confirm_email_change(ports, form.get("token", ""), ip)
    except InvalidLink:
        return page(request, "link_invalid.html", status=400)
    except EmailTaken:
        return page(request, "link_invalid.html", status=409)
    return page(request, "confirm_email.html", done=True, link=None, token="")
