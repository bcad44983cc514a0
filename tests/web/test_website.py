"""The website's journeys in Debian's chromium: DESIGN.md's User journeys, by a person's hand."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from playwright.sync_api import Page, Response, expect

from screengate.demo import DEMO_EMAIL, DEMO_PASSWORD, seed_demo
from tests.support.api import Account, sign_in
from tests.support.live_server import LiveServer
from tests.web.conftest import EDGE_ON_MACOS, TV_BROWSER, Device, NewDevice
from tests.web.household import (
    add_profile,
    household,
    play,
    profiles,
    refused_because,
    rename_first_profile,
    streaming_devices,
)
from tests.web.remote import to_email_and_password

pytestmark = pytest.mark.browser


def sign_in_on_web(device: Device, email: str, password: str) -> Page:
    page = device.open("/")
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Who's watching?")).to_be_visible()
    return page


def as_grown_up(page: Page) -> Page:
    """On Who's watching?, pick the profile sign-up made: a grown-up one, without a PIN."""
    page.locator("[data-profile]").first.click()
    expect(page.get_by_role("heading", name=re.compile("^Watching as "))).to_be_visible()
    return page


def watch_as(page: Page, profile: str) -> None:
    page.locator(f'[data-profile="{profile}"]').click()
    expect(page.get_by_role("heading", name=f"Watching as {profile}")).to_be_visible()


