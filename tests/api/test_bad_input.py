"""Bad input never hurts: a 4xx problem+json with a stable code, never a 5xx, never half-done."""

from __future__ import annotations

import socket
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.api import (
    PASSWORD,
    Device,
    account_with_devices,
    activity,
    assert_problem,
    assert_signed_in,
    new_email,
)
from tests.support.live_server import LiveServer

JSON = {"Content-Type": "application/json"}


def a_device(client: httpx.Client) -> Device:
    return account_with_devices(client, 1).devices[0]


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b'{"email": "a@example.com",}',
        b"not json",
        b"\xff\xfe\x00",
        b'{"email": nan}',
        b'"\x80"',
        b'{"email": "\xc3(@example.com", "password": "x"}',
        b'{"email": "a@example.com", "password": "\xed\xa0\x80"}',
    ],
)
def test_malformed_json_is_a_malformed_body(client: httpx.Client, body: bytes) -> None:
    answer = client.post("/v1/auth/sign-up", content=body, headers=JSON)

    assert_problem(answer, 400, "malformed_body")


def test_malformed_json_from_a_signed_in_device_changes_nothing(client: httpx.Client) -> None:
    account = account_with_devices(client, 2)
    caller, other = account.devices

    answer = client.post(
        "/v1/devices/sign-out-all", content=b'{"keep_this_device": tru', headers=caller.auth | JSON
    )

    assert_problem(answer, 400, "malformed_body")
    assert_signed_in(client, caller)
    assert_signed_in(client, other)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": 42, "password": PASSWORD}, "email"),
        ({"email": "a@example.com", "password": ["x"]}, "password"),
        ({"email": "a@example.com"}, "password"),
        ({"password": PASSWORD}, "email"),
        ({"email": "a@example.com", "password": PASSWORD, "admin": True}, "admin"),
        ({"email": "a@example.com", "password": PASSWORD, "plan": None}, "plan"),
        ({"email": "a" * 300 + "@example.com", "password": PASSWORD}, "email"),
        ([], "body"),
        ("a string", "body"),
    ],
)
def test_a_sign_up_body_of_the_wrong_shape_names_the_field(
    client: httpx.Client, body: Any, field: str
) -> None:
    answer = client.post("/v1/auth/sign-up", json=body)

    problem = assert_problem(answer, 422, "validation_error")
    assert [e["field"] for e in problem["errors"]] == [field]
    assert all(e["message"] for e in problem["errors"])


@pytest.mark.parametrize(
    ("device", "field"),
    [
        ({"type": "fridge"}, "device.type"),
        ({"type": "SMART_TV"}, "device.type"),
        ({}, "device.type"),
        ({"type": "phone", "name": ""}, "device.name"),
        ({"type": "phone", "name": "x" * 81}, "device.name"),
        ({"type": "phone", "colour": "red"}, "device.colour"),
        ("phone", "device"),
    ],
)
def test_an_unknown_device_type_or_a_bad_device_is_refused(
    client: httpx.Client, device: Any, field: str
) -> None:
    answer = client.post(
        "/v1/auth/sign-in", json={"email": new_email(), "password": PASSWORD, "device": device}
    )

    problem = assert_problem(answer, 422, "validation_error")
    assert [e["field"] for e in problem["errors"]] == [field]


def test_a_missing_body_is_refused(client: httpx.Client) -> None:
    answer = client.post("/v1/auth/sign-in")

    problem = assert_problem(answer, 422, "validation_error")
    assert [e["field"] for e in problem["errors"]] == ["body"]


def test_an_oversized_body_is_refused_before_it_is_read(client: httpx.Client) -> None:
    huge = b'{"email": "' + b"a" * (65 * 1024) + b'@example.com", "password": "x"}'

    answer = client.post("/v1/auth/sign-up", content=huge, headers=JSON)

    assert_problem(answer, 413, "body_too_large")


