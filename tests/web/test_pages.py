"""The pages over plain HTTP: CSRF, the session cookies, refresh, sign-out reasons, throttling."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest

from tests.support.api import Account, activity, new_email, refresh, sign_in, sign_up
from tests.support.live_server import LiveServer, live_server
from tests.web.conftest import web_settings
from tests.web.household import add_profile, household, play, profiles

CSRF_INPUT = re.compile(r'name="_csrf_token" value="([^"]+)"')


def csrf_of(page: httpx.Response) -> str:
    found = CSRF_INPUT.search(page.text)
    assert found, page.text[:500]
    return found.group(1)


@pytest.fixture
def browser_like(server: LiveServer) -> Iterator[httpx.Client]:
    """A cookie-keeping client, as a browser without JavaScript is."""
    with httpx.Client(base_url=server.base_url, timeout=15.0) as client:
        yield client


def sign_in_web(client: httpx.Client, account: Account) -> httpx.Response:
    form = client.get("/sign-in")
    answer = client.post(
        "/sign-in",
        data={"email": account.email, "password": account.password, "_csrf_token": csrf_of(form)},
    )
    assert answer.status_code == 303, answer.text
    return answer


def as_grown_up(client: httpx.Client) -> None:
    """On Who's watching?, pick the profile sign-up made: a grown-up one, without a PIN."""
    whos_watching = client.get("/profiles")
    first = re.search(r'action="(/profiles/[^"]+/watch)"', whos_watching.text)
    assert first, whos_watching.text[:500]
    picked = client.post(first.group(1), data={"_csrf_token": csrf_of(whos_watching)})
    assert picked.status_code == 303, picked.text