def fits_the_width(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def events_connected(page: Page) -> None:
    """The page holds its event stream: a sign-out elsewhere can reach it now."""
    expect(page.locator("body[data-events-state=open]")).to_have_count(1)


def test_signing_in_shows_whos_watching_and_every_device(
    server: LiveServer, new_device: NewDevice
) -> None:
    server.run(seed_demo(server.ports))
    laptop = new_device()
    page = laptop.open("/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    laptop.shot("sign-in", docs="sign-in")

    page.get_by_label("Email").fill(DEMO_EMAIL)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Incorrect email or password")
    laptop.shot("wrong-password")

    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Who's watching?")).to_be_visible()
    laptop.shot("whos-watching", docs="whos-watching")

    # Ben's profile is locked: picking it asks for the PIN.
    page.locator('[data-profile="Ben"]').click()
    page.get_by_label("4-digit PIN").fill("1111")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("That PIN is not right.")
    page.get_by_label("4-digit PIN").fill("4826")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Watching as Ben")).to_be_visible()
    page.get_by_role("link", name="Switch profile", exact=True).click()
    watch_as(page, "Ana")
    laptop.shot("browse", docs="browse")

    page.get_by_role("link", name="Account").click()
    expect(page.get_by_role("heading", name="Membership")).to_be_visible()
    expect(page.locator(".limits")).to_contain_text("4")  # Premium: four screens at a time
    laptop.shot("account")
    page.get_by_role("link", name="Manage access and devices").click()
    rows = page.locator("li[data-device]")
    expect(rows).to_have_count(7)  # the demo's six, and this browser
    this = page.locator('li[data-device="Chrome on Windows"]')
    expect(this).to_contain_text("Current device")
    expect(this.locator("svg[aria-label='Web browser']")).to_have_count(1)
    hotel = page.locator('li[data-device="Hotel Room TV"]')
    expect(hotel).to_contain_text("Barcelona, Spain")
    expect(hotel).to_contain_text("Ben watched")
    expect(hotel.locator("svg[aria-label='Smart TV']")).to_have_count(1)
    expect(hotel.get_by_role("button", name="Sign out Hotel Room TV")).to_be_visible()
    laptop.shot("devices", docs="devices")

    page.goto(server.base_url + "/account")
    page.get_by_role("link", name="Security activity").click()
    expect(
        page.get_by_role("cell", name=re.compile("Signed in on Chrome on Windows"))
    ).to_be_visible()
    laptop.shot("activity")

    # At phone width every page still fits: nothing scrolls sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/account/devices", "/account", "/browse", "/profiles", "/account/activity"):
        page.goto(server.base_url + path)
        assert fits_the_width(page), path
    page.goto(server.base_url + "/account/devices")
    laptop.shot("devices-at-phone-width")


def test_signing_another_device_out_sends_it_to_its_sign_in_screen(
    server: LiveServer, api: httpx.Client, new_device: NewDevice
) -> None:
    account, living_room_tv = household(api)
    tv = new_device(TV_BROWSER)
    tv_page = tv.open("/tv")
    to_email_and_password(tv_page)
    tv_page.keyboard.type(account.email)
    tv_page.keyboard.press("Enter")
    tv_page.keyboard.type(account.password)
    tv_page.keyboard.press("Enter")
    expect(tv_page.get_by_role("heading", name="Who's watching?")).to_be_visible()
    events_connected(tv_page)

    laptop = new_device()
    page = as_grown_up(sign_in_on_web(laptop, account.email, account.password))
    page.goto(server.base_url + "/account/devices")
    expect(page.locator("li[data-device]")).to_have_count(3)

    # A device signed in through the API goes, row and all, without a reload.
    page.get_by_role("button", name="Sign out Living Room TV").click()
    expect(page.get_by_role("status")).to_contain_text("Living Room TV was signed out.")
    assert refused_because(api, living_room_tv) == "signed_out_remotely"

    # The TV app open in the other browser goes to its sign-in screen by itself, saying why.
    tv_row = page.locator("li[data-device^='TV app']")
    tv_row.get_by_role("button").click()
    expect(tv_page).to_have_url(re.compile(r"/tv/sign-in\?reason=signed_out_remotely"))
    expect(tv_page.locator("#signed-out-reason")).to_have_text(
        "You were signed out from another device."
    )
    tv.shot("tv-signed-out-remotely")

    page.reload()
    expect(page.locator("li[data-device]")).to_have_count(1)
    expect(page.locator("li[data-device]")).to_contain_text("Current device")
    laptop.shot("only-this-device-left")


@pytest.mark.serial
def test_signing_out_of_all_devices_sends_every_open_page_to_sign_in_within_a_second(
    server: LiveServer, api: httpx.Client, new_device: NewDevice
) -> None:
    account, tv = household(api)
    profile_id = profiles(api, tv)[0]["profile_id"]
    play(api, tv, profile_id, "night-harbour")
    downloaded = api.post(
        "/v1/downloads", json={"profile_id": profile_id, "title_id": "wild-coasts"}, headers=tv.auth
    )
    assert downloaded.status_code == 201, downloaded.text
    other = new_device(EDGE_ON_MACOS)
    other_page = sign_in_on_web(other, account.email, account.password)
    watch_as(other_page, profiles(api, tv)[0]["name"])
    events_connected(other_page)

    laptop = new_device()
    page = as_grown_up(sign_in_on_web(laptop, account.email, account.password))
    page.goto(server.base_url + "/account")
    page.get_by_role("link", name="Sign out of all devices").click()
    confirm = page.get_by_role("heading", name="Sign out of all devices?")
    expect(confirm).to_be_visible()
    expect(page.locator(".consequences")).to_contain_text("Downloads are deleted from every device")
    expect(page.locator(".consequences")).to_contain_text("All 3 devices")
    expect(page.locator(".consequences")).to_contain_text("1 device is streaming right now")
    expect(page.locator(".consequences")).to_contain_text("1 download will be removed")
    laptop.shot("sign-out-all-confirmation", docs="sign-out-all")

    started = time.monotonic()
    page.get_by_role("button", name="Sign out of all devices").click()
    expect(other_page.locator("#signed-out-reason strong")).to_have_text(
        "You were signed out because someone chose Sign out of all devices.", timeout=1_000
    )
    elapsed = time.monotonic() - started
    assert elapsed < 1.0, f"the other browser took {elapsed:.2f} s to land on sign-in"
    expect(other_page).to_have_url(re.compile(r"/sign-in\?reason=signed_out_everywhere"))
    other.shot("other-browser-signed-out")

    expect(page.locator("#signed-out-reason")).to_contain_text("You signed out of all 3 devices")
    laptop.shot("this-browser-signed-out")
    assert refused_because(api, tv) == "signed_out_everywhere"
    # Nothing of the old session is left in either browser: pages ask to sign in.
    other_page.goto(server.base_url + "/account")
    expect(other_page).to_have_url(re.compile(r"/sign-in"))


def test_changing_the_password_signs_the_other_devices_out_but_not_this_one(
    server: LiveServer, api: httpx.Client, new_device: NewDevice
) -> None:
    account, tv = household(api)
    laptop = new_device()
    page = as_grown_up(sign_in_on_web(laptop, account.email, account.password))
    page.goto(server.base_url + "/account")
    page.get_by_role("link", name="Change password").click()
    everywhere = page.get_by_label("Require all devices to sign in again")
    expect(everywhere).to_be_checked()

    page.get_by_label("Current password", exact=True).fill(account.password)
    page.get_by_label("New password", exact=True).fill("password")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#f-new_password-error")).to_have_text(
        "That password is too common; choose one that is hard to guess."
    )
    laptop.shot("weak-password")
    page.get_by_label("Current password", exact=True).fill("not my password")
    page.get_by_label("New password", exact=True).fill("a brand new passphrase")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#f-current_password-error")).to_have_text(
        "Your current password is not right."
    )
    expect(everywhere).to_be_checked()

    page.get_by_label("Current password", exact=True).fill(account.password)
    page.get_by_label("New password", exact=True).fill("a brand new passphrase")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#password-changed")).to_contain_text(
        "1 other device was signed out and must sign in with the new password"
    )
    laptop.shot("password-changed")
    assert refused_because(api, tv) == "password_changed"
    page.goto(server.base_url + "/account/devices")
    expect(page.locator("li[data-device]")).to_have_count(1)
    sign_in(api, Account(account.email, "a brand new passphrase", account.account_id))


