"""create_app(settings): adapters into services, services into the API. Nothing at import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import NotFoundException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.prometheus import PrometheusConfig

from screengate import housekeeping, web
from screengate.api import (
    account,
    auth,
    device_codes,
    devices,
    downloads,
    events,
    health,
    passkeys,
    profiles,
    recovery,
    streams,
    two_step,
)
from screengate.api.deps import client_ip, ports_of, resolve_in_turn
from screengate.api.problems import EXCEPTION_HANDLERS
from screengate.api.swagger import OfflineSwagger
from screengate.config import Settings
from screengate.gate import ActingDevice, BodyDeadline, BodyRequest
from screengate.headers import DocsPolicy, secure_headers
from screengate.logs import configure_logging
from screengate.ports import Clock
from screengate.web.deps import WebKeys
from screengate.wiring import open_ports, web_secret

VERSION = "0.1.0"


def create_app(settings: Settings, *, clock: Clock | None = None) -> Litestar:
    configure_logging(settings)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with open_ports(settings, clock=clock, send_mail=True) as ports:
            app.state.ports = ports
            # Before the first request: the pages sign with it (it may live in the database).
            app.state.web_keys = WebKeys((await web_secret(settings, ports.clock)).encode())
            async with housekeeping.running(ports, housekeeping.chores(settings)):
                yield

    metrics = PrometheusConfig(
        app_name="screengate",
        prefix="screengate",
        group_path=True,
        # Event streams last hours: as request durations they would only skew the histograms.
        exclude=["/metrics", "/v1/events", "/events", "/tv/events"],
    )
    app = Litestar(
        route_handlers=[
            health.healthz,
            health.readyz,
            auth.router,
            recovery.router,
            recovery.email_router,
            account.router,
            two_step.router,
            passkeys.router,
            devices.router,
            device_codes.temporary_sign_ins,
            device_codes.device_authorizations,
            device_codes.oauth,
            profiles.router,
            streams.router,
            downloads.router,
            downloads.titles,
            events.events,
            *([health.Metrics] if settings.metrics_token else []),
            *web.routers(),
        ],
        template_config=web.template_config(),
        lifespan=[lifespan],
        dependencies={
            "ports": Provide(ports_of, sync_to_thread=False),
            "ip": Provide(client_ip, sync_to_thread=False),
        },
        # An address no route answers is a page for a browser, a problem for the API.
        exception_handlers={**EXCEPTION_HANDLERS, NotFoundException: web.not_found_anywhere},
        # Outside both edges: every request's record of its device, and its body's deadline.
        # Metrics are counted only when someone may read them (SCREENGATE_METRICS_TOKEN).
        middleware=[
            *([metrics.middleware] if settings.metrics_token else []),
            ActingDevice,
            BodyDeadline,
        ],
        before_send=[secure_headers],
        openapi_config=OpenAPIConfig(
            title="screengate",
            version=VERSION,
            description="Account access for a streaming platform: plans, profiles, devices, "
            "and every way to sign out.",
            path="/docs",
            # Its own router, for the docs page's own Content-Security-Policy (headers.py).
            openapi_router=Router(
                "/docs", route_handlers=[], middleware=[DocsPolicy], include_in_schema=False
            ),
            render_plugins=[OfflineSwagger(), JsonRenderPlugin()],
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="opaque")
                }
            ),
        ),
        request_max_body_size=settings.max_body_bytes,
        request_class=BodyRequest,
        state=State({"settings": settings, "trusted_proxies": frozenset(settings.trusted_proxies)}),
        debug=False,
        logging_config=None,
    )
    resolve_in_turn(app)
    return app


def from_env() -> Litestar:
    """The factory servers load: `granian --factory screengate.app:from_env`."""
    return create_app(Settings())
