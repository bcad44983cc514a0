"""Growth: an account's devices are bounded (409 device_limit), the device list comes a page at
a time (limit, cursor, Link rel="next"), and sessions that ended long ago are pruned, by the
server's own housekeeping and on demand."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
import pytest

from screengate.domain.ids import AccountId
from screengate.services.sessions import prune_ended_sessions
from tests.api.conftest import StartServer, api_client, settings_for
from tests.support.api import (
    PASSWORD,
    Account,
    Device,
    account_with_devices,
    assert_problem,
    assert_signed_in,
    refresh,
    sign_in,
    sign_up,
)
from tests.support.clock import FrozenClock
from tests.support.live_server import LiveServer, live_server

LIMIT = 3


@pytest.fixture(scope="module")
def limited(database_url: str) -> Iterator[tuple[LiveServer, httpx.Client]]:
    """A server of this module's store where accounts may hold LIMIT devices, sessions stay
    live for a year idle, and housekeeping waits to be asked."""
    settings = settings_for(
        database_url,
        max_devices_per_account=LIMIT,
        session_idle_days=365,
        housekeeping_interval_seconds=0,
    )
    with live_server(settings, FrozenClock()) as running, api_client(running.base_url) as http:
        yield running, http


def a_sign_in(client: httpx.Client, account: Account, **device: Any) -> httpx.Response:
    return client.post(
        "/v1/auth/sign-in",
        json={
            "email": account.email,
            "password": account.password,
            "device": {"type": "phone", **device},
        },
    )


def listed(client: httpx.Client, device: Device, **params: Any) -> list[str]:
    answer = client.get("/v1/devices", params=params, headers=device.auth)
    assert answer.status_code == 200, answer.text
    return [d["device_id"] for d in answer.json()]


# The device limit


def test_signing_in_on_one_device_more_than_the_limit_is_refused_and_writes_nothing(
    limited: tuple[LiveServer, httpx.Client],
) -> None:
    server, client = limited
    account = account_with_devices(client, LIMIT)
    before = listed(client, account.devices[0])
    stored = server.run(_devices_of(server, account))

    refused = a_sign_in(client, account)

    problem = assert_problem(refused, 409, "device_limit")
    assert problem["limit"] == LIMIT
    assert "Manage access and devices" in problem["detail"]
    assert listed(client, account.devices[0]) == before
    # Not even a device row without a session: the refusal rolled the sign-in back whole.
    assert server.run(_devices_of(server, account)) == stored
    for device in account.devices:
        assert_signed_in(client, device)


def test_a_device_signing_in_again_keeps_its_place_under_the_limit(
    limited: tuple[LiveServer, httpx.Client],
) -> None:
    _, client = limited
    account = account_with_devices(client, LIMIT)
    tv = account.devices[0]

    again = a_sign_in(
        client,
        account,
        type=tv.type,
        device_id=tv.device_id,
        device_secret=tv.device_secret,
    )

    assert again.status_code == 201, again.text
    assert again.json()["device_id"] == tv.device_id


def test_signing_a_device_out_makes_room_for_another(
    limited: tuple[LiveServer, httpx.Client],
) -> None:
    _, client = limited
    account = account_with_devices(client, LIMIT)
    keeper, gone = account.devices[0], account.devices[1]
    assert_problem(a_sign_in(client, account), 409, "device_limit")

    signed_out = client.post(f"/v1/devices/{gone.device_id}/sign-out", headers=keeper.auth)
    assert signed_out.status_code == 200

    assert a_sign_in(client, account).status_code == 201


def test_sign_ins_in_parallel_never_pass_the_limit(
    limited: tuple[LiveServer, httpx.Client],
) -> None:
    _, client = limited
    account = sign_up(client)
    attempts = 8

    with ThreadPoolExecutor(attempts) as pool:
        answers = list(pool.map(lambda _: a_sign_in(client, account), range(attempts)))

    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] * LIMIT + [409] * (attempts - LIMIT)
    token = next(a.json()["access_token"] for a in answers if a.status_code == 201)
    answer = client.get("/v1/devices", headers={"Authorization": f"Bearer {token}"})
    assert len(answer.json()) == LIMIT


# Pages of devices


def test_the_device_list_comes_a_page_at_a_time_following_link_next(
    client: httpx.Client,
) -> None:
    account = account_with_devices(client, 5)
    me = account.devices[-1]
    everything = listed(client, me)

    seen: list[str] = []
    url: str | None = "/v1/devices?limit=2"
    pages = 0
    while url is not None and pages < 10:
        answer = client.get(url, headers=me.auth)
        assert answer.status_code == 200
        assert len(answer.json()) <= 2
        seen += [d["device_id"] for d in answer.json()]
        url = answer.links.get("next", {}).get("url")
        pages += 1

    assert pages == 3
    assert seen == everything
    assert seen[0] == me.device_id  # the current device first, as on one page
    assert len(set(seen)) == 5


def test_a_page_that_holds_everything_has_no_next_link(client: httpx.Client) -> None:
    account = account_with_devices(client, 2)

    answer = client.get("/v1/devices", params={"limit": 2}, headers=account.devices[0].auth)

    assert len(answer.json()) == 2
    assert "link" not in answer.headers


def test_signed_out_devices_follow_the_signed_in_ones_across_pages(
    client: httpx.Client,
) -> None:
    account = account_with_devices(client, 4)
    me = account.devices[0]
    for gone in account.devices[2:]:
        client.post(f"/v1/devices/{gone.device_id}/sign-out", headers=me.auth)
    whole = client.get("/v1/devices", params={"include_signed_out": "true"}, headers=me.auth)

    seen: list[dict[str, Any]] = []
    url: str | None = "/v1/devices?limit=1&include_signed_out=true"
    while url is not None and len(seen) < 10:
        answer = client.get(url, headers=me.auth)
        seen += answer.json()
        url = answer.links.get("next", {}).get("url")

    assert seen == whole.json()
    assert [d["signed_out"] is None for d in seen] == [True, True, False, False]


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 101}, {"cursor": -1}, {"cursor": 2**63}, {"limit": "all"}],
)
def test_a_page_size_or_cursor_out_of_range_is_refused(
    client: httpx.Client, params: dict[str, Any]
) -> None:
    device = account_with_devices(client, 1).devices[0]

    answer = client.get("/v1/devices", params=params, headers=device.auth)

    assert_problem(answer, 422, "validation_error")


def test_a_cursor_past_the_end_is_an_empty_page(client: httpx.Client) -> None:
    device = account_with_devices(client, 1).devices[0]

    answer = client.get("/v1/devices", params={"cursor": 50}, headers=device.auth)

    assert answer.json() == []
    assert "link" not in answer.headers


# Pruning


def test_sessions_ended_long_ago_are_pruned_and_recent_and_live_ones_kept(
    limited: tuple[LiveServer, httpx.Client],
) -> None:
    server, client = limited
    account = account_with_devices(client, 3)
    me, old, idle = account.devices
    client.post(f"/v1/devices/{old.device_id}/sign-out", headers=me.auth)
    server.clock.advance(timedelta(days=89))
    assert refresh(client, me).status_code == 200
    server.run(prune_ended_sessions(server.ports))
    assert old.device_id in server.run(_devices_of(server, account))

    server.clock.advance(timedelta(days=2))
    assert refresh(client, me).status_code == 200
    pruned = server.run(prune_ended_sessions(server.ports))

    # Other tests' accounts share this store: of this one's, only the old device went.
    assert pruned.sessions >= 1
    assert pruned.devices >= 1
    assert set(server.run(_devices_of(server, account))) == {me.device_id, idle.device_id}
    # Signed in still (idle, not yet lapsed), and the old one gone from the 30-day history.
    assert listed(client, me, include_signed_out="true") == [me.device_id, idle.device_id]
    replayed = client.post("/v1/auth/refresh", json={"refresh_token": old.refresh_token})
    assert_problem(replayed, 401, "invalid_token")


def test_the_servers_housekeeping_prunes_on_its_own(start_server: StartServer) -> None:
    server, client = start_server(housekeeping_interval_seconds=0.2, session_idle_days=365)
    account = account_with_devices(client, 2)
    me, old = account.devices
    client.post(f"/v1/devices/{old.device_id}/sign-out", headers=me.auth)
    assert listed(client, me, include_signed_out="true") == [me.device_id, old.device_id]
    server.clock.advance(timedelta(days=91))
    assert refresh(client, me).status_code == 200

    def pruned() -> bool:
        return server.run(_devices_of(server, account)) == [me.device_id]

    deadline = time.monotonic() + 10
    while not pruned() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert pruned()
    assert_signed_in(client, me)


async def _devices_of(server: LiveServer, account: Account) -> list[str]:
    """Every device the store holds for the account, signed in or not."""
    async with server.ports.reader() as uow:
        devices = await uow.devices.for_account(AccountId(account.account_id))
    return [d.id for d in devices]


def test_a_device_whose_sessions_were_pruned_signs_in_as_a_new_device(
    limited: tuple[LiveServer, httpx.Client],
) -> None:
    server, client = limited
    account = account_with_devices(client, 1)
    (tv,) = account.devices
    client.post("/v1/auth/sign-out", headers=tv.auth)
    server.clock.advance(timedelta(days=91))
    server.run(prune_ended_sessions(server.ports))

    again = sign_in(
        client,
        account,
        tv.name,
        tv.type,
        device_id=tv.device_id,
        device_secret=tv.device_secret,
        password=PASSWORD,
    )

    assert again.device_id != tv.device_id
    assert listed(client, again) == [again.device_id]


def test_the_server_runs_when_housekeeping_is_off(server: LiveServer, client: httpx.Client) -> None:
    assert server.settings.housekeeping_interval_seconds > 0
    assert client.get("/healthz").status_code == 200
