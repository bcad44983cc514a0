"""Every answer's security headers, over plain HTTP: the policy, framing, sniffing, referrer,
and no cache keeping a signed-in page or an API answer with personal data."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from screengate.headers import docs_policy
from tests.support.api import sign_in, sign_up
from tests.support.live_server import LiveServer
from tests.web.test_pages import sign_in_web

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


def test_the_docs_page_may_run_its_own_bootstrap_and_nothing_else_inline(
    browser_like: httpx.Client,
) -> None:
    answer = browser_like.get("/docs/")

    assert answer.status_code == 200
    assert_guarded(answer)
    scripts = directives(answer)["script-src"]
    assert "'unsafe-inline'" not in scripts
    assert "'unsafe-eval'" not in scripts
    inline = re.findall(r"<script[^>]*>(.*?)</script>", answer.text, re.DOTALL)
    bootstrap = next(code for code in inline if "SwaggerUIBundle(" in code)
    digest = base64.b64encode(hashlib.sha256(bootstrap.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in scripts


def test_the_docs_policy_allows_what_the_page_names_and_no_injected_handler() -> None:
    page = (
        b"<html><head><script src='https://cdn.example/ui.js' crossorigin></script>"
        b'<link href="https://cdn.example/ui.css" rel="stylesheet"></head>'
        b"<body><script>start()</script><img src=x onerror=alert(1)></body></html>"
    )

    policy = docs_policy(page)

    script_src = next(p for p in policy.split("; ") if p.startswith("script-src"))
    digest = base64.b64encode(hashlib.sha256(b"start()").digest()).decode()
    assert script_src == f"script-src 'self' https://cdn.example/ui.js 'sha256-{digest}'"
    assert "https://cdn.example/ui.css" in policy
    assert "unsafe-hashes" not in policy  # the onerror handler matches nothing
    assert "frame-ancestors 'none'" in policy


@pytest.mark.parametrize("template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: p.name)
def test_no_template_has_inline_script_or_a_handler_attribute(template: Path) -> None:
    text = template.read_text()

    scripts = re.findall(r"<script\b([^>]*)>", text)
    assert all("src=" in attributes for attributes in scripts), scripts
    assert not re.search(r"\son[a-z]+\s*=", text), "an on* handler attribute"
    assert "javascript:" not in text.lower()
    assert "hx-on" not in text
