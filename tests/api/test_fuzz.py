"""Random bytes at every door: no 5xx, and nothing written by a refused request.

Hypothesis builds whole HTTP requests (method, path with odd bytes in its ids, query string,
headers, cookies, body in any encoding and nested to any depth) and hands them to the real ASGI
app, as a server would after parsing them, on a real store. Some requests carry a signed-in
device's credentials (the API's bearer token, the website's cookies and its CSRF token), so the
fuzz gets past the doors into the routes' own parsing, not only to the 401 at the front.

Checked for every request: the answer is not a 5xx; and when it is a refusal (4xx), the store
holds exactly what it held before (every row of every table), but for the failed attempts the
security log records on purpose (a wrong password or PIN).

Sign-out routes never get the device's credentials (a random body can be a valid "sign out"),
so every example finds the device signed in. Event streams never end: they get no credentials
either, and a bounded wait.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_from_bytes, unquote

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import TestClient
from litestar.types import HTTPDisconnectEvent, HTTPRequestEvent, Message, ReceiveMessage

from screengate.app import create_app
from tests.api.conftest import settings_for
from tests.support.api import Device, sign_in, sign_up
from tests.support.clock import FrozenClock
from tests.support.databases import migrated_database
from tests.support.store_rows import Rows, StoreReader, written_by_a_refusal

# Per store, in CI; `SCREENGATE_FUZZ_EXAMPLES=2000 pytest tests/api/test_fuzz.py` digs deeper.
EXAMPLES = int(os.environ.get("SCREENGATE_FUZZ_EXAMPLES", "100"))
STREAM_WAIT_SECONDS = 2.0
_PLACEHOLDER = re.compile(r"\{[^}]+\}")


@dataclass(frozen=True)
class Target:
    method: str
    path: str  # with {placeholders}

    @property
    def is_stream(self) -> bool:
        return self.path.endswith("/events")

    @property
    def ends_a_session(self) -> bool:
        return "sign-out" in self.path


def targets_of(app: Litestar) -> list[Target]:
    """Every method of every route the app serves, from its own route table."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for method in sorted(route.methods - {"OPTIONS", "HEAD"}):
            found.append(Target(method, route.path))
    return sorted(set(found), key=lambda t: (t.path, t.method))


@dataclass
class Household:
    """A signed-in account as the fuzz knows it: a device's token, a browser's cookies."""

    store: StoreReader
    device: Device
    profile_id: str
    cookies: dict[str, str]
    csrf_token: str
    rows: Rows


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    with migrated_database(request.param, tmp_path_factory.mktemp(request.param)) as url:
        yield url


@pytest.fixture(scope="module")
def app_client(database_url: str) -> Iterator[TestClient[Litestar]]:
    app = create_app(settings_for(database_url), clock=FrozenClock())
    with TestClient(app, raise_server_exceptions=False) as client:
        client.follow_redirects = False
        yield client


@pytest.fixture(scope="module")
def store(database_url: str) -> Iterator[StoreReader]:
    reader = StoreReader(database_url)
    yield reader
    reader.close()


@pytest.fixture(scope="module")
def household(app_client: TestClient[Litestar], store: StoreReader) -> Household:
    account = sign_up(app_client)
    device = sign_in(app_client, account)
    profile_id = app_client.get("/v1/profiles", headers=device.auth).json()[0]["profile_id"]
    form = app_client.get("/sign-in")
    csrf = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
    assert csrf
    signed_in = app_client.post(
        "/sign-in",
        data={"email": account.email, "password": account.password, "_csrf_token": csrf[1]},
    )
    assert signed_in.status_code == 303, signed_in.text
    page = app_client.get("/profiles")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert token
    cookies = dict(app_client.cookies.items())
    app_client.cookies.clear()
    # Every credential seen once, so no later request has a first sighting to record.
    app_client.get("/v1/account", headers=device.auth)
    return Household(store, device, profile_id, cookies, token[1], store.rows())


# --- what a request is made of ---

_HEADER_BYTES = st.binary(max_size=300).map(
    # What an HTTP/1.1 parser lets through: no CR, LF or NUL in a field value.
    lambda b: b.replace(b"\r", b"").replace(b"\n", b"").replace(b"\x00", b"")
)
_TEXT = st.text(max_size=60)
_SEGMENT = st.one_of(
    st.binary(max_size=40),
    st.sampled_from([b"\x00", b"..", b"%", b"\xff", b"a" * 500, "é".encode(), b"/", b"1" * 30]),
)


