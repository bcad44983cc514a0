"""The website's refresh, attacked and raced: real servers, real cookies, addresses told by a
trusted proxy (X-Forwarded-For from 127.0.0.1).

A browser's requests that find the access token expired together share one refresh; one that
left a moment before the new cookies arrived is served without tokens; the spent refresh
cookie anywhere else, or later, is a replay that signs the device out (token_reuse).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from datetime import timedelta

import httpx
import pytest

from tests.support.api import Account, activity, refresh
from tests.support.clock import FrozenClock
from tests.support.databases import migrated_database
from tests.support.live_server import LiveServer, live_server
from tests.support.raw_http import hold
from tests.web.conftest import CHROME_ON_WINDOWS, web_settings
from tests.web.household import add_profile, household, profiles
from tests.web.test_pages import as_grown_up, cookie_header, csrf_of, sign_in_web

HOME = "203.0.113.10"
ELSEWHERE = "198.51.100.66"
PAST_THE_ACCESS_TOKEN = timedelta(minutes=16)
SESSION_COOKIES = ("sg_access", "sg_refresh")


@pytest.fixture(scope="module")
def proxied(database_url: str) -> Iterator[LiveServer]:
    """The website behind a proxy it trusts, so each test says where its browsers are."""
    with live_server(web_settings(database_url, trusted_proxies=["127.0.0.1"])) as running:
        yield running


def browser(
    server: LiveServer, address: str = HOME, cookies: dict[str, str] | None = None
) -> httpx.Client:
    """A browser at `address` (as the proxy says), with these cookies."""
    headers = {"x-forwarded-for": address, "user-agent": CHROME_ON_WINDOWS}
    return httpx.Client(base_url=server.base_url, headers=headers, cookies=cookies, timeout=15.0)


def handed_tokens(answer: httpx.Response) -> set[str]:
    """The session cookies this answer gives a value (not the ones it clears)."""
    given = set()
    for header in answer.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        cleared = rest.startswith(('"";', ";")) or "max-age=0" in header.lower()
        if name in SESSION_COOKIES and not cleared:
            given.add(name)
    return given


def signed_out_reason(answer: httpx.Response) -> str | None:
    if answer.status_code == 200:
        return None
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert location.startswith("/sign-in?reason="), location
    return location.removeprefix("/sign-in?reason=")


def reuse_detected(api: httpx.Client, account: Account) -> bool:
    """Whether the security log, read from the household's TV, says a token was replayed."""
    tv = account.devices[-1]
    assert refresh(api, tv).status_code == 200  # its access token lapsed with the laptop's
    return "token_reuse_detected" in [event["kind"] for event in activity(api, tv)]


def signed_in_then_expired(
    server: LiveServer, api: httpx.Client
) -> tuple[Account, httpx.Client, dict[str, str]]:
    """A laptop at HOME, signed in; its access token lapses. Also its cookies, as a thief
    copying them would have them."""
    account, _ = household(api)
    laptop = browser(server)
    sign_in_web(laptop, account)
    server.clock.advance(PAST_THE_ACCESS_TOKEN)
    return account, laptop, dict(laptop.cookies.items())


def test_a_stolen_refresh_cookie_replayed_from_elsewhere_at_once_signs_the_device_out(
    proxied: LiveServer, api: httpx.Client
) -> None:
    account, laptop, stolen = signed_in_then_expired(proxied, api)
    with closing(laptop), browser(proxied, ELSEWHERE, stolen) as thief:
        refreshed = laptop.get("/profiles")
        assert refreshed.status_code == 200
        assert handed_tokens(refreshed) == set(SESSION_COOKIES)

        replay = thief.get("/profiles")
        assert signed_out_reason(replay) == "token_reuse"
        assert not handed_tokens(replay)
        assert signed_out_reason(laptop.get("/profiles")) == "token_reuse"
    assert reuse_detected(api, account)


@pytest.mark.parametrize("late", [6, 31], ids=["past-the-leeway", "past-the-old-grace"])
def test_the_spent_refresh_cookie_later_is_a_replay_even_from_the_same_address(
    proxied: LiveServer, api: httpx.Client, late: int
) -> None:
    account, laptop, stolen = signed_in_then_expired(proxied, api)
    with closing(laptop), browser(proxied, HOME, stolen) as same_address:
        assert handed_tokens(laptop.get("/profiles")) == set(SESSION_COOKIES)
        proxied.clock.advance(timedelta(seconds=late))
        replay = same_address.get("/profiles")
        assert signed_out_reason(replay) == "token_reuse"
        assert not handed_tokens(replay)
        assert signed_out_reason(laptop.get("/profiles")) == "token_reuse"
    assert reuse_detected(api, account)


