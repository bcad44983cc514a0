"""Liveness, readiness and a bare endpoint the benchmarks compare against."""

from __future__ import annotations

import hmac
from typing import Any, cast

from litestar import Response, get
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers import BaseRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.plugins.prometheus import PrometheusController

from screengate.api.problems import PROBLEM_JSON, problem
from screengate.api.schemas import Problem
from screengate.domain.ids import AccountId
from screengate.ports import Ports


@get("/healthz", tags=["operations"])
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


_NOT_READY = {
    503: ResponseSpec(
        data_container=Problem,
        description="The store cannot be reached (`store_unavailable`)",
        media_type=PROBLEM_JSON,
        generate_examples=False,
    )
}


# One answer type, so OpenAPI documents the 200 body (a union with bytes documented nothing).
@get("/readyz", tags=["operations"], responses=_NOT_READY)
async def readyz(ports: Ports) -> Response[dict[str, str]]:
    try:
        async with ports.reader() as uow:
            await uow.accounts.get(_PROBE)
    except Exception:  # any failure of the store means not ready; say so, don't crash
        unavailable = problem(503, "store_unavailable", "The store cannot be reached")
        return cast("Response[dict[str, str]]", unavailable)
    bus_up = ports.bus.connected
    return Response(
        {
            # Degraded still serves, safely: every credential check then reads the store.
            "status": "ready" if bus_up else "degraded",
            "store": "ok",
            "bus": ports.bus.name + ("" if bus_up else " (disconnected)"),
            "revocation_checks": "cache kept current by the bus"
            if ports.revocations.caching
            else "store on every request",
        }
    )


_PROBE = AccountId("00000000-0000-0000-0000-000000000000")


def metrics_bearer(
    connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler
) -> None:
    """Only a scraper with SCREENGATE_METRICS_TOKEN reads /metrics: request counts by route
    and status tell an outsider how busy the service is and what fails."""
    expected: str | None = connection.app.state.settings.metrics_token
    scheme, _, given = connection.headers.get("authorization", "").partition(" ")
    if (
        expected is None
        or scheme.lower() != "bearer"
        or not hmac.compare_digest(given.strip().encode(), expected.encode())
    ):
        raise NotAuthorizedException(headers={"WWW-Authenticate": 'Bearer realm="metrics"'})


class Metrics(PrometheusController):
    """Prometheus text at /metrics, when a token is set; OpenAPI would call it JSON, so it
    stays out of /docs."""

    include_in_schema = False
    guards = [metrics_bearer]
