"""Who passkeys are for: the operator's origin (SCREENGATE_PASSKEY_ORIGIN), or else the one
the request arrived on. Shared by the API and the pages."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar import Request

from screengate.domain.two_step import RelyingParty


def relying_party(request: Request[Any, Any, Any]) -> RelyingParty:
    configured: str | None = request.app.state.settings.passkey_origin
    origin = configured or f"{request.url.scheme}://{request.url.netloc}"
    host = urlsplit(origin).hostname or "localhost"
    return RelyingParty(id=host, origin=origin.rstrip("/"))