def test_an_oversized_body_from_a_device_changes_nothing(client: httpx.Client) -> None:
    account = account_with_devices(client, 2)
    caller, other = account.devices
    huge = b'{"keep_this_device": false, "pad": "' + b"x" * (65 * 1024) + b'"}'

    answer = client.post("/v1/devices/sign-out-all", content=huge, headers=caller.auth | JSON)

    assert_problem(answer, 413, "body_too_large")
    assert_signed_in(client, caller)
    assert_signed_in(client, other)


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer \t.",
        "Basic dXNlcjpwYXNz",
        "Bearer not-a-token-we-issued",
        "Bearer " + "A" * 43,
        "Bearer " + "x" * 600,
        "bearer\tabc",
        "Token abc",
    ],
)
def test_a_missing_forged_or_garbage_credential_is_an_invalid_token(
    client: httpx.Client, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}

    for answer in (
        client.get("/v1/account", headers=headers),
        client.get("/v1/devices", headers=headers),
        client.post("/v1/devices/sign-out-all", headers=headers),
        client.post("/v1/auth/sign-out", headers=headers),
    ):
        assert_problem(answer, 401, "invalid_token")
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_refresh_token_is_not_an_access_token(client: httpx.Client) -> None:
    device = a_device(client)

    answer = client.get("/v1/account", headers={"Authorization": f"Bearer {device.refresh_token}"})

    assert_problem(answer, 401, "invalid_token")
    assert_signed_in(client, device)


def test_an_unknown_refresh_token_is_an_invalid_token(client: httpx.Client) -> None:
    for token in ("A" * 43, "x", "é" * 10):
        answer = client.post("/v1/auth/refresh", json={"refresh_token": token})
        assert_problem(answer, 401, "invalid_token")


def test_raw_bytes_in_the_authorization_header_are_an_invalid_token(server: LiveServer) -> None:
    url = urlsplit(server.base_url)
    request = (
        b"GET /v1/account HTTP/1.1\r\nHost: localhost\r\n"
        b"Authorization: Bearer \xc3\xa9\xff\xfe\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection((url.hostname, url.port), timeout=10) as raw:
        raw.sendall(request)
        answer = b""
        while chunk := raw.recv(65536):
            answer += chunk

    head = answer.split(b"\r\n\r\n", 1)[0].lower()
    assert head.startswith(b"http/1.1 401"), answer[:200]
    assert b"content-type: application/problem+json" in head


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/v1/nothing-here", 404, "not_found"),
        ("GET", "/v1/auth/sign-in", 405, "method_not_allowed"),
        ("DELETE", "/v1/account", 405, "method_not_allowed"),
        ("PUT", "/v1/devices", 405, "method_not_allowed"),
    ],
)
def test_unknown_paths_and_methods_answer_problems_too(
    client: httpx.Client, method: str, path: str, status: int, code: str
) -> None:
    assert_problem(client.request(method, path), status, code)


def test_an_overlong_device_id_in_the_path_is_refused(client: httpx.Client) -> None:
    device = a_device(client)

    answer = client.post(f"/v1/devices/{'x' * 65}/sign-out", headers=device.auth)

    assert answer.status_code in {404, 422}
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert_signed_in(client, device)


def test_a_refused_sign_in_writes_no_device_or_session(client: httpx.Client) -> None:
    account = account_with_devices(client, 1)
    (tv,) = account.devices
    before = activity(client, tv)

    refused = client.post(
        "/v1/auth/sign-in",
        json={"email": account.email, "password": PASSWORD, "device": {"type": "toaster"}},
    )

    assert refused.status_code == 422
    assert [d["device_id"] for d in client.get("/v1/devices", headers=tv.auth).json()] == [
        tv.device_id
    ]
    assert activity(client, tv) == before


def test_a_nul_or_control_character_in_an_email_is_refused(client: httpx.Client) -> None:
    for email in ("ana\x00@example.com", "ana@exam\x00ple.com", "ana\x1b[31m@example.com"):
        signing_up = client.post("/v1/auth/sign-up", json={"email": email, "password": PASSWORD})
        body = assert_problem(signing_up, 422, "invalid_email")
        assert [e["field"] for e in body["errors"]] == ["email"]
        signing_in = client.post(
            "/v1/auth/sign-in",
            json={"email": email, "password": PASSWORD, "device": {"type": "phone"}},
        )
        assert_problem(signing_in, 401, "invalid_credentials")


