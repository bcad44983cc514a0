"""Headers every answer carries: what a page may run and load, who may frame it, no sniffing,
no referrer leaving the site, and no cache keeping what was personal.

One before-send hook sets them on every answer the app makes (pages, the API, its problems,
the 404 for an address no route answers); a route that sets a header itself keeps its own.
"""

from __future__ import annotations

import base64
import hashlib
import re

from litestar.types import ASGIApp, HTTPResponseStartEvent, Message, Receive, Scope, Send

# The pages run only their own files: no inline script, no handlers in attributes, no eval.
# Style attributes are the one inline thing allowed: posters and avatars are coloured with
# them (hues from a hash of an id, never text from a request), and `style-src-attr` cannot
# inject a <style> element or a selector, so it cannot read the page.
PAGE_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "style-src-attr 'unsafe-inline'",
        "img-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# What no answer may be without (a route may set its own value first).
ALWAYS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", PAGE_POLICY.encode()),
    # For browsers older than frame-ancestors: "Sign out of all devices" was clickjacked.
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    # Addresses can carry codes (?code= on /activate, ?next=): other sites never see them.
    (b"referrer-policy", b"same-origin"),
)
NO_STORE = (b"cache-control", b"no-store")
# The pages' own files are the same for everyone; every other answer may be personal.
CACHEABLE_PREFIXES = ("/static/",)


async def secure_headers(message: Message, scope: Scope) -> None:
    """Litestar before-send hook: the headers above on every response's start."""
    if message["type"] != "http.response.start":
        return
    headers = list(message.get("headers", ()))
    present = {bytes(name).lower() for name, _ in headers}
    wanted = ALWAYS
    if not scope.get("path", "").startswith(CACHEABLE_PREFIXES):
        # The browser's Back after Sign out must ask again, not show the device list it kept.
        wanted = (*ALWAYS, NO_STORE)
    headers.extend(header for header in wanted if header[0] not in present)
    message["headers"] = headers


class DocsPolicy:
    """The API docs page (Swagger UI) gets a policy of its own: its bootstrap is one inline
    script that embeds the OpenAPI document, and its assets are named by the page.

    The page is the same fixed text for every request (nothing from the request is in it), so
    the policy allows exactly the scripts and styles it names and the hashes of its own inline
    scripts, computed from the page as served. Whatever a rendering bug might inject later
    (an event handler attribute, a script element added by the UI) matches none of them.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The page is small (the OpenAPI document in a script): held whole, then sent.
        start: HTTPResponseStartEvent | None = None
        body: list[bytes] = []

        async def hold(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            page = b"".join(body)
            headers = list(start.get("headers", ()))
            if _is_html(headers):
                headers.append((b"content-security-policy", docs_policy(page).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": page, "more_body": False})

        await self.app(scope, receive, hold)


_SCRIPT = re.compile(rb"<script(?P<attributes>[^>]*)>(?P<code>.*?)</script>", re.DOTALL)
_SOURCE = re.compile(rb"""\bsrc\s*=\s*["']?(?P<url>https://[^"'\s>]+)""")
_STYLESHEET = re.compile(rb"""<link\b[^>]*\bhref\s*=\s*["']?(?P<url>https://[^"'\s>]+)""")


def docs_policy(page: bytes) -> str:
    """The policy for one rendering of the docs page (see DocsPolicy)."""
    scripts: list[str] = []
    for found in _SCRIPT.finditer(page):
        source = _SOURCE.search(found["attributes"])
        if source is not None:
            scripts.append(source["url"].decode())
        elif found["code"].strip():
            digest = base64.b64encode(hashlib.sha256(found["code"]).digest()).decode()
            scripts.append(f"'sha256-{digest}'")
    # Stylesheets and the favicon the page links to (a CDN until the docs are served locally).
    linked = [m["url"].decode() for m in _STYLESHEET.finditer(page)]
    return "; ".join(
        [
            "default-src 'self'",
            " ".join(["script-src 'self'", *scripts]),
            # Swagger UI sets styles inline as it renders.
            " ".join(["style-src 'self' 'unsafe-inline'", *linked]),
            " ".join(["img-src 'self' data:", *linked]),
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def _is_html(headers: list[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name.lower() == b"content-type":
            return bytes(value).startswith(b"text/html")
    return False
