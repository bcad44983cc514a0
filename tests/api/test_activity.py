"""GET /v1/account/activity: the security log, newest first, a page at a time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from tests.support.api import account_with_devices, activity, assert_problem
from tests.support.live_server import LiveServer

EVENT_FIELDS = {"event_id", "kind", "at", "device_id", "device_name", "ip", "location", "detail"}


def test_the_activity_tells_the_accounts_story_newest_first(
    server: LiveServer, client: httpx.Client
) -> None:
    account = account_with_devices(client, 2)
    tv, phone = account.devices
    server.clock.advance(timedelta(minutes=1))
    client.post(f"/v1/devices/{tv.device_id}/sign-out", headers=phone.auth)

    events = activity(client, phone)

    # The second device's sign-in mailed the owner a new sign-in alert (tests/mail).
    assert [e["kind"] for e in events] == [
        "signed_out",
        "mail_queued",
        "signed_in",
        "signed_in",
        "signed_up",
    ]
    assert events[1]["detail"]["mail"] == "new_sign_in"
    events = [e for e in events if e["kind"] != "mail_queued"]
    assert all(set(e) >= EVENT_FIELDS for e in events)
    ids = [e["event_id"] for e in events]
    assert ids == sorted(ids, reverse=True)
    times = [datetime.fromisoformat(e["at"].replace("Z", "+00:00")) for e in events]
    assert times == sorted(times, reverse=True)
    signed_out, signed_in_phone, signed_in_tv, _ = events
    assert signed_out["device_id"] == tv.device_id
    assert signed_out["device_name"] == "Hotel TV"
    assert signed_out["ip"] == "127.0.0.1"
    assert signed_in_phone["device_id"] == phone.device_id
    assert signed_in_phone["detail"]["device_type"] == "phone"
    assert signed_in_tv["device_id"] == tv.device_id


def test_the_activity_is_paged_with_a_cursor_without_repeats_or_gaps(
    client: httpx.Client,
) -> None:
    account = account_with_devices(client, 4)
    caller = account.devices[0]
    for n in range(3):
        client.post("/v1/profiles", json={"name": f"Viewer {n}"}, headers=caller.auth)
    everything = activity(client, caller)
    # Sign-up, four sign-ins, three profiles, and a new sign-in alert for each of the devices
    # after the first (tests/mail).
    assert len(everything) == 11

    pages: list[list[dict[str, Any]]] = []
    params: dict[str, int] = {"limit": 3}
    while True:
        answer = client.get("/v1/account/activity", params=params, headers=caller.auth)
        assert answer.status_code == 200
        page = answer.json()
        pages.append(page["events"])
        if page["next_cursor"] is None:
            break
        params = {"limit": 3, "cursor": page["next_cursor"]}
        assert len(pages) < 10

    assert [len(p) for p in pages] == [3, 3, 3, 2]
    walked = [e for page in pages for e in page]
    assert walked == everything


def test_an_account_sees_only_its_own_activity(client: httpx.Client) -> None:
    mine, theirs = account_with_devices(client, 1), account_with_devices(client, 3)

    events = activity(client, mine.devices[0])

    assert [e["kind"] for e in events] == ["signed_in", "signed_up"]
    their_devices = {d.device_id for d in theirs.devices}
    assert not their_devices & {e["device_id"] for e in events}


def test_a_page_size_out_of_range_is_refused(client: httpx.Client) -> None:
    device = account_with_devices(client, 1).devices[0]

    for params in ({"limit": 0}, {"limit": 101}, {"limit": "many"}, {"cursor": 0}):
        answer = client.get("/v1/account/activity", params=params, headers=device.auth)
        body = assert_problem(answer, 422, "validation_error")
        assert body["errors"], body
