"""Headers every answer carries: what a page may run and load, who may frame it, no sniffing,
no referrer leaving the site, and no cache keeping what was personal.

One before-send hook sets them on every answer the app makes (pages, the API, its problems,
the 404 for an address no route answers); a route that sets a header itself keeps its own.
"""

from __future__ import annotations

from litestar.types import ASGIApp, Message, Receive, Scope, Send

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


# The API docs page (Swagger UI, served from this package: api/swagger.py) runs only its own
# files too, but Swagger UI sets styles inline as it renders and draws icons as data: URLs.
DOCS_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
).encode()


class DocsPolicy:
    """The docs router's middleware: its pages get DOCS_POLICY (secure_headers keeps it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                headers.append((b"content-security-policy", DOCS_POLICY))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_policy)
