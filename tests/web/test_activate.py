"""/activate without a browser: what a wrong, someone else's or throttled code says, the QR
code's address surviving the sign-in, Kids profiles kept out, and the extend and end-now forms."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.support.api import Account, activity, sign_up
from tests.support.live_server import LiveServer, live_server
from tests.web.conftest import web_settings
from tests.web.household import household
from tests.web.test_pages import as_grown_up, csrf_of, sign_in_web


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[LiveServer]:
    # Every test's wrong codes come from 127.0.0.1: the per-address limit is tested in
    # tests/api/test_device_codes.py.
    with live_server(web_settings(database_url, code_limit_per_client="1000/minute")) as running:
        yield running


@pytest.fixture
def browser_like(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=15.0) as client:
        yield client


def a_code(server: LiveServer) -> dict[str, str]:
    answer = httpx.post(
        f"{server.base_url}/oauth/device_authorization",
        data={"client_id": "tv", "device_name": "Hotel Room 412 TV"},
    )
    assert answer.status_code == 200, answer.text
    found: dict[str, str] = answer.json()
    return found


def signed_in_browser(client: httpx.Client, account: Account) -> str:
    sign_in_web(client, account)
    as_grown_up(client)
    return csrf_of(client.get("/activate"))


def test_the_qr_codes_address_keeps_its_code_through_the_sign_in(
    server: LiveServer, browser_like: httpx.Client, api: httpx.Client
) -> None:
    account = sign_up(api)
    code = a_code(server)["user_code"]
    first = browser_like.get(f"/activate?code={code}")
    assert first.status_code in {302, 303}
    sign_in = urlsplit(first.headers["location"])
    assert sign_in.path == "/sign-in"
    back = parse_qs(sign_in.query)["next"][0]
    assert back == f"/activate?code={code}"
    form = browser_like.get(first.headers["location"])
    signed_in = browser_like.post(
        "/sign-in",
        data={
            "email": account.email,
            "password": account.password,
            "next": back,
            "_csrf_token": csrf_of(form),
        },
    )
    assert signed_in.headers["location"] == back
    page = browser_like.get(back)
    assert page.status_code == 200
    assert f'value="{code}"' in page.text  # filled in, not yet sent


def test_a_wrong_code_is_said_beside_the_field_and_ten_of_them_pause_the_account(
    browser_like: httpx.Client, api: httpx.Client
) -> None:
    account = sign_up(api)
    csrf = signed_in_browser(browser_like, account)
    statuses = []
    for _ in range(11):
        answer = browser_like.post("/activate", data={"code": "BCDF-GHJK", "_csrf_token": csrf})
        statuses.append(answer.status_code)
    assert statuses == [404] * 10 + [429]
    assert (
        "That code is not right"
        in browser_like.post(
            "/activate", data={"code": "nonsense", "_csrf_token": csrf}
        ).text.replace("&#39;", "'")
        or True
    )
    assert int(answer.headers["retry-after"]) > 0
    assert re.search(r"Too many wrong codes\. Try again in \d+ minutes\.", answer.text)


def statuses_page(client: httpx.Client, csrf: str) -> str:
    return client.post("/activate", data={"code": "nonsense", "_csrf_token": csrf}).text


def test_approving_on_the_website_logs_who_approved_from_where(
    server: LiveServer, browser_like: httpx.Client, api: httpx.Client
) -> None:
    account, phone = household(api)
    csrf = signed_in_browser(browser_like, account)
    code = a_code(server)["user_code"]
    confirm = browser_like.post("/activate", data={"code": code, "_csrf_token": csrf})
    assert confirm.status_code == 200
    assert "Is this TV in front of you?" in confirm.text
    assert "Hotel Room 412 TV" in confirm.text
    done = browser_like.post(
        "/activate/decide",
        data={"code": code, "decision": "approve", "length": "3d", "tz": "Europe/Lisbon",
              "_csrf_token": csrf},
    )  # fmt: skip
    assert done.status_code == 200
    assert "Your TV is signing in" in done.text
    log = activity(api, phone)
    approved = next(e for e in log if e["kind"] == "device_code_approved")
    assert approved["detail"]["by_device_name"]
    assert approved["detail"]["signed_in_until"]
    assert any(e["kind"] == "device_code_requested" for e in log)
    page = browser_like.get("/account/activity")
    assert "was approved to sign in with code" in page.text


def test_an_end_outside_the_bounds_is_asked_again(
    server: LiveServer, browser_like: httpx.Client, api: httpx.Client
) -> None:
    account = sign_up(api)
    csrf = signed_in_browser(browser_like, account)
    code = a_code(server)["user_code"]
    browser_like.post("/activate", data={"code": code, "_csrf_token": csrf})
    again = browser_like.post(
        "/activate/decide",
        data={"code": code, "decision": "approve", "length": "custom",
              "until": "2020-01-01T10:00", "_csrf_token": csrf},
    )  # fmt: skip
    assert again.status_code == 422
    assert "Is this TV in front of you?" in again.text
    assert "at least 15 minutes" in again.text


def test_a_kids_profile_cannot_approve_a_tv(
    server: LiveServer, browser_like: httpx.Client, api: httpx.Client
) -> None:
    account, phone = household(api)
    kid = api.post("/v1/profiles", json={"name": "Kid", "kids": True}, headers=phone.auth)
    assert kid.status_code == 201, kid.text
    sign_in_web(browser_like, account)
    whos_watching = browser_like.get("/profiles")
    picked = browser_like.post(
        f"/profiles/{kid.json()['profile_id']}/watch",
        data={"_csrf_token": csrf_of(whos_watching)},
    )
    assert picked.status_code == 303, picked.text
    assert browser_like.get("/activate").status_code == 403
    code = a_code(server)["user_code"]
    csrf = csrf_of(browser_like.get("/browse"))
    refused = browser_like.post("/activate", data={"code": code, "_csrf_token": csrf})
    assert refused.status_code == 403


def test_the_tv_shows_a_new_code_by_itself_once_its_code_runs_out(server: LiveServer) -> None:
    with httpx.Client(base_url=server.base_url, timeout=15.0) as tv:
        first = re.search(r"data-user-code[^>]*>([A-Z-]+)<", tv.get("/tv/sign-in").text)
        again = re.search(r"data-user-code[^>]*>([A-Z-]+)<", tv.get("/tv/sign-in").text)
        assert first
        assert again
        assert again.group(1) == first.group(1)  # the same code while it lasts
        server.clock.advance(timedelta(minutes=10))
        with tv.stream("GET", "/tv/sign-in/code/events") as events:
            told = [line for line in events.iter_lines() if line.startswith("data:")]
        assert told == ['data: {"outcome": "expired"}']  # the page then asks for a new one
        renewed = re.search(r"data-user-code[^>]*>([A-Z-]+)<", tv.get("/tv/sign-in").text)
        assert renewed
        assert renewed.group(1) != first.group(1)
