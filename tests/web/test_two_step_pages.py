"""Two-step sign-in and "confirm it's you" on the pages, over plain HTTP (a browser without
JavaScript): enrolment from Account → Security, the code step on the website and the TV,
recovery codes, and a PIN change that asks to confirm and then goes through."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from screengate.domain.two_step import code_at
from tests.support.api import Account, sign_up
from tests.support.live_server import LiveServer
from tests.support.two_step import STEP
from tests.web.test_pages import as_grown_up, csrf_of, sign_in_web

SECRET = re.compile(r'id="totp-secret">([A-Z2-7 ]+)<')
CODES = re.compile(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>")
CHALLENGE = re.compile(r'name="challenge" value="([^"]+)"')


@pytest.fixture
def browser_like(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=15.0) as client:
        yield client


def _enrol(client: httpx.Client, server: LiveServer) -> tuple[str, list[str]]:
    security = client.get("/account/security")
    assert "Off." in security.text
    started = client.post("/account/security/totp", data={"_csrf_token": csrf_of(security)})
    assert started.status_code == 200, started.text
    assert "<svg" in started.text
    found = SECRET.search(started.text)
    assert found, started.text[:800]
    secret = found.group(1).replace(" ", "")
    wrong = client.post(
        "/account/security/totp/confirm", data={"code": "12", "_csrf_token": csrf_of(started)}
    )
    assert wrong.status_code == 400
    assert secret in wrong.text.replace(" ", "")  # the same QR and key, to try again
    confirmed = client.post(
        "/account/security/totp/confirm",
        data={"code": code_at(secret, server.clock.now()), "_csrf_token": csrf_of(started)},
    )
    assert confirmed.status_code == 200, confirmed.text
    codes = CODES.findall(confirmed.text)
    assert len(codes) == 10
    return secret, codes


def _password_step(client: httpx.Client, account: Account, prefix: str = "") -> httpx.Response:
    form = client.get(f"{prefix}/sign-in")
    asked = client.post(
        f"{prefix}/sign-in",
        data={"email": account.email, "password": account.password, "_csrf_token": csrf_of(form)},
    )
    assert asked.status_code == 200, asked.text
    return asked


def _code_step(
    client: httpx.Client, asked: httpx.Response, prefix: str = "", **proof: str
) -> httpx.Response:
    found = CHALLENGE.search(asked.text)
    assert found, asked.text[:800]
    return client.post(
        f"{prefix}/sign-in/second-step",
        data={"challenge": found.group(1), "_csrf_token": csrf_of(asked), **proof},
    )


def test_two_step_set_up_on_the_website_then_asks_every_sign_in_for_a_code(
    browser_like: httpx.Client, server: LiveServer, api: httpx.Client
) -> None:
    account = sign_up(api)
    sign_in_web(browser_like, account)
    as_grown_up(browser_like)
    secret, _ = _enrol(browser_like, server)
    assert "On." in browser_like.get("/account/security").text
    with httpx.Client(base_url=server.base_url, timeout=15.0) as laptop:
        asked = _password_step(laptop, account)
        assert 'autocomplete="one-time-code"' in asked.text
        wrong = _code_step(laptop, asked, code="12")
        assert wrong.status_code == 401
        server.clock.advance(STEP)
        done = _code_step(laptop, wrong, code=code_at(secret, server.clock.now()))
        assert done.status_code == 303, done.text
        assert laptop.get("/profiles").status_code == 200
    log = browser_like.get("/account/activity").text
    assert "Two-step sign-in turned on" in log
    assert "Failed sign-in: wrong code" in log
    assert "with a code" in log


def test_a_recovery_code_signs_in_on_the_website_once(
    browser_like: httpx.Client, server: LiveServer, api: httpx.Client
) -> None:
    account = sign_up(api)
    sign_in_web(browser_like, account)
    as_grown_up(browser_like)
    _, codes = _enrol(browser_like, server)
    with httpx.Client(base_url=server.base_url, timeout=15.0) as laptop:
        done = _code_step(laptop, _password_step(laptop, account), recovery_code=codes[0])
        assert done.status_code == 303, done.text
    with httpx.Client(base_url=server.base_url, timeout=15.0) as again:
        reused = _code_step(again, _password_step(again, account), recovery_code=codes[0])
        assert reused.status_code == 401
        assert "That code is not right" in reused.text


def test_the_tv_asks_for_the_code_on_a_keypad(
    browser_like: httpx.Client, server: LiveServer, api: httpx.Client
) -> None:
    account = sign_up(api)
    sign_in_web(browser_like, account)
    as_grown_up(browser_like)
    secret, _ = _enrol(browser_like, server)
    server.clock.advance(STEP)
    with httpx.Client(base_url=server.base_url, timeout=15.0) as tv:
        asked = _password_step(tv, account, "/tv")
        assert "data-keypad" in asked.text
        done = _code_step(tv, asked, "/tv", code=code_at(secret, server.clock.now()))
        assert done.status_code == 303, done.text
        assert done.headers["location"].startswith("/tv/")


def test_turning_two_step_off_after_five_minutes_asks_to_confirm_then_carries_on(
    browser_like: httpx.Client, server: LiveServer, api: httpx.Client
) -> None:
    account = sign_up(api)
    sign_in_web(browser_like, account)
    as_grown_up(browser_like)
    _enrol(browser_like, server)
    server.clock.advance(timedelta(minutes=5, seconds=1))
    security = browser_like.get("/account/security")
    asked = browser_like.post("/account/security/totp/off", data={"_csrf_token": csrf_of(security)})
    assert asked.status_code == 403
    assert "Confirm it" in asked.text
    assert "Or a code from your authenticator app" in asked.text
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', asked.text))
    wrong = browser_like.post("/account/confirm", data={**fields, "reauth_password": "nope"})
    assert wrong.status_code == 403
    carried_on = browser_like.post(
        "/account/confirm", data={**fields, "reauth_password": account.password}
    )
    assert carried_on.status_code == 307
    assert carried_on.headers["location"] == "/account/security/totp/off"
    # What a browser does with a 307: the same form, to the address it was going to.
    sent = browser_like.post(carried_on.headers["location"], data=fields)
    assert sent.status_code == 303, sent.text
    assert "Off." in browser_like.get("/account/security").text
