"""GET /v1/events over real HTTP: devices are told at once, and sign-outs come with receipts."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

import httpx

from tests.support.api import (
    Device,
    account_with_devices,
    assert_problem,
    assert_signed_out,
)
from tests.support.live_server import LiveServer


@dataclass
class Listening:
    """A device holding its event stream in a thread of its own."""

    connected: threading.Event = field(default_factory=threading.Event)
    events: list[tuple[str, str, dict[str, object]]] = field(default_factory=list)
    thread: threading.Thread | None = None

    def kinds(self) -> list[str]:
        return [kind for kind, _, _ in self.events]


def listen(server: LiveServer, device: Device, last_event_id: str | None = None) -> Listening:
    listening = Listening()
    headers = dict(device.auth)
    if last_event_id:
        headers["Last-Event-ID"] = last_event_id

    def run() -> None:
        with (
            httpx.Client(base_url=server.base_url, timeout=10) as client,
            client.stream("GET", "/v1/events", headers=headers) as stream,
        ):
            assert stream.headers["content-type"].startswith("text/event-stream")
            kind, event_id, data = "", "", ""
            for line in stream.iter_lines():
                if line.startswith(": connected"):
                    listening.connected.set()
                elif line.startswith("event: "):
                    kind = line.removeprefix("event: ")
                elif line.startswith("id: "):
                    event_id = line.removeprefix("id: ")
                elif line.startswith("data: "):
                    data = line.removeprefix("data: ")
                elif line == "" and kind:
                    listening.events.append((kind, event_id, json.loads(data)))
                    if kind == "signed_out":
                        return
                    kind = ""

    listening.thread = threading.Thread(target=run, daemon=True)
    listening.thread.start()
    assert listening.connected.wait(10), "the event stream did not open"
    return listening


def finish(listening: Listening) -> None:
    assert listening.thread is not None
    listening.thread.join(10)
    assert not listening.thread.is_alive(), "the event stream did not end"


def signed_out_listing(client: httpx.Client, viewer: Device) -> dict[str, dict[str, object]]:
    answer = client.get("/v1/devices?include_signed_out=true", headers=viewer.auth)
    assert answer.status_code == 200
    return {d["device_id"]: d["signed_out"] for d in answer.json() if d["signed_out"]}


def test_a_listening_device_is_told_it_was_signed_out_and_the_receipt_says_so(
    server: LiveServer, client: httpx.Client
) -> None:
    tv, phone = account_with_devices(client, 2).devices
    listening = listen(server, tv)
    answer = client.post(f"/v1/devices/{tv.device_id}/sign-out", headers=phone.auth)
    finish(listening)
    assert answer.json()["receipts"] == [
        {"device_id": tv.device_id, "name": tv.name, "notified": True, "receipt": "told"}
    ]
    assert listening.kinds() == ["signed_out"]
    told = listening.events[0][2]
    assert told["reason"] == "signed_out_remotely"
    assert told["detail"] == "You were signed out from another device."
    receipt = signed_out_listing(client, phone)[tv.device_id]
    assert (receipt["reason"], receipt["receipt"]) == ("signed_out_remotely", "told")
    assert receipt["told_at"] is not None


def test_a_device_that_was_not_listening_is_pending_until_it_comes_back(
    client: httpx.Client,
) -> None:
    tv, phone = account_with_devices(client, 2).devices
    answer = client.post(
        "/v1/devices/sign-out-all", headers=phone.auth, json={"keep_this_device": True}
    )
    assert answer.json()["signed_out"] == [
        {"device_id": tv.device_id, "name": tv.name, "notified": False, "receipt": "pending"}
    ]
    assert signed_out_listing(client, phone)[tv.device_id]["receipt"] == "pending"
    assert_signed_out(client, tv, "signed_out_everywhere")
    receipt = signed_out_listing(client, phone)[tv.device_id]
    assert receipt["receipt"] == "confirmed"
    assert receipt["confirmed_at"] is not None
    kinds = [
        e["kind"] for e in client.get("/v1/account/activity", headers=phone.auth).json()["events"]
    ]
    assert kinds[0] == "sign_out_confirmed"


def test_a_signed_out_device_cannot_open_its_event_stream(client: httpx.Client) -> None:
    tv, phone = account_with_devices(client, 2).devices
    client.post(f"/v1/devices/{tv.device_id}/sign-out", headers=phone.auth)
    problem = assert_problem(client.get("/v1/events", headers=tv.auth), 401, "signed_out")
    assert problem["reason"] == "signed_out_remotely"


def test_everything_a_sign_out_ends_is_told_before_the_sign_out(
    server: LiveServer, client: httpx.Client
) -> None:
    tv, phone = account_with_devices(client, 2).devices
    profile = client.get("/v1/account", headers=tv.auth).json()["profiles"][0]["profile_id"]
    play = {"profile_id": profile, "title_id": "wild-coasts"}
    stream = client.post("/v1/streams", headers=tv.auth, json=play).json()
    download = client.post("/v1/downloads", headers=tv.auth, json=play).json()
    listening = listen(server, tv)
    client.post("/v1/devices/sign-out-all", headers=phone.auth, json={})
    finish(listening)
    assert listening.kinds() == ["stream_ended", "downloads_revoked", "signed_out"]
    assert listening.events[0][2]["stream_id"] == stream["stream_id"]
    assert listening.events[1][2]["download_ids"] == [download["download_id"]]


def test_a_stream_stopped_elsewhere_is_told_and_a_reconnect_replays_what_was_missed(
    server: LiveServer, client: httpx.Client
) -> None:
    tv, phone = account_with_devices(client, 2).devices
    profile = client.get("/v1/account", headers=tv.auth).json()["profiles"][0]["profile_id"]
    first = client.post(
        "/v1/streams", headers=tv.auth, json={"profile_id": profile, "title_id": "wild-coasts"}
    ).json()
    listening = listen(server, tv)
    client.delete(f"/v1/streams/{first['stream_id']}", headers=phone.auth)
    client.post(f"/v1/devices/{tv.device_id}/sign-out", headers=phone.auth)
    finish(listening)
    assert listening.kinds() == ["stream_ended", "signed_out"]
    assert listening.events[0][2]["reason"] == "stopped_by_owner"
    # Reconnecting after the first event: the sign-out it "missed" is refused at the door,
    # with the reason, so it is never lost.
    problem = assert_problem(
        client.get("/v1/events", headers={**tv.auth, "Last-Event-ID": listening.events[0][1]}),
        401,
        "signed_out",
    )
    assert problem["reason"] == "signed_out_remotely"
