"""What a browser itself does with the pages' headers: the policy refuses nothing the pages
need, Back after Sign out asks the server again, and no `next` takes it off the site."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

import httpx
import pytest
from playwright.sync_api import Route, expect

from tests.support.api import sign_up
from tests.support.live_server import LiveServer
from tests.web.conftest import TV_BROWSER, Device, NewDevice
from tests.web.household import household
from tests.web.remote import to_email_and_password
from tests.web.test_website import events_connected, sign_in_on_web

pytestmark = pytest.mark.browser


def stays_home(device: Device) -> list[str]:
    """Refuse, and list, every request the browser makes to anywhere but the test server."""
    left: list[str] = []
    home = urlsplit(device.base_url).netloc

    def leave(route: Route) -> None:
        left.append(route.request.url)
        route.abort()

    device.context.route(lambda url: urlsplit(url).netloc != home, leave)
    return left


def test_every_page_of_the_website_and_the_tv_runs_under_the_policy(
    server: LiveServer, api: httpx.Client, new_device: NewDevice
) -> None:
    account, _ = household(api)
    laptop = new_device()
    page = laptop.open("/sign-up")
    expect(page.get_by_role("heading", name=re.compile("account", re.I)).first).to_be_visible()
    page = sign_in_on_web(laptop, account.email, account.password)
    events_connected(page)  # session.js ran, and opened its event stream
    page.locator("[data-profile]").first.click()  # a grown-up profile opens the account pages
    for path in (
        "/profiles/manage",
        "/profiles/new",
        "/account",
        "/account/devices",
        "/account/password",
        "/account/activity",
        "/account/sign-out-all",
        "/no-such-page",
    ):
        page.goto(server.base_url + path)
        expect(page.locator("main")).to_be_visible()
    page.goto(server.base_url + "/profiles")
    page.locator("[data-profile]").first.click()
    page.get_by_role("button", name=re.compile("^Play")).first.click()
    expect(page.locator("[data-player]")).to_be_visible()

    # htmx still works under the policy: a device's row goes without a reload.
    page.goto(server.base_url + "/account/devices")
    page.get_by_role("button", name="Sign out Living Room TV").click()
    expect(page.get_by_role("status")).to_contain_text("Living Room TV was signed out.")

    tv = new_device(TV_BROWSER)
    tv_page = tv.open("/tv")
    to_email_and_password(tv_page)
    expect(tv_page.locator("[data-osk]")).to_be_visible()  # keyboard.js ran
    tv_page.keyboard.type(account.email)
    tv_page.keyboard.press("Enter")
    tv_page.keyboard.type(account.password)
    tv_page.keyboard.press("Enter")
    expect(tv_page.get_by_role("heading", name="Who's watching?")).to_be_visible()
    tv_page.goto(server.base_url + "/tv/help")
    expect(tv_page.locator("main")).to_be_visible()

    assert laptop.violations == []
    assert tv.violations == []


def test_back_after_sign_out_does_not_show_the_device_list(
    server: LiveServer, api: httpx.Client, new_device: NewDevice
) -> None:
    account, _ = household(api)
    # No JavaScript: nothing but the cache decides what Back shows (no event stream moves on).
    laptop = new_device(javascript=False)
    page = laptop.open("/sign-in")
    page.get_by_label("Email").fill(account.email)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Sign in").click()
    page.locator("[data-profile]").first.click()  # a grown-up profile opens the account pages
    page.goto(server.base_url + "/account/devices")
    expect(page.locator("li[data-device]")).to_have_count(2)

    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page).to_have_url(re.compile(r"/sign-in\?reason=signed_out_here"))
    page.go_back()

    expect(page).to_have_url(re.compile(r"/sign-in"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.locator("li[data-device]").count() == 0
    assert "Living Room TV" not in page.content()


# Each as the address carries it (already percent-encoded where it says so).
HOSTILE_NEXT = [
    "//evil.example",
    "/%2F/evil.example",
    "%2F%2Fevil.example",
    "/%09/evil.example",
    "/%0A/evil.example",
    "%09//evil.example",
    "/%5Cevil.example",
    "%5C/evil.example",
    "%5C%5Cevil.example",
    "https:evil.example",
    "https://evil.example",
    "/.//evil.example",
    "/%2509/evil.example",
    "%20//evil.example",
]


def test_after_sign_in_with_a_hostile_next_the_browser_stays_on_this_site(
    server: LiveServer, api: httpx.Client, new_device: NewDevice
) -> None:
    account = sign_up(api)
    laptop = new_device()
    left = stays_home(laptop)
    home = urlsplit(server.base_url).netloc
    for hostile in HOSTILE_NEXT:
        page = laptop.open(f"/sign-in?next={hostile}")
        page.get_by_label("Email").fill(account.email)
        page.get_by_label("Password").fill(account.password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        assert urlsplit(page.url).netloc == home, (hostile, page.url)
        laptop.context.clear_cookies()
    assert left == []


@pytest.mark.parametrize(
    "hostile",
    ["/\t/evil.example", "/\n/evil.example", "\\/evil.example", "/\\evil.example"],
    ids=["tab", "newline", "backslash-slash", "slash-backslash"],
)
def test_after_an_htmx_sign_in_with_a_hostile_next_the_browser_stays_on_this_site(
    server: LiveServer, api: httpx.Client, new_device: NewDevice, hostile: str
) -> None:
    account = sign_up(api)
    laptop = new_device()
    left = stays_home(laptop)
    page = laptop.open("/sign-in")
    expect(page.locator("input[name=_csrf_token]")).to_have_count(1)
    # htmx follows HX-Redirect by setting the location itself, with no encoding of its own.
    page.evaluate(
        """([email, password, next]) => htmx.ajax("POST", "/sign-in", {
            source: document.querySelector("form[action='/sign-in']"),
            values: {email, password, next},
        })""",
        [account.email, account.password, hostile],
    )
    expect(page).to_have_url(re.compile(re.escape(server.base_url) + r"/profiles$"))
    assert left == [], quote(hostile)


def test_a_fourth_tab_takes_the_oldest_tabs_event_stream_which_listens_again_when_seen(
    server: LiveServer, api: httpx.Client, new_device: NewDevice
) -> None:
    account, tv = household(api)
    laptop = new_device()
    first = sign_in_on_web(laptop, account.email, account.password)
    events_connected(first)
    tabs = [first]
    for _ in range(3):
        tab = laptop.context.new_page()
        tab.goto(server.base_url + "/profiles")
        events_connected(tab)
        tabs.append(tab)

    # A browser is one device: three streams at most, so the oldest tab's gave way.
    expect(first.locator("body[data-events-state=replaced]")).to_have_count(1)
    # Looked at again, it listens again, and the oldest of the others gives way in turn.
    first.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    events_connected(first)
    expect(tabs[1].locator("body[data-events-state=replaced]")).to_have_count(1)

    answer = api.post("/v1/devices/sign-out-all", headers=tv.auth, json={"keep_this_device": True})
    assert answer.status_code == 200, answer.text
    for tab in (first, tabs[2], tabs[3]):
        expect(tab).to_have_url(re.compile(r"/sign-in\?reason=signed_out_everywhere"))