def test_too_many_streams_names_who_is_watching_and_stopping_one_frees_a_screen(
    server: LiveServer, api: httpx.Client, new_device: NewDevice
) -> None:
    account, tv = household(api, plan="standard")  # two screens at a time
    phone = sign_in(api, account, "Ana's phone", "phone")
    rename_first_profile(api, tv, "Ana")
    profile = profiles(api, tv)[0]
    tv_stream = play(api, tv, profile["profile_id"], "night-harbour")
    play(api, phone, profile["profile_id"], "wild-coasts")

    laptop = new_device()
    page = sign_in_on_web(laptop, account.email, account.password)
    watch_as(page, profile["name"])
    page.get_by_role("button", name="Play Kitchen Wars").first.click()
    expect(page.get_by_role("heading", name=re.compile("Too many people"))).to_be_visible()
    holders = page.locator("li[data-holder]")
    expect(holders).to_have_count(2)
    tv_row = page.locator('li[data-holder="Living Room TV"]')
    expect(tv_row).to_contain_text(profile["name"])
    expect(tv_row).to_contain_text("Night Harbour")
    expect(tv_row).to_contain_text("Started just now")
    expect(tv_row.locator("svg[aria-label='Smart TV']")).to_have_count(1)
    expect(page.locator('li[data-holder="Ana\'s phone"]')).to_contain_text("Wild Coasts")
    laptop.shot("too-many-streams", docs="too-many-streams")

    tv_row.get_by_role("button", name="Stop playback on Living Room TV").click()
    expect(page.get_by_role("status")).to_contain_text("A screen is free")
    gone = api.post(f"/v1/streams/{tv_stream}/heartbeat", headers=tv.auth)
    assert gone.status_code == 410
    assert gone.json()["reason"] == "stopped_by_owner"

    with page.expect_response(lambda r: r.url.endswith("/heartbeat")) as beat:
        page.get_by_role("button", name="Play Kitchen Wars").click()
        expect(page.get_by_text("Now playing")).to_be_visible()
    assert beat.value.status == 200
    laptop.shot("playing")
    assert sorted(streaming_devices(api, phone)) == ["Ana's phone", "Chrome on Windows"]

    # Leaving the player gives its screen back.
    page.get_by_role("link", name="Back to browse").click()
    expect(page.get_by_role("heading", name=re.compile("Watching as"))).to_be_visible()
    deadline = time.monotonic() + 3
    while streaming_devices(api, phone) != ["Ana's phone"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert streaming_devices(api, phone) == ["Ana's phone"]


def send_pin(page: Page, pin: str) -> Response:
    """Fill in the PIN page and send it; the answer, once the page it led to has loaded."""
    page.get_by_label("4-digit PIN").fill(pin)
    sent = page.expect_response(lambda r: r.request.method == "POST" and "/watch" in r.url)
    with sent as answer, page.expect_navigation():
        page.get_by_role("button", name="Continue").click()
    return answer.value


def test_too_many_wrong_pins_pause_the_profile_on_its_pin_page_and_on_play(
    server: LiveServer, api: httpx.Client, new_device: NewDevice
) -> None:
    account, tv = household(api)
    rename_first_profile(api, tv, "Ana")
    add_profile(api, tv, "Ben", pin="4826")
    laptop = new_device()
    page = sign_in_on_web(laptop, account.email, account.password)
    page.locator('[data-profile="Ben"]').click()
    assert send_pin(page, "4826").status == 303
    expect(page.get_by_role("heading", name="Watching as Ben")).to_be_visible()

    # Someone else on the account guesses at Ben's PIN on this browser's PIN page.
    page.get_by_role("link", name="Switch profile", exact=True).click()
    page.locator('[data-profile="Ben"]').click()
    for guess in ("1111", "2222", "3333", "4444"):
        assert send_pin(page, guess).status == 403
        expect(page.get_by_role("alert")).to_have_text("That PIN is not right.")
    refused = send_pin(page, "5555")
    assert refused.status == 429
    assert refused.headers["retry-after"].isdigit()
    paused = "Too many wrong PINs. Try again in 15 minutes."
    expect(page.get_by_role("alert")).to_have_text(paused)
    expect(page.get_by_label("4-digit PIN")).to_have_attribute("aria-invalid", "true")
    laptop.shot("pin-paused")
    assert send_pin(page, "4826").status == 429  # the right PIN waits too
    expect(page.get_by_role("alert")).to_have_text(paused)

    # Play with the PIN this browser kept for Ben: the PIN page says why it cannot start.
    page.goto(server.base_url + "/browse")
    page.get_by_role("button", name="Play Kitchen Wars").first.click()
    expect(page).to_have_url(re.compile(r"/profiles/[^/]+/pin$"))
    expect(page.get_by_role("alert")).to_have_text(paused)
    assert streaming_devices(api, tv) == []

    page.goto(server.base_url + "/account/activity")
    expect(
        page.get_by_role("cell", name="Too many wrong PINs for Ben's profile", exact=False)
    ).to_contain_text("PIN entry paused for 15 minutes")
    expect(
        page.get_by_role("cell", name="Wrong PIN for Ben's profile on Chrome on Windows")
    ).to_have_count(5)
