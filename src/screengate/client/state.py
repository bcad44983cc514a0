"""A device's state in a file (mode 0600): where it signed in, who it is, and its tokens.

Several processes may act as the same device (one listening, one playing), so the file is also
the device's TokenStore: a refresh happens under a lock, and a process that finds the pair
already rotated by another takes the new one instead of replaying the spent refresh token.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from screengate.client.models import Tokens
from screengate.client.session import Exchange

LOCK_POLL_SECONDS = 0.02


@dataclass(frozen=True)
class DeviceState:
    url: str
    email: str
    type: str
    name: str | None
    # Kept after a sign-out, so signing in again stays the same entry in the device list.
    device_id: str | None = None
    tokens: Tokens | None = None  # None: signed out
    # What proves device_id at the next sign-in (a new one comes with each): kept with it.
    device_secret: str | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "url": self.url,
            "email": self.email,
            "type": self.type,
            "name": self.name,
            "device_id": self.device_id,
            "device_secret": self.device_secret,
        }
        if self.tokens is not None:
            t = self.tokens
            body |= {
                "session_id": t.session_id,
                "access_token": t.access_token,
                "refresh_token": t.refresh_token,
                "refresh_at": t.refresh_at,
            }
        return body

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> DeviceState:
        tokens = None
        if body.get("refresh_token"):
            tokens = Tokens(
                access_token=str(body["access_token"]),
                refresh_token=str(body["refresh_token"]),
                refresh_at=float(body["refresh_at"]),
                session_id=str(body["session_id"]),
                device_id=str(body["device_id"]),
                device_secret=body.get("device_secret"),
            )
        return cls(
            url=str(body["url"]),
            email=str(body["email"]),
            type=str(body["type"]),
            name=body.get("name"),
            device_id=body.get("device_id"),
            tokens=tokens,
            device_secret=body.get("device_secret"),
        )


class DeviceStateFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __repr__(self) -> str:
        return f"DeviceStateFile({str(self.path)!r})"

    def load(self) -> DeviceState:
        """Raises FileNotFoundError, or ValueError for a file that is not a device's state."""
        try:
            return DeviceState.from_json(json.loads(self.path.read_text()))
        except (KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"{self.path} is not a device state file") from error

    def save(self, state: DeviceState) -> None:
        """Replace the file at once, readable by its owner only."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        with suppress(FileNotFoundError):
            temporary.unlink()  # left by a crash: it might have another mode
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w") as file:
                json.dump(state.to_json(), file, indent=2)
                file.write("\n")
            os.replace(temporary, self.path)
        except BaseException:
            with suppress(FileNotFoundError):
                temporary.unlink()
            raise

    def forget_tokens(self) -> None:
        """After a sign-out: the tokens are dead; the device id stays."""
        with suppress(FileNotFoundError, ValueError):
            self.save(replace(self.load(), tokens=None))

    async def rotate(self, held: Tokens, exchange: Exchange) -> Tokens:
        async with self._locked():
            state = self.load()
            if state.tokens is not None and state.tokens.refresh_token != held.refresh_token:
                return state.tokens  # another process already rotated this pair
            fresh = await exchange(held)
            self.save(replace(state, tokens=fresh))
            return fresh

    @asynccontextmanager
    async def _locked(self) -> AsyncIterator[None]:
        lock = self.path.with_name(f".{self.path.name}.lock")
        descriptor = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            while True:
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    await asyncio.sleep(LOCK_POLL_SECONDS)
            yield
        finally:
            os.close(descriptor)  # releases the lock
