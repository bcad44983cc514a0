"""The pages' one error mapping: signed out -> the sign-in screen with the reason, else a page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import structlog
from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.exceptions import HTTPException, NotFoundException, PermissionDeniedException
from litestar.response import Redirect
from litestar.types import ExceptionHandlersMap
from sqlalchemy.exc import TimeoutError as PoolTimeout

from screengate.api.problems import http_error as http_problem
from screengate.api.problems import retry_after, status_of
from screengate.domain.errors import (
    DomainError,
    InvalidToken,
    ReauthRequired,
    ServerBusy,
    SignedOut,
)
from screengate.web.confirm import asked_to_confirm
from screengate.web.cookies import cleared_cookies
from screengate.web.deps import GrownUpNeeded
from screengate.web.forms import local_path
from screengate.web.render import page
from screengate.web.session import NotSignedIn
from screengate.web.surfaces import TV, WEB, Surface

log = structlog.get_logger("screengate.web")


def wants_json(request: Request[Any, Any, Any]) -> bool:
    return "application/json" in request.headers.get("accept", "")


def is_htmx(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get("hx-request") == "true"


def go_to(
    request: Request[Any, Any, Any], url: str, cookies: list[Cookie] | None = None
) -> Response[Any]:
    """Send the browser to `url`: a 303 after a form, or an HX-Redirect for an htmx request."""
    # Every caller means a page of this site; one built from request input cannot leave it.
    url = local_path(url, "/")
    if is_htmx(request):
        return Response(b"", status_code=200, headers={"HX-Redirect": url}, cookies=cookies)
    return Redirect(url, status_code=303, cookies=cookies)


def sign_in_again(
    request: Request[Any, Any, Any], surface: Surface, *, reason: str | None, detail: str | None
) -> Response[Any]:
    query: dict[str, str] = {}
    if reason:
        query["reason"] = reason
    elif request.method == "GET" and request.url.path != surface.home_url:
        query["next"] = request.url.path
    url = surface.sign_in_url + (f"?{urlencode(query)}" if query else "")
    cookies = cleared_cookies(surface)
    if wants_json(request):
        body = {
            "code": "signed_out" if reason else "not_signed_in",
            "reason": reason,
            "detail": detail,
            "location": url,
        }
        return Response(body, status_code=401, cookies=cookies)
    return go_to(request, url, cookies)


def handlers_for(surface: Surface) -> ExceptionHandlersMap:
    def signed_out(request: Request[Any, Any, Any], error: SignedOut) -> Response[Any]:
        return sign_in_again(request, surface, reason=error.reason, detail=error.detail)

    def not_signed_in(request: Request[Any, Any, Any], _: Exception) -> Response[Any]:
        return sign_in_again(request, surface, reason=None, detail=None)

    def domain_error(request: Request[Any, Any, Any], error: DomainError) -> Response[Any]:
        status = status_of(error)
        if wants_json(request):
            body = {"code": error.code, "detail": error.detail, **_plain(error.extra)}
            return Response(body, status_code=status, headers=retry_after(error))
        response = error_page(request, surface, status, error.title, error.detail)
        response.headers.update(retry_after(error))
        return response

    def reauth_required(request: Request[Any, Any, Any], error: ReauthRequired) -> Response[Any]:
        if wants_json(request) or surface is TV:
            return domain_error(request, error)
        return asked_to_confirm(request, error)

    def forbidden(
        request: Request[Any, Any, Any], error: PermissionDeniedException
    ) -> Response[Any]:
        # The only 403 the pages raise as an exception is the CSRF check's (web/csrf.py).
        response = error_page(
            request,
            surface,
            403,
            "This form has expired",
            "For your safety, forms work for one visit. "
            "Go back, reload the page and send it again.",
        )
        # A signed-out browser's key goes too: the reload makes a fresh one.
        response.delete_cookie(surface.csrf_cookie, path=surface.cookie_path)
        return response

    def grown_up_needed(request: Request[Any, Any, Any], error: GrownUpNeeded) -> Response[Any]:
        if is_htmx(request):  # htmx swaps no 403: the whole page goes to say why
            return go_to(request, "/account")
        return page(request, "grown_up.html", status=403, profile=error.profile)

    def not_found(request: Request[Any, Any, Any], _: NotFoundException) -> Response[Any]:
        return _page_not_found(request, surface)

    def http_error(request: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
        response = error_page(
            request, surface, error.status_code, "That did not work", str(error.detail)
        )
        response.headers.update(error.headers or {})  # a 408's Connection: close, say
        return response

    def busy(request: Request[Any, Any, Any], _: PoolTimeout) -> Response[Any]:
        # Every database connection stayed taken for the pool's timeout: nothing was written.
        log.warning("server_busy", path=request.url.path, waited_for="database connection")
        return domain_error(request, ServerBusy(1))

    def internal(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
        log.error(
            "web_error", path=request.url.path, error_type=type(error).__name__, exc_info=error
        )
        return error_page(
            request,
            surface,
            500,
            "Something went wrong on our side",
            "Please try again in a moment.",
        )

    return {
        SignedOut: signed_out,
        NotSignedIn: not_signed_in,
        GrownUpNeeded: grown_up_needed,
        ReauthRequired: reauth_required,
        InvalidToken: not_signed_in,
        DomainError: domain_error,
        PermissionDeniedException: forbidden,
        NotFoundException: not_found,
        HTTPException: http_error,
        PoolTimeout: busy,
        Exception: internal,
    }


def not_found_anywhere(request: Request[Any, Any, Any], error: NotFoundException) -> Response[Any]:
    """An address no route answers: a browser gets the website's or the TV's own page; the API's
    clients, and anyone who asks for JSON, the problem with its code (api/problems.py)."""
    if not _is_page_request(request):
        return http_problem(request, error)
    path = request.url.path
    surface = TV if path == TV.home_url or path.startswith(TV.home_url + "/") else WEB
    return _page_not_found(request, surface)


def _is_page_request(request: Request[Any, Any, Any]) -> bool:
    path = request.url.path
    if path == "/v1" or path.startswith("/v1/"):
        return False
    return "text/html" in request.headers.get("accept", "") and not wants_json(request)


def _page_not_found(request: Request[Any, Any, Any], surface: Surface) -> Response[Any]:
    return error_page(request, surface, 404, "Page not found", "There is nothing at this address.")


def error_page(
    request: Request[Any, Any, Any], surface: Surface, status: int, title: str, detail: str
) -> Response[Any]:
    """The surface's own error screen: what went wrong, and the way back to the start."""
    return page(request, surface.template("error.html"), status=status, title=title, detail=detail)


def _plain(extra: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in extra.items() if isinstance(v, str | int | bool | list | None)}
