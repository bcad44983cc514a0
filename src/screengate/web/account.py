"""Account: membership, Security & Privacy, Manage access and devices, password, activity."""

from __future__ import annotations

from contextlib import suppress
from typing import Annotated, Any
from urllib.parse import quote, unquote, urlencode

from litestar import Request, Response, get, post
from litestar.params import Parameter, QueryParameter

from screengate.api.problems import retry_after
from screengate.domain.errors import (
    DeviceNotFound,
    InvalidUntil,
    TooManyAttempts,
    WeakPassword,
    WrongPassword,
)
from screengate.domain.ids import DeviceId
from screengate.ports import Ports
from screengate.services import accounts, sign_out, temporary
from screengate.services.activity import MAX_CURSOR, security_activity
from screengate.services.device_codes import suggested_ends
from screengate.services.devices import MAX_DEVICE_PAGE, device_page, list_devices
from screengate.web.cookies import cleared_cookies, cookie
from screengate.web.errors import go_to, is_htmx
from screengate.web.forms import FormErrors, form_of
from screengate.web.render import page
from screengate.web.session import Viewer
from screengate.web.surfaces import WEB

DevicePath = Annotated[str, Parameter(max_length=64)]
PAGE_SIZE = 20


@get("/account")
async def account(
    request: Request[Any, Any, Any],
    ports: Ports,
    viewer: Viewer,
    password_changed: Annotated[bool, QueryParameter(name="password_changed")] = False,
    signed_out: Annotated[int | None, Parameter(required=False, ge=0, le=10_000)] = None,
) -> Response[Any]:
    view = await accounts.get_account(ports, viewer.principal)
    devices = await list_devices(ports, viewer.principal)
    return page(
        request,
        "account.html",
        account=view,
        devices=devices,
        password_changed=password_changed,
        signed_out=signed_out,
    )


# Which device was just signed out, for the page after the redirect. A cookie and not the
# address: another site can link to any address, but cannot set our cookies.
SIGNED_OUT_NOTE = "sg_signed_out"
DEVICES = "/account/devices"
# Devices on the first screen of Manage access and devices, and how many more "Show more" adds.
DEVICES_SHOWN = 20


@get(DEVICES)
async def devices(
    request: Request[Any, Any, Any],
    ports: Ports,
    viewer: Viewer,
    show: Annotated[int, QueryParameter(ge=1, le=MAX_DEVICE_PAGE)] = DEVICES_SHOWN,
) -> Response[Any]:
    """Manage access and devices: the signed-in devices, this one first, `show` of them;
    "Show more" shows DEVICES_SHOWN more."""
    found = await device_page(ports, viewer.principal, limit=show)
    more = None
    if found.next_cursor is not None and show < MAX_DEVICE_PAGE:
        more = min(show + DEVICES_SHOWN, MAX_DEVICE_PAGE)
    note = request.cookies.get(SIGNED_OUT_NOTE)
    response = page(
        request,
        "devices.html",
        devices=found.devices,
        show_more=more,
        signed_out=unquote(note)[:80] if note else None,
    )
    if note:
        response.delete_cookie(SIGNED_OUT_NOTE, path=DEVICES)
    return response


@post("/account/devices/{device_id:str}/sign-out")
async def sign_out_device(
    request: Request[Any, Any, Any],
    ports: Ports,
    viewer: Viewer,
    device_id: DevicePath,
    ip: str | None,
) -> Response[Any]:
    try:
        receipt = await sign_out.sign_out_device(ports, viewer.principal, DeviceId(device_id), ip)
    except DeviceNotFound:
        name = None  # signed out meanwhile, from elsewhere: the list just catches up
    else:
        name = receipt.devices[0].name if receipt.devices else None
    if device_id == viewer.principal.device_id:
        return go_to(request, "/sign-in?reason=signed_out_here", cleared_cookies(WEB))
    if is_htmx(request):
        return page(request, "_device_gone.html", name=name)
    note = [cookie(request, WEB, SIGNED_OUT_NOTE, quote(name), 60, path=DEVICES)] if name else []
    return go_to(request, DEVICES, note)


