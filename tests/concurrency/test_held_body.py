"""Nothing after a sign-out, even for a request already in flight.

An intruder's device sends the headers of a write and holds back the last byte of its body; the
owner signs that device out; then the intruder sends the byte. Every writing route of the API and
of the website and TV pages, as the app's own route table lists them, must refuse with the
sign-out's reason and leave the store exactly as the sign-out left it. A route added later is in
this test by construction: it fails until the route has an example request below.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from bench.server import RunningServer, serve
from litestar.routes import HTTPRoute

from screengate.app import create_app
from screengate.config import Settings
from tests.concurrency.test_play_race import FAST_ARGON2, REDIS_ENV
from tests.support.api import PASSWORD, new_email
from tests.support.databases import migrated_database
from tests.support.raw_http import RawAnswer, hold
from tests.support.store_rows import differences, store_rows

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
# Writing routes that no signed-in device makes: there is nobody to sign out.
NOBODY_SIGNED_IN = {
    ("POST", "/v1/auth/sign-up"),
    ("POST", "/v1/auth/sign-in"),
    ("POST", "/v1/auth/refresh"),
    ("POST", "/v1/auth/sign-in/second-factor"),
    ("POST", "/v1/auth/passkey/options"),
    ("POST", "/v1/auth/passkey"),
    ("POST", "/sign-in"),
    ("POST", "/sign-up"),
    ("POST", "/tv/sign-in"),
    ("POST", "/sign-in/second-step"),
    ("POST", "/tv/sign-in/second-step"),
    ("POST", "/sign-in/passkey/options"),
    ("POST", "/sign-in/passkey"),
    # A mailed link's token is the proof, not a signed-in device.
    ("POST", "/v1/auth/password-reset"),
    ("POST", "/v1/auth/password-reset/confirm"),
    ("POST", "/v1/auth/secure-account"),
    ("POST", "/forgot-password"),
    ("POST", "/reset-password"),
    ("POST", "/secure-account"),
    ("POST", "/v1/account/email/confirm"),
    ("POST", "/confirm-email"),
    # TV sign-in with a code: the device asking, polling and (the TV page) collecting its
    # tokens is not signed in yet.
    ("POST", "/oauth/device_authorization"),
    ("POST", "/oauth/token"),
    ("POST", "/tv/sign-in/code"),
}
NEW_PASSWORD = "a different horse battery"
CSRF_INPUT = re.compile(r'name="_csrf_token" value="([^"]+)"')
# Long enough for a route that reads no body to answer before the rest is sent.
ANSWER_AT_ONCE_SECONDS = 0.5


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # as the route table spells it: /v1/profiles/{profile_id:str}

    @property
    def surface(self) -> str:
        if self.path.startswith("/v1/"):
            return "api"
        return "tv" if self.path.startswith("/tv/") else "web"


def writing_routes() -> list[Route]:
    """Every state-changing route a signed-in device can call, from the app's route table."""
    app = create_app(Settings(database_url="memory://"))
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for method in route.route_handler_map:
            if method in WRITES and (method, route.path) not in NOBODY_SIGNED_IN:
                found.append(Route(method, route.path))
    return sorted(found, key=lambda r: (r.path, r.method))


@dataclass
class Scene:
    """One account: the owner's phone, an intruder's device, and what the routes act on."""

    client: httpx.Client
    owner_auth: dict[str, str]
    intruder_auth: dict[str, str] = field(default_factory=dict)
    intruder_cookies: str = ""
    csrf: str = ""
    values: dict[str, str] = field(default_factory=dict)


# The request each writing route gets: a form or a JSON body (bytes), built from the scene.
Body = Callable[[Scene], tuple[str, bytes]]


def json_body(text: str) -> Body:
    return lambda scene: ("application/json", text.encode())


def form_body(text: str) -> Body:
    return lambda scene: ("application/x-www-form-urlencoded", text.encode())


