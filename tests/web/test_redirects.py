"""Where the pages send a browser, and what the sign-in page says, when the address is hostile:
`next` never leaves the site (303 or HX-Redirect), and notices carry no text from the URL."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from screengate.web.banners import sign_in_banner
from screengate.web.forms import local_path
from tests.support.api import sign_up
from tests.support.live_server import LiveServer
from tests.web.test_pages import csrf_of, sign_in_web

# As the server reads them (the address's or the form's percent-escapes already decoded).
HOSTILE = [
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\/evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "\t//evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    " //evil.example",
    "/ /evil.example",
    "/\x00/evil.example",
    "/\x0b/evil.example",
    "/\x7f/evil.example",
    "/\u3002evil.example",
    "/\uff0f\uff0fevil.example",
    "/\u2215\u2215evil.example",
    "/#//evil.example",
    "https:evil.example",
    "https://evil.example",
    "http:/evil.example",
    "//evil.example/%2F..",
    "javascript:alert(1)",
    "evil.example",
    "",
]
# Paths of this site stay as they are, escapes and all (a browser never decodes them into a host).
LOCAL = [
    "/profiles",
    "/account/devices",
    "/activate?code=BCDF-GHJK",
    "/browse?ready=the-crown",
    "/%09/evil.example",
    "/%2F/evil.example",
    "/.//evil.example",
]


@pytest.mark.parametrize("hostile", HOSTILE, ids=repr)
def test_a_hostile_next_falls_back_to_the_sites_own_page(hostile: str) -> None:
    assert local_path(hostile, "/profiles") == "/profiles"


@pytest.mark.parametrize("path", LOCAL)
def test_a_path_of_this_site_is_kept(path: str) -> None:
    assert local_path(path, "/profiles") == path


@pytest.fixture
def browser_like(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=15.0) as client:
        yield client


@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
def test_signing_in_with_a_hostile_next_lands_on_whos_watching(
    browser_like: httpx.Client, api: httpx.Client, htmx: bool
) -> None:
    account = sign_up(api)
    headers = {"hx-request": "true"} if htmx else {}
    for hostile in HOSTILE:
        form = browser_like.get("/sign-in")
        fields = {"email": account.email, "password": account.password}
        answer = browser_like.post(
            "/sign-in",
            data={**fields, "next": hostile, "_csrf_token": csrf_of(form)},
            headers=headers,
        )
        if htmx:
            assert answer.status_code == 200, (hostile, answer.text[:300])
            assert answer.headers["hx-redirect"] == "/profiles", repr(hostile)
        else:
            assert answer.status_code == 303, (hostile, answer.text[:300])
            assert answer.headers["location"] == "/profiles", repr(hostile)
        browser_like.cookies.clear()


def test_a_signed_in_browser_sent_to_sign_in_with_a_hostile_next_stays_here(
    browser_like: httpx.Client, api: httpx.Client
) -> None:
    sign_in_web(browser_like, sign_up(api))
    for hostile in HOSTILE:
        if "\x00" in hostile:
            continue  # no client sends NUL in an address
        answer = browser_like.get("/sign-in", params={"next": hostile})
        assert answer.status_code in {301, 302, 303, 307}, repr(hostile)
        assert answer.headers["location"] == "/", repr(hostile)
    kept = browser_like.get("/sign-in", params={"next": "/account/devices"})
    assert kept.headers["location"] == "/account/devices"


def test_the_sign_in_page_renders_no_hostile_next_into_its_form(browser_like: httpx.Client) -> None:
    answer = browser_like.get("/sign-in", params={"next": "/\t/evil.example"})

    assert answer.status_code == 200
    assert 'name="next"' not in answer.text
    assert "evil.example" not in answer.text


def test_the_sign_in_notice_takes_no_text_from_the_address(browser_like: httpx.Client) -> None:
    planted = "<b>Call +1 555 0100 to unlock your account</b>"
    answer = browser_like.get("/sign-in", params={"done": "everywhere", "count": planted})

    assert "555 0100" not in answer.text
    assert "Call" not in answer.text
    assert "You signed out of all devices, this one included." in answer.text


@pytest.mark.parametrize(
    ("done", "count", "headline"),
    [
        ("everywhere", "3", "You signed out of all 3 devices, this one included."),
        ("everywhere", "1", "You signed out of all devices, this one included."),
        ("everywhere", None, "You signed out of all devices, this one included."),
        (
            "everywhere",
            "3 devices and call us",
            "You signed out of all devices, this one included.",
        ),
        ("everywhere", "-3", "You signed out of all devices, this one included."),
        ("everywhere", "\u0663", "You signed out of all devices, this one included."),  # ٣
        ("everywhere", "99999999999999999999", "You signed out of all devices, this one included."),
        ("everywhere", "1_000", "You signed out of all devices, this one included."),
        ("somewhere", "3", None),
        ("", "3", None),
        (None, "3", None),
    ],
)
def test_sign_in_notices_come_from_a_fixed_set_keyed_by_code(
    done: str | None, count: str | None, headline: str | None
) -> None:
    banner = sign_in_banner(done, count)

    assert (banner.headline if banner else None) == headline


def test_an_unknown_notice_code_shows_no_notice(browser_like: httpx.Client) -> None:
    answer = browser_like.get("/sign-in", params={"done": "<script>", "count": "3"})

    assert answer.status_code == 200
    assert 'id="signed-out-reason"' not in answer.text
