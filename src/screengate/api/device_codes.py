"""TV sign-in with a code: RFC 8628's two endpoints under /oauth (the RFC's own wire format:
form bodies in, JSON out, OAuth error bodies), and /v1/device-authorizations for a phone app
to judge and decide a code."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody, Parameter

from screengate.api.bearer import DEVICE, BearerCheck, Device
from screengate.api.docs import AUTHED, BEARER, problems
from screengate.api.schemas import (
    DeviceApproved,
    DeviceAuthorizationOut,
    DeviceCodeAnswer,
    DeviceCodeDevice,
    DeviceDecision,
    OAuthError,
    OAuthTokens,
    SignedInUntil,
    SignedInUntilOut,
)
from screengate.domain.device_codes import shown
from screengate.domain.devices import DeviceType
from screengate.domain.errors import DeviceFlowError, DomainError, TooManyAttempts
from screengate.domain.ids import DeviceId
from screengate.ports import Ports
from screengate.services import device_codes, temporary

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
UserCode = Annotated[str, Parameter(max_length=20)]
DevicePath = Annotated[str, Parameter(max_length=64)]
# RFC 6749 §5.1: token answers are never cached.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def verification_uri(request: Request[Any, Any, Any]) -> str:
    return str(request.base_url).rstrip("/") + "/activate"


async def _fields(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The request's parameters: a form (the RFC's), or a JSON object (our contract's too)."""
    content_type, _ = request.content_type
    if content_type == RequestEncodingType.JSON:
        try:
            body = msgspec.json.decode(await request.body())
        except msgspec.DecodeError:
            raise DeviceFlowError("invalid_request", "The body is not valid JSON") from None
        if not isinstance(body, dict):
            raise DeviceFlowError("invalid_request", "The body must be a JSON object")
        return {str(k): v for k, v in body.items() if isinstance(v, str)}
    if content_type in {RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART}:
        form = await request.form()
        return {k: v for k, v in form.items() if isinstance(v, str)}
    raise DeviceFlowError(
        "invalid_request", "Send the parameters as application/x-www-form-urlencoded"
    )


def _oauth_errors(*statuses: int) -> dict[int, ResponseSpec]:
    return {
        status: ResponseSpec(
            data_container=OAuthError,
            description="An OAuth error (RFC 6749 §5.2), not a problem+json",
            media_type="application/json",
            generate_examples=False,
        )
        for status in statuses
    }


OAUTH_ERRORS = _oauth_errors(400, 413, 429)


@post("/device_authorization", status_code=200, responses=OAUTH_ERRORS)
async def device_authorization(
    request: Request[Any, Any, Any], ports: Ports, ip: str | None
) -> Response[DeviceCodeAnswer]:
    """RFC 8628 §3.1-3.2: a code for the device to show. Form (or JSON) `client_id`, and
    optionally `device_type` and `device_name` (what the approving person is shown)."""
    fields = await _fields(request)
    try:
        device_type = DeviceType(fields.get("device_type") or DeviceType.SMART_TV.value)
    except ValueError:
        raise DeviceFlowError("invalid_request", "Unknown device_type") from None
    issued = await device_codes.request_code(
        ports,
        client_id=fields.get("client_id", ""),
        device_type=device_type,
        device_name=fields.get("device_name"),
        ip=ip,
        user_agent=request.headers.get("user-agent"),
    )
    uri = verification_uri(request)
    body = DeviceCodeAnswer(
        device_code=issued.device_code,
        user_code=issued.user_code,
        verification_uri=uri,
        verification_uri_complete=f"{uri}?code={quote(issued.user_code)}",
        expires_in=issued.expires_in,
        interval=issued.interval,
    )
    return Response(body, status_code=200, headers=NO_STORE)


@post("/token", status_code=200, responses=OAUTH_ERRORS)
async def token(
    request: Request[Any, Any, Any], ports: Ports, ip: str | None
) -> Response[OAuthTokens]:
    """RFC 8628 §3.4-3.5: the device polls with its device code; its tokens once approved."""
    fields = await _fields(request)
    if fields.get("grant_type") != DEVICE_CODE_GRANT:
        raise DeviceFlowError("unsupported_grant_type", f"Only {DEVICE_CODE_GRANT} is served")
    pair = await device_codes.collect_tokens(
        ports, fields.get("device_code", ""), fields.get("client_id"), ip
    )
    body = OAuthTokens(
        access_token=pair.access_token,
        token_type="Bearer",  # noqa: S106 - the scheme name, not a secret
        expires_in=pair.expires_in,
        refresh_token=pair.refresh_token,
        session_id=pair.session_id,
        device_id=pair.device_id,
    )
    return Response(body, status_code=200, headers=NO_STORE)


