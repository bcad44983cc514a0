"""HTTP/1.1 by hand over a socket: send a request's headers and part of its body, hold the rest.

No client library lets a test stop half-way through a body, which is exactly what an intruder
does to carry a request across a sign-out.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field

READ_SECONDS = 30.0


@dataclass(frozen=True)
class RawAnswer:
    status: int
    headers: dict[str, str]
    body: bytes
    # The server closed the connection after answering.
    closed: bool


@dataclass
class HeldRequest:
    """A request whose last bytes of body have not been sent yet."""

    sock: socket.socket
    rest: bytes
    _buffer: bytearray = field(default_factory=bytearray)

    def answered_already(self, within: float) -> RawAnswer | None:
        """The answer, if the server gave one without waiting for the rest of the body."""
        self.sock.settimeout(within)
        try:
            chunk = self.sock.recv(65536)
        except TimeoutError:
            return None
        self._buffer.extend(chunk)
        return self._read_answer(closed=not chunk)

    def finish(self) -> RawAnswer:
        if self.rest:
            self.sock.sendall(self.rest)
        return self._read_answer(closed=False)

    def server_closed(self, within: float) -> bool:
        """Whether the server hangs up (after its answer) within `within` seconds."""
        self.sock.settimeout(within)
        try:
            while self.sock.recv(65536):
                pass
        except TimeoutError:
            return False
        except ConnectionResetError:
            return True
        return True

    def close(self) -> None:
        self.sock.close()

    def _read_answer(self, *, closed: bool) -> RawAnswer:
        self.sock.settimeout(READ_SECONDS)
        deadline = time.monotonic() + READ_SECONDS
        while b"\r\n\r\n" not in self._buffer and not closed:
            closed = not self._receive(deadline)
        head = bytes(self._buffer).partition(b"\r\n\r\n")[0]
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers: dict[str, str] = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        start, length = len(head) + 4, int(headers.get("content-length", "0"))
        while len(self._buffer) - start < length and not closed:
            closed = not self._receive(deadline)
        body = bytes(self._buffer[start : start + length])
        return RawAnswer(int(status_line.split()[1]), headers, body, closed)

    def _receive(self, deadline: float) -> bool:
        """False once the server has closed the connection."""
        if time.monotonic() > deadline:
            raise TimeoutError("no complete answer in time")
        chunk = self.sock.recv(65536)
        self._buffer.extend(chunk)
        return bool(chunk)


def hold(
    host: str,
    port: int,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes,
    *,
    held_back: int = 1,
) -> HeldRequest:
    """Send the request line, the headers and the body but its last `held_back` bytes."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    cut = max(len(body) - held_back, 0)
    sock = socket.create_connection((host, port), timeout=READ_SECONDS)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(head + body[:cut])
    return HeldRequest(sock, body[cut:])
