"""Account → Security: two-step sign-in (authenticator app, recovery codes) and passkeys; and
"confirm it's you", which asks inline and then sends the interrupted form on."""

from __future__ import annotations

from typing import Annotated, Any

import segno
from litestar import Request, Response, get, post
from litestar.params import QueryParameter
from litestar.response import Redirect

from screengate.domain.errors import InvalidCode, TooManyAttempts, WrongPassword
from screengate.ports import Ports
from screengate.services import passkeys, reauth, two_step
from screengate.services.two_step import Enrolment
from screengate.web.confirm import confirm_page, sent_on
from screengate.web.errors import go_to
from screengate.web.forms import FormErrors, form_of, local_path
from screengate.web.render import page
from screengate.web.session import Viewer

SECURITY = "/account/security"
Done = Annotated[str | None, QueryParameter(name="done", required=False, max_length=20)]


@get(SECURITY)
async def security(
    request: Request[Any, Any, Any], ports: Ports, viewer: Viewer, done: Done = None
) -> Response[Any]:
    found = await two_step.status(ports, viewer.principal)
    keys = await passkeys.list_passkeys(ports, viewer.principal)
    return page(request, "security.html", two_step=found, passkeys=keys, done=done)


@post(f"{SECURITY}/totp")
async def start_totp(
    request: Request[Any, Any, Any], ports: Ports, viewer: Viewer
) -> Response[Any]:
    enrolment = await two_step.start_totp(ports, viewer.principal)
    return _enrol_page(request, enrolment, FormErrors())


@post(f"{SECURITY}/totp/confirm")
async def confirm_totp(
    request: Request[Any, Any, Any], ports: Ports, viewer: Viewer, ip: str | None
) -> Response[Any]:
    form = await form_of(request)
    try:
        codes, receipt = await two_step.confirm_totp(
            ports,
            viewer.principal,
            form.get("code", ""),
            sign_out_other_devices="sign_out_others" in form,
            ip=ip,
        )
    except (InvalidCode, TooManyAttempts) as error:
        enrolment = await two_step.pending_enrolment(ports, viewer.principal)
        if enrolment is None:
            return go_to(request, SECURITY)
        message = error.detail
        status = 429 if isinstance(error, TooManyAttempts) else 400
        return _enrol_page(request, enrolment, FormErrors(message, {"code": message}), status)
    signed_out = len(receipt.devices) if receipt is not None else None
    return page(request, "recovery_codes.html", codes=codes, turned_on=True, signed_out=signed_out)


@post(f"{SECURITY}/totp/off")
async def turn_off(
    request: Request[Any, Any, Any], ports: Ports, viewer: Viewer, ip: str | None
) -> Response[Any]:
    await two_step.turn_off(ports, viewer.principal, ip=ip)
    return go_to(request, f"{SECURITY}?done=off")


@post(f"{SECURITY}/recovery-codes")
async def new_recovery_codes(
    request: Request[Any, Any, Any], ports: Ports, viewer: Viewer, ip: str | None
) -> Response[Any]:
    codes = await two_step.regenerate_recovery_codes(ports, viewer.principal, ip=ip)
    return page(request, "recovery_codes.html", codes=codes, turned_on=False, signed_out=None)


Then = Annotated[str | None, QueryParameter(name="then", required=False, max_length=500)]


@get("/account/confirm")
async def confirm_identity_page(
    request: Request[Any, Any, Any], ports: Ports, viewer: Viewer, then: Then = None
) -> Response[Any]:
    """Asked before a change made by script (adding a passkey): confirm, then go back."""
    methods = await reauth.proof_methods(ports, viewer.principal)
    return confirm_page(request, local_path(then, SECURITY), {}, methods, status=200)


@post("/account/confirm")
async def confirm_identity(
    request: Request[Any, Any, Any], ports: Ports, viewer: Viewer, ip: str | None
) -> Response[Any]:
    """Confirm it's you, then send the interrupted form on: a 307 makes the browser post the
    same fields to the address it was going to."""
    form = await form_of(request)
    then = local_path(form.get("then"), SECURITY)
    code = form.get("reauth_code", "").strip()
    password = form.get("reauth_password", "")
    try:
        if not code and not password and await reauth.is_proven(ports, viewer.principal):
            pass  # a passkey confirmed it a moment ago (passkeys.js), then sent this form
        elif code:
            await reauth.reauthenticate(ports, viewer.principal, code=code, ip=ip)
        else:
            await reauth.reauthenticate(ports, viewer.principal, password=password, ip=ip)
    except (WrongPassword, InvalidCode, TooManyAttempts) as error:
        field = "reauth_code" if code else "reauth_password"
        errors = FormErrors(error.detail, {field: error.detail})
        status = 429 if isinstance(error, TooManyAttempts) else 403
        methods = form.get("methods", "password").split()
        return confirm_page(request, then, sent_on(form), methods, errors, status)
    if form.get("then_method", "POST") == "GET":
        return Redirect(then, status_code=303)
    return Redirect(then, status_code=307)


def _enrol_page(
    request: Request[Any, Any, Any], enrolment: Enrolment, errors: FormErrors, status: int = 200
) -> Response[Any]:
    qr = segno.make(enrolment.otpauth_uri, error="m")
    return page(
        request,
        "enrol_totp.html",
        status=status,
        secret=enrolment.secret,
        grouped=" ".join(enrolment.secret[i : i + 4] for i in range(0, len(enrolment.secret), 4)),
        uri=enrolment.otpauth_uri,
        qr_svg=qr.svg_inline(scale=5, title="QR code for your authenticator app", svgclass="qr"),
        errors=errors,
    )