def playing(scene: Scene) -> tuple[str, bytes]:
    profile_id, title_id = scene.values["first_profile"], scene.values["title_id"]
    return (
        "application/json",
        f'{{"profile_id": "{profile_id}", "title_id": "{title_id}"}}'.encode(),
    )


def until_in_an_hour(scene: Scene) -> tuple[str, bytes]:
    until = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    return ("application/json", f'{{"until": "{until}"}}'.encode())


NO_BODY: Body = json_body("")
PLAYING: Body = playing
EXAMPLES: dict[tuple[str, str], Body] = {
    ("POST", "/v1/auth/sign-out"): NO_BODY,
    ("POST", "/v1/account/password"): json_body(
        f'{{"current_password": "{PASSWORD}", "new_password": "{NEW_PASSWORD}",'
        ' "sign_out_all_devices": true}'
    ),
    ("POST", "/v1/devices/sign-out-all"): json_body('{"keep_this_device": true}'),
    ("POST", "/v1/auth/reauth"): json_body(f'{{"password": "{PASSWORD}"}}'),
    ("POST", "/v1/account/two-step/totp"): NO_BODY,
    ("POST", "/v1/account/two-step/totp/confirm"): json_body('{"code": "000000"}'),
    ("DELETE", "/v1/account/two-step/totp"): NO_BODY,
    ("POST", "/v1/account/two-step/recovery-codes"): NO_BODY,
    ("POST", "/v1/account/passkeys/options"): NO_BODY,
    ("POST", "/v1/account/passkeys"): json_body('{"credential": {}, "name": "Intruder"}'),
    ("DELETE", "/v1/account/passkeys/{passkey_id:str}"): NO_BODY,
    ("POST", "/v1/account/email"): json_body(
        f'{{"new_email": "intruder@example.net", "password": "{PASSWORD}"}}'
    ),
    ("POST", "/v1/devices/{device_id:str}/sign-out"): NO_BODY,
    ("POST", "/v1/profiles"): json_body('{"name": "Intruder"}'),
    ("PATCH", "/v1/profiles/{profile_id:str}"): json_body('{"pin": null}'),
    ("DELETE", "/v1/profiles/{profile_id:str}"): NO_BODY,
    ("POST", "/v1/streams"): PLAYING,
    ("POST", "/v1/streams/{stream_id:str}/heartbeat"): NO_BODY,
    ("DELETE", "/v1/streams/{stream_id:str}"): NO_BODY,
    ("POST", "/v1/downloads"): PLAYING,
    ("DELETE", "/v1/downloads/{download_id:str}"): NO_BODY,
    ("POST", "/sign-out"): form_body("bye=1"),
    ("POST", "/profiles/{profile_id:str}/watch"): form_body("pin=1234"),
    ("POST", "/play/{title_id:str}"): form_body("x=1"),
    ("POST", "/watch/{stream_id:str}/heartbeat"): form_body("x=1"),
    ("POST", "/streams/{stream_id:str}/stop"): form_body("then="),
    ("POST", "/profiles/new"): form_body("name=Intruder"),
    ("POST", "/profiles/{profile_id:str}/edit"): form_body("name=Ben&lock=remove"),
    ("POST", "/profiles/{profile_id:str}/delete"): form_body("x=1"),
    ("POST", "/account/devices/{device_id:str}/sign-out"): form_body("x=1"),
    ("POST", "/account/sign-out-all"): form_body("x=1"),
    ("POST", "/account/security/totp"): form_body("x=1"),
    ("POST", "/account/security/totp/confirm"): form_body("code=000000"),
    ("POST", "/account/security/totp/off"): form_body("x=1"),
    ("POST", "/account/security/recovery-codes"): form_body("x=1"),
    ("POST", "/account/security/passkeys/options"): json_body("{}"),
    ("POST", "/account/security/passkeys"): json_body('{"credential": {}, "name": "Intruder"}'),
    ("POST", "/account/security/passkeys/{passkey_id:str}/remove"): form_body("x=1"),
    ("POST", "/account/confirm/passkey"): json_body('{"credential": {}}'),
    ("POST", "/account/confirm"): form_body(
        f"reauth_password={PASSWORD.replace(' ', '+')}&then=/account"
    ),
    ("POST", "/account/email"): form_body(
        f"new_email=intruder%40example.net&password={PASSWORD.replace(' ', '+')}"
    ),
    ("POST", "/v1/device-authorizations/{user_code:str}"): json_body('{"decision": "approve"}'),
    ("POST", "/v1/devices/{device_id:str}/signed-in-until"): until_in_an_hour,
    ("POST", "/v1/devices/{device_id:str}/end-temporary-sign-in"): NO_BODY,
    ("POST", "/activate"): form_body("code=BCDF-GHJK"),
    ("POST", "/activate/decide"): form_body("code=BCDF-GHJK&decision=approve&length=keep"),
    ("POST", "/account/devices/{device_id:str}/end-temporary"): form_body("x=1"),
    ("POST", "/account/devices/{device_id:str}/signed-in-until"): form_body("length=4h"),
    ("POST", "/account/password"): form_body(
        f"current_password={PASSWORD.replace(' ', '+')}"
        f"&new_password={NEW_PASSWORD.replace(' ', '+')}&sign_out_all=on"
    ),
}