def _oauth_error(
    status: int, error: str, description: str | None, headers: dict[str, str] | None = None
) -> Response[Any]:
    body = OAuthError(error=error, error_description=description)
    return Response(body, status_code=status, headers={**NO_STORE, **(headers or {})})


def flow_error(_: Request[Any, Any, Any], error: DeviceFlowError) -> Response[Any]:
    return _oauth_error(400, error.error, error.description)


def too_many(_: Request[Any, Any, Any], error: TooManyAttempts) -> Response[Any]:
    wait = str(error.retry_after_seconds)
    return _oauth_error(429, "slow_down", error.detail, {"Retry-After": wait})


def other_error(_: Request[Any, Any, Any], error: DomainError) -> Response[Any]:
    return _oauth_error(400, "invalid_request", error.detail)


def bad_request(_: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    if error.status_code >= 500:
        return _oauth_error(error.status_code, "server_error", None)
    return _oauth_error(error.status_code, "invalid_request", str(error.detail))


oauth = Router(
    "/oauth",
    route_handlers=[device_authorization, token],
    exception_handlers={
        DeviceFlowError: flow_error,
        TooManyAttempts: too_many,
        DomainError: other_error,
        HTTPException: bad_request,
    },
    tags=["oauth"],
)


@get("/{user_code:str}", responses=problems(*AUTHED, 404, 429))
async def pending_code(
    ports: Ports, device: Device, user_code: UserCode, ip: str | None
) -> DeviceAuthorizationOut:
    """What asks to sign in with this code: the device, roughly where, and when."""
    found = await device_codes.look_up(ports, device, user_code, ip)
    return DeviceAuthorizationOut(
        user_code=shown(found.user_code),
        device=DeviceCodeDevice(type=found.device_type, name=found.device_name),
        location=found.location,
        requested_at=found.requested_at,
        expires_at=found.expires_at,
    )


@post("/{user_code:str}", status_code=200, responses=problems(*AUTHED, 404, 429))
async def decide_code(
    ports: Ports,
    device: Device,
    user_code: UserCode,
    ip: str | None,
    data: JSONBody[DeviceDecision],
) -> Response[Any]:
    """Approve (`until` a time, or for good) or deny; 204 for a denial."""
    decided = await device_codes.decide(
        ports,
        device,
        user_code,
        approve=data.decision == "approve",
        until=data.until if data.decision == "approve" else None,
        ip=ip,
    )
    if not decided.approved or decided.device_id is None:
        return Response(None, status_code=204)
    return Response(DeviceApproved(decided.device_id, decided.signed_in_until))


device_authorizations = Router(
    "/v1/device-authorizations",
    route_handlers=[pending_code, decide_code],
    dependencies=DEVICE,
    middleware=[BearerCheck],
    security=BEARER,
    tags=["devices"],
)


@post("/{device_id:str}/signed-in-until", status_code=200, responses=problems(*AUTHED, 404))
async def move_end(
    ports: Ports,
    device: Device,
    device_id: DevicePath,
    ip: str | None,
    data: JSONBody[SignedInUntil],
) -> SignedInUntilOut:
    """Extend (or shorten) a temporary sign-in."""
    until = await temporary.change_signed_in_until(
        ports, device, DeviceId(device_id), data.until, ip
    )
    return SignedInUntilOut(device_id=device_id, signed_in_until=until)


@post("/{device_id:str}/end-temporary-sign-in", status_code=204, responses=problems(*AUTHED, 404))
async def end_now(ports: Ports, device: Device, device_id: DevicePath, ip: str | None) -> None:
    """End a temporary sign-in now: that device is signed out (temporary_access_ended)."""
    await temporary.end_temporary_sign_in(ports, device, DeviceId(device_id), ip)


temporary_sign_ins = Router(
    "/v1/devices",
    route_handlers=[move_end, end_now],
    dependencies=DEVICE,
    middleware=[BearerCheck],
    security=BEARER,
    tags=["devices"],
)
