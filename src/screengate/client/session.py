"""The client: sign up and sign in; then a DeviceSession per signed-in device, which keeps its
tokens fresh and does what a TV, phone or console does."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar

import httpx
import msgspec

from screengate.client.errors import CodeSignInError, error_from
from screengate.client.events import Event, Reconnect, event_stream
from screengate.client.models import (
    Account,
    ActiveStream,
    CodeOffer,
    Device,
    DeviceType,
    Download,
    Profile,
    SignedOutDevice,
    SignedUp,
    StreamStarted,
    TokenAnswer,
    Tokens,
    _SignedOutDevices,
    _SignedOutEverywhere,
)
from screengate.client.playback import Playback

T = TypeVar("T")

USER_AGENT = "screengate-client/0.1"
# The event stream's read timeout, in seconds: the server sends a keep-alive every 15 s, so
# this much silence means the connection is gone.
EVENTS_READ_TIMEOUT = 45.0

Exchange = Callable[[Tokens], Awaitable[Tokens]]


# Pages of the device list a client follows at most: far more devices than an account holds.
MAX_DEVICE_PAGES = 100


class TokenStore(Protocol):
    """Where a device keeps its tokens. Refresh tokens rotate and a replayed one signs the
    device out, so one pair must be exchanged exactly once, even by several processes."""

    async def rotate(self, held: Tokens, exchange: Exchange) -> Tokens:
        """The pair that follows `held`: exchanged now, or already by someone else."""


class InMemoryTokens:
    """One process, one DeviceSession: nothing to share."""

    async def rotate(self, held: Tokens, exchange: Exchange) -> Tokens:
        return await exchange(held)


class ScreengateClient:
    """One connection pool to a screengate server, shared by the devices signed in through it."""

    def __init__(
        self,
        base_url: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
        user_agent: str = USER_AGENT,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = httpx.AsyncClient(
            base_url=self.base_url,
            transport=transport,
            timeout=timeout,
            headers={"User-Agent": user_agent},
        )

    def __repr__(self) -> str:
        return f"ScreengateClient({self.base_url!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    async def sign_up(self, email: str, password: str, plan: str = "standard") -> SignedUp:
        body = {"email": email, "password": password, "plan": plan}
        return _decode(await _expect(self.http.post("/v1/auth/sign-up", json=body)), SignedUp)

    async def sign_in(
        self,
        email: str,
        password: str,
        device_type: DeviceType,
        name: str | None = None,
        device_id: str | None = None,
        *,
        device_secret: str | None = None,
        store: TokenStore | None = None,
    ) -> DeviceSession:
        """Sign a device in. Send back the `device_id` and `device_secret` it had to stay the
        same entry in the list (and be judged as the account's own device); a new secret
        comes with every sign-in (DeviceSession.device_secret)."""
        device: dict[str, str] = {"type": device_type}
        if name is not None:
            device["name"] = name
        if device_id is not None:
            device["device_id"] = device_id
            if device_secret is not None:
                device["device_secret"] = device_secret
        body = {"email": email, "password": password, "device": device}
        answer = await _expect(self.http.post("/v1/auth/sign-in", json=body), 201)
        return DeviceSession(self, tokens_from(_decode(answer, TokenAnswer)), store=store)

    async def request_code(
        self, client_id: str, device_type: DeviceType = "smart_tv", name: str | None = None
    ) -> CodeOffer:
        """RFC 8628 §3.1: a code for this device to show."""
        body = {"client_id": client_id, "device_type": device_type}
        if name is not None:
            body["device_name"] = name
        answer = await self.http.post("/oauth/device_authorization", data=body)
        if answer.status_code != 200:
            raise _oauth_error(answer)
        return _decode(answer, CodeOffer)

    async def sign_in_with_code(
        self,
        client_id: str,
        offer: CodeOffer,
        *,
        store: TokenStore | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> DeviceSession:
        """RFC 8628 §3.4-3.5: poll until someone approves the code; slower when told to slow
        down. CodeSignInError when it is denied or runs out."""
        interval = float(offer.interval)
        deadline = time.monotonic() + offer.expires_in
        body = {"grant_type": DEVICE_CODE_GRANT, "device_code": offer.device_code}
        body["client_id"] = client_id
        while time.monotonic() < deadline:
            await sleep(interval)
            answer = await self.http.post("/oauth/token", data=body)
            if answer.status_code == 200:
                tokens = tokens_from(_decode(answer, TokenAnswer))
                return DeviceSession(self, tokens, store=store)
            error = _oauth_error(answer)
            if error.code == "slow_down":
                interval += 5  # RFC 8628 §3.5: for this and every later poll
            elif error.code != "authorization_pending":
                raise error
        raise CodeSignInError(410, "expired_token", "The code expired before anyone approved it.")

    def resume(self, tokens: Tokens, *, store: TokenStore | None = None) -> DeviceSession:
        """A device signed in earlier, from the tokens it kept."""
        return DeviceSession(self, tokens, store=store)


class DeviceSession:
    """A signed-in device. Its access token is refreshed shortly before it lapses, and once
    more on a `token_expired` answer; a refused refresh raises SignedOutError."""

    def __init__(
        self, client: ScreengateClient, tokens: Tokens, *, store: TokenStore | None = None
    ) -> None:
        self._http = client.http
        self._tokens = tokens
        self._store = store or InMemoryTokens()
        self._refreshing = asyncio.Lock()

    def __repr__(self) -> str:
        return f"DeviceSession(device_id={self.device_id!r}, session_id={self.session_id!r})"

    @property
    def tokens(self) -> Tokens:
        return self._tokens

    @property
    def device_id(self) -> str:
        return self._tokens.device_id

    @property
    def session_id(self) -> str:
        return self._tokens.session_id

    @property
    def device_secret(self) -> str | None:
        """What proves this device at its next sign-in, with device_id: keep it private."""
        return self._tokens.device_secret

    # What the device's user does.

    async def account(self) -> Account:
        return await self.request_as(Account, "GET", "/v1/account")

    async def profiles(self) -> list[Profile]:
        return await self.request_as(list[Profile], "GET", "/v1/profiles")

    async def devices(self) -> list[Device]:
        """Manage access and devices: most recent first, this one marked `current`; every page
        (the server gives 100 a page, and a `Link: <...>; rel="next"` while more follow)."""
        found: list[Device] = []
        path: str | None = "/v1/devices"
        for _ in range(MAX_DEVICE_PAGES):
            if path is None:
                break
            answer = await self.request("GET", path)
            found += _decode(answer, list[Device])
            path = answer.links.get("next", {}).get("url")
        return found

    async def sign_out(self) -> None:
        """Sign out on this device: its tokens, stream and downloads end."""
        await self.request("POST", "/v1/auth/sign-out")

    async def sign_out_device(self, device_id: str) -> list[str]:
        path = f"/v1/devices/{device_id}/sign-out"
        return (await self.request_as(_SignedOutDevices, "POST", path)).signed_out

    async def sign_out_everywhere(self, keep_this_device: bool = False) -> list[SignedOutDevice]:
        """Sign out of all devices; each entry says whether that device was told live."""
        body = {"keep_this_device": keep_this_device}
        answer = await self.request_as(
            _SignedOutEverywhere, "POST", "/v1/devices/sign-out-all", json=body
        )
        return answer.signed_out

    async def change_password(
        self, current_password: str, new_password: str, *, sign_out_all_devices: bool = True
    ) -> None:
        body = {
            "current_password": current_password,
            "new_password": new_password,
            "sign_out_all_devices": sign_out_all_devices,
        }
        await self.request("POST", "/v1/account/password", json=body)

    async def play(self, profile_id: str, title_id: str, pin: str | None = None) -> Playback:
        """Press Play; heartbeats start at the server's interval. TooManyStreamsError lists
        who holds the screens."""
        body: dict[str, str] = {"profile_id": profile_id, "title_id": title_id}
        if pin is not None:
            body["pin"] = pin
        started = await self.request_as(StreamStarted, "POST", "/v1/streams", json=body)
        return Playback(self, started)

    async def streams(self) -> list[ActiveStream]:
        """Who holds the account's screens right now."""
        return await self.request_as(list[ActiveStream], "GET", "/v1/streams")

    async def stop_stream(self, stream_id: str) -> None:
        """Stop this device's stream, or another device's (it ends as stopped_by_owner)."""
        await self.request("DELETE", f"/v1/streams/{stream_id}")

    async def download(self, profile_id: str, title_id: str, pin: str | None = None) -> Download:
        body: dict[str, str] = {"profile_id": profile_id, "title_id": title_id}
        if pin is not None:
            body["pin"] = pin
        return await self.request_as(Download, "POST", "/v1/downloads", json=body)

    async def downloads(self) -> list[Download]:
        return await self.request_as(list[Download], "GET", "/v1/downloads")

    async def delete_download(self, download_id: str) -> None:
        await self.request("DELETE", f"/v1/downloads/{download_id}")

    def events(
        self,
        *,
        reconnect: Reconnect | None = None,
        on_connect: Callable[[], object] | None = None,
    ) -> AsyncGenerator[Event, None]:
        """This device's events as they happen, until it is signed out (SignedOutEvent, also
        when the sign-out is learned on a reconnect). A dropped stream is reopened with
        Last-Event-ID, so nothing is missed. Close it early with contextlib.aclosing()."""
        return event_stream(self._open_events, reconnect or Reconnect(), on_connect)

    # The plumbing: every call carries a fresh access token.

    async def request(self, method: str, path: str, *, json: Any = None) -> httpx.Response:
        """One authenticated call; raises ScreengateError (or a subclass) unless it is a 2xx."""
        tokens = await self._fresh()
        answer = await self._http.request(method, path, json=json, headers=_bearer(tokens))
        if _token_expired(answer):
            tokens = await self._refresh(tokens)
            answer = await self._http.request(method, path, json=json, headers=_bearer(tokens))
        if answer.is_success:
            return answer
        raise error_from(answer)

    async def request_as(self, into: type[T], method: str, path: str, *, json: Any = None) -> T:
        return _decode(await self.request(method, path, json=json), into)

    @asynccontextmanager
    async def _open_events(self, last_event_id: str | None) -> AsyncIterator[httpx.Response]:
        for attempt in (1, 2):
            tokens = await self._fresh()
            headers = _bearer(tokens) | {"Accept": "text/event-stream"}
            if last_event_id is not None:
                headers["Last-Event-ID"] = last_event_id
            timeout = httpx.Timeout(self._http.timeout.connect, read=EVENTS_READ_TIMEOUT)
            async with self._http.stream(
                "GET", "/v1/events", headers=headers, timeout=timeout
            ) as answer:
                if answer.status_code == 200:
                    yield answer
                    return
                await answer.aread()
                if not (_token_expired(answer) and attempt == 1):
                    raise error_from(answer)
            await self._refresh(tokens)

    async def _fresh(self) -> Tokens:
        tokens = self._tokens
        if time.time() >= tokens.refresh_at:
            return await self._refresh(tokens)
        return tokens

    async def _refresh(self, spent: Tokens) -> Tokens:
        async with self._refreshing:
            if self._tokens.refresh_token == spent.refresh_token:
                self._tokens = await self._store.rotate(spent, self._exchange)
            return self._tokens

    async def _exchange(self, held: Tokens) -> Tokens:
        body = {"refresh_token": held.refresh_token}
        answer = await _expect(self._http.post("/v1/auth/refresh", json=body), 200)
        fresh = tokens_from(_decode(answer, TokenAnswer))
        return replace(fresh, device_secret=fresh.device_secret or held.device_secret)


def tokens_from(answer: TokenAnswer) -> Tokens:
    """Keep the pair, to be refreshed a little before the access token lapses."""
    early = min(30.0, answer.expires_in / 4)  # seconds
    return Tokens(
        access_token=answer.access_token,
        refresh_token=answer.refresh_token,
        refresh_at=time.time() + answer.expires_in - early,
        session_id=answer.session_id,
        device_id=answer.device_id,
        device_secret=answer.device_secret,
    )


DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def _oauth_error(answer: httpx.Response) -> CodeSignInError:
    """An RFC 6749 §5.2 error body ({"error", "error_description"}) as an exception."""
    try:
        body = answer.json()
    except ValueError:
        body = {}
    code = str(body.get("error") or f"http_{answer.status_code}")
    detail = str(body.get("error_description") or code.replace("_", " "))
    return CodeSignInError(answer.status_code, code, detail)


def _bearer(tokens: Tokens) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens.access_token}"}


def _token_expired(answer: httpx.Response) -> bool:
    return answer.status_code == 401 and error_from(answer).code == "token_expired"


async def _expect(call: Awaitable[httpx.Response], status: int = 201) -> httpx.Response:
    answer = await call
    if answer.status_code != status:
        raise error_from(answer)
    return answer


def _decode(answer: httpx.Response, into: type[T]) -> T:
    return msgspec.json.decode(answer.content, type=into)