def example_for(route: Route) -> Body | None:
    path = route.path.removeprefix("/tv") if route.surface == "tv" else route.path
    return EXAMPLES.get((route.method, path))


def test_every_writing_route_has_a_held_body_example() -> None:
    missing = [r for r in writing_routes() if example_for(r) is None]
    assert not missing, f"add an example request for {missing} to EXAMPLES"


@pytest.fixture(
    scope="module",
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("redis", marks=[pytest.mark.postgres, pytest.mark.redis]),
    ],
)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RunningServer, str]]:
    store = str(request.param)
    folder = tmp_path_factory.mktemp(f"held-{store}")
    env = dict(FAST_ARGON2)
    if store == "redis":
        redis_url = os.environ.get(REDIS_ENV)
        if not redis_url:
            pytest.skip(f"Redis not configured: set {REDIS_ENV} to run with Redis leases")
        env["SCREENGATE_REDIS_URL"] = redis_url
    backend = "sqlite" if store == "sqlite" else "postgresql"
    workers = 1 if store == "sqlite" else 2
    with (
        migrated_database(backend, folder) as url,
        serve(url, folder / "server.log", env=env, workers=workers) as running,
    ):
        yield running, url


@pytest.mark.timeout(300)
@pytest.mark.parametrize("route", writing_routes(), ids=lambda r: f"{r.method} {r.path}")
def test_a_held_write_finished_after_its_device_was_signed_out_changes_nothing(
    server: tuple[RunningServer, str], route: Route
) -> None:
    running, database_url = server
    with httpx.Client(base_url=running.base_url, timeout=30) as client:
        scene = _scene(client, route.surface)
        example = example_for(route)
        assert example is not None
        content_type, body = example(scene)
        headers = {"Content-Type": content_type, "Accept": "application/json, text/html"}
        if route.surface == "api":
            headers |= scene.intruder_auth
        else:
            headers |= {"Cookie": scene.intruder_cookies, "X-CSRFToken": scene.csrf}
            headers["Accept"] = "text/html"
        path = _fill(route.path, scene.values)
        intruder = _intruder_device(client, scene)
        held = hold(running.host, running.port, route.method, path, headers, body)
        try:
            early = held.answered_already(ANSWER_AT_ONCE_SECONDS)
            if early is not None:
                # It answered before the rest of its body came: it reads none, so no held body
                # can carry it past a sign-out (it ran before the sign-out could begin).
                assert early.status < 500, _describe(early)
                return
            signed_out = client.post(f"/v1/devices/{intruder}/sign-out", headers=scene.owner_auth)
            if signed_out.status_code == 401:
                # Slower than ANSWER_AT_ONCE_SECONDS on a busy machine, but the same case: it
                # read no body, ran at once, and signed the owner out before the owner could.
                early = held.finish()
                assert early.status < 500, _describe(early)
                return
            assert signed_out.status_code == 200, signed_out.text
            after_sign_out = store_rows(database_url)
            answer = held.finish()
        finally:
            held.close()
        assert _refused_as_signed_out(answer, route.surface), _describe(answer)
        time.sleep(0.1)  # anything the answer set in motion has had its chance to land
        assert differences(after_sign_out, store_rows(database_url)) == []


