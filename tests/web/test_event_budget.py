"""The pages' event streams share their address's budget with the API's (GET /v1/events)."""

from __future__ import annotations

import httpx

from tests.support.api import sign_up
from tests.support.live_server import live_server
from tests.web.conftest import web_settings
from tests.web.test_pages import sign_in_web


def test_a_page_stream_past_the_addresss_budget_is_refused_with_429(
    database_url: str, api: httpx.Client
) -> None:
    account = sign_up(api)
    settings = web_settings(database_url, event_streams_per_address=2)
    with live_server(settings) as server, httpx.Client(base_url=server.base_url) as browser:
        sign_in_web(browser, account)
        cookies = dict(browser.cookies.items())
        clients = [
            httpx.Client(base_url=server.base_url, cookies=cookies, timeout=10) for _ in range(3)
        ]
        try:
            with (
                clients[0].stream("GET", "/events") as first,
                clients[1].stream("GET", "/events") as second,
            ):
                assert (first.status_code, second.status_code) == (200, 200)
                refused = clients[2].get("/events", headers={"accept": "text/event-stream"})
                assert refused.status_code == 429
                assert int(refused.headers["retry-after"]) > 0
                assert "Too many event streams" in refused.text
        finally:
            for client in clients:
                client.close()
