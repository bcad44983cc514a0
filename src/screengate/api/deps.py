"""Dependencies the routes share: the ports and the client address (the device making the
call is api/bearer.py's)."""

from __future__ import annotations

import ipaddress
from typing import Any, cast

from litestar import Litestar, Request
from litestar._kwargs.dependencies import DependencyContainer
from litestar.datastructures import State
from litestar.routes import HTTPRoute
from litestar.types import Scope

from screengate.ports import Ports


def ports_of(state: State) -> Ports:
    return cast("Ports", state.ports)


def client_ip(request: Request[Any, Any, Any]) -> str | None:
    """The caller's address; X-Forwarded-For only when the hop before us is a trusted proxy."""
    return client_ip_of(request.scope)


def client_ip_of(scope: Scope) -> str | None:
    """client_ip() from the ASGI scope itself, for what runs before a Request exists."""
    client = scope.get("client")
    peer = client[0] if client else None
    trusted: frozenset[str] = scope["litestar_app"].state.trusted_proxies
    if peer in trusted:
        forwarded = header(scope, b"x-forwarded-for") or ""
        for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
            if hop not in trusted and _is_ip(hop):
                return hop
    return peer


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of header `name` (lower case), as Litestar's Headers.get reads it."""
    for key, value in scope["headers"]:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def resolve_in_turn(app: Litestar) -> int:
    """Resolve each route's independent sync dependencies one after another.

    Litestar starts an anyio task group per request for every set of dependencies that do not
    depend on each other (`ports` and `device`, `ports` and `ip`): ~45 µs a request, several
    times the bearer check (litestar-org/litestar#4563). A sync provider never awaits, so
    running such a set in turn gives the same values in less time; sets with an async or
    thread-pool provider keep their task group. Returns how many routes changed.
    """
    changed = 0
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for _, model in route.route_handler_map.values():
            batches = model.dependency_batches
            in_turn = [
                part
                for batch in batches
                for part in ([{d} for d in batch] if _sync(batch) else [batch])
            ]
            if len(in_turn) != len(batches):
                model.dependency_batches = in_turn
                changed += 1
    return changed


def _sync(batch: set[DependencyContainer]) -> bool:
    return all(
        d.provide.has_sync_callable
        and not d.provide.has_sync_generator_dependency
        and not d.provide.has_async_generator_dependency
        for d in batch
    )
