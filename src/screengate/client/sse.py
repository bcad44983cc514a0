"""A Server-Sent Events parser, as the WHATWG HTML standard defines the format.

Bytes in, in chunks of any size; messages (and comments) out. Lines end in CRLF, LF or CR, even
when a CRLF is split between two chunks; `data:` lines join with a newline; a blank line
dispatches; an `id:` is remembered even when no message follows, so a reconnect can send it as
Last-Event-ID; `retry:` sets the reconnection delay.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class SseMessage:
    event: str  # "message" when the server names none
    data: str
    id: str | None  # the last event id in force when this message was dispatched


@dataclass(frozen=True, slots=True)
class SseComment:
    """A line starting with ':', such as the server's `: connected` and `: keep-alive`."""

    text: str


SseItem = SseMessage | SseComment


class SseParser:
    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""  # an unfinished line
        self._after_cr = False  # the last chunk ended in CR: a leading LF is its pair
        self._at_start = True  # a byte-order mark may open the stream, once
        self._event = ""
        self._data: list[str] = []
        self.last_event_id: str | None = None
        self.retry_ms: int | None = None

    def feed(self, chunk: bytes) -> list[SseItem]:
        """Everything this chunk completes, in order."""
        text = self._decoder.decode(chunk)
        if self._at_start and text:
            self._at_start = False
            text = text.removeprefix("\ufeff")
        if self._after_cr and text:
            self._after_cr = False
            text = text[1:] if text.startswith("\n") else text
        if text:
            self._after_cr = text.endswith("\r")
        *lines, self._pending = _LINE_END.split(self._pending + text)
        items = [self._line(line) for line in lines]
        return [item for item in items if item is not None]

    def _line(self, line: str) -> SseItem | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return SseComment(line[1:].removeprefix(" "))
        name, colon, value = line.partition(":")
        if colon:
            value = value.removeprefix(" ")
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self.last_event_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self.retry_ms = int(value)
        return None  # unknown fields are ignored

    def _dispatch(self) -> SseMessage | None:
        event, data = self._event or "message", self._data
        self._event, self._data = "", []
        if not data:
            return None
        return SseMessage(event=event, data="\n".join(data), id=self.last_event_id)
