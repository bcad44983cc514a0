"""/activate: a signed-in person enters the code a TV shows (or scans its QR code, which
fills it in), sees what asks to sign in (RFC 8628 §5.4: which device, roughly where, when),
is asked "Is this TV in front of you?", and approves (for good, or until a time) or denies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from litestar import Request, Response, get, post
from litestar.params import QueryParameter
from litestar.response import Redirect

from screengate.domain.device_codes import DeviceAuthorization, shown
from screengate.domain.errors import CodeNotFound, DeviceLimit, InvalidUntil, TooManyAttempts
from screengate.ports import Ports
from screengate.services import device_codes
from screengate.services.device_codes import suggested_ends
from screengate.web.deps import GrownUpNeeded, WebKeys, chosen_profile, current_choice
from screengate.web.forms import FormErrors, form_of
from screengate.web.render import page
from screengate.web.session import NotSignedIn, Refresher, Viewer, current_viewer
from screengate.web.surfaces import WEB

CodeQuery = Annotated[str | None, QueryParameter(name="code", required=False, max_length=20)]
# The choices of "Sign in until...", as the form names them.
LENGTHS = {"4h": 0, "tomorrow": 1, "3d": 2}


async def _person(
    request: Request[Any, Any, Any], ports: Ports, refresher: Refresher, keys: WebKeys
) -> Viewer:
    """Signed in, and not on a Kids profile (a browser where nobody chose yet is the person
    who just typed the password)."""
    viewer = await current_viewer(request, ports, WEB, refresher)
    choice = current_choice(request, viewer, WEB, keys)
    profile = await chosen_profile(ports, viewer, choice)
    if profile is not None and profile.kids:
        raise GrownUpNeeded(profile)
    return viewer


@get("/activate")
async def activate_page(
    request: Request[Any, Any, Any],
    ports: Ports,
    refresher: Refresher,
    keys: WebKeys,
    code: CodeQuery = None,
) -> Response[Any]:
    """Enter the code; from the QR code it is filled in, and still only sent when confirmed."""
    try:
        await _person(request, ports, refresher, keys)
    except NotSignedIn:
        back = "/activate" + (f"?{urlencode({'code': code})}" if code else "")
        return Redirect(f"/sign-in?{urlencode({'next': back})}")
    return page(request, "activate.html", code=code or "", errors=FormErrors())


@post("/activate")
async def look_up_code(
    request: Request[Any, Any, Any],
    ports: Ports,
    refresher: Refresher,
    keys: WebKeys,
    ip: str | None,
) -> Response[Any]:
    viewer = await _person(request, ports, refresher, keys)
    form = await form_of(request)
    code = form.get("code", "")[:20]
    try:
        found = await device_codes.look_up(ports, viewer.principal, code, ip)
    except (CodeNotFound, TooManyAttempts) as error:
        return _code_form(request, code, error)
    return _confirm(request, ports, found, form.get("tz"), FormErrors())


@post("/activate/decide")
async def decide_code(
    request: Request[Any, Any, Any],
    ports: Ports,
    refresher: Refresher,
    keys: WebKeys,
    ip: str | None,
) -> Response[Any]:
    viewer = await _person(request, ports, refresher, keys)
    form = await form_of(request)
    code, tz = form.get("code", "")[:20], form.get("tz")
    approve = form.get("decision") == "approve"
    try:
        until = _until(form, ports.clock.now()) if approve else None
        decided = await device_codes.decide(
            ports, viewer.principal, code, approve=approve, until=until, ip=ip
        )
    except InvalidUntil as error:
        try:
            found = await device_codes.look_up(ports, viewer.principal, code, ip)
        except (CodeNotFound, TooManyAttempts) as gone:
            return _code_form(request, code, gone)
        return _confirm(request, ports, found, tz, FormErrors.of(error, "until"), status=422)
    except (CodeNotFound, TooManyAttempts) as error:
        return _code_form(request, code, error)
    except DeviceLimit as error:
        # Nothing was decided: the code still waits while a device is signed out elsewhere.
        errors = FormErrors(error.detail, {"code": error.detail})
        return page(request, "activate.html", status=409, code=code, errors=errors)
    return page(request, "activate_done.html", decided=decided, code=code, tz=tz)


def _code_form(
    request: Request[Any, Any, Any], code: str, error: CodeNotFound | TooManyAttempts
) -> Response[Any]:
    status = 429 if isinstance(error, TooManyAttempts) else 404
    errors = FormErrors(error.detail, {"code": error.detail})
    response = page(request, "activate.html", status=status, code=code, errors=errors)
    if isinstance(error, TooManyAttempts):
        response.headers["Retry-After"] = str(error.retry_after_seconds)
    return response


def _confirm(
    request: Request[Any, Any, Any],
    ports: Ports,
    found: DeviceAuthorization,
    tz: str | None,
    errors: FormErrors,
    *,
    status: int = 200,
) -> Response[Any]:
    now = ports.clock.now()
    zone = _zone(tz)
    choices = [
        (key, label, at.astimezone(zone))
        for key, (label, at) in zip(LENGTHS, suggested_ends(now, tz), strict=True)
    ]
    return page(
        request,
        "activate_confirm.html",
        status=status,
        authorization=found,
        code=shown(found.user_code),
        choices=choices,
        tz=zone.key,
        local_now=now.astimezone(zone),
        latest=(now + ports.device_codes.max_temporary).astimezone(zone),
        errors=errors,
    )


def _zone(tz: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(tz) if tz else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _until(form: dict[str, str], now: datetime) -> datetime | None:
    """The form's "Keep signed in" (None) or "Sign in until...", as a time."""
    length, tz = form.get("length", "keep"), form.get("tz")
    if length == "keep":
        return None
    if length in LENGTHS:
        return suggested_ends(now, tz)[LENGTHS[length]][1]
    if length == "custom":
        try:
            local = datetime.fromisoformat(form.get("until", ""))
        except ValueError:
            raise InvalidUntil("Choose a date and a time.", field="until") from None
        if local.tzinfo is None:
            local = local.replace(tzinfo=_zone(tz))
        return local
    raise InvalidUntil("Choose how long the TV stays signed in.", field="until")
