""" "Confirm it's you" on the pages: asked in place of the page that needed it, then the
interrupted form is sent on (web/two_step.py's confirm_identity)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response

from screengate.domain.errors import ReauthRequired
from screengate.web.forms import FormErrors, submitted_form
from screengate.web.render import page

# Fields a confirmation never sends on: its own. The CSRF token goes afresh with its form.
NOT_SENT_ON = {"reauth_password", "reauth_code", "then", "then_method", "methods"}


def confirm_page(
    request: Request[Any, Any, Any],
    then: str,
    fields: dict[str, str],
    methods: list[str],
    errors: FormErrors | None = None,
    status: int = 403,
) -> Response[Any]:
    return page(
        request,
        "confirm.html",
        status=status,
        then=then,
        then_method="POST" if fields or request.method == "POST" else "GET",
        fields=fields,
        methods=methods,
        errors=errors or FormErrors(),
    )


def asked_to_confirm(request: Request[Any, Any, Any], error: ReauthRequired) -> Response[Any]:
    """The error mapping's answer to ReauthRequired: the question, carrying the form."""
    methods = [str(m) for m in error.extra.get("methods", ["password"])]
    form = submitted_form(request)
    then = request.url.path
    if request.method != "POST":
        return confirm_page(request, then, {}, methods)
    return confirm_page(request, then, sent_on(form), methods)


def sent_on(form: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in form.items() if k not in NOT_SENT_ON and not k.startswith("_")}