def _refused_as_signed_out(answer: RawAnswer, surface: str) -> bool:
    if surface == "api" or answer.status == 410:
        data = httpx.Response(answer.status, content=answer.body).json()
        return (
            answer.status in {401, 410}
            and data.get("code") in {"signed_out", "stream_ended"}
            and data.get("reason") == "signed_out_remotely"
        )
    location = answer.headers.get("location") or answer.headers.get("hx-redirect") or ""
    sign_in = "/tv/sign-in" if surface == "tv" else "/sign-in"
    return (
        answer.status in {200, 303}
        and urlsplit(location).path == sign_in
        and "reason=signed_out_remotely" in location
    )


def _describe(answer: RawAnswer) -> str:
    return f"{answer.status} {answer.headers} {answer.body[:300]!r}"


def _fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+):str\}", lambda m: values[m.group(1)], path)


def _scene(client: httpx.Client, surface: str) -> Scene:
    email = new_email("held")
    signed_up = client.post(
        "/v1/auth/sign-up", json={"email": email, "password": PASSWORD, "plan": "premium"}
    )
    assert signed_up.status_code == 201, signed_up.text
    owner = _api_sign_in(client, email, "phone")
    scene = Scene(client, owner_auth=_bearer(owner))
    scene.values["device_id"] = owner["device_id"]
    scene.values["passkey_id"] = "no-such-passkey"  # removing one needs the account lock first
    profiles = client.get("/v1/profiles", headers=scene.owner_auth).json()
    scene.values["first_profile"] = profiles[0]["profile_id"]
    ben = client.post("/v1/profiles", json={"name": "Ben", "pin": "1234"}, headers=scene.owner_auth)
    assert ben.status_code == 201, ben.text
    scene.values["profile_id"] = ben.json()["profile_id"]
    code = client.post("/oauth/device_authorization", data={"client_id": "held"})
    assert code.status_code == 200, code.text
    scene.values["user_code"] = code.json()["user_code"]
    titles = client.get("/v1/titles").json()
    scene.values["title_id"] = next(t["title_id"] for t in titles if t["kids"])
    if surface == "api":
        _api_intruder(client, scene, email)
    else:
        _page_intruder(client, scene, email, "/tv" if surface == "tv" else "")
    return scene


def _api_intruder(client: httpx.Client, scene: Scene, email: str) -> None:
    intruder = _api_sign_in(client, email, "game_console")
    scene.intruder_auth = _bearer(intruder)
    body = {"profile_id": scene.values["first_profile"], "title_id": scene.values["title_id"]}
    stream = client.post("/v1/streams", json=body, headers=scene.intruder_auth)
    assert stream.status_code == 201, stream.text
    scene.values["stream_id"] = stream.json()["stream_id"]
    download = client.post("/v1/downloads", json=body, headers=scene.intruder_auth)
    assert download.status_code == 201, download.text
    scene.values["download_id"] = download.json()["download_id"]


