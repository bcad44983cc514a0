"""The bearer check in front of the routes (api/bearer.py): what it answers, and in what order."""

from __future__ import annotations

from datetime import timedelta

import httpx
from litestar.routes import HTTPRoute

from screengate.app import create_app
from screengate.domain.ids import SessionId
from screengate.domain.sessions import Session
from screengate.ports import Ports
from tests.api.conftest import StartServer, settings_for
from tests.support.api import assert_problem, sign_in, sign_up


def test_a_preflight_needs_no_credential(client: httpx.Client) -> None:
    answer = client.options("/v1/account")

    assert answer.status_code == 204
    assert "GET" in answer.headers["allow"]


def test_a_body_that_is_not_json_is_named_before_the_missing_credential(
    client: httpx.Client,
) -> None:
    not_json = client.post(
        "/v1/streams", content=b"{not json", headers={"content-type": "application/json"}
    )
    invalid = client.post("/v1/streams", json={"profile_id": 5})

    assert_problem(not_json, 400, "malformed_body")
    assert_problem(invalid, 401, "invalid_token")


def test_the_session_records_the_address_a_trusted_proxy_forwards(
    start_server: StartServer,
) -> None:
    server, client = start_server(trusted_proxies=["127.0.0.1"])
    device = sign_in(client, sign_up(client))
    server.clock.advance(timedelta(minutes=2))  # past the once-a-minute contact bookkeeping

    answer = client.get(
        "/v1/auth/session", headers={**device.auth, "X-Forwarded-For": "203.0.113.7, 127.0.0.1"}
    )

    assert answer.status_code == 200
    session = server.run(_session(server.ports, SessionId(device.session_id)))
    assert session is not None
    assert (session.ip, session.last_seen_at) == ("203.0.113.7", server.clock.now())


def test_no_route_starts_a_task_group_for_its_sync_dependencies() -> None:
    app = create_app(settings_for("memory://"))

    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler, model in route.route_handler_map.values():
            for batch in model.dependency_batches:
                assert len(batch) == 1 or any(not d.provide.has_sync_callable for d in batch), (
                    f"{route.path} {handler.handler_name}: {sorted(d.key for d in batch)}"
                )


async def _session(ports: Ports, session_id: SessionId) -> Session | None:
    async with ports.reader() as uow:
        return await uow.sessions.get(session_id)
