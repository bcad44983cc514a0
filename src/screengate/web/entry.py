"""Getting in and out: the front door, sign in, sign up, and sign out on this device."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.params import QueryParameter
from litestar.response import Redirect

from screengate.api.deps import ports_of
from screengate.api.problems import status_of
from screengate.domain.devices import DeviceType
from screengate.domain.errors import (
    DeviceLimit,
    EmailTaken,
    InvalidChallenge,
    InvalidCredentials,
    InvalidEmail,
    PasswordResetRequired,
    SecondFactorRequired,
    ServerBusy,
    SignedOut,
    TooManyAttempts,
    UnknownPlan,
    WeakPassword,
    WrongSecondFactor,
)
from screengate.domain.sessions import TokenPair
from screengate.ports import Ports
from screengate.services import accounts, auth, sign_out, two_step
from screengate.web.banners import sign_in_banner
from screengate.web.cookies import cleared_cookies, device_of, send_later, session_cookies
from screengate.web.deps import WebKeys, current_choice
from screengate.web.errors import go_to
from screengate.web.forms import FormErrors, form_of, local_path
from screengate.web.render import page, signed_out_detail
from screengate.web.session import NotSignedIn, Refresher, Viewer, current_viewer
from screengate.web.surfaces import Surface

Reason = Annotated[str | None, QueryParameter(name="reason", required=False, max_length=40)]
Next = Annotated[str | None, QueryParameter(name="next", required=False, max_length=500)]


@get("/")
async def front_door(
    request: Request[Any, Any, Any], viewer: Viewer, surface: Surface, keys: WebKeys
) -> Redirect:
    """Signed in: Who's watching?, or straight to browsing once a profile is picked."""
    chosen = current_choice(request, viewer, surface, keys) is not None
    return Redirect(surface.url("/browse" if chosen else "/profiles"))


@get("/sign-in")
async def sign_in_page(
    request: Request[Any, Any, Any],
    ports: Ports,
    surface: Surface,
    refresher: Refresher,
    reason: Reason = None,
    next_url: Next = None,
) -> Response[Any]:
    try:
        await current_viewer(request, ports, surface, refresher)
    except SignedOut as signed_out:
        # The session's own reason beats the one in the address.
        send_later(request, cleared_cookies(surface))
        reason = signed_out.reason
    except NotSignedIn:
        pass
    else:
        return Redirect(local_path(next_url, surface.home_url))
    return sign_in_form(request, surface, reason=reason, next_url=next_url)


@post("/sign-in")
async def sign_in(
    request: Request[Any, Any, Any], ports: Ports, surface: Surface, ip: str | None
) -> Response[Any]:
    form = await form_of(request)
    email, next_url = form.get("email", ""), form.get("next")
    try:
        pair = await _start_session(request, ports, surface, email, form.get("password", ""), ip)
    except (TooManyAttempts, ServerBusy) as error:
        response = sign_in_form(
            request,
            surface,
            email=email,
            next_url=next_url,
            errors=FormErrors(error.detail),
            status=status_of(error),
        )
        response.headers["Retry-After"] = str(error.retry_after_seconds)
        return response
    except SecondFactorRequired as asked:
        return _code_form(request, surface, asked.challenge, asked.methods, next_url)
    except PasswordResetRequired as error:
        return sign_in_form(
            request,
            surface,
            email=email,
            next_url=next_url,
            errors=FormErrors(error.detail),
            status=403,
        )
    except DeviceLimit as error:
        return sign_in_form(
            request,
            surface,
            email=email,
            next_url=next_url,
            errors=FormErrors(error.detail),
            status=409,
        )
    except InvalidCredentials:
        errors = FormErrors("Incorrect email or password. Check them and try again.")
        errors.fields["password"] = "Incorrect email or password."
        return sign_in_form(
            request, surface, email=email, next_url=next_url, errors=errors, status=400
        )
    send_later(request, session_cookies(request, surface, pair, ports.policy))
    return go_to(request, local_path(next_url, surface.url("/profiles")))


@post("/sign-in/second-step")
async def sign_in_second_step(
    request: Request[Any, Any, Any], ports: Ports, surface: Surface, ip: str | None
) -> Response[Any]:
    """The second step: the authenticator's code (or a recovery code) for the challenge."""
    form = await form_of(request)
    challenge, next_url = form.get("challenge", ""), form.get("next")
    recovery = form.get("recovery_code", "").strip() or None
    methods = [m for m in form.get("methods", "totp recovery_code").split() if m]
    try:
        pair = await two_step.finish_sign_in(
            ports,
            challenge,
            code=None if recovery else form.get("code", ""),
            recovery_code=recovery,
            ip=ip,
        )
    except WrongSecondFactor:
        field = "recovery_code" if recovery else "code"
        message = "That code is not right. Check it and try again."
        errors = FormErrors(message, {field: message})
        return _code_form(
            request, surface, challenge, methods, next_url, errors, 401, recovery is not None
        )
    except TooManyAttempts as error:
        response = _code_form(
            request, surface, challenge, methods, next_url, FormErrors(error.detail), 429
        )
        response.headers["Retry-After"] = str(error.retry_after_seconds)
        return response
    except DeviceLimit as error:
        return sign_in_form(
            request, surface, next_url=next_url, errors=FormErrors(error.detail), status=409
        )
    except InvalidChallenge:
        errors = FormErrors("That sign-in took too long or was already used. Start again.")
        return sign_in_form(request, surface, next_url=next_url, errors=errors, status=400)
    send_later(request, session_cookies(request, surface, pair, ports.policy))
    return go_to(request, local_path(next_url, surface.url("/profiles")))