def test_a_request_of_the_same_browser_a_moment_late_is_served_and_handed_nothing(
    proxied: LiveServer, api: httpx.Client
) -> None:
    account, laptop, old_cookies = signed_in_then_expired(proxied, api)
    with closing(laptop), browser(proxied, HOME, old_cookies) as slow_tab:
        assert handed_tokens(laptop.get("/profiles")) == set(SESSION_COOKIES)
        proxied.clock.advance(timedelta(seconds=4))
        late = slow_tab.get("/profiles")
        assert late.status_code == 200
        assert "Who&#39;s watching?" in late.text
        assert not handed_tokens(late)
        assert laptop.get("/profiles").status_code == 200  # the new cookies hold
    assert not reuse_detected(api, account)


def test_many_requests_of_one_browser_share_one_refresh(
    proxied: LiveServer, api: httpx.Client
) -> None:
    account, laptop, cookies = signed_in_then_expired(proxied, api)
    start = threading.Barrier(12)

    def open_page(path: str) -> httpx.Response:
        with browser(proxied, HOME, cookies) as tab:
            start.wait(5)
            return tab.get(path)

    with closing(laptop), ThreadPoolExecutor(12) as tabs:
        answers = list(tabs.map(open_page, ["/profiles"] * 12))
    assert [signed_out_reason(answer) for answer in answers] == [None] * 12
    given = [a for a in answers if handed_tokens(a)]
    assert given, "one of them refreshed"
    assert len({cookie_header(a, "sg_refresh") for a in given}) == 1, "and only once"
    assert not reuse_detected(api, account)


def test_a_late_request_served_on_the_spent_token_writes_nothing_after_a_sign_out(
    proxied: LiveServer, api: httpx.Client
) -> None:
    """The late request acts for its session like any other: its write, held until the device
    was signed out elsewhere, is refused (docs/security.md, "Nothing after a sign-out")."""
    account, tv = household(api)
    ben = add_profile(api, tv, "Ben")
    with browser(proxied) as laptop:
        sign_in_web(laptop, account)
        as_grown_up(laptop)
        token = csrf_of(laptop.get("/profiles"))
        old_cookies = dict(laptop.cookies.items())
        proxied.clock.advance(PAST_THE_ACCESS_TOKEN)
        assert handed_tokens(laptop.get("/profiles")) == set(SESSION_COOKIES)
    proxied.clock.advance(timedelta(seconds=2))
    assert refresh(api, tv).status_code == 200
    headers = {
        "X-Forwarded-For": HOME,
        "User-Agent": CHROME_ON_WINDOWS,
        "Cookie": "; ".join(f"{name}={value}" for name, value in old_cookies.items()),
        "X-CSRFToken": token,
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "text/html",
    }
    host, port = proxied.base_url.removeprefix("http://").split(":")
    held = hold(host, int(port), "POST", f"/profiles/{ben}/edit", headers, b"name=Hacked")
    try:
        assert held.answered_already(0.5) is None  # served as the session, reading its body
        laptop_id = old_cookies["sg_device"].partition(".")[0]  # "<device id>.<its secret>"
        out = api.post(f"/v1/devices/{laptop_id}/sign-out", headers=tv.auth)
        assert out.status_code == 200, out.text
        answer = held.finish()
    finally:
        held.close()
    assert answer.status == 303
    assert answer.headers["location"] == "/sign-in?reason=signed_out_remotely"
    assert [p["name"] for p in profiles(api, tv) if p["profile_id"] == ben] == ["Ben"]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def two_instances(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two instances on one database and one clock, behind one trusted proxy."""
    folder = tmp_path_factory.mktemp("instances")
    clock = FrozenClock()
    with migrated_database(request.param, folder) as url:
        settings = web_settings(url, trusted_proxies=["127.0.0.1"])
        with live_server(settings, clock) as a, live_server(settings, clock) as b:
            yield a, b


def test_a_browser_whose_requests_reach_two_instances_at_once_stays_signed_in(
    two_instances: tuple[LiveServer, LiveServer],
) -> None:
    a, b = two_instances
    with httpx.Client(base_url=a.base_url, timeout=15.0) as api:
        account, laptop, cookies = signed_in_then_expired(a, api)
        start = threading.Barrier(2)

        def open_page(server: LiveServer) -> Callable[[], httpx.Response]:
            def send() -> httpx.Response:
                with browser(server, HOME, cookies) as tab:
                    start.wait(5)
                    return tab.get("/profiles")

            return send

        with closing(laptop), ThreadPoolExecutor(2) as tabs:
            answers = [f.result() for f in [tabs.submit(open_page(s)) for s in (a, b)]]
        assert [signed_out_reason(answer) for answer in answers] == [None, None]
        given = [answer for answer in answers if handed_tokens(answer)]
        assert len(given) == 1, "one instance refreshed, the other served the late one"
        for server in (a, b):
            with browser(server, HOME, dict(given[0].cookies.items())) as tab:
                assert tab.get("/profiles").status_code == 200

        # The spent cookie from elsewhere, at the other instance, a moment later: a replay.
        with browser(b, ELSEWHERE, cookies) as thief:
            assert signed_out_reason(thief.get("/profiles")) == "token_reuse"
        assert reuse_detected(api, account)