def test_control_characters_in_names_are_dropped(client: httpx.Client) -> None:
    account = account_with_devices(client, 1)
    (tv,) = account.devices

    signing_in = client.post(
        "/v1/auth/sign-in",
        json={
            "email": account.email,
            "password": PASSWORD,
            "device": {"type": "phone", "name": "Ana's\x00 phone\x1b[2J"},
        },
    )
    profile = client.post("/v1/profiles", json={"name": "Kids\x00\x07 room"}, headers=tv.auth)

    assert signing_in.status_code == 201
    names = [d["name"] for d in client.get("/v1/devices", headers=tv.auth).json()]
    assert "Ana's phone [2J" in names
    assert profile.status_code == 201
    assert profile.json()["name"] == "Kids room"
    only_controls = client.post("/v1/profiles", json={"name": "\x00\x01"}, headers=tv.auth)
    assert_problem(only_controls, 422, "invalid_profile")


def test_a_device_id_that_is_not_one_of_ours_is_refused(client: httpx.Client) -> None:
    account = account_with_devices(client, 1)

    for device_id in ("\x00", "../../etc", "tv'; drop table devices; --"):
        answer = client.post(
            "/v1/auth/sign-in",
            json={
                "email": account.email,
                "password": PASSWORD,
                "device": {"type": "phone", "device_id": device_id},
            },
        )
        body = assert_problem(answer, 422, "validation_error")
        assert [e["field"] for e in body["errors"]] == ["device.device_id"]


def test_a_nul_in_a_path_id_is_just_not_found(client: httpx.Client) -> None:
    device = a_device(client)

    by_device = client.post("/v1/devices/a%00b/sign-out", headers=device.auth)
    by_profile = client.patch("/v1/profiles/a%00b", json={"name": "x"}, headers=device.auth)

    assert_problem(by_device, 404, "device_not_found")
    assert_problem(by_profile, 404, "profile_not_found")
    assert_signed_in(client, device)


DEEP = 1000


@pytest.mark.parametrize(
    "nested",
    [b"[" * DEEP + b"]" * DEEP, b'{"a":' * DEEP + b"1" + b"}" * DEEP],
    ids=["arrays", "objects"],
)
@pytest.mark.parametrize("path", ["/v1/auth/sign-up", "/v1/auth/sign-in", "/v1/auth/refresh"])
def test_json_nested_a_thousand_deep_is_a_malformed_body(
    client: httpx.Client, path: str, nested: bytes
) -> None:
    answer = client.post(path, content=nested, headers=JSON)

    assert_problem(answer, 400, "malformed_body")


def test_json_nested_a_thousand_deep_from_a_device_changes_nothing(client: httpx.Client) -> None:
    account = account_with_devices(client, 2)
    caller, other = account.devices
    nested = b'{"keep_this_device": ' + b"[" * DEEP + b"]" * DEEP + b"}"

    answer = client.post("/v1/devices/sign-out-all", content=nested, headers=caller.auth | JSON)

    assert_problem(answer, 400, "malformed_body")
    assert_signed_in(client, caller)
    assert_signed_in(client, other)


@pytest.mark.parametrize("cursor", [2**63, 2**63 + 1, 2**64, 10**30])
def test_an_activity_cursor_past_the_largest_event_id_is_refused(
    client: httpx.Client, cursor: int
) -> None:
    device = a_device(client)

    answer = client.get("/v1/account/activity", params={"cursor": cursor}, headers=device.auth)

    body = assert_problem(answer, 422, "validation_error")
    assert [e["field"] for e in body["errors"]] == ["cursor"]


def test_the_largest_event_id_is_still_a_cursor(client: httpx.Client) -> None:
    device = a_device(client)

    answer = client.get("/v1/account/activity", params={"cursor": 2**63 - 1}, headers=device.auth)

    assert answer.status_code == 200
    assert [e["kind"] for e in answer.json()["events"]] == ["signed_in", "signed_up"]


def test_a_device_secret_that_is_not_one_of_ours_is_refused(client: httpx.Client) -> None:
    account = account_with_devices(client, 1)
    (tv,) = account.devices

    for secret in ("\x00", "a.b", "x" * 129):
        answer = client.post(
            "/v1/auth/sign-in",
            json={
                "email": account.email,
                "password": PASSWORD,
                "device": {"type": "smart_tv", "device_id": tv.device_id, "device_secret": secret},
            },
        )
        body = assert_problem(answer, 422, "validation_error")
        assert [e["field"] for e in body["errors"]] == ["device.device_secret"]
