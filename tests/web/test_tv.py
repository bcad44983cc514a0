"""The TV app at /tv, driven the way a remote drives it: arrow keys, Enter and Backspace."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.support.live_server import LiveServer
from tests.web.conftest import TV_BROWSER, NewDevice
from tests.web.household import add_profile, household, rename_first_profile, streaming_devices

pytestmark = pytest.mark.browser


def focused_title(page: Page) -> str:
    """The title whose tile has the focus ring."""
    return str(page.evaluate("document.activeElement.dataset.title"))


def press_until_focused(page: Page, key: str, target: Locator, most: int = 6) -> None:
    for _ in range(most):
        if target.evaluate("el => el === document.activeElement"):
            return
        page.keyboard.press(key)
    expect(target).to_be_focused()


def test_the_tv_app_with_the_keyboard_alone(
    server: LiveServer, api: httpx.Client, new_device: NewDevice
) -> None:
    account, phone = household(api)
    rename_first_profile(api, phone, "Ana")
    server.clock.advance(timedelta(seconds=1))  # profiles list oldest first: Ana, then Ben
    add_profile(api, phone, "Ben", pin="4826")
    tv = new_device(TV_BROWSER)
    page = tv.open("/tv")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_label("Email")).to_be_focused()
    tv.shot("tv-sign-in", docs="tv-sign-in")

    page.keyboard.type(account.email)
    page.keyboard.press("Enter")  # on to the password, as a TV keyboard's Next
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(account.password)
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Who's watching?")).to_be_visible()
    expect(page.get_by_role("button", name="Ana")).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("link", name="Ben (locked)")).to_be_focused()
    tv.shot("tv-profiles")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Enter your PIN to watch as Ben")).to_be_visible()
    page.keyboard.type("4826")  # the digits; the keypad takes arrows and Enter too

    expect(page.locator("[data-hero] h1")).to_be_visible()
    first_title = focused_title(page)
    expect(page.locator("[data-hero] h1")).to_have_text(first_title)
    page.keyboard.press("ArrowRight")
    expect(page.locator("[data-hero] h1")).to_have_text(focused_title(page))
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_role("button", name=first_title).first).to_be_focused()
    tv.shot("tv-home", docs="tv-home")

    page.keyboard.press("Enter")  # Play
    expect(page.get_by_role("heading", name=first_title)).to_be_visible()
    expect(page.get_by_text("Now playing as Ben")).to_be_visible()
    assert streaming_devices(api, phone) == ["TV app (Samsung Internet on Tizen)"]
    tv.shot("tv-playing")
    page.keyboard.press("Backspace")  # stops playback and goes back home
    expect(page.locator("[data-hero]")).to_be_visible()
    assert streaming_devices(api, phone) == []

    # The left menu's Get Help -> Sign Out -> "Are you sure?" -> Yes.
    page.keyboard.press("ArrowLeft")
    press_until_focused(page, "ArrowDown", page.get_by_role("link", name="Get Help"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Get Help")).to_be_visible()
    expect(page.get_by_role("link", name="Sign Out")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Are you sure you want to sign out?")).to_be_visible()
    expect(page.get_by_role("link", name="No")).to_be_focused()
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_role("button", name="Yes")).to_be_focused()
    tv.shot("tv-sign-out", docs="tv-sign-out")
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/tv/sign-in\?reason=signed_out_here$"))
    expect(page.locator("#signed-out-reason")).to_have_text("You signed out on this device.")
    expect(page.get_by_label("Email")).to_be_focused()
    tv.shot("tv-signed-out")
    devices = api.get("/v1/devices", headers=phone.auth).json()
    assert [d["type"] for d in devices] == ["smart_tv"]  # only the API's TV remains
