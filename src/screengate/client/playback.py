"""Playback on a device: a stream lease kept alive by heartbeats until it ends, and why it did."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Self

import httpx

from screengate.client.errors import (
    InvalidTokenError,
    NotFoundError,
    ScreengateError,
    SignedOutError,
    StreamEndedError,
)
from screengate.client.models import Lease, StreamStarted

if TYPE_CHECKING:
    from screengate.client.session import DeviceSession

log = logging.getLogger("screengate.client")

# The reason a Playback reports when it was stopped on this device.
STOPPED = "stopped"


class Playback:
    """A playing stream. Heartbeats run in the background at the server's interval; when one
    is answered 410 stream_ended the playback ends with the server's reason."""

    def __init__(self, device: DeviceSession, started: StreamStarted) -> None:
        self._device = device
        self.stream_id = started.stream_id
        self.title_id = started.title_id
        self.profile_id = started.profile_id
        self.heartbeat_interval = float(started.heartbeat_interval)
        self.expires_at: datetime = started.expires_at
        self.heartbeats = 0  # answered with a renewed lease
        self.end_reason: str | None = None
        self.end_detail: str | None = None
        self._ended = asyncio.Event()
        self._task = asyncio.create_task(self._beat(), name=f"heartbeat-{self.stream_id}")

    def __repr__(self) -> str:
        state = f"ended: {self.end_reason}" if self.ended else "playing"
        return f"Playback(stream_id={self.stream_id!r}, title_id={self.title_id!r}, {state})"

    @property
    def ended(self) -> bool:
        return self._ended.is_set()

    async def wait(self) -> str:
        """Until the stream ends; then why (stopped_by_owner, signed_out_remotely, ...)."""
        await self._ended.wait()
        assert self.end_reason is not None
        return self.end_reason

    async def stop(self) -> None:
        """Stop playback on this device (DELETE /v1/streams/{id}); nothing if already over."""
        if self.ended:
            return
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        try:
            await self._device.stop_stream(self.stream_id)
        finally:
            self._end(STOPPED, "Playback was stopped on this device.")

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _beat(self) -> None:
        while not self.ended:
            await asyncio.sleep(self.heartbeat_interval)
            try:
                lease = await self._device.request_as(
                    Lease, "POST", f"/v1/streams/{self.stream_id}/heartbeat"
                )
            except (StreamEndedError, NotFoundError, SignedOutError, InvalidTokenError) as error:
                self._end(error.reason or error.code, error.detail)
                return
            except (ScreengateError, httpx.TransportError) as error:
                # The lease outlasts a few intervals: try again at the next one.
                log.warning("heartbeat_failed", extra={"error": repr(error)})
                continue
            self.expires_at = lease.expires_at
            self.heartbeats += 1

    def _end(self, reason: str, detail: str | None) -> None:
        if not self.ended:
            self.end_reason, self.end_detail = reason, detail
            self._ended.set()
