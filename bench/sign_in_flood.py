"""Issue 9 item 2: a sign-in flood from one address must not slow anyone else's sign-in.

Against a real server (`screengate serve`, production argon2 cost, SQLite), the owner signs in
from one address, one sign-in after another, and each one's latency is kept:

(a) with no flood: the baseline;
(b) while FLOODERS clients at another address send sign-ins as fast as they are answered
    (unknown emails, malformed ones, wrong passwords): the server as shipped;
(c) the same flood with the per-address count and the hashing queue lifted: what the server
    did before (every flood request hashed, all of them waiting their turn with the owner).

python -m bench.sign_in_flood            # writes bench/results/sign_in_flood.md
python -m bench.sign_in_flood --quick    # a smoke run; writes nothing
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import multiprocessing
import secrets
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx

from bench.databases import sqlite_backend
from bench.load import ROOT
from bench.report import machine, markdown_table, millis, now, revision
from bench.report import write as write_file
from bench.server import Argon2Cost, RunningServer, serve

RESULTS = ROOT / "bench" / "results" / "sign_in_flood.md"
HOME = "198.51.100.10"  # the owner
FLOOD = "203.0.113.66"  # the flooder: one address, many connections
FLOODERS = 8
# The server believes 127.0.0.1's X-Forwarded-For, so one machine can be two addresses.
PROXIED = {"SCREENGATE_TRUSTED_PROXIES": '["127.0.0.1"]'}
UNPROTECTED = PROXIED | {
    "SCREENGATE_SIGN_IN_LIMIT_PER_CLIENT": "1000000/minute",
    "SCREENGATE_SIGN_IN_LIMIT_PER_ACCOUNT_CLIENT": "1000000/minute",
    "SCREENGATE_SIGN_IN_LIMIT_PER_ACCOUNT": "1000000/minute",
    "SCREENGATE_SIGN_IN_CONCURRENCY_PER_CLIENT": "1000",
    "SCREENGATE_HASHING_QUEUE": "10000",
}
# The flood starts this long before the owner's first sign-in, so it is in full swing.
FLOOD_HEAD_START = 1.0
# --quick is a smoke run: its figures mean nothing, so it hashes cheaply and finishes sooner.
QUICK_ARGON2 = {
    "SCREENGATE_ARGON2_TIME_COST": "1",
    "SCREENGATE_ARGON2_MEMORY_KIB": "8",
    "SCREENGATE_ARGON2_PARALLELISM": "1",
}


class EventLike(Protocol):
    def is_set(self) -> bool: ...

    def set(self) -> None: ...


class QueueLike(Protocol):
    def put(self, item: Any) -> None: ...


@dataclass(frozen=True)
class Setup:
    label: str
    env: dict[str, str]
    flood: bool


SETUPS = (
    Setup("as shipped, no flood", PROXIED, flood=False),
    Setup("as shipped, flood from one address", PROXIED, flood=True),
    Setup("per-address count and hashing queue lifted, same flood", UNPROTECTED, flood=True),
)


@dataclass
class Outcome:
    setup: Setup
    latencies: list[float]  # seconds, the owner's sign-ins (all 201)
    flood: Counter[int] = field(default_factory=Counter)
    flood_seconds: float = 0.0

    @property
    def median_ms(self) -> float:
        return statistics.median(self.latencies) * 1000

    @property
    def p95_ms(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] * 1000


def seed(server: RunningServer) -> tuple[str, str]:
    email = f"owner-{secrets.token_hex(4)}@bench.example"
    password = f"bench {secrets.token_urlsafe(12)}"
    with httpx.Client(base_url=server.base_url, timeout=60.0) as client:
        made = client.post(
            "/v1/auth/sign-up",
            json={"email": email, "password": password},
            headers={"X-Forwarded-For": HOME},
        )
        if made.status_code != 201:
            raise RuntimeError(f"sign-up answered {made.status_code}: {made.text}")
    return email, password


def owner_signs_in(server: RunningServer, email: str, password: str, times: int) -> list[float]:
    """The owner's sign-ins, one after another; a 503 (busy) is tried again, as it says."""
    latencies = []
    body = {"email": email, "password": password, "device": {"type": "smart_tv"}}
    with httpx.Client(base_url=server.base_url, timeout=120.0) as client:
        for _ in range(times):
            started = time.perf_counter()
            while True:
                answer = client.post(
                    "/v1/auth/sign-in", json=body, headers={"X-Forwarded-For": HOME}
                )
                if answer.status_code != 503:
                    break
                time.sleep(float(answer.headers.get("Retry-After", "1")))
            if answer.status_code != 201:
                raise RuntimeError(f"the owner's sign-in answered {answer.status_code}")
            latencies.append(time.perf_counter() - started)
    return latencies


def flood(base_url: str, email: str, stop: EventLike, ready: EventLike, results: QueueLike) -> None:
    """The flooder, in a process of its own (so that its requests do not compete with the
    owner's client for this process's GIL): FLOODERS connections, each sending the next
    sign-in as soon as the last is answered, none of them ever right."""
    asyncio.run(_flood(base_url, email, stop, ready, results))