def _page_intruder(client: httpx.Client, scene: Scene, email: str, prefix: str) -> None:
    """A browser signed in to the website (or the TV app), a profile picked, a stream playing."""
    with httpx.Client(base_url=str(client.base_url), timeout=30) as browser:
        form = browser.get(f"{prefix}/sign-in")
        csrf = _csrf(form)
        signed_in = browser.post(
            f"{prefix}/sign-in", data={"email": email, "password": PASSWORD, "_csrf_token": csrf}
        )
        assert signed_in.status_code == 303, signed_in.text
        csrf = _csrf(browser.get(f"{prefix}/profiles"))
        first = scene.values["first_profile"]
        picked = browser.post(f"{prefix}/profiles/{first}/watch", data={"_csrf_token": csrf})
        assert picked.status_code == 303, picked.text
        played = browser.post(
            f"{prefix}/play/{scene.values['title_id']}", data={"_csrf_token": csrf}
        )
        assert played.status_code == 303, played.text
        scene.values["stream_id"] = played.headers["location"].rsplit("/", 1)[-1]
        scene.csrf = csrf
        scene.intruder_cookies = "; ".join(f"{c.name}={c.value}" for c in browser.cookies.jar)


def _intruder_device(client: httpx.Client, scene: Scene) -> str:
    listed = client.get("/v1/devices", headers=scene.owner_auth)
    assert listed.status_code == 200, listed.text
    others = [d["device_id"] for d in listed.json() if not d["current"]]
    assert len(others) == 1, listed.json()
    return str(others[0])


def _api_sign_in(client: httpx.Client, email: str, device_type: str) -> dict[str, Any]:
    answer = client.post(
        "/v1/auth/sign-in",
        json={"email": email, "password": PASSWORD, "device": {"type": device_type}},
    )
    assert answer.status_code == 201, answer.text
    found: dict[str, Any] = answer.json()
    return found


def _bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def _csrf(page: httpx.Response) -> str:
    found = CSRF_INPUT.search(page.text)
    assert found, page.text[:500]
    return found.group(1)


RENAMERS = 16
TRIALS = 5


@pytest.mark.timeout(300)
def test_no_write_lands_after_the_sign_out_returned(server: tuple[RunningServer, str]) -> None:
    """Without a held body the window is milliseconds wide: writes racing a sign-out either
    commit before it (and the owner's snapshot taken when it returns shows them) or not at all."""
    running, database_url = server
    for _ in range(TRIALS):
        landed = asyncio.run(_race(running.base_url, database_url))
        assert landed == []


async def _race(base_url: str, database_url: str) -> list[str]:
    limits = httpx.Limits(max_connections=RENAMERS + 4)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as client:
        email = new_email("race")
        await client.post(
            "/v1/auth/sign-up", json={"email": email, "password": PASSWORD, "plan": "premium"}
        )
        owner, intruder = [
            (
                await client.post(
                    "/v1/auth/sign-in",
                    json={"email": email, "password": PASSWORD, "device": {"type": kind}},
                )
            ).json()
            for kind in ("phone", "game_console")
        ]
        profile = (await client.get("/v1/profiles", headers=_bearer(owner))).json()[0]
        path = f"/v1/profiles/{profile['profile_id']}"
        refused = asyncio.Event()

        async def rename(worker: int) -> None:
            for attempt in range(10_000):
                answer = await client.patch(
                    path, json={"name": f"W{worker} {attempt}"}, headers=_bearer(intruder)
                )
                if answer.status_code == 401:
                    refused.set()
                    return

        renamers = [asyncio.create_task(rename(w)) for w in range(RENAMERS)]
        await asyncio.sleep(0.3)
        device = intruder["device_id"]
        signed_out = await client.post(f"/v1/devices/{device}/sign-out", headers=_bearer(owner))
        assert signed_out.status_code == 200, signed_out.text
        when_it_returned = await asyncio.to_thread(store_rows, database_url)
        async with asyncio.timeout(60):
            await asyncio.gather(*renamers)
    assert refused.is_set()
    # Only the profiles: the refused device's later calls rightly write its sign-out receipt.
    final = await asyncio.to_thread(store_rows, database_url)
    return differences({"profiles": when_it_returned["profiles"]}, {"profiles": final["profiles"]})
