"""A Kids profile on the website cannot open Account, Manage access and devices, or the
profiles' settings, nor send their forms: it is shown that a grown-up profile is needed, and
offered Who's watching? (where a locked grown-up profile still needs its PIN)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from litestar.routes import HTTPRoute
from playwright.sync_api import Page, expect

from tests.support.api import Account, Device, sign_in
from tests.support.live_server import LiveServer
from tests.web.conftest import NewDevice
from tests.web.household import add_profile, household, profiles, refused_because
from tests.web.test_pages import csrf_of, sign_in_web
from tests.web.test_website import sign_in_on_web

GROWN_UP_NEEDED = "A grown-up profile is needed"


def kids_household(api: httpx.Client) -> tuple[Account, Device, dict[str, str]]:
    """The profile sign-up made, Ben (locked with 4826) and Mia (Kids); a TV signed in
    through the API."""
    account, tv = household(api)
    ids = {"first": str(profiles(api, tv)[0]["profile_id"])}
    ids["Ben"] = add_profile(api, tv, "Ben", pin="4826")
    mia = api.post("/v1/profiles", json={"name": "Mia", "kids": True}, headers=tv.auth)
    assert mia.status_code == 201, mia.text
    ids["Mia"] = str(mia.json()["profile_id"])
    return account, tv, ids


def grown_up_routes(server: LiveServer) -> list[tuple[str, str]]:
    """(method, path) of every page under /account and the profiles' settings, from the app's
    route table: a route added there later is in this list without anyone adding it."""
    found: list[tuple[str, str]] = []
    for route in server.app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        path = route.path_format
        if not (path.startswith("/account") or path in PROFILE_SETTINGS):
            continue
        found += [(method, path) for method in sorted(route.methods - {"HEAD", "OPTIONS"})]
    return found


PROFILE_SETTINGS = {
    "/profiles/manage",
    "/profiles/new",
    "/profiles/{profile_id}/edit",
    "/profiles/{profile_id}/delete",
}
# What each form would change if it were let through.
FORMS: dict[str, dict[str, str]] = {
    "/profiles/new": {"name": "Intruder"},
    "/profiles/{profile_id}/edit": {"name": "Ben", "lock": "remove"},
    "/account/password": {
        "current_password": "correct horse battery staple",
        "new_password": "the kids changed it",
        "sign_out_all": "on",
    },
}


def test_every_grown_up_page_and_form_refuses_a_kids_profile_and_changes_nothing(
    server: LiveServer, api: httpx.Client
) -> None:
    account, tv, ids = kids_household(api)
    routes = grown_up_routes(server)
    assert len(routes) >= 14, routes  # account pages, devices, password, activity, profiles
    with httpx.Client(base_url=server.base_url) as browser:
        sign_in_web(browser, account)
        token = csrf_of(browser.get("/profiles"))
        picked = browser.post(f"/profiles/{ids['Mia']}/watch", data={"_csrf_token": token})
        assert picked.status_code == 303
        for method, path in routes:
            url = path.format(
                profile_id=ids["Ben"], device_id=tv.device_id, passkey_id="no-such-passkey"
            )
            data: dict[str, Any] = {"_csrf_token": token, **FORMS.get(path, {})}
            answer = browser.request(method, url, data=data if method == "POST" else None)
            assert answer.status_code == 403, (method, path, answer.status_code)
            assert GROWN_UP_NEEDED in answer.text, (method, path)
            assert "Mia is a Kids profile." in answer.text
            assert 'href="/profiles"' in answer.text  # Switch profile: Who's watching?

        # The same button through htmx (the device list's Sign out) sends the page to say so.
        htmx = browser.post(
            f"/account/devices/{tv.device_id}/sign-out",
            headers={"hx-request": "true", "x-csrftoken": token},
        )
        assert htmx.headers["hx-redirect"] == "/account"

    # Nothing was changed: Ben keeps his PIN, nobody was added, deleted or signed out, and the
    # password is the same.
    household_now = {p["profile_id"]: p for p in profiles(api, tv)}
    assert set(household_now) == set(ids.values())
    assert household_now[ids["Ben"]]["locked"] is True
    assert refused_because(api, tv) is None
    assert sign_in(api, account, "Phone", "phone")


def test_grown_up_pages_need_someone_chosen_and_open_for_a_grown_up(
    server: LiveServer, api: httpx.Client
) -> None:
    account, _, ids = kids_household(api)
    with httpx.Client(base_url=server.base_url) as browser:
        sign_in_web(browser, account)
        nobody = browser.get("/account")
        assert nobody.status_code == 403
        assert "Choose who's watching first" in nobody.text

        token = csrf_of(browser.get("/profiles"))
        # Ben is a grown-up, but locked: without his PIN he is not chosen.
        refused = browser.post(f"/profiles/{ids['Ben']}/watch", data={"_csrf_token": token})
        assert refused.status_code == 403
        assert browser.get("/account").status_code == 403
        picked = browser.post(
            f"/profiles/{ids['Ben']}/watch", data={"_csrf_token": token, "pin": "4826"}
        )
        assert picked.status_code == 303
        opened = browser.get("/account")
        assert opened.status_code == 200
        assert "Manage access and devices" in opened.text


@pytest.mark.browser
def test_a_kids_profile_in_the_browser_is_sent_to_ask_a_grown_up(
    server: LiveServer, api: httpx.Client, new_device: NewDevice
) -> None:
    account, _, ids = kids_household(api)
    laptop = new_device()
    page = sign_in_on_web(laptop, account.email, account.password)
    page.locator('[data-profile="Mia"]').click()
    expect(page.get_by_role("heading", name="Watching as Mia")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main").get_by_role("link")).to_have_text(["Home"])

    for path in (
        "/account",
        "/account/devices",
        "/account/sign-out-all",
        "/account/password",
        "/profiles/manage",
        f"/profiles/{ids['Ben']}/edit",
    ):
        page.goto(server.base_url + path)
        expect(page.get_by_role("heading", name=GROWN_UP_NEEDED)).to_be_visible()
        expect(page.locator("#grown-up-needed")).to_contain_text("Mia is a Kids profile.")
    laptop.shot("grown-up-needed")

    # Who's watching?, then Ben (a grown-up, locked): his PIN, and Account opens.
    page.get_by_role("link", name=re.compile("Who's watching")).click()
    page.locator('[data-profile="Ben"]').click()
    page.get_by_label("4-digit PIN").fill("4826")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Watching as Ben")).to_be_visible()
    page.get_by_role("link", name="Account").click()
    expect(page.get_by_role("heading", name="Membership")).to_be_visible()
    lock_removal_stays_for_grown_ups(page, server, ids["Ben"])


def lock_removal_stays_for_grown_ups(page: Page, server: LiveServer, ben: str) -> None:
    """On Ben's profile, Edit profile opens its form (the PIN is Ben's to change)."""
    page.goto(f"{server.base_url}/profiles/{ben}/edit")
    expect(page.get_by_role("heading", name="Edit Ben")).to_be_visible()
