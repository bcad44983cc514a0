"""Dependencies the routes share: the ports, the client address, the device making the call."""

from __future__ import annotations

import ipaddress
from typing import Any, cast

from litestar import Request
from litestar.datastructures import State

from screengate.domain.errors import InvalidToken
from screengate.domain.sessions import Principal
from screengate.ports import Ports
from screengate.services.auth import authenticate


def ports_of(state: State) -> Ports:
    return cast("Ports", state.ports)


def client_ip(request: Request[Any, Any, Any]) -> str | None:
    """The caller's address; X-Forwarded-For only when the hop before us is a trusted proxy."""
    peer = request.client.host if request.client else None
    trusted: frozenset[str] = request.app.state.trusted_proxies
    if peer in trusted:
        forwarded = request.headers.get("x-forwarded-for", "")
        for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
            if hop not in trusted and _is_ip(hop):
                return hop
    return peer


async def current_device(request: Request[Any, Any, Any], ports: Ports) -> Principal:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 512:
        raise InvalidToken("Send the access token as 'Authorization: Bearer <token>'.")
    return await authenticate(ports, token, client_ip(request))


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
