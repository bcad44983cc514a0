"""Liveness, readiness and a bare endpoint the benchmarks compare against."""

from __future__ import annotations

from litestar import Response, get

from screengate.api.problems import problem
from screengate.domain.ids import AccountId
from screengate.ports import Ports


@get("/healthz", tags=["operations"])
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get("/readyz", tags=["operations"])
async def readyz(ports: Ports) -> Response[bytes] | dict[str, str]:
    try:
        async with ports.uow() as uow:
            await uow.accounts.get(_PROBE)
    except Exception:  # any failure of the store means not ready; say so, don't crash
        return problem(503, "store_unavailable", "The store cannot be reached")
    return {"status": "ready", "store": "ok", "bus": type(ports.bus).__name__}


_PROBE = AccountId("00000000-0000-0000-0000-000000000000")
