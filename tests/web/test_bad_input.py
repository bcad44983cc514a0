"""Bad bytes at the pages never make a 500: a NUL in a static path, a cookie or CSRF token from
outside ASCII, a cursor past the largest id. Each is an odd request a browser never sends and an
attacker can."""

from __future__ import annotations

import httpx
import pytest

from tests.support.api import sign_up
from tests.support.live_server import LiveServer
from tests.web.test_pages import as_grown_up, csrf_of, sign_in_web


@pytest.fixture
def browser_like(server: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, timeout=15.0)


@pytest.mark.parametrize("path", ["/static/a%00b.css", "/static/%00", "/static/js/%00.js"])
def test_a_nul_in_a_static_path_is_not_found(browser_like: httpx.Client, path: str) -> None:
    for accept in ("text/html", "*/*"):
        answer = browser_like.get(path, headers={"Accept": accept})
        assert answer.status_code == 404, (path, accept, answer.text[:200])


def raw_cookie_header(client: httpx.Client, extra: bytes) -> list[tuple[bytes, bytes]]:
    jar = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    return [(b"cookie", jar.encode() + b"; " + extra)]


@pytest.mark.parametrize(
    "profile_cookie",
    [b"x.\xc3\xa9", b"\xc3\xa9.\xc3\xa9", b"\xff\xfe", b"e30.\xe2\x80\x8b" + b"a" * 63],
    ids=["tag", "both", "latin1", "zero-width"],
)
def test_a_profile_cookie_from_outside_ascii_is_no_profile_chosen(
    browser_like: httpx.Client, api: httpx.Client, profile_cookie: bytes
) -> None:
    sign_in_web(browser_like, sign_up(api))
    as_grown_up(browser_like)
    headers = raw_cookie_header(browser_like, b"sg_profile=" + profile_cookie)
    browser_like.cookies.clear()

    for path in ("/", "/browse", "/account", "/account/devices"):
        answer = browser_like.get(path, headers=headers)
        # No profile chosen: Who's watching? (or the grown-up page), never a 500.
        assert answer.status_code in {302, 303, 403}, (path, answer.status_code)


@pytest.mark.parametrize("token", [b"\xc3\xa9", b"\xff\xfe", b"a\xc3\xa9" * 30])
def test_a_csrf_token_from_outside_ascii_is_an_expired_form(
    browser_like: httpx.Client, api: httpx.Client, token: bytes
) -> None:
    sign_in_web(browser_like, sign_up(api))
    as_grown_up(browser_like)
    headers = raw_cookie_header(browser_like, b"sg_csrf=" + token)
    browser_like.cookies.clear()

    by_header = browser_like.post("/sign-out", headers=[*headers, (b"x-csrftoken", token)])
    by_form = browser_like.post(
        "/sign-out",
        headers=[*headers, (b"content-type", b"application/x-www-form-urlencoded")],
        content=b"_csrf_token=" + token,
    )

    assert by_header.status_code == 403
    assert by_form.status_code == 403
    # Still signed in: the refused forms did nothing.
    assert browser_like.get("/account", headers=headers).status_code == 200


def test_an_activity_page_past_the_largest_event_id_is_refused(
    browser_like: httpx.Client, api: httpx.Client
) -> None:
    sign_in_web(browser_like, sign_up(api))
    as_grown_up(browser_like)

    answer = browser_like.get("/account/activity", params={"before": 2**63})

    assert answer.status_code == 400
    assert csrf_of(browser_like.get("/account/activity"))