def _nested(depth: int, leaf: bytes, kind: str) -> bytes:
    if kind == "array":
        return b"[" * depth + leaf + b"]" * depth
    return b'{"a":' * depth + leaf + b"}" * depth


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=12,
)
_FIELD_NAMES = [
    "email", "password", "device", "plan", "refresh_token", "name", "kids", "pin",
    "current_password", "new_password", "sign_out_all_devices", "keep_this_device",
    "profile_id", "title_id", "type", "device_id", "_csrf_token", "next",
]  # fmt: skip


@st.composite
def json_bodies(draw: st.DrawFn) -> bytes:
    """JSON shaped like our bodies (known field names, any values), or nested to any depth."""
    choice = draw(st.integers(0, 3))
    if choice == 0:
        fields = draw(st.dictionaries(st.sampled_from(_FIELD_NAMES), _JSON_VALUES, max_size=6))
        return msgspec.json.encode(fields)
    if choice == 1:
        depth = draw(st.integers(1, 3000))
        return _nested(
            depth,
            draw(st.sampled_from([b"", b"1", b'"x"', b"null"])),
            draw(st.sampled_from(["array", "object"])),
        )
    if choice == 2:
        return msgspec.json.encode(draw(_JSON_VALUES))
    # Valid JSON text in another encoding than UTF-8.
    text = msgspec.json.encode(draw(_JSON_VALUES)).decode()
    return text.encode(
        draw(st.sampled_from(["utf-16", "utf-32", "utf-16-be", "latin-1"])), "replace"
    )


@st.composite
def form_bodies(draw: st.DrawFn) -> bytes:
    fields = draw(
        st.lists(
            st.tuples(st.sampled_from(_FIELD_NAMES) | _TEXT, _TEXT | st.binary(max_size=40)),
            max_size=6,
        )
    )
    parts = []
    for key, value in fields:
        raw = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
        parts.append(
            quote_from_bytes(key.encode("utf-8", "surrogatepass")) + "=" + quote_from_bytes(raw)
        )
    return "&".join(parts).encode()


BODIES = st.one_of(
    st.just(b""),
    st.binary(max_size=400),
    json_bodies(),
    form_bodies(),
    st.sampled_from([b"\xef\xbb\xbf{}", b"{" * 5000, b'"\\ud800"', b'{"email": "\\u0000"}']),
)
CONTENT_TYPES = (
    st.sampled_from(
        [
            None,
            b"application/json",
            b"application/json; charset=utf-16",
            b"application/x-www-form-urlencoded",
            b"application/x-www-form-urlencoded; charset=latin-1",
            b"multipart/form-data; boundary=x",
            b"multipart/form-data",
            b"text/plain",
            b"application/problem+json",
            b"\xff\xfe",
        ]
    )
    | _HEADER_BYTES
)


@dataclass(frozen=True)
class Fuzzed:
    method: str
    raw_path: bytes
    query: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes
    target: Target | None

    def __repr__(self) -> str:  # what hypothesis prints for a failing example
        return (
            f"Fuzzed({self.method} {self.raw_path!r}?{self.query!r} "
            f"headers={self.headers!r} body={self.body[:300]!r})"
        )


