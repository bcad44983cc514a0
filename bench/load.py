"""Load generators, always in a process of their own: wrk when installed, else bench/loadgen.py.

Both answer the same question the same way: N keep-alive connections, one request in
flight on each, for a fixed duration; done = 2xx answers per second, and the p50/p99
latency of every answer. (Warming up is the caller's business: bench/measure.py.)
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

ROOT = Path(__file__).resolve().parents[1]
# Seconds a generator may take beyond its warm-up and duration before it is killed.
GRACE_SECONDS = 30.0
# Per request; sign-ins at production argon2 cost are slow by design, never this slow.
REQUEST_TIMEOUT_SECONDS = 10

GeneratorChoice = Literal["auto", "wrk", "builtin"]


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    @classmethod
    def json(
        cls, method: str, path: str, payload: object, headers: Mapping[str, str] | None = None
    ) -> HttpRequest:
        body = json.dumps(payload, separators=(",", ":")).encode()
        return cls(method, path, {**(headers or {}), "Content-Type": "application/json"}, body)

    def wire(self, host: str, port: int) -> bytes:
        """The request as HTTP/1.1 bytes, ready to send again and again."""
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {host}:{port}"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        if self.body or self.method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


@dataclass(frozen=True)
class Load:
    connections: int
    duration: float  # seconds


@dataclass(frozen=True)
class LoadResult:
    ok: int  # 2xx answers within the duration
    failed: int  # other answers and socket errors
    seconds: float
    p50_ms: float | None
    p99_ms: float | None

    @property
    def per_second(self) -> float:
        return self.ok / self.seconds if self.seconds > 0 else 0.0


class LoadGenerator(Protocol):
    @property
    def name(self) -> str: ...

    def run(self, host: str, port: int, request: HttpRequest, load: Load) -> LoadResult: ...


class BuiltinGenerator:
    """bench/loadgen.py in a fresh interpreter, so it never shares a CPU slice with the caller."""

    name = "built-in asyncio client"

    def run(self, host: str, port: int, request: HttpRequest, load: Load) -> LoadResult:
        spec = {
            "host": host,
            "port": port,
            "request": request.wire(host, port).decode("latin-1"),
            "connections": load.connections,
            "duration": load.duration,
        }
        done = subprocess.run(
            [sys.executable, "-m", "bench.loadgen"],
            input=json.dumps(spec),
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=load.duration + GRACE_SECONDS,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"bench.loadgen failed ({done.returncode}): {done.stderr[-2000:]}")
        raw = json.loads(done.stdout.strip().splitlines()[-1])
        return LoadResult(
            ok=raw["ok"],
            failed=raw["failed"],
            seconds=raw["seconds"],
            p50_ms=raw["p50_ms"],
            p99_ms=raw["p99_ms"],
        )


# wrk prints this line from the script's done() hook: counts, then latencies in microseconds.
_WRK_RESULT = re.compile(
    r"^BENCH_RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\S+) (\S+)$", re.M
)

_WRK_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH_RESULT %d %d %d %d %d %d %d %.1f %.1f\\n",
    summary.duration, summary.requests, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


class WrkGenerator:
    """wrk with one thread (the server has the other core), driven by a generated Lua script."""

    name = "wrk (1 thread)"

    def __init__(self, executable: str) -> None:
        self._wrk = executable

    def run(self, host: str, port: int, request: HttpRequest, load: Load) -> LoadResult:
        with tempfile.TemporaryDirectory(prefix="screengate-bench-") as scratch:
            script = Path(scratch) / "request.lua"
            script.write_text(_wrk_script(request))
            out = self._wrk_once(host, port, request, script, load.connections, load.duration)
        found = _WRK_RESULT.search(out)
        if found is None:
            raise RuntimeError(f"no result in wrk's output:\n{out[-2000:]}")
        micros, requests, status, *socket_errors = (int(g) for g in found.groups()[:7])
        p50, p99 = (float(g) / 1000 for g in found.groups()[7:])
        return LoadResult(
            ok=requests - status,  # wrk counts 4xx/5xx as status errors; 3xx would pass
            failed=status + sum(socket_errors),
            seconds=micros / 1_000_000,
            p50_ms=p50 if requests else None,
            p99_ms=p99 if requests else None,
        )

    def _wrk_once(
        self,
        host: str,
        port: int,
        request: HttpRequest,
        script: Path,
        connections: int,
        seconds: float,
    ) -> str:
        whole_seconds = max(1, round(seconds))  # wrk takes whole seconds
        done = subprocess.run(
            [
                self._wrk,
                "-t1",
                f"-c{connections}",
                f"-d{whole_seconds}s",
                f"--timeout={REQUEST_TIMEOUT_SECONDS}s",
                "-s",
                str(script),
                f"http://{host}:{port}{request.path}",
            ],
            capture_output=True,
            text=True,
            timeout=whole_seconds + GRACE_SECONDS,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr[-2000:]}")
        return done.stdout


def _wrk_script(request: HttpRequest) -> str:
    lines = [f"wrk.method = {_lua_string(request.method)}"]
    if request.body:
        lines.append(f"wrk.body = {_lua_string(request.body.decode())}")
    lines += [
        f"wrk.headers[{_lua_string(name)}] = {_lua_string(value)}"
        for name, value in request.headers.items()
    ]
    return "\n".join(lines) + "\n" + _WRK_DONE


def _lua_string(text: str) -> str:
    """A double-quoted Lua literal: every byte outside printable ASCII (and quotes and
    backslashes) as a decimal escape, which Lua reads back byte for byte."""
    escaped = "".join(
        chr(b) if 32 <= b < 127 and b not in (34, 92) else f"\\{b:03d}" for b in text.encode()
    )
    return f'"{escaped}"'


def choose_generator(choice: GeneratorChoice = "auto") -> LoadGenerator:
    """wrk when asked for or found on PATH; otherwise the built-in client."""
    wrk = shutil.which("wrk")
    if choice == "wrk":
        if wrk is None:
            raise RuntimeError("--generator wrk, but wrk is not on PATH")
        return WrkGenerator(wrk)
    if choice == "auto" and wrk is not None:
        return WrkGenerator(wrk)
    return BuiltinGenerator()
