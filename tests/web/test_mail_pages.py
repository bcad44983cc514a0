"""Forgot password? and "This wasn't me" by a person's hand, with the embedded default's mail:
.eml files under the mail folder, read as `screengate mail show` reads them."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import expect

from screengate.mailbox import Letter, letters
from tests.support.api import PASSWORD, sign_in, sign_up
from tests.support.clock import FrozenClock
from tests.support.live_server import LiveServer, live_server
from tests.web.conftest import TV_BROWSER, NewDevice, web_settings
from tests.web.test_website import events_connected, sign_in_on_web

pytestmark = pytest.mark.browser

LINK = re.compile(r"https?://\S+?\?token=[A-Za-z0-9_\-%]+")
NEW_PASSWORD = "a brand new horse battery"


@pytest.fixture(scope="module")
def mail_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mail")


@pytest.fixture(scope="module")
def server(database_url: str, mail_folder: Path) -> Iterator[LiveServer]:
    settings = web_settings(
        database_url,
        mail_folder=mail_folder,
        mail_poll_seconds=0.1,
        public_url="https://tv.example",
    )
    with live_server(settings, FrozenClock()) as running:
        yield running


def mail_to(folder: Path, email: str, subject: str, within: float = 10.0) -> Letter:
    deadline = time.monotonic() + within
    while True:
        found = [
            letter
            for letter in letters(folder)
            if str(letter.message["To"]) == email and subject in str(letter.message["Subject"])
        ]
        if found:
            return found[-1]
        assert time.monotonic() < deadline, f"no mail {subject!r} to {email}"
        time.sleep(0.05)


def local_link(letter: Letter) -> str:
    part = letter.message.get_body(preferencelist=("plain",))
    assert part is not None
    found = LINK.search(str(part.get_content()))
    assert found
    link = urlsplit(found.group(0))
    return f"{link.path}?{link.query}"


def test_forgot_password_mails_a_link_that_resets_it_and_signs_every_device_out(
    api: httpx.Client, new_device: NewDevice, mail_folder: Path
) -> None:
    account = sign_up(api)
    laptop = new_device()
    open_page = sign_in_on_web(laptop, account.email, PASSWORD)
    events_connected(open_page)

    phone = new_device()
    page = phone.open("/sign-in")
    page.get_by_role("link", name="Forgot password?").click()
    page.get_by_label("Email").fill(account.email)
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    phone.shot("check-your-email")

    letter = mail_to(mail_folder, account.email, "Reset your screengate password")
    page = phone.open(local_link(letter))
    page.get_by_label("New password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save and sign out everywhere").click()
    expect(page.locator("#signed-out-reason")).to_contain_text("Your new password is saved.")
    # The laptop's open page is sent to its sign-in screen, saying why.
    expect(open_page).to_have_url(re.compile(r"/sign-in\?reason=password_reset"), timeout=5_000)
    mail_to(mail_folder, account.email, "Your password was changed")

    page = phone.open(local_link(letter))
    expect(page.get_by_role("heading", name="This link has expired")).to_be_visible()
    sign_in_on_web(phone, account.email, NEW_PASSWORD)


def test_this_wasnt_me_from_the_alert_signs_everyone_out_and_asks_for_a_new_password(
    api: httpx.Client, new_device: NewDevice, mail_folder: Path
) -> None:
    account = sign_up(api)
    sign_in(api, account, "Ana's phone", "phone")
    intruder = new_device()
    sign_in_on_web(intruder, account.email, PASSWORD)

    alert = mail_to(mail_folder, account.email, "New sign-in on")
    owner = new_device()
    # A mail scanner fetching the link changes nothing: only the button does.
    assert api.get(local_link(alert)).status_code == 200
    page = owner.open(local_link(alert))
    expect(page.get_by_role("heading", name="Wasn't you?")).to_be_visible()
    owner.shot("secure-account")
    page.get_by_role("button", name="Sign everyone out and lock the password").click()
    expect(page.locator("#account-secured")).to_contain_text("We signed out 2 devices")

    page = intruder.open("/sign-in")
    page.get_by_label("Email").fill(account.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#form-errors")).to_contain_text("choose a new password")
    mail_to(mail_folder, account.email, "We signed everyone out")


def test_the_tv_sign_in_says_where_to_reset_a_forgotten_password(
    new_device: NewDevice,
) -> None:
    tv = new_device(TV_BROWSER)
    page = tv.open("/tv/sign-in?with=password")  # the TV's second choice: email and password
    expect(page.locator("#forgot-password")).to_contain_text("https://tv.example/forgot-password")


def test_account_email_changes_only_once_the_new_address_confirms(
    api: httpx.Client, new_device: NewDevice, mail_folder: Path
) -> None:
    account = sign_up(api)
    laptop = new_device()
    page = sign_in_on_web(laptop, account.email, PASSWORD)
    page.locator("[data-profile]").first.click()
    page = laptop.open("/account")
    page.get_by_role("link", name=re.compile("^Email")).click()
    new = f"moved-{account.email}"
    page.get_by_label("New email").fill(new)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Send a confirmation link").click()
    expect(page.locator("#email-sent")).to_contain_text(f"Check {new}")

    confirmation = mail_to(mail_folder, new, "Confirm your new email")
    page = new_device().open(local_link(confirmation))
    expect(page.get_by_role("heading", name="Use this email?")).to_be_visible()
    page.get_by_role("button", name="Confirm the new email").click()
    expect(page.get_by_role("heading", name="Done")).to_be_visible()

    told = mail_to(mail_folder, account.email, "Your screengate email was changed")
    page = laptop.open("/account")
    expect(page.locator(".lead")).to_contain_text(new)
    assert "/confirm-email?token=" in local_link(told)
