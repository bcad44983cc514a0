"""Growth on the website: Manage access and devices shows 20 devices, then "Show more"; a
sign-in past the account's device limit is told why in the form, on the website and the TV."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from tests.support.api import Account, sign_in, sign_up
from tests.support.clock import FrozenClock
from tests.support.live_server import LiveServer, live_server
from tests.web.conftest import web_settings
from tests.web.test_pages import as_grown_up, csrf_of, sign_in_web

LIMIT = 25
ROW = re.compile(r'<li class="row" data-device=')


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[LiveServer]:
    settings = web_settings(database_url, max_devices_per_account=LIMIT)
    with live_server(settings, FrozenClock()) as running:
        yield running


@pytest.fixture
def browser_like(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=15.0) as client:
        yield client


def household_of(api: httpx.Client, devices: int) -> Account:
    account = sign_up(api)
    for n in range(devices):
        sign_in(api, account, f"Phone {n}", "phone")
    return account


def test_manage_access_and_devices_shows_twenty_then_more(
    browser_like: httpx.Client, api: httpx.Client
) -> None:
    account = household_of(api, 22)
    sign_in_web(browser_like, account)
    as_grown_up(browser_like)

    first = browser_like.get("/account/devices")
    more = browser_like.get("/account/devices", params={"show": 40})

    assert len(ROW.findall(first.text)) == 20
    assert 'href="/account/devices?show=40"' in first.text
    assert "Current device" in first.text  # this browser, first of all
    assert len(ROW.findall(more.text)) == 23
    assert "Show more devices" not in more.text


@pytest.mark.parametrize("surface", ["", "/tv"])
def test_signing_in_past_the_device_limit_says_why_in_the_form(
    browser_like: httpx.Client, api: httpx.Client, surface: str
) -> None:
    account = household_of(api, LIMIT)
    form = browser_like.get(f"{surface}/sign-in")

    answer = browser_like.post(
        f"{surface}/sign-in",
        data={"email": account.email, "password": account.password, "_csrf_token": csrf_of(form)},
    )

    assert answer.status_code == 409
    assert f"signed in on {LIMIT} devices" in answer.text
    assert "Manage access and devices" in answer.text
    assert 'name="password"' in answer.text  # the form again, to try once one is signed out
    assert not any(c.startswith(("sg_access", "sg_tv_access")) for c in browser_like.cookies)
