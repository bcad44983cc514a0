"""The TV app at /tv, driven the way a remote drives it: arrow keys, Enter and Backspace."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.support.api import new_email, sign_up
from tests.support.live_server import LiveServer
from tests.web.conftest import TV_BROWSER, NewDevice
from tests.web.household import add_profile, household, rename_first_profile, streaming_devices
from tests.web.remote import REMOTE_KEYS, Remote, to_email_and_password

pytestmark = pytest.mark.browser


def focused_title(page: Page) -> str:
    """The title whose tile has the focus ring."""
    return str(page.evaluate("document.activeElement.dataset.title"))


def press_until_focused(remote: Remote, key: str, target: Locator, most: int = 6) -> None:
    for _ in range(most):
        if target.evaluate("el => el === document.activeElement"):
            return
        remote.press(key)
    expect(target).to_be_focused()


def keys_focused(page: Page) -> bool:
    return bool(page.evaluate("!!document.activeElement.closest('[data-osk]')"))


def test_the_tv_app_with_the_remote_alone(
    server: LiveServer, api: httpx.Client, new_device: NewDevice
) -> None:
    # Capitals, a space and symbols from the second page: every kind of key gets pressed.
    account, phone = household(api, email=new_email("tv"), password="Sofa & Remote 4K!")
    rename_first_profile(api, phone, "Ana")
    server.clock.advance(timedelta(seconds=1))  # profiles list oldest first: Ana, then Ben
    add_profile(api, phone, "Ben", pin="4826")
    tv = new_device(TV_BROWSER)
    page = tv.open("/tv")
    remote = Remote(page)
    expect(page.get_by_role("heading", name="Sign in with your phone")).to_be_visible()
    remote.press("Enter")  # "Use email and password", the second choice
    email = page.get_by_label("Email", exact=True)
    password = page.get_by_label("Password", exact=True)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("button", name="a", exact=True)).to_be_focused()
    expect(email).to_have_class(re.compile(r"\bosk-target\b"))
    tv.shot("tv-sign-in", docs="tv-sign-in")

    # The email, with a slip on its last letter put right with Backspace.
    remote.type(account.email[:-1] + "n")
    expect(email).to_have_value(account.email[:-1] + "n")
    remote.press("Backspace")
    remote.type(account.email[-1])
    expect(email).to_have_value(account.email)
    tv.shot("tv-keyboard", docs="tv-keyboard")
    remote.choose("next")  # on to the password, the keys keep the focus
    expect(password).to_have_class(re.compile(r"\bosk-target\b"))
    expect(page.locator("[data-osk-field]")).to_have_text("Password")

    remote.type(account.password)
    expect(password).to_have_value(account.password)
    expect(password).to_have_attribute("type", "password")
    # Said by its length, never by its characters.
    said = f"Password: {len(account.password)} characters"
    expect(page.locator("[data-osk-status]")).to_have_text(said)
    remote.choose("show")
    expect(password).to_have_attribute("type", "text")
    expect(page.get_by_role("button", name="Hide password")).to_be_focused()
    tv.shot("tv-password-shown")
    remote.choose("show")
    expect(password).to_have_attribute("type", "password")

    # Left off the keys to the password field, down to Sign In, Enter.
    while keys_focused(page):
        remote.press("ArrowLeft")
    expect(password).to_be_focused()
    remote.press("ArrowDown")
    expect(page.locator("form").get_by_role("button", name="Sign In")).to_be_focused()
    remote.press("Enter")

    expect(page.get_by_role("heading", name="Who's watching?")).to_be_visible()
    expect(page.get_by_role("button", name="Ana")).to_be_focused()
    remote.press("ArrowRight")
    expect(page.get_by_role("link", name="Ben (locked)")).to_be_focused()
    tv.shot("tv-profiles")
    remote.press("Enter")
    expect(page.get_by_role("heading", name="Enter your PIN to watch as Ben")).to_be_visible()
    expect(page.get_by_role("button", name="1", exact=True)).to_be_focused()  # the page is ready
    # The keypad from 1: down to 4, to 8, up to 2, to 6; the fourth digit sends it.
    remote.press("ArrowDown", "Enter", "ArrowDown", "ArrowRight", "Enter")
    remote.press("ArrowUp", "ArrowUp", "Enter", "ArrowRight", "ArrowDown", "Enter")

    expect(page.locator("[data-hero] h1")).to_be_visible()
    first_title = focused_title(page)
    expect(page.locator("[data-hero] h1")).to_have_text(first_title)
    remote.press("ArrowRight")
    expect(page.locator("[data-hero] h1")).to_have_text(focused_title(page))
    remote.press("ArrowDown", "ArrowUp", "ArrowLeft")
    expect(page.get_by_role("button", name=first_title).first).to_be_focused()
    tv.shot("tv-home", docs="tv-home")

    remote.press("Enter")  # Play
    expect(page.get_by_role("heading", name=first_title)).to_be_visible()
    expect(page.get_by_text("Now playing as Ben")).to_be_visible()
    assert streaming_devices(api, phone) == ["TV app (Samsung Internet on Tizen)"]
    tv.shot("tv-playing")
    remote.press("Backspace")  # stops playback and goes back home
    expect(page.locator("[data-hero]")).to_be_visible()
    assert streaming_devices(api, phone) == []

    # The left menu's Get Help -> Sign Out -> "Are you sure?" -> Yes.
    remote.press("ArrowLeft")
    press_until_focused(remote, "ArrowDown", page.get_by_role("link", name="Get Help"))
    remote.press("Enter")
    expect(page.get_by_role("heading", name="Get Help")).to_be_visible()
    expect(page.get_by_role("link", name="Sign Out")).to_be_focused()
    remote.press("Enter")
    expect(page.get_by_role("heading", name="Are you sure you want to sign out?")).to_be_visible()
    expect(page.get_by_role("link", name="No")).to_be_focused()
    remote.press("ArrowLeft")
    expect(page.get_by_role("button", name="Yes")).to_be_focused()
    tv.shot("tv-sign-out", docs="tv-sign-out")
    remote.press("Enter")

    expect(page).to_have_url(re.compile(r"/tv/sign-in\?reason=signed_out_here$"))
    expect(page.locator("#signed-out-reason")).to_have_text("You signed out on this device.")
    expect(page.get_by_role("link", name="Use email and password")).to_be_focused()
    expect(page.locator("[data-user-code]")).to_be_visible()  # a new code, ready to approve
    tv.shot("tv-signed-out")
    devices = api.get("/v1/devices", headers=phone.auth).json()
    assert [d["type"] for d in devices] == ["smart_tv"]  # only the API's TV remains
    assert set(remote.presses) <= REMOTE_KEYS
    assert "Backspace" in remote.presses


def test_a_wrong_password_is_said_on_the_tv_and_the_remote_puts_it_right(
    api: httpx.Client, new_device: NewDevice
) -> None:
    account, _ = household(api, email=new_email("tv"))
    tv = new_device(TV_BROWSER)
    page = tv.open("/tv")
    to_email_and_password(page)
    remote = Remote(page)
    password = page.get_by_label("Password", exact=True)
    # A keyboard plugged into the TV types as well: the first letter goes into the email.
    page.keyboard.type(account.email)
    page.keyboard.press("Enter")
    expect(password).to_be_focused()
    page.keyboard.type("not my password")
    page.keyboard.press("Enter")

    expect(page.get_by_role("alert")).to_have_text(
        "Incorrect email or password. Check them and try again."
    )
    expect(page.get_by_label("Email", exact=True)).to_have_value(account.email)
    expect(password).to_have_value("")
    expect(password).to_have_attribute("aria-invalid", "true")
    # The email is kept, so the keys now fill the password.
    expect(page.locator("[data-osk-field]")).to_have_text("Password")
    expect(page.get_by_role("button", name="a", exact=True)).to_be_focused()
    tv.shot("tv-wrong-password", docs="tv-wrong-password")

    remote.type(account.password)
    remote.choose("next")  # the keys' Sign In
    expect(page.get_by_role("heading", name="Who's watching?")).to_be_visible()


def test_without_javascript_the_tv_signs_in_with_plain_fields(
    api: httpx.Client, new_device: NewDevice
) -> None:
    account = sign_up(api)
    tv = new_device(TV_BROWSER, javascript=False)
    page = tv.open("/tv/sign-in")
    page.get_by_role("link", name="Use email and password").click()
    expect(page.get_by_role("region", name="On-screen keyboard")).to_be_hidden()
    page.get_by_label("Email", exact=True).fill(account.email)
    page.get_by_label("Password", exact=True).fill(account.password)
    tv.shot("tv-sign-in-without-javascript")
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", name="Who's watching?")).to_be_visible()


def type_pin(page: Page, pin: str) -> int:
    """Type a PIN on the keypad (its fourth digit sends it); the answer's status, once the
    page it led to has loaded."""
    expect(page.get_by_role("button", name="1", exact=True)).to_be_focused()
    sent = page.expect_response(lambda r: r.request.method == "POST" and "/watch" in r.url)
    with sent as answer, page.expect_navigation():
        page.keyboard.type(pin)
    return answer.value.status


def test_too_many_wrong_pins_are_said_on_the_tv_keypad_and_when_play_is_pressed(
    server: LiveServer, api: httpx.Client, new_device: NewDevice
) -> None:
    account, phone = household(api, email=new_email("tv"))
    rename_first_profile(api, phone, "Ana")
    server.clock.advance(timedelta(seconds=1))  # profiles list oldest first: Ana, then Ben
    ben = add_profile(api, phone, "Ben", pin="4826")
    tv = new_device(TV_BROWSER)
    page = tv.open("/tv")
    to_email_and_password(page)
    page.keyboard.type(account.email)  # a keyboard plugged into the TV, to be quick
    page.keyboard.press("Enter")
    page.keyboard.type(account.password)
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Ana")).to_be_focused()
    remote = Remote(page)
    remote.press("ArrowRight", "Enter")
    for guess in ("1111", "2222", "3333", "4444"):
        assert type_pin(page, guess) == 403
        expect(page.get_by_role("alert")).to_have_text("That PIN is not right.")
    assert type_pin(page, "4826") == 303
    expect(page.locator("[data-hero] h1")).to_be_visible()

    # The owner's right PIN cleared nothing: one more wrong guess anywhere pauses Ben.
    guessed = api.post(
        "/v1/streams",
        json={"profile_id": ben, "title_id": "night-harbour", "pin": "5555"},
        headers=phone.auth,
    )
    assert guessed.status_code == 429, guessed.text
    remote.press("Enter")  # Play
    paused = "Too many wrong PINs. Try again in 15 minutes."
    expect(page.get_by_role("alert")).to_have_text(paused)
    expect(page.get_by_role("heading", name="Enter your PIN to watch as Ben")).to_be_visible()
    keypad = page.get_by_role("group", name="PIN keypad")
    expect(keypad).to_have_attribute("aria-describedby", "form-errors")  # said on the keys too
    tv.shot("tv-pin-paused")
    assert type_pin(page, "4826") == 429  # the right PIN waits too
    expect(page.get_by_role("alert")).to_have_text(paused)
    assert streaming_devices(api, phone) == []
