"""Every answer's security headers, over plain HTTP: the policy, framing, sniffing, referrer,
and no cache keeping a signed-in page or an API answer with personal data."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.api import sign_in, sign_up
from tests.support.live_server import LiveServer
from tests.web.test_pages import as_grown_up, sign_in_web

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "screengate" / "web" / "templates"


@pytest.fixture
def browser_like(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=15.0) as client:
        yield client


def directives(answer: httpx.Response) -> dict[str, list[str]]:
    policy = answer.headers["content-security-policy"]
    found: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        found[name] = values
    return found


def assert_guarded(answer: httpx.Response) -> None:
    """The headers no answer may be without."""
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] in {"same-origin", "no-referrer"}
    policy = directives(answer)
    assert policy["frame-ancestors"] == ["'none'"]


def test_every_page_runs_only_the_sites_own_scripts_and_cannot_be_framed(
    browser_like: httpx.Client, api: httpx.Client
) -> None:
    account = sign_up(api)
    signed_out_pages = ["/sign-in", "/sign-up", "/tv/sign-in", "/no-such-page"]
    answers = [browser_like.get(path, headers={"accept": "text/html"}) for path in signed_out_pages]
    sign_in_web(browser_like, account)
    as_grown_up(browser_like)
    signed_in_pages = ["/profiles", "/account", "/account/devices", "/account/sign-out-all"]
    answers += [browser_like.get(path) for path in signed_in_pages]

    for answer in answers:
        assert answer.headers["content-type"].startswith("text/html"), answer.url
        assert_guarded(answer)
        policy = directives(answer)
        assert policy["script-src"] == ["'self'"], answer.url
        assert policy["style-src"] == ["'self'"], answer.url
        assert policy["object-src"] == ["'none'"]
        assert policy["base-uri"] == ["'none'"]
        assert policy["form-action"] == ["'self'"]
    assert [a.status_code for a in answers][-4:] == [200, 200, 200, 200]


def test_no_signed_in_page_or_personal_api_answer_may_be_kept_by_a_cache(
    browser_like: httpx.Client, api: httpx.Client
) -> None:
    account = sign_up(api)
    device = sign_in(api, account, "Phone", "phone")
    answers = [
        api.post(
            "/v1/auth/sign-in",
            json={
                "email": account.email,
                "password": account.password,
                "device": {"type": "phone"},
            },
        ),
        api.get("/v1/account", headers=device.auth),
        api.get("/v1/devices", headers=device.auth),
        api.get("/v1/profiles", headers=device.auth),
        api.get("/v1/account/activity", headers=device.auth),
        api.get("/v1/devices"),  # a problem answer
        api.get("/v1/no-such-thing"),  # no route: a problem too
    ]
    sign_in_web(browser_like, account)
    as_grown_up(browser_like)
    answers += [browser_like.get(p) for p in ("/account/devices", "/account", "/profiles")]

    for answer in answers:
        assert answer.headers["cache-control"] == "no-store", answer.url
        assert_guarded(answer)
    assert answers[0].status_code == 201
    assert answers[5].headers["content-type"].startswith("application/problem+json")
    assert answers[6].status_code == 404


def test_the_sites_own_files_may_be_cached_and_are_never_sniffed(
    browser_like: httpx.Client,
) -> None:
    answer = browser_like.get("/static/session.js")

    assert answer.status_code == 200
    assert "no-store" not in answer.headers.get("cache-control", "")
    assert_guarded(answer)


def test_the_docs_page_runs_only_its_own_files(browser_like: httpx.Client) -> None:
    answer = browser_like.get("/docs/")

    assert answer.status_code == 200
    assert_guarded(answer)
    policy = directives(answer)
    assert policy["script-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    # The page itself has no inline script for any allowance to cover.
    assert all("src=" in tag for tag in re.findall(r"<script\b[^>]*>", answer.text))


@pytest.mark.parametrize("template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: p.name)
def test_no_template_has_inline_script_or_a_handler_attribute(template: Path) -> None:
    text = template.read_text()

    scripts = re.findall(r"<script\b([^>]*)>", text)
    assert all("src=" in attributes for attributes in scripts), scripts
    assert not re.search(r"\son[a-z]+\s*=", text), "an on* handler attribute"
    assert "javascript:" not in text.lower()
    assert "hx-on" not in text
