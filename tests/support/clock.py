"""A Clock (ports.Clock) that only moves when a test moves it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class FrozenClock:
    """Safe to read from the server's thread while the test thread advances it."""

    def __init__(self, at: datetime | None = None) -> None:
        self._at = at or datetime.now(UTC).replace(microsecond=0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._at

    def advance(self, by: timedelta) -> None:
        if by < timedelta(0):
            raise ValueError("a frozen clock only moves forward")
        with self._lock:
            self._at += by