async def _flood(
    base_url: str, email: str, stop: EventLike, ready: EventLike, results: QueueLike
) -> None:
    seen: Counter[int] = Counter()
    bodies = itertools.cycle(
        [
            {"email": f"nobody-{secrets.token_hex(6)}@bench.example", "password": "a guess"},
            {"email": "not an email", "password": "a guess"},
            {"email": email, "password": f"guess {secrets.token_hex(4)}"},
        ]
    )

    async def connection() -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=120.0) as client:
            while not stop.is_set():
                body = {**next(bodies), "device": {"type": "phone"}}
                try:
                    answer = await client.post(
                        "/v1/auth/sign-in", json=body, headers={"X-Forwarded-For": FLOOD}
                    )
                except httpx.HTTPError:
                    seen[0] += 1
                else:
                    seen[answer.status_code] += 1
                ready.set()  # answers are coming back: the flood is on

    await asyncio.gather(*(connection() for _ in range(FLOODERS)))
    results.put(dict(seen))


def run_setup(setup: Setup, times: int, scratch: Path, *, quick: bool = False) -> Outcome:
    slug = setup.label.split(",")[0].replace(" ", "-")
    folder = scratch / f"flood-{slug}-{int(setup.flood)}"
    folder.mkdir(exist_ok=True)
    with (
        sqlite_backend(folder) as backend,
        serve(
            backend.url, folder / "server.log", env=setup.env | (QUICK_ARGON2 if quick else {})
        ) as server,
    ):
        email, password = seed(server)
        outcome = Outcome(setup, [])
        spawn = multiprocessing.get_context("spawn")
        stop, ready, results = spawn.Event(), spawn.Event(), spawn.Queue()
        flooder = spawn.Process(target=flood, args=(server.base_url, email, stop, ready, results))
        started = time.monotonic()
        if setup.flood:
            flooder.start()
            if not ready.wait(60):
                raise RuntimeError("the flood did not start within 60 s")
            started = time.monotonic()
            time.sleep(FLOOD_HEAD_START)
        try:
            outcome.latencies = owner_signs_in(server, email, password, times)
        finally:
            stop.set()
            if setup.flood:
                outcome.flood.update(results.get(timeout=130))
                flooder.join(10)
        outcome.flood_seconds = time.monotonic() - started
    print(
        f"[flood] {setup.label}: owner p50 {millis(outcome.median_ms)}, "
        f"p95 {millis(outcome.p95_ms)}; flood {dict(outcome.flood)}",
        file=sys.stderr,
    )
    return outcome


HEADERS = ("Setup", "Owner's sign-ins", "p50", "p95", "vs no flood (p50)", "Flood answers")
ALIGN = "lrrrrl"


def rows(outcomes: Sequence[Outcome]) -> list[list[str]]:
    baseline = outcomes[0].median_ms
    table = []
    for outcome in outcomes:
        answers = (
            ", ".join(
                f"{count} of {status or 'error'}" for status, count in sorted(outcome.flood.items())
            )
            + f" in {outcome.flood_seconds:.0f} s"
            if outcome.flood
            else "—"
        )
        table.append(
            [
                outcome.setup.label,
                str(len(outcome.latencies)),
                millis(outcome.median_ms),
                millis(outcome.p95_ms),
                f"{outcome.median_ms / baseline:.1f}x",
                answers,
            ]
        )
    return table


def verdict(outcomes: Sequence[Outcome]) -> str:
    baseline, shipped, lifted = (o.median_ms for o in outcomes)
    harmed = shipped > 2 * baseline
    return (
        f"As shipped, the owner's median sign-in under the flood is {shipped / baseline:.1f}x "
        f"the quiet one ({'harmed: look into it' if harmed else 'unharmed'}); with the "
        f"per-address count and the queue lifted it is {lifted / baseline:.1f}x."
    )


def section(quick: bool, scratch: Path) -> str:
    times = 4 if quick else 20
    outcomes = [run_setup(setup, times, scratch, quick=quick) for setup in SETUPS]
    cost = "argon2id t=1, m=8 KiB, p=1 (--quick: a smoke run, figures meaningless)"
    lines = [
        "## Benchmark: sign-in flood",
        "",
        f"{now()}, commit {revision()}; {machine()}.",
        "",
        "- Server: `screengate serve --workers 1` on SQLite, "
        f"{cost if quick else Argon2Cost.production().describe() + ' (the production default)'}"
        ", every other setting "
        "at its default but `SCREENGATE_TRUSTED_PROXIES` (the load comes from one machine and "
        "names its address in X-Forwarded-For).",
        f"- The owner: {times} sign-ins with the right password from {HOME}, one after another; "
        "each figure is the time to its 201 (a 503 `server_busy` is tried again after its "
        "Retry-After, and the wait counts).",
        f"- The flood: {FLOODERS} connections from {FLOOD}, each sending the next sign-in when "
        "the last is answered: unknown emails, malformed ones and wrong passwords for the "
        f"owner's email, in full swing from {FLOOD_HEAD_START:g} s before the owner's first "
        "sign-in to after the last (its answers counted from its first).",
        "",
        markdown_table(HEADERS, rows(outcomes), ALIGN),
        "",
        f"- {verdict(outcomes)}",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.sign_in_flood", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--quick", action="store_true", help="4 sign-ins per setup, cheap hashing; no file"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="screengate-flood-") as scratch:
        text = section(args.quick, Path(scratch))
    print(text)
    if not args.quick:
        write_file(RESULTS, text)
        print(f"\nwritten to {RESULTS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
