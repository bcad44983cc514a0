"""The pages' CSRF tokens are bound to the browser's session: a token from before a sign-in or
a sign-out, or from another browser (even with that browser's cookie), is refused; forms and
htmx requests of the session itself keep working, through a refresh too."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from tests.support.live_server import LiveServer
from tests.web.household import household, refused_because
from tests.web.test_pages import as_grown_up, csrf_of, sign_in_web

EXPIRED = "This form has expired"


@pytest.fixture
def browsers(server: LiveServer) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    with (
        httpx.Client(base_url=server.base_url) as a,
        httpx.Client(base_url=server.base_url) as b,
    ):
        yield a, b


def still_signed_in(browser: httpx.Client) -> bool:
    return browser.get("/profiles").status_code == 200


def test_a_token_captured_before_sign_in_is_refused_after_it(
    browsers: tuple[httpx.Client, httpx.Client], api: httpx.Client
) -> None:
    account, _ = household(api)
    browser, _ = browsers
    before = csrf_of(browser.get("/sign-in"))
    sign_in_web(browser, account)
    after = csrf_of(browser.get("/profiles"))
    assert after != before

    refused = browser.post("/sign-out", data={"_csrf_token": before})
    assert refused.status_code == 403
    assert EXPIRED in refused.text
    assert still_signed_in(browser)
    assert browser.post("/sign-out", data={"_csrf_token": after}).status_code == 303


def test_a_token_from_before_a_sign_out_is_refused_after_it(
    browsers: tuple[httpx.Client, httpx.Client], api: httpx.Client
) -> None:
    account, _ = household(api)
    browser, _ = browsers
    sign_in_web(browser, account)
    signed_in = csrf_of(browser.get("/profiles"))
    assert browser.post("/sign-out", data={"_csrf_token": signed_in}).status_code == 303
    credentials = {"email": account.email, "password": account.password}
    refused = browser.post("/sign-in", data={**credentials, "_csrf_token": signed_in})
    assert refused.status_code == 403
    assert "sg_access" not in refused.cookies


def test_another_browsers_token_is_refused_even_with_that_browsers_csrf_cookie(
    browsers: tuple[httpx.Client, httpx.Client], api: httpx.Client
) -> None:
    account, tv = household(api)
    a, b = browsers
    for browser in (a, b):
        sign_in_web(browser, account)
        as_grown_up(browser)
    token_of_a = csrf_of(a.get("/account/devices"))
    for name, value in a.cookies.items():
        if "csrf" in name:  # whatever a's token is checked against, b sends it too
            b.cookies.set(name, value)

    forged = b.post(f"/account/devices/{tv.device_id}/sign-out", data={"_csrf_token": token_of_a})
    assert forged.status_code == 403
    assert EXPIRED in forged.text
    assert refused_because(api, tv) is None
    forged = b.post("/sign-out", headers={"x-csrftoken": token_of_a})
    assert forged.status_code == 403
    assert still_signed_in(b)


def test_the_sessions_forms_and_htmx_requests_work_and_outlast_a_refresh(
    server: LiveServer, browsers: tuple[httpx.Client, httpx.Client], api: httpx.Client
) -> None:
    account, tv = household(api)
    browser, _ = browsers
    sign_in_web(browser, account)
    as_grown_up(browser)
    token = csrf_of(browser.get("/account/devices"))
    server.clock.advance(timedelta(minutes=16))  # the page stays open past its access token

    htmx = browser.post(
        f"/account/devices/{tv.device_id}/sign-out",
        headers={"hx-request": "true", "x-csrftoken": token},
    )
    assert htmx.status_code == 200, htmx.text
    assert "Living Room TV was signed out." in htmx.text
    assert refused_because(api, tv) == "signed_out_remotely"
    out = browser.post("/sign-out", data={"_csrf_token": token})
    assert out.status_code == 303
    assert out.headers["location"] == "/sign-in?reason=signed_out_here"


@pytest.mark.parametrize("where", ["header", "form"])
def test_a_token_that_is_not_ascii_is_refused_not_an_error(
    browsers: tuple[httpx.Client, httpx.Client], api: httpx.Client, where: str
) -> None:
    account, _ = household(api)
    browser, _ = browsers
    sign_in_web(browser, account)
    odd = "tökén-✓" * 12  # as long as a real token
    if where == "header":
        answer = browser.post("/sign-out", headers=[(b"x-csrftoken", odd.encode())])
    else:
        answer = browser.post("/sign-out", data={"_csrf_token": odd})
    assert answer.status_code == 403
    assert still_signed_in(browser)


def test_the_website_signed_in_leaves_the_tv_sign_in_form_of_the_same_browser_working(
    browsers: tuple[httpx.Client, httpx.Client], api: httpx.Client
) -> None:
    account, _ = household(api)
    browser, _ = browsers
    tv_form = browser.get("/tv/sign-in")
    sign_in_web(browser, account)
    assert still_signed_in(browser)
    credentials = {"email": account.email, "password": account.password}
    signed_in = browser.post("/tv/sign-in", data={**credentials, "_csrf_token": csrf_of(tv_form)})
    assert signed_in.status_code == 303, signed_in.text
    assert browser.get("/tv/profiles").status_code == 200