@get("/sign-up")
async def sign_up_page(request: Request[Any, Any, Any], ports: Ports) -> Response[Any]:
    return page(
        request, "sign_up.html", plans=_plans(ports), form={"plan": "standard"}, errors=FormErrors()
    )


@post("/sign-up")
async def sign_up(
    request: Request[Any, Any, Any], ports: Ports, surface: Surface, ip: str | None
) -> Response[Any]:
    form = await form_of(request)
    email, password = form.get("email", ""), form.get("password", "")
    try:
        await accounts.sign_up(
            ports, email=email, password=password, plan=form.get("plan", "standard"), ip=ip
        )
        pair = await _start_session(request, ports, surface, email, password, ip)
    except (EmailTaken, WeakPassword, InvalidEmail, UnknownPlan) as error:
        errors = FormErrors.of(error, default_field="plan")
        if isinstance(error, EmailTaken):
            errors.fields["email"] = "An account with this email already exists. Sign in instead."
        status = 409 if isinstance(error, EmailTaken) else 422
        return page(
            request,
            "sign_up.html",
            status=status,
            plans=_plans(ports),
            form={"email": email, "plan": form.get("plan", "standard")},
            errors=errors,
        )
    send_later(request, session_cookies(request, surface, pair, ports.policy))
    return go_to(request, "/profiles")


@post("/sign-out")
async def sign_out_here(
    request: Request[Any, Any, Any],
    ports: Ports,
    viewer: Viewer,
    surface: Surface,
    ip: str | None,
) -> Response[Any]:
    """Sign out on this device: its session ends like any other, with the reason."""
    await sign_out.sign_out(ports, viewer.principal, ip)
    return go_to(request, f"{surface.sign_in_url}?reason=signed_out_here", cleared_cookies(surface))


async def _start_session(
    request: Request[Any, Any, Any],
    ports: Ports,
    surface: Surface,
    email: str,
    password: str,
    ip: str | None,
) -> TokenPair:
    user_agent = request.headers.get("user-agent")
    device_id, device_secret = device_of(request, surface)
    return await auth.sign_in(
        ports,
        email=email,
        password=password,
        device_type=surface.device_type,
        device_name=device_name_for(ports, surface, user_agent),
        device_id=device_id,
        device_secret=device_secret,
        ip=ip,
        user_agent=user_agent,
    )


def device_name_for(ports: Ports, surface: Surface, user_agent: str | None) -> str | None:
    """A browser is named from its User-Agent; the TV app says it is one ("TV app (Chrome on
    Linux)"), so nobody mistakes it for a laptop in the device list."""
    if surface.device_type is not DeviceType.SMART_TV:
        return None
    seen = ports.namer.name_for(user_agent)
    return f"TV app ({seen})" if seen else "TV app"


def sign_in_form(
    request: Request[Any, Any, Any],
    surface: Surface,
    *,
    email: str = "",
    reason: str | None = None,
    next_url: str | None = None,
    errors: FormErrors | None = None,
    status: int = 200,
) -> Response[Any]:
    return page(
        request,
        surface.template("sign_in.html"),
        status=status,
        email=email,
        reason=reason,
        reason_detail=signed_out_detail(reason),
        banner=sign_in_banner(request.query_params.get("done"), request.query_params.get("count")),
        next_url=local_path(next_url, "") or None,
        errors=errors or FormErrors(),
        # Where a TV sends its viewer to reset a password: typed on a phone or a computer.
        forgot_url=f"{_public_url(request)}/forgot-password",
    )


def _code_form(
    request: Request[Any, Any, Any],
    surface: Surface,
    challenge: str,
    methods: list[str],
    next_url: str | None,
    errors: FormErrors | None = None,
    status: int = 200,
    recovery: bool = False,
) -> Response[Any]:
    return page(
        request,
        surface.template("sign_in_second_step.html"),
        status=status,
        challenge=challenge,
        methods=methods,
        next_url=local_path(next_url, "") or None,
        errors=errors or FormErrors(),
        recovery=recovery,
    )


def _public_url(request: Request[Any, Any, Any]) -> str:
    mail = ports_of(request.app.state).mail
    return mail.public_url if mail is not None else ""


def _plans(ports: Ports) -> list[Any]:
    return [ports.plans[name] for name in ports.plans.names]