@post("/account/devices/{device_id:str}/end-temporary")
async def end_temporary_sign_in(
    request: Request[Any, Any, Any],
    ports: Ports,
    viewer: Viewer,
    device_id: DevicePath,
    ip: str | None,
) -> Response[Any]:
    """End a "Sign in until..." early: that device is signed out now."""
    try:
        receipt = await temporary.end_temporary_sign_in(
            ports, viewer.principal, DeviceId(device_id), ip
        )
    except DeviceNotFound:
        return go_to(request, DEVICES)  # ended meanwhile: the list catches up
    name = receipt.devices[0].name if receipt.devices else None
    note = [cookie(request, WEB, SIGNED_OUT_NOTE, quote(name), 60, path=DEVICES)] if name else []
    return go_to(request, DEVICES, note)


# The extend form's choices, as suggested_ends() orders them.
EXTEND_CHOICES = {"4h": 0, "tomorrow": 1, "3d": 2}


@post("/account/devices/{device_id:str}/signed-in-until")
async def move_signed_in_until(
    request: Request[Any, Any, Any],
    ports: Ports,
    viewer: Viewer,
    device_id: DevicePath,
    ip: str | None,
) -> Response[Any]:
    """Extend a "Sign in until...": a new end, counted from now."""
    form = await form_of(request)
    choice = EXTEND_CHOICES.get(form.get("length", ""))
    if choice is None:
        raise InvalidUntil("Choose how long the TV stays signed in.", field="length")
    until = suggested_ends(ports.clock.now(), form.get("tz"))[choice][1]
    with suppress(DeviceNotFound):  # ended meanwhile: the list catches up
        await temporary.change_signed_in_until(
            ports, viewer.principal, DeviceId(device_id), until, ip
        )
    return go_to(request, DEVICES)


@get("/account/sign-out-all")
async def sign_out_all_page(
    request: Request[Any, Any, Any], ports: Ports, viewer: Viewer
) -> Response[Any]:
    """The confirmation: what signing out of all devices will do, device by device."""
    listing = await list_devices(ports, viewer.principal)
    return page(
        request,
        "sign_out_all.html",
        devices=listing,
        downloads=sum(d.downloads for d in listing),
        streaming=sum(1 for d in listing if d.streaming),
    )


@post("/account/sign-out-all")
async def sign_out_all(
    request: Request[Any, Any, Any], ports: Ports, viewer: Viewer, ip: str | None
) -> Response[Any]:
    receipt = await sign_out.sign_out_everywhere(ports, viewer.principal, ip=ip)
    query = urlencode({"done": "everywhere", "count": len(receipt.devices)})
    return go_to(request, f"/sign-in?{query}", cleared_cookies(WEB))


@get("/account/password")
async def password_page(request: Request[Any, Any, Any], viewer: Viewer) -> Response[Any]:
    return page(request, "password.html", sign_out_all=True, errors=FormErrors())


@post("/account/password")
async def change_password(
    request: Request[Any, Any, Any], ports: Ports, viewer: Viewer, ip: str | None
) -> Response[Any]:
    form = await form_of(request)
    everywhere = "sign_out_all" in form
    try:
        receipt = await accounts.change_password(
            ports,
            viewer.principal,
            current_password=form.get("current_password", ""),
            new_password=form.get("new_password", ""),
            sign_out_all_devices=everywhere,
            ip=ip,
        )
    except (WrongPassword, WeakPassword) as error:
        errors = FormErrors.of(error)
        if isinstance(error, WrongPassword):
            errors = FormErrors(
                "Your current password is not right.",
                {"current_password": "Your current password is not right."},
            )
        status = 403 if isinstance(error, WrongPassword) else 422
        return page(request, "password.html", status=status, sign_out_all=everywhere, errors=errors)
    except TooManyAttempts as error:
        refused = page(
            request,
            "password.html",
            status=429,
            sign_out_all=everywhere,
            errors=FormErrors(error.detail, {"current_password": error.detail}),
        )
        refused.headers.update(retry_after(error))
        return refused
    query = {"password_changed": "true"}
    if receipt is not None:
        query["signed_out"] = str(len(receipt.devices))
    return go_to(request, f"/account?{urlencode(query)}")


@get("/account/activity")
async def activity(
    request: Request[Any, Any, Any],
    ports: Ports,
    viewer: Viewer,
    cursor: Annotated[
        int | None, QueryParameter(name="before", required=False, ge=1, le=MAX_CURSOR)
    ] = None,
) -> Response[Any]:
    """Security activity: the account's audit trail, newest first, a page at a time."""
    found = await security_activity(ports, viewer.principal, cursor=cursor, limit=PAGE_SIZE)
    return page(
        request,
        "activity.html",
        events=found.events,
        next_cursor=found.next_cursor,
        first_page=cursor is None,
    )
