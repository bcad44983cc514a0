"""The one place errors become HTTP: RFC 9457 problem+json with a stable `code`."""

from __future__ import annotations

import re
from typing import Any

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from screengate.api.schemas import Problem
from screengate.domain import errors

log = structlog.get_logger("screengate.api")

PROBLEM_JSON = "application/problem+json"

STATUS: dict[type[errors.DomainError], int] = {
    errors.EmailTaken: 409,
    errors.WeakPassword: 422,
    errors.InvalidEmail: 422,
    errors.UnknownPlan: 422,
    errors.InvalidCredentials: 401,
    errors.TooManyAttempts: 429,
    errors.ServerBusy: 503,
    errors.InvalidToken: 401,
    errors.TokenExpired: 401,
    errors.SignedOut: 401,
    errors.WrongPassword: 403,
    errors.InvalidLink: 400,
    errors.PasswordResetRequired: 403,
    errors.DeviceNotFound: 404,
    errors.DeviceLimit: 409,
    errors.ProfileNotFound: 404,
    errors.ProfileLimit: 409,
    errors.ProfileNameTaken: 409,
    errors.LastProfile: 409,
    errors.InvalidProfile: 422,
    errors.AccountNotFound: 404,
    errors.TitleNotFound: 404,
    errors.NotForKids: 403,
    errors.ProfileLocked: 403,
    errors.TooManyPinAttempts: 429,
    errors.TooManyEventStreams: 429,
    errors.TooManyStreams: 409,
    errors.StreamNotFound: 404,
    errors.StreamEnded: 410,
    errors.DownloadDeviceLimit: 409,
    errors.DeviceDownloadLimit: 409,
    errors.DownloadNotFound: 404,
    errors.InvalidCode: 400,
    errors.WrongSecondFactor: 401,
    errors.SecondFactorRequired: 401,
    errors.InvalidChallenge: 401,
    errors.ReauthRequired: 403,
    errors.TwoStepAlreadyOn: 409,
    errors.TwoStepOff: 409,
    errors.NoPendingEnrolment: 409,
    errors.PasskeyNotFound: 404,
    errors.InvalidPasskey: 400,
    errors.CodeNotFound: 404,
    errors.InvalidUntil: 422,
    errors.DeviceFlowError: 400,
}

_HTTP_CODES = {
    400: ("malformed_body", "The request body is not valid JSON"),
    401: ("invalid_token", "Authentication is required"),
    403: ("forbidden", "Not allowed"),
    404: ("not_found", "Nothing here"),
    405: ("method_not_allowed", "That method is not allowed here"),
    408: ("body_timeout", "The request body did not arrive in time"),
    413: ("body_too_large", "The request body is too large"),
    415: ("unsupported_media_type", "Send the body as application/json"),
    429: ("too_many_requests", "Too many requests"),
}


def problem(
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    *,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[bytes]:
    body = msgspec.to_builtins(
        Problem(
            type=f"urn:screengate:problem:{code}",
            title=title,
            status=status,
            code=code,
            detail=detail,
        )
    )
    body.update(extra or {})
    return Response(
        content=msgspec.json.encode(body),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def status_of(error: errors.DomainError) -> int:
    for cls in type(error).__mro__:
        status = STATUS.get(cls)
        if status is not None:
            return status
    return 400


def retry_after(error: errors.DomainError) -> dict[str, str]:
    """The Retry-After header of a refusal that only time lifts (the pages send it too)."""
    if isinstance(
        error,
        errors.TooManyAttempts
        | errors.TooManyPinAttempts
        | errors.TooManyEventStreams
        | errors.ServerBusy,
    ):
        return {"Retry-After": str(error.retry_after_seconds)}
    return {}


def domain_error(_: Request[Any, Any, Any], error: errors.DomainError) -> Response[bytes]:
    status = status_of(error)
    headers: dict[str, str] = retry_after(error)
    if status == 401:
        headers["WWW-Authenticate"] = (
            f'Bearer error="invalid_token", error_description="{error.code}"'
        )
    extra = dict(error.extra)
    if "field" in extra and error.code in {"weak_password", "invalid_email", "invalid_profile"}:
        extra["errors"] = [{"field": str(extra["field"]), "message": error.detail}]
    return problem(status, error.code, error.title, error.detail, extra=extra, headers=headers)


def http_error(_: Request[Any, Any, Any], error: HTTPException) -> Response[bytes]:
    if isinstance(error, ValidationException) and isinstance(error.extra, list) and error.extra:
        fields = [_field_error(item) for item in error.extra if isinstance(item, dict)]
        return problem(
            422,
            "validation_error",
            "Some fields are missing or not valid",
            "; ".join(f"{f['field']}: {f['message']}" for f in fields),
            extra={"errors": fields},
        )
    code, title = _HTTP_CODES.get(error.status_code, (f"http_{error.status_code}", "Error"))
    return problem(error.status_code, code, title, None, headers=error.headers or None)


# msgspec names a missing or unknown field only in its message, and Litestar's key is then the
# object holding it ("data" for the body itself).
_NAMED_FIELD = re.compile(r"^Object (?:missing required|contains unknown) field `([^`]+)`")


def _field_error(item: dict[str, Any]) -> dict[str, str]:
    key, message = str(item.get("key", "data")), str(item.get("message", ""))
    if message == "'data'":  # no body at all where one is required
        return {"field": "body", "message": "A JSON body is required"}
    named = _NAMED_FIELD.match(message)
    if named:
        key = named.group(1) if key == "data" else f"{key}.{named.group(1)}"
    return {"field": "body" if key == "data" else key, "message": message}


def unavailable(request: Request[Any, Any, Any], error: Exception) -> Response[bytes]:
    # A store or Redis that cannot be reached: nothing was half-done (the unit of work rolled
    # back), and trying again shortly is the right thing for the client to do.
    log.warning("dependency_unavailable", path=request.url.path, error_type=type(error).__name__)
    return problem(
        503,
        "service_unavailable",
        "The service is briefly unavailable",
        "Try again in a moment.",
        headers={"Retry-After": "2"},
    )


def busy(request: Request[Any, Any, Any], _: PoolTimeout) -> Response[bytes]:
    # Every database connection stayed taken for the pool's whole timeout: the request gave up
    # before writing anything (it never had a connection). The same answer as a full hashing
    # queue: 503 server_busy with Retry-After.
    log.warning("server_busy", path=request.url.path, waited_for="database connection")
    return domain_error(request, errors.ServerBusy(1))


def internal_error(request: Request[Any, Any, Any], error: Exception) -> Response[bytes]:
    # Never echo the exception: it may hold request data. The log line has the type and path.
    log.error(
        "unhandled_error", path=request.url.path, error_type=type(error).__name__, exc_info=error
    )
    return problem(500, "internal_error", "Something went wrong on our side")


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    errors.DomainError: domain_error,
    HTTPException: http_error,
    RedisConnectionError: unavailable,
    RedisTimeoutError: unavailable,
    PoolTimeout: busy,
    OperationalError: unavailable,
    InterfaceError: unavailable,
    ConnectionError: unavailable,
    TimeoutError: unavailable,
    Exception: internal_error,
}