def cookie_header(answer: httpx.Response, name: str) -> str:
    found = [h for h in answer.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    assert found, answer.headers.get_list("set-cookie")
    return found[-1]


def test_a_form_without_its_csrf_token_is_refused_and_the_api_needs_none(
    browser_like: httpx.Client, api: httpx.Client
) -> None:
    account = sign_up(api)
    browser_like.get("/sign-in")  # has the CSRF cookie, but sends no token
    forged = browser_like.post("/sign-in", data={"email": account.email, "password": "x"})
    assert forged.status_code == 403
    assert "This form has expired" in forged.text

    answer = api.post(
        "/v1/auth/sign-in",
        json={"email": account.email, "password": account.password, "device": {"type": "phone"}},
    )
    assert answer.status_code == 201, answer.text
    assert "set-cookie" not in answer.headers


def test_the_api_takes_no_cookie_as_a_credential(
    browser_like: httpx.Client, api: httpx.Client
) -> None:
    account = sign_up(api)
    sign_in_web(browser_like, account)
    assert browser_like.get("/v1/account").status_code == 401


def test_session_and_csrf_cookies_are_httponly_and_lax_and_secure_behind_an_https_proxy(
    browser_like: httpx.Client, api: httpx.Client, database_url: str
) -> None:
    account = sign_up(api)
    assert "secure" not in cookie_header(browser_like.get("/sign-in"), "sg_csrf").lower()
    plain = sign_in_web(browser_like, account)
    for name in ("sg_access", "sg_refresh"):
        header = cookie_header(plain, name).lower()
        assert "httponly" in header
        assert "samesite=lax" in header
        assert "path=/" in header
        assert "secure" not in header
    # A client that only says it came over https is not a trusted proxy: nothing changes.
    untrusted = httpx.get(
        str(browser_like.base_url.join("/tv/sign-in")), headers={"x-forwarded-proto": "https"}
    )
    assert "secure" not in cookie_header(untrusted, "sg_tv_csrf").lower()

    settings = web_settings(database_url, trusted_proxies=["127.0.0.1"])
    with live_server(settings) as proxied, httpx.Client(base_url=proxied.base_url) as client:
        plain_request = httpx.get(f"{proxied.base_url}/tv/sign-in")
        assert "secure" not in cookie_header(plain_request, "sg_tv_csrf").lower()
        https = {"x-forwarded-proto": "https"}
        form = client.get("/sign-in", headers=https)
        csrf_cookie = cookie_header(form, "sg_csrf")
        assert "secure" in csrf_cookie.lower()
        assert "httponly" in csrf_cookie.lower()
        # The browser sends its Secure cookie back only over https, i.e. through the proxy.
        answer = client.post(
            "/sign-in",
            data={
                "email": account.email,
                "password": account.password,
                "_csrf_token": csrf_of(form),
            },
            headers={**https, "cookie": csrf_cookie.partition(";")[0]},
        )
        assert answer.status_code == 303, answer.text
        assert "secure" in cookie_header(answer, "sg_refresh").lower()


def test_an_expired_access_token_is_refreshed_once_however_many_pages_ask(
    server: LiveServer, browser_like: httpx.Client, api: httpx.Client
) -> None:
    account, tv = household(api)
    sign_in_web(browser_like, account)
    as_grown_up(browser_like)
    server.clock.advance(timedelta(minutes=16))  # past the 15-minute access token

    cookies = dict(browser_like.cookies.items())

    def open_page(path: str) -> httpx.Response:
        with httpx.Client(base_url=server.base_url, cookies=cookies) as tab:
            return tab.get(path)

    with ThreadPoolExecutor(4) as tabs:
        answers = list(tabs.map(open_page, ["/account", "/account/devices", "/profiles"] * 2))
    assert [a.status_code for a in answers] == [200] * 6
    # Those that asked while the refresh was under way share it; a later one is served
    # without new cookies (tests/web/test_refresh.py).
    refreshed = [a for a in answers if "sg_access" in a.cookies]
    fresh = {cookie_header(a, "sg_access") for a in refreshed}
    assert len(fresh) == 1, "one refresh, shared by every page that asked at once"

    kept = {**cookies, **dict(refreshed[0].cookies.items())}  # the profile choice, too
    browser_like.cookies.clear()
    for name, value in kept.items():
        browser_like.cookies.set(name, value)
    assert browser_like.get("/account/devices").status_code == 200
    assert refresh(api, tv).status_code == 200  # the API's TV was idle as long
    kinds = [event["kind"] for event in activity(api, tv)]
    assert "token_reuse_detected" not in kinds


def test_a_page_of_a_device_signed_out_elsewhere_leads_to_sign_in_with_the_reason(
    browser_like: httpx.Client, api: httpx.Client
) -> None:
    account, tv = household(api)
    signed_in = sign_in_web(browser_like, account)
    device_id = (
        cookie_header(signed_in, "sg_device").split(";")[0].partition("=")[2].partition(".")[0]
    )
    out = api.post(f"/v1/devices/{device_id}/sign-out", headers=tv.auth)
    assert out.status_code == 200, out.text

    page = browser_like.get("/account")
    assert page.status_code == 303
    assert page.headers["location"] == "/sign-in?reason=signed_out_remotely"
    assert "max-age=0" in cookie_header(page, "sg_access").lower()
    sign_in_page = browser_like.get(page.headers["location"])
    assert "You were signed out from another device." in sign_in_page.text


def test_the_event_stream_tells_an_open_page_it_was_signed_out_and_why(
    server: LiveServer, browser_like: httpx.Client, api: httpx.Client
) -> None:
    account, tv = household(api)
    signed_in = sign_in_web(browser_like, account)
    device_id = (
        cookie_header(signed_in, "sg_device").split(";")[0].partition("=")[2].partition(".")[0]
    )
    heard: list[str] = []
    connected = threading.Event()

    def listen() -> None:
        with browser_like.stream("GET", "/events") as events:
            assert events.headers["content-type"].startswith("text/event-stream")
            for line in events.iter_lines():
                connected.set()
                heard.append(line)
                if line.startswith("data:"):
                    return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert connected.wait(5)
    api.post(f"/v1/devices/{device_id}/sign-out", headers=tv.auth)
    listener.join(5)
    assert "event: signed_out" in heard
    data = next(line for line in heard if line.startswith("data:"))
    assert '"reason": "signed_out_remotely"' in data
    assert '"location": "/sign-in?reason=signed_out_remotely"' in data


@pytest.mark.parametrize("sign_in_url", ["/sign-in", "/tv/sign-in"], ids=["website", "tv"])
def test_sign_in_errors_say_what_to_do(
    database_url: str, api: httpx.Client, sign_in_url: str
) -> None:
    account = sign_up(api)
    settings = web_settings(database_url, sign_in_limit_per_account="2/minute")
    with live_server(settings) as throttled, httpx.Client(base_url=throttled.base_url) as client:
        token = csrf_of(client.get(sign_in_url))
        wrong = {"email": account.email, "password": "not it", "_csrf_token": token}
        first = client.post(sign_in_url, data=wrong)
        assert first.status_code == 400
        assert "Incorrect email or password" in first.text
        client.post(sign_in_url, data=wrong)
        limited = client.post(sign_in_url, data=wrong)
        assert limited.status_code == 429
        assert re.search(r"Too many sign-in attempts\. Try again in \d+ seconds\.", limited.text)
        assert int(limited.headers["retry-after"]) > 0


def test_sign_up_explains_a_weak_password_and_a_taken_email(
    browser_like: httpx.Client, api: httpx.Client
) -> None:
    token = csrf_of(browser_like.get("/sign-up"))
    email = new_email()
    weak = browser_like.post(
        "/sign-up", data={"email": email, "password": "qwertyuiop", "_csrf_token": token}
    )
    assert weak.status_code == 422
    assert "That password is too common; choose one that is hard to guess." in weak.text
    made = browser_like.post(
        "/sign-up",
        data={
            "email": email,
            "password": "ferns under the viaduct",
            "plan": "basic",
            "_csrf_token": token,
        },
    )
    assert made.status_code == 303
    assert made.headers["location"] == "/profiles"
    browser_like.cookies.delete("sg_access")
    browser_like.cookies.delete("sg_refresh")
    again = browser_like.post(
        "/sign-up",
        data={"email": email, "password": "ferns under the viaduct", "_csrf_token": token},
    )
    assert again.status_code == 409
    assert "An account with this email already exists. Sign in instead." in again.text
    assert sign_in(api, email, password="ferns under the viaduct")


def test_a_locked_profile_asks_for_its_pin_once_and_play_then_needs_no_more(
    server: LiveServer, browser_like: httpx.Client, api: httpx.Client
) -> None:
    account, tv = household(api)
    ben = add_profile(api, tv, "Ben", pin="4826")
    sign_in_web(browser_like, account)
    token = csrf_of(browser_like.get("/profiles"))
    refused = browser_like.post(f"/profiles/{ben}/watch", data={"_csrf_token": token})
    assert refused.status_code == 403
    assert "Enter the profile&#39;s 4-digit PIN." in refused.text
    picked = browser_like.post(f"/profiles/{ben}/watch", data={"_csrf_token": token, "pin": "4826"})
    assert picked.status_code == 303
    assert picked.headers["location"] == "/browse"
    assert "max-age" not in cookie_header(picked, "sg_profile").lower()  # gone with the browser
    assert "4826" not in cookie_header(picked, "sg_profile")
    played = browser_like.post("/play/kitchen-wars", data={"_csrf_token": token})
    assert played.status_code == 303
    assert played.headers["location"].startswith("/watch/")

    # The choice is bound to this session: copied to another browser, it is worth nothing.
    with httpx.Client(base_url=server.base_url) as other:
        sign_in_web(other, account)
        other.cookies.set("sg_profile", browser_like.cookies["sg_profile"])
        assert other.get("/browse").headers["location"] == "/profiles"


def test_signing_out_on_this_device_ends_its_session_and_says_so(
    browser_like: httpx.Client, api: httpx.Client
) -> None:
    account, tv = household(api)
    sign_in_web(browser_like, account)
    token = csrf_of(browser_like.get("/profiles"))
    out = browser_like.post("/sign-out", data={"_csrf_token": token})
    assert out.status_code == 303
    assert out.headers["location"] == "/sign-in?reason=signed_out_here"
    assert "You signed out on this device." in browser_like.get(out.headers["location"]).text
    assert [d["name"] for d in api.get("/v1/devices", headers=tv.auth).json()] == ["Living Room TV"]


def test_without_javascript_the_device_list_says_which_device_was_signed_out(
    browser_like: httpx.Client, api: httpx.Client
) -> None:
    account, tv = household(api)
    sign_in_web(browser_like, account)
    as_grown_up(browser_like)
    token = csrf_of(browser_like.get("/account/devices"))
    out = browser_like.post(
        f"/account/devices/{tv.device_id}/sign-out", data={"_csrf_token": token}
    )
    assert out.status_code == 303
    assert out.headers["location"] == "/account/devices"
    listing = browser_like.get("/account/devices")
    assert "Living Room TV was signed out." in listing.text
    assert "Living Room TV was signed out." not in browser_like.get("/account/devices").text


def test_the_tv_names_who_holds_the_screens_and_stops_one(
    browser_like: httpx.Client, api: httpx.Client
) -> None:
    account, phone = household(api, plan="basic")  # one screen
    profile = profiles(api, phone)[0]["profile_id"]
    play(api, phone, profile, "night-harbour")
    token = csrf_of(browser_like.get("/tv/sign-in"))
    credentials = {"email": account.email, "password": account.password, "_csrf_token": token}
    assert browser_like.post("/tv/sign-in", data=credentials).status_code == 303
    token = csrf_of(browser_like.get("/tv/profiles"))  # signed in: the session's own token
    browser_like.post(f"/tv/profiles/{profile}/watch", data={"_csrf_token": token})

    refused = browser_like.post("/tv/play/kitchen-wars", data={"_csrf_token": token})
    assert refused.status_code == 409
    assert "Too many people are using your account right now" in refused.text
    assert "Living Room TV" in refused.text
    stop_url = re.search(r'action="(/tv/streams/[^"]+/stop)"', refused.text)
    assert stop_url
    stopped = browser_like.post(
        stop_url.group(1), data={"_csrf_token": token, "then": "kitchen-wars"}
    )
    assert stopped.headers["location"] == "/tv/browse?ready=kitchen-wars"
    assert "Play Kitchen Wars" in browser_like.get(stopped.headers["location"]).text
    played = browser_like.post("/tv/play/kitchen-wars", data={"_csrf_token": token})
    assert played.status_code == 303
    assert played.headers["location"].startswith("/tv/watch/")


def test_security_activity_pages_back_through_the_log(
    browser_like: httpx.Client, api: httpx.Client
) -> None:
    account, _ = household(api)
    # More than one page holds: each sign-in and its new sign-in alert (tests/mail).
    for number in range(11):
        sign_in(api, account, f"Hotel TV {number}", "smart_tv")
    sign_in_web(browser_like, account)
    as_grown_up(browser_like)
    newest = browser_like.get("/account/activity")
    assert newest.text.count("<tr>") == 1 + 20  # the header row and a page of events
    older = re.search(r'href="(/account/activity\?before=\d+)" rel="next"', newest.text)
    assert older
    second = browser_like.get(older.group(1))
    assert "Account created on the premium plan" in second.text
    assert 'href="/account/activity">Newest' in second.text


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize(
    ("path", "stylesheet"), [("/no-such-page", "/static/app.css"), ("/tv/nope", "/static/tv.css")]
)
def test_an_unknown_address_is_a_page_not_found_for_a_browser(
    browser_like: httpx.Client, path: str, stylesheet: str
) -> None:
    answer = browser_like.get(path, headers={"accept": BROWSER_ACCEPT})
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "Page not found" in answer.text
    assert stylesheet in answer.text  # the website's page, or the TV's


@pytest.mark.parametrize(
    ("path", "accept"),
    [
        ("/v1/no-such-thing", BROWSER_ACCEPT),
        ("/no-such-page", "application/json"),
        ("/tv/nope", "*/*"),
    ],
)
def test_an_unknown_address_is_a_problem_for_the_api_and_json_clients(
    browser_like: httpx.Client, path: str, accept: str
) -> None:
    answer = browser_like.get(path, headers={"accept": accept})
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["code"] == "not_found"


def test_workers_sharing_a_database_accept_each_others_forms_and_profile_choice(
    browser_like: httpx.Client, api: httpx.Client, database_url: str
) -> None:
    # No SCREENGATE_WEB_SECRET: the second server finds the secret the first one kept.
    account, tv = household(api)
    ana = profiles(api, tv)[0]["profile_id"]
    sign_in_web(browser_like, account)
    token = csrf_of(browser_like.get("/profiles"))
    assert (
        browser_like.post(f"/profiles/{ana}/watch", data={"_csrf_token": token}).status_code == 303
    )

    with (
        live_server(web_settings(database_url)) as other_worker,
        httpx.Client(base_url=other_worker.base_url, cookies=browser_like.cookies) as same_browser,
    ):
        assert same_browser.get("/browse").status_code == 200  # its signed profile choice holds
        played = same_browser.post("/play/kitchen-wars", data={"_csrf_token": token})
        assert played.status_code == 303, played.text  # the form from the first worker is good
        assert played.headers["location"].startswith("/watch/")


def test_edit_profile_changes_or_removes_a_pin_only_with_the_account_password(
    browser_like: httpx.Client, api: httpx.Client
) -> None:
    account, tv = household(api)
    ben = add_profile(api, tv, "Ben", pin="4826")
    sign_in_web(browser_like, account)
    as_grown_up(browser_like)
    edit = browser_like.get(f"/profiles/{ben}/edit")
    assert 'name="password"' in edit.text
    token = csrf_of(edit)

    for password in ("", "not the password"):
        form = {"_csrf_token": token, "name": "Ben", "lock": "remove", "password": password}
        refused = browser_like.post(f"/profiles/{ben}/edit", data=form)
        assert refused.status_code == 403
        assert "Enter your account password to set, change or remove the PIN." in refused.text
        assert "not the password" not in refused.text  # never sent back into the page
    assert [p["locked"] for p in profiles(api, tv) if p["profile_id"] == ben] == [True]

    form = {"_csrf_token": token, "name": "Ben", "lock": "remove", "password": account.password}
    done = browser_like.post(f"/profiles/{ben}/edit", data=form)
    assert done.status_code == 303, done.text
    assert [p["locked"] for p in profiles(api, tv) if p["profile_id"] == ben] == [False]
    kinds = [e["kind"] for e in activity(api, tv)]
    assert kinds.count("password_check_failed") == 1  # an empty password is no guess
    assert "profile_pin_changed" in kinds


def test_a_browser_that_signed_in_before_still_signs_in_while_strangers_are_throttled(
    database_url: str, api: httpx.Client
) -> None:
    account = sign_up(api)
    settings = web_settings(database_url, sign_in_limit_per_account="3/minute")
    with (
        live_server(settings) as throttled,
        httpx.Client(base_url=throttled.base_url) as mine,
        httpx.Client(base_url=throttled.base_url) as stranger,
    ):
        sign_in_web(mine, account)
        device_cookie = mine.cookies["sg_device"]
        device_id, _, secret = device_cookie.partition(".")
        assert device_id
        assert secret

        token = csrf_of(stranger.get("/sign-in"))
        wrong = {"email": account.email, "password": "a guess", "_csrf_token": token}
        statuses = [stranger.post("/sign-in", data=wrong).status_code for _ in range(5)]
        assert statuses == [400, 400, 400, 429, 429]
        right = {**wrong, "password": account.password}
        assert stranger.post("/sign-in", data=right).status_code == 429

        for session_cookie in ("sg_access", "sg_refresh"):  # signed out; the device cookie stays
            mine.cookies.delete(session_cookie)
        again = sign_in_web(mine, account)  # the device cookie: id and secret
        assert again.status_code == 303
        assert mine.cookies["sg_device"].partition(".")[0] == device_id
        assert mine.cookies["sg_device"] != device_cookie  # a new secret at every sign-in
