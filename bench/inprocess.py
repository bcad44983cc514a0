"""The revocation check's cost without a server: N requests driven straight into the real app.

No sockets, no HTTP parsing, no load generator: the app's own CPU per request, so the gap
between `GET /healthz` (bare) and `GET /v1/auth/session` (the bearer check and nothing else)
shows what Litestar and screengate spend on it. Deterministic enough for callgrind.

python -m bench.inprocess                     # µs per request, both paths, best of 5
python -m bench.inprocess --profile session   # cProfile of the session requests
python -m bench.inprocess --only session -n 20000   # one path (e.g. under callgrind)
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from litestar import Litestar

from screengate.app import create_app
from screengate.config import Settings

PATHS = {"healthz": "/healthz", "session": "/v1/auth/session", "account": "/v1/account"}
PASSWORD = "correct horse battery staple 42"


async def call(
    app: Litestar,
    method: str,
    path: str,
    headers: list[tuple[bytes, bytes]],
    body: bytes = b"",
) -> tuple[int, bytes]:
    """One request through the app as an ASGI server would make it; (status, body)."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    sent: list[dict[str, Any]] = []
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if delivered:
            await asyncio.Event().wait()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)  # type: ignore[arg-type]
    status = int(sent[0]["status"])
    return status, b"".join(m.get("body", b"") for m in sent[1:])


async def bearer_token(app: Litestar) -> str:
    json_headers = [(b"content-type", b"application/json")]
    sign_up = {"email": "bench@inprocess.example", "password": PASSWORD, "plan": "premium"}
    status, body = await call(
        app, "POST", "/v1/auth/sign-up", json_headers, json.dumps(sign_up).encode()
    )
    if status != 201:
        raise RuntimeError(f"sign-up answered {status}: {body!r}")
    sign_in = {
        "email": sign_up["email"],
        "password": PASSWORD,
        "device": {"type": "smart_tv", "name": "Bench TV"},
    }
    status, body = await call(
        app, "POST", "/v1/auth/sign-in", json_headers, json.dumps(sign_in).encode()
    )
    if status != 201:
        raise RuntimeError(f"sign-in answered {status}: {body!r}")
    return str(json.loads(body)["access_token"])


async def drive(app: Litestar, path: str, headers: list[tuple[bytes, bytes]], n: int) -> float:
    """Seconds of CPU for n sequential requests (each must answer 200)."""
    start = time.process_time()
    for _ in range(n):
        status, body = await call(app, "GET", path, headers)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}: {body!r}")
    return time.process_time() - start


async def main_async(args: argparse.Namespace, database_url: str) -> None:
    settings = Settings(
        database_url=database_url,
        argon2_time_cost=1,
        argon2_memory_kib=8,
        argon2_parallelism=1,
        log_level="WARNING",
    )
    app = create_app(settings)
    async with app.lifespan():
        token = await bearer_token(app)
        auth = [(b"authorization", f"Bearer {token}".encode())]
        chosen = args.only.split(",") if args.only else list(PATHS)
        headers = {key: [] if key == "healthz" else auth for key in PATHS}
        for key in chosen:  # warm up: first calls build caches, touch the session
            await drive(app, PATHS[key], headers[key], 200)
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            await drive(app, PATHS[args.profile], headers[args.profile], args.n)
            profiler.disable()
            stats = pstats.Stats(profiler, stream=sys.stdout)
            stats.sort_stats(args.sort).print_stats(args.lines)
            return
        best: dict[str, float] = {}
        for _ in range(args.repeat):
            for key in chosen:
                seconds = await drive(app, PATHS[key], headers[key], args.n)
                best[key] = min(best.get(key, seconds), seconds)
        for key in chosen:
            micros = best[key] / args.n * 1e6
            ratio = ""
            if key != "healthz" and "healthz" in best:
                ratio = f"  ({best['healthz'] / best[key]:.0%} of bare's throughput)"
            print(f"{PATHS[key]:<20} {micros:7.1f} µs CPU/request{ratio}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.inprocess", description=__doc__)
    parser.add_argument("-n", type=int, default=5000, help="requests per path per repeat")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", help=f"comma-separated: {','.join(PATHS)}")
    parser.add_argument("--profile", choices=list(PATHS), help="cProfile this path")
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--lines", type=int, default=40)
    parser.add_argument("--store", choices=("sqlite", "memory"), default="sqlite")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="screengate-inprocess-") as scratch:
        url = "memory://"
        if args.store == "sqlite":
            url = f"sqlite+aiosqlite:///{Path(scratch) / 'bench.db'}"
            from screengate.adapters.sql.migrate import upgrade_sync

            upgrade_sync(url)
        asyncio.run(main_async(args, url))
    return 0


if __name__ == "__main__":
    sys.exit(main())
