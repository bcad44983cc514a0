"""Two-step sign-in and passkeys in Debian's chromium: the website on http://localhost (a
secure context, and a host name WebAuthn accepts), with chromium's own virtual authenticator
(Chrome DevTools Protocol: WebAuthn.addVirtualAuthenticator, ctap2, internal, resident keys,
user verification). Register a passkey, sign in with it alone, remove it; set up an
authenticator app and sign in with password and code. The screenshots document the flows."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from playwright.sync_api import Page, expect

from screengate.domain.two_step import code_at
from tests.support.api import sign_up
from tests.support.live_server import LiveServer
from tests.support.two_step import STEP
from tests.web.conftest import Device, NewDevice
from tests.web.test_website import as_grown_up, events_connected, sign_in_on_web


def on_localhost(device: Device, server: LiveServer) -> Device:
    device.base_url = server.base_url.replace("127.0.0.1", "localhost")
    return device


def with_virtual_authenticator(device: Device) -> None:
    cdp = device.context.new_cdp_session(device.page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page).to_have_url(re.compile(r"/sign-in"))


def test_a_passkey_registered_in_chromium_signs_in_with_no_password_and_is_removed(
    new_device: NewDevice, server: LiveServer, api: httpx.Client
) -> None:
    account = sign_up(api)
    device = on_localhost(new_device(), server)
    with_virtual_authenticator(device)
    page = as_grown_up(sign_in_on_web(device, account.email, account.password))

    page.goto(device.base_url + "/account/security")
    page.get_by_label("Name").fill("Ana's laptop")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.locator("#security-done")).to_contain_text("Passkey added.")
    expect(page.locator("#passkey-list")).to_contain_text("Ana's laptop")
    device.shot("passkey-added", docs="passkey-added")

    sign_out(page)
    page.get_by_role("button", name="Use a passkey").click()
    expect(page.get_by_role("heading", name="Who's watching?")).to_be_visible()

    as_grown_up(page)
    page.goto(device.base_url + "/account/security")
    page.locator("#passkey-list").get_by_role("button", name="Remove").click()
    expect(page.locator("#security-done")).to_contain_text("Passkey removed.")
    expect(page.locator("#passkey-list li")).to_have_count(0)

    sign_out(page)
    page.get_by_role("button", name="Use a passkey").click()
    expect(page.locator("[data-passkey-problem]")).to_contain_text("not registered")
    expect(page).to_have_url(re.compile(r"/sign-in"))


def test_two_step_set_up_in_chromium_then_signs_in_with_password_and_code(
    new_device: NewDevice, server: LiveServer, api: httpx.Client
) -> None:
    account = sign_up(api)
    device = on_localhost(new_device(), server)
    page = as_grown_up(sign_in_on_web(device, account.email, account.password))
    page.goto(device.base_url + "/account/security")
    page.get_by_role("button", name="Set up an authenticator app").click()
    expect(page.locator("#totp-qr svg")).to_be_visible()
    page.evaluate("window.scrollTo(0, 0)")
    device.shot("enrol-totp", docs="two-step-enrolment")
    secret = (page.locator("#totp-secret").text_content() or "").replace(" ", "")
    page.get_by_label("Code from the app").fill(code_at(secret, server.clock.now()))
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    device.shot("recovery-codes", docs="two-step-recovery-codes")

    laptop = on_localhost(new_device(), server)
    other = laptop.open("/sign-in")
    other.get_by_label("Email").fill(account.email)
    other.get_by_label("Password").fill(account.password)
    other.get_by_role("button", name="Sign in", exact=True).click()
    expect(other.get_by_role("heading", name="Two-step sign-in")).to_be_visible()
    laptop.shot("code-step", docs="two-step-sign-in")
    server.clock.advance(STEP)
    other.get_by_label("Code", exact=True).fill(code_at(secret, server.clock.now()))
    other.get_by_role("button", name="Sign in", exact=True).click()
    expect(other.get_by_role("heading", name="Who's watching?")).to_be_visible()

    # New recovery codes made on the first browser: the laptop's open page says so at once.
    as_grown_up(other)
    other.goto(laptop.base_url + "/account")
    events_connected(other)
    page.goto(device.base_url + "/account/security")
    page.get_by_role("button", name="Make new recovery codes").click()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    expect(other.locator("#security-changed")).to_contain_text("New recovery codes were made")


def test_turning_two_step_off_after_five_minutes_asks_to_confirm_in_place_then_does_it(
    new_device: NewDevice, server: LiveServer, api: httpx.Client
) -> None:
    account = sign_up(api)
    device = new_device()
    page = as_grown_up(sign_in_on_web(device, account.email, account.password))
    page.goto(device.base_url + "/account/security")
    page.get_by_role("button", name="Set up an authenticator app").click()
    secret = (page.locator("#totp-secret").text_content() or "").replace(" ", "")
    page.get_by_label("Code from the app").fill(code_at(secret, server.clock.now()))
    page.get_by_role("button", name="Turn on two-step sign-in").click()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    server.clock.advance(timedelta(minutes=5, seconds=1))
    page.goto(device.base_url + "/account/security")
    page.get_by_role("button", name="Turn off two-step sign-in").click()
    expect(page.get_by_role("heading", name="Confirm it's you")).to_be_visible()
    device.shot("confirm-its-you", docs="confirm-its-you")
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Confirm and continue").click()
    expect(page.locator("#security-done")).to_contain_text("Two-step sign-in is off.")