def requests_for(targets: list[Target], household: Household) -> st.SearchStrategy[Fuzzed]:
    @st.composite
    def build(draw: st.DrawFn) -> Fuzzed:
        # Mostly the routes the app has; now and then any path at all.
        target: Target | None = draw(st.sampled_from([*targets, *targets, *targets, None]))
        if target is None:
            method = draw(st.sampled_from(["GET", "POST", "PATCH", "DELETE", "PUT", "BREW"]))
            raw_path = b"/" + quote_from_bytes(draw(st.binary(max_size=60)), safe="/%").encode()
        else:
            method = target.method
            path = target.path
            for _ in _PLACEHOLDER.findall(path):
                segment = draw(st.sampled_from([household.profile_id.encode(), None]))
                segment = segment or draw(_SEGMENT)
                path = _PLACEHOLDER.sub(quote_from_bytes(segment, safe=""), path, count=1)
            raw_path = path.encode()
        query = quote_from_bytes(draw(st.binary(max_size=60)), safe="=&%").encode()
        headers: list[tuple[bytes, bytes]] = [(b"host", b"testserver")]
        trusted = target is not None and not target.ends_a_session and not target.is_stream
        auth = draw(st.sampled_from(["device", "device", "none", "garbage"]))
        if auth == "device" and trusted:
            headers.append((b"authorization", f"Bearer {household.device.access_token}".encode()))
        elif auth == "garbage":
            headers.append((b"authorization", b"Bearer " + draw(_HEADER_BYTES)))
        cookie_jar = draw(st.sampled_from(["browser", "browser", "none", "garbage"]))
        if cookie_jar == "browser" and trusted:
            jar = "; ".join(f"{k}={v}" for k, v in household.cookies.items()).encode()
            extra = draw(st.sampled_from([b"", b"; sg_profile=", b"; sg_csrf=", b"; sg_device="]))
            headers.append((b"cookie", jar + extra + (draw(_HEADER_BYTES) if extra else b"")))
            if draw(st.integers(0, 3)):
                headers.append((b"x-csrftoken", household.csrf_token.encode()))
        elif cookie_jar == "garbage":
            headers.append((b"cookie", draw(_HEADER_BYTES)))
        content_type = draw(CONTENT_TYPES)
        if content_type is not None:
            headers.append((b"content-type", content_type))
        for name in draw(st.lists(st.sampled_from(_EXTRA_HEADERS), max_size=4, unique=True)):
            headers.append((name, draw(_HEADER_BYTES)))
        body = draw(BODIES)
        if body and b"_csrf_token" not in body and cookie_jar == "browser" and draw(st.booleans()):
            body += b"&_csrf_token=" + household.csrf_token.encode()
        headers.append((b"content-length", str(len(body)).encode()))
        return Fuzzed(method, raw_path, query, headers, body, target)

    return build()


_EXTRA_HEADERS = [
    b"accept", b"hx-request", b"x-csrftoken", b"user-agent", b"x-forwarded-for",
    b"x-forwarded-proto", b"accept-language", b"origin", b"referer", b"if-none-match",
    b"range", b"transfer-encoding", b"\xc3\xa9",
]  # fmt: skip


async def _serve(app: Litestar, request: Fuzzed) -> int:
    """One request through the ASGI app, as uvicorn would hand it over: the status answered."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": "http",
        # As uvicorn decodes it: percent-escapes undone, bad UTF-8 replaced.
        "path": unquote(request.raw_path.decode("ascii")),
        "raw_path": request.raw_path,
        "query_string": request.query,
        "root_path": "",
        "headers": request.headers,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
    chunks = [request.body[:100], request.body[100:]] if len(request.body) > 100 else [request.body]
    status: list[int] = []
    done = asyncio.Event()

    async def receive() -> ReceiveMessage:
        if chunks:
            chunk = chunks.pop(0)
            return HTTPRequestEvent(type="http.request", body=chunk, more_body=bool(chunks))
        await done.wait()
        return HTTPDisconnectEvent(type="http.disconnect")

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])
        elif message["type"] == "http.response.body" and not message.get("more_body"):
            done.set()

    try:
        await asyncio.wait_for(app(scope, receive, send), STREAM_WAIT_SECONDS)  # type: ignore[arg-type]
    except TimeoutError:
        # Only an event stream may still be talking: it answered, and goes on.
        assert request.target is not None, request
        assert request.target.is_stream, request
    finally:
        done.set()
    assert status, f"no answer to {request!r}"
    return status[0]


def fuzz(client: TestClient[Litestar], household: Household, request: Fuzzed) -> None:
    status = client.blocking_portal.call(_serve, client.app, request)
    assert status < 500, (status, request)
    # The store as it was after the last request that was not refused: a refusal left it so.
    after = household.store.rows()
    if 400 <= status < 500:
        changes = written_by_a_refusal(household.rows, after)
        assert not changes, (status, request, changes)
    household.rows = after


def test_the_fuzz_reaches_every_route(app_client: TestClient[Litestar]) -> None:
    paths = {t.path for t in targets_of(app_client.app)}

    assert "/v1/auth/sign-in" in paths
    assert "/account/devices" in paths
    assert "/static/{file_path:path}" in paths


def test_random_requests_to_every_route_get_no_5xx_and_a_refusal_writes_nothing(
    app_client: TestClient[Litestar], household: Household
) -> None:
    @given(request=requests_for(targets_of(app_client.app), household))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(request: Fuzzed) -> None:
        fuzz(app_client, household, request)

    check()
