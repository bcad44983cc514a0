"""Issue 3's stream benchmark: Play and heartbeats per second, and how long a vanished device
keeps its screen.

On each store (SQLite; PostgreSQL; PostgreSQL with the leases in Redis), at 1, 16 and 256
concurrent clients, each client a different signed-in device:
(a) GET /healthz, the bare endpoint, measured in the same round at the same concurrency;
(b) POST /v1/streams: each device presses Play again and again. A device plays one thing at a
    time, so each Play replaces the device's own stream and is admitted; the devices belong to
    Premium accounts of 4 devices each, so no Play ever finds the plan's 4 screens taken. Only
    201s count; 409s are counted apart (there should be none).
(c) POST /v1/streams/{id}/heartbeat: each device keeps its own live stream alive, as fast as
    it can.
Then, on a server with a short lease: a device starts a stream, heartbeats, and vanishes;
another device of a Basic (1-screen) account presses Play every 50 ms until it is admitted.

`python -m bench.streams` runs this part alone; `python -m bench` runs it after the reads.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import reference as reference_app
from bench import roundtrips
from bench.databases import Backend, postgres_backend, postgres_url_from_env, sqlite_backend
from bench.load import GRACE_SECONDS, ROOT, HttpRequest
from bench.loadgen_devices import DRAIN_SECONDS, WARMUP_CAP_SECONDS
from bench.measure import MedianOverRounds, median_ratio, requests_per_cpu_second
from bench.report import machine, markdown_table, millis, now, per_second, percent, revision, spread
from bench.report import write as write_file
from bench.server import RunningServer, serve
from screengate.config import Settings

RESULTS = ROOT / "bench" / "results" / "streams.md"
STORES = ("sqlite", "postgres", "redis")
REDIS_URL_VARIABLES = ("SCREENGATE_BENCH_REDIS_URL", "SCREENGATE_TEST_REDIS_URL")

PLAN = "premium"
SCREENS = 4  # Premium's simultaneous streams: the devices per benchmark account
TITLE = "wild-coasts"
DEVICE_TYPES = ("smart_tv", "phone", "tablet", "web_browser")
# Signing in is not measured here (bench/auth_reads.py does, at production cost): a cheap hash
# lets 256 devices sign in within seconds. Nothing measured below hashes a password.
SEEDING_ENV = {
    "SCREENGATE_ARGON2_TIME_COST": "1",
    "SCREENGATE_ARGON2_MEMORY_KIB": "8",
    "SCREENGATE_ARGON2_PARALLELISM": "1",
    # Every seeded device signs in from 127.0.0.1: lift that one address's sign-in count.
    "SCREENGATE_SIGN_IN_LIMIT_PER_CLIENT": "1000000/minute",
    "SCREENGATE_SIGN_IN_CONCURRENCY_PER_CLIENT": "1000",
}
SEED_CONCURRENCY = 16
BIG_LEVEL = 256

# The vanished device: a short lease so the run takes seconds, not the production 90 s.
SHORT_HEARTBEAT_SECONDS = 1
SHORT_LEASE_SECONDS = 3
RETRY_SECONDS = 0.05
# A screen freed sooner than this before the lease ends would be a bug (the heartbeat's and
# the Play's own round trips are far shorter).
EARLY_TOLERANCE_SECONDS = 0.25
VANISH_GIVE_UP_SECONDS = 15.0  # beyond the lease


@dataclass(frozen=True)
class Schedule:
    rounds: int
    warmup: float  # at least; the generator also waits until every client has had an answer
    duration: float
    levels: tuple[int, ...]
    # 256 clients: fewer, longer rounds. Each Play then waits seconds in the queue, so the
    # warm-up (one full wave) and the drain after the window take seconds too.
    big_level_rounds: int
    big_level_duration: float

    def rounds_for(self, level: int) -> int:
        return self.big_level_rounds if level >= BIG_LEVEL else self.rounds

    def seconds(self, level: int) -> float:
        return self.big_level_duration if level >= BIG_LEVEL else self.duration

    @classmethod
    def full(cls) -> Schedule:
        return cls(
            rounds=3,
            warmup=0.3,
            duration=1.5,
            levels=(1, 16, BIG_LEVEL),
            big_level_rounds=2,
            big_level_duration=2.0,
        )

    @classmethod
    def quick(cls) -> Schedule:
        return cls(
            rounds=1,
            warmup=0.3,
            duration=1.0,
            levels=(1, 16),
            big_level_rounds=1,
            big_level_duration=1.0,
        )


@dataclass(frozen=True)
class Store:
    name: str  # as the table shows it
    backend: AbstractContextManager[Backend]
    env: dict[str, str]


@dataclass(frozen=True)
class Device:
    token: str
    profile_id: str

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def play(self) -> HttpRequest:
        return HttpRequest.json(
            "POST", "/v1/streams", {"profile_id": self.profile_id, "title_id": TITLE}, self.bearer
        )

    def heartbeat(self, stream_id: str) -> HttpRequest:
        return HttpRequest("POST", f"/v1/streams/{stream_id}/heartbeat", self.bearer)


# --- load, one request per connection --------------------------------------------------------


@dataclass(frozen=True)
class Round:
    statuses: dict[int, int]
    errors: int
    seconds: float
    p50_ms: float | None
    p99_ms: float | None
    cpu_seconds: float | None
    warmup_seconds: float
    took: float  # seconds, the whole run: start-up, warm-up, window, drain
    last_bodies: tuple[str, ...] = ()  # each connection's last 2xx body, when asked for

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    @property
    def conflicts(self) -> int:
        return self.statuses.get(409, 0)

    @property
    def other_failures(self) -> int:
        return sum(self.statuses.values()) - self.ok - self.conflicts + self.errors

    @property
    def per_second(self) -> float:
        return self.ok / self.seconds if self.seconds > 0 else 0.0

    @property
    def cpu_ms_per_request(self) -> float | None:
        if self.cpu_seconds is None or self.ok == 0:
            return None
        return self.cpu_seconds / self.ok * 1000


def run_load(
    server: RunningServer,
    requests: Sequence[HttpRequest],
    *,
    warmup: float,
    duration: float,
    keep_bodies: bool = False,
) -> Round:
    """bench/loadgen_devices.py in its own process: connection i sends requests[i]. The server's
    CPU time is read when the generator opens and closes its counted window."""
    spec = {
        "host": server.host,
        "port": server.port,
        "requests": [r.wire(server.host, server.port).decode("latin-1") for r in requests],
        "warmup": warmup,
        "duration": duration,
        "keep_bodies": keep_bodies,
    }
    began = time.monotonic()
    with tempfile.TemporaryFile("w+") as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.loadgen_devices"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            cwd=ROOT,
        )
        # Whatever happens, the generator is gone by then.
        limit = warmup + WARMUP_CAP_SECONDS + duration + DRAIN_SECONDS + GRACE_SECONDS
        killer = threading.Timer(limit, process.kill)
        killer.start()
        before = after = None
        last = ""
        try:
            assert process.stdin is not None
            assert process.stdout is not None
            process.stdin.write(json.dumps(spec))
            process.stdin.close()
            for line in process.stdout:
                if line == "counting\n":
                    before = server.cpu_seconds()
                elif line == "stopped\n":
                    after = server.cpu_seconds()
                elif line.strip():
                    last = line
            process.wait()
        finally:
            killer.cancel()
            if process.poll() is None:
                process.kill()
                process.wait()
        if process.returncode != 0 or not last:
            errors.seek(0)
            raise RuntimeError(
                f"bench.loadgen_devices failed ({process.returncode}): {errors.read()[-2000:]}"
            )
    raw = json.loads(last)
    return Round(
        statuses={int(status): n for status, n in raw["statuses"].items()},
        errors=raw["errors"],
        seconds=raw["seconds"],
        p50_ms=raw["p50_ms"],
        p99_ms=raw["p99_ms"],
        cpu_seconds=after - before if before is not None and after is not None else None,
        warmup_seconds=raw["warmup_seconds"],
        took=time.monotonic() - began,
        last_bodies=tuple(raw.get("last_bodies", ())),
    )


# --- seeding, through the API as clients do ----------------------------------------------------


def seed(server: RunningServer, devices: int) -> list[Device]:
    """ceil(devices / 4) Premium accounts, 4 signed-in devices each (the last may have fewer)."""
    return asyncio.run(_seed(server, devices))


async def _seed(server: RunningServer, count: int) -> list[Device]:
    run = secrets.token_hex(4)
    password = f"bench {secrets.token_urlsafe(12)}"
    gate = asyncio.Semaphore(SEED_CONCURRENCY)
    limits = httpx.Limits(max_connections=SEED_CONCURRENCY)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60.0, limits=limits) as client:

        async def household(n: int) -> list[Device]:
            email = f"streams-{run}-{n}@bench.example"
            async with gate:
                await _call(
                    client,
                    "POST",
                    "/v1/auth/sign-up",
                    201,
                    json={"email": email, "password": password, "plan": PLAN},
                )
            tokens = []
            for d in range(min(SCREENS, count - n * SCREENS)):
                async with gate:
                    signed_in = await _call(
                        client,
                        "POST",
                        "/v1/auth/sign-in",
                        201,
                        json=_sign_in(email, password, d, f"Bench device {n * SCREENS + d + 1}"),
                    )
                tokens.append(str(signed_in["access_token"]))
            async with gate:
                account = await _call(client, "GET", "/v1/account", 200, headers=_bearer(tokens[0]))
            profile_id = str(account["profiles"][0]["profile_id"])
            return [Device(token, profile_id) for token in tokens]

        households = await asyncio.gather(
            *(household(n) for n in range(math.ceil(count / SCREENS)))
        )
    return [device for devices in households for device in devices]


async def _call(
    client: httpx.AsyncClient, method: str, path: str, status: int, **kwargs: Any
) -> Any:
    answer = await client.request(method, path, **kwargs)
    return _expect(answer, status)


def _expect(answer: httpx.Response, status: int) -> Any:
    if answer.status_code != status:
        raise RuntimeError(
            f"{answer.request.method} {answer.request.url.path} answered "
            f"{answer.status_code}, not {status}: {answer.text[:500]}"
        )
    return answer.json() if answer.content else None


def _sign_in(email: str, password: str, n: int, name: str) -> dict[str, object]:
    return {
        "email": email,
        "password": password,
        "device": {"type": DEVICE_TYPES[n % len(DEVICE_TYPES)], "name": name},
    }


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- starts and heartbeats, interleaved ----------------------------------------------------------

KINDS = ("healthz", "starts", "heartbeats", "ref_starts", "ref_heartbeats")
LABELS = {
    "healthz": "GET /healthz (bare)",
    "starts": "POST /v1/streams (Play)",
    "heartbeats": "POST /v1/streams/{id}/heartbeat",
    "ref_starts": "reference: Play",
    "ref_heartbeats": "reference: heartbeat",
}
# Each of screengate's measurements beside its reference's (bench/reference.py).
REFERENCE_OF = {"starts": "ref_starts", "heartbeats": "ref_heartbeats"}


@dataclass(frozen=True)
class Summary(MedianOverRounds):
    store: str
    level: int
    kind: str
    rounds: tuple[Round, ...]
    ratio: float | None  # median of per-round ratios of 2xx/s to the bare endpoint's
    cpu_ratio: float | None  # the bare endpoint's CPU per request over this one's, median
    # Of 2xx/s and of CPU per request, to the reference's same measurement, round by round.
    reference_ratio: float | None = None
    reference_cpu_ratio: float | None = None


@dataclass(frozen=True)
class ReferenceRun:
    """The reference server (bench/reference.py) on the same store, and its devices."""

    server: RunningServer
    devices: Sequence[Device]


def measure_store(
    store: str,
    server: RunningServer,
    devices: Sequence[Device],
    schedule: Schedule,
    reference: ReferenceRun | None = None,
) -> list[Summary]:
    kinds = KINDS if reference is not None else KINDS[:3]
    done: dict[tuple[int, str], list[Round]] = {
        (level, kind): [] for level in schedule.levels for kind in kinds
    }
    for round_number in range(1, schedule.rounds + 1):
        for level in schedule.levels:
            if round_number > schedule.rounds_for(level):
                continue
            seconds = schedule.seconds(level)
            for kind in kinds:
                target, clients = server, devices[:level]
                if kind.startswith("ref_") and reference is not None:
                    target, clients = reference.server, reference.devices[:level]
                if kind == "healthz":
                    requests = [HttpRequest("GET", "/healthz")] * level
                elif kind.endswith("starts"):
                    requests = [d.play() for d in clients]
                else:
                    # Each device's last admitted Play is its live stream: it heartbeats that.
                    plays = done[(level, kind.replace("heartbeats", "starts"))][-1]
                    streams = [_stream_id(body) for body in plays.last_bodies]
                    requests = [d.heartbeat(s) for d, s in zip(clients, streams, strict=True)]
                one = run_load(
                    target,
                    requests,
                    warmup=schedule.warmup,
                    duration=seconds,
                    keep_bodies=kind.endswith("starts"),
                )
                done[(level, kind)].append(one)
                _progress(store, round_number, schedule.rounds_for(level), level, kind, one)
    summaries = []
    for level in schedule.levels:
        bare = done[(level, "healthz")]
        for kind in kinds:
            mine = done[(level, kind)]
            ratio = cpu_ratio = to_reference = to_reference_cpu = None
            if kind != "healthz":
                ratio = median_ratio(mine, bare, lambda r: r.per_second)
                cpu_ratio = median_ratio(mine, bare, requests_per_cpu_second)
            if kind in REFERENCE_OF and (level, REFERENCE_OF[kind]) in done:
                theirs = done[(level, REFERENCE_OF[kind])]
                to_reference = median_ratio(mine, theirs, lambda r: r.per_second)
                to_reference_cpu = median_ratio(mine, theirs, requests_per_cpu_second)
            summaries.append(
                Summary(
                    store,
                    level,
                    kind,
                    tuple(mine),
                    ratio,
                    cpu_ratio,
                    to_reference,
                    to_reference_cpu,
                )
            )
    return summaries


def _stream_id(body: str) -> str:
    """From Play's 201 body; a device that was never admitted heartbeats nothing (404s)."""
    return str(json.loads(body)["stream_id"]) if body else "none"


def _progress(store: str, number: int, rounds: int, level: int, kind: str, one: Round) -> None:
    print(
        f"[streams {store}] round {number}/{rounds}, {level} clients, {LABELS[kind]}: "
        f"{per_second(one.per_second)}/s, p50 {millis(one.p50_ms)}, p99 {millis(one.p99_ms)}, "
        f"server CPU {millis(one.cpu_ms_per_request)}/request, 409 {one.conflicts}, "
        f"other non-2xx {one.other_failures} (warm-up {one.warmup_seconds:.1f} s, "
        f"all {one.took:.1f} s)",
        file=sys.stderr,
    )


# --- the vanished device ---------------------------------------------------------------------


@dataclass(frozen=True)
class Vanish:
    store: str
    heartbeat_seconds: int
    lease_seconds: int
    last_refused: float | None  # seconds after the last heartbeat's answer, when it was sent
    admitted: float  # when the first admitted Play was sent, likewise
    refusals: int
    refusals_naming_it: int  # 409s whose `active` list named the vanished device's stream
    comeback: str  # what the vanished device hears if it heartbeats afterwards

    @property
    def retry_gap(self) -> float:
        return self.admitted - self.last_refused if self.last_refused is not None else 0.0

    @property
    def bound(self) -> float:
        return self.lease_seconds + self.retry_gap

    @property
    def verdict(self) -> str:
        if self.admitted < self.lease_seconds - EARLY_TOLERANCE_SECONDS:
            return "FAIL (freed early)"
        if self.refusals_naming_it != self.refusals:
            return "FAIL (refusal without it)"
        return "PASS" if self.admitted <= self.bound else "MISS"


def vanished_device(store: str, server: RunningServer) -> Vanish:
    """A Basic account: the TV starts a stream, heartbeats once and vanishes; the phone presses
    Play every RETRY_SECONDS until admitted. Times are from the last heartbeat's answer."""
    run = secrets.token_hex(4)
    email = f"vanish-{run}@bench.example"
    password = f"bench {secrets.token_urlsafe(12)}"
    with httpx.Client(base_url=server.base_url, timeout=10.0) as client:
        _expect(
            client.post(
                "/v1/auth/sign-up", json={"email": email, "password": password, "plan": "basic"}
            ),
            201,
        )
        tv, phone = (
            _bearer(
                _expect(
                    client.post("/v1/auth/sign-in", json=_sign_in(email, password, n, name)), 201
                )["access_token"]
            )
            for n, name in ((0, "Hotel TV"), (1, "Phone"))
        )
        profile_id = _expect(client.get("/v1/account", headers=tv), 200)["profiles"][0][
            "profile_id"
        ]
        play = {"profile_id": profile_id, "title_id": TITLE}
        started = _expect(client.post("/v1/streams", json=play, headers=tv), 201)
        stream_id, interval = started["stream_id"], float(started["heartbeat_interval"])
        _expect(client.post(f"/v1/streams/{stream_id}/heartbeat", headers=tv), 200)
        last_heartbeat = time.perf_counter()
        # The TV is gone: no heartbeat, no stop. The phone presses Play until it is admitted.
        refusals = naming = 0
        last_refused: float | None = None
        admitted: float | None = None
        give_up = last_heartbeat + SHORT_LEASE_SECONDS + VANISH_GIVE_UP_SECONDS
        next_play = last_heartbeat
        while time.perf_counter() < give_up:
            time.sleep(max(0.0, next_play - time.perf_counter()))
            sent = time.perf_counter()
            answer = client.post("/v1/streams", json=play, headers=phone)
            if answer.status_code == 201:
                admitted = sent - last_heartbeat
                break
            problem = _expect(answer, 409)
            refusals += 1
            naming += any(a.get("stream_id") == stream_id for a in problem.get("active", []))
            last_refused = sent - last_heartbeat
            next_play = sent + RETRY_SECONDS
        if admitted is None:
            raise RuntimeError(
                f"{store}: the vanished device still held the screen "
                f"{SHORT_LEASE_SECONDS + VANISH_GIVE_UP_SECONDS:g} s after its last heartbeat"
            )
        comeback = client.post(f"/v1/streams/{stream_id}/heartbeat", headers=tv)
        heard = f"{comeback.status_code} {comeback.json().get('reason', '')}".strip()
    return Vanish(
        store=store,
        heartbeat_seconds=int(interval),
        lease_seconds=SHORT_LEASE_SECONDS,
        last_refused=last_refused,
        admitted=admitted,
        refusals=refusals,
        refusals_naming_it=naming,
        comeback=heard,
    )


# --- the run -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    summaries: list[Summary]
    vanishes: list[Vanish]
    skipped: list[str]
    trips: list[tuple[str, roundtrips.Count]] = field(default_factory=list)


def stores(chosen: Sequence[str], scratch: Path, skipped: list[str]) -> Iterator[Store]:
    if "sqlite" in chosen:
        # A folder of its own: the reads' benchmark leaves its SQLite file in `scratch`.
        folder = scratch / "streams"
        folder.mkdir(exist_ok=True)
        yield Store("SQLite", sqlite_backend(folder), dict(SEEDING_ENV))
    postgres = postgres_url_from_env()
    if "postgres" in chosen:
        if postgres is None:
            _skip(
                skipped,
                "PostgreSQL: skipped (set SCREENGATE_BENCH_POSTGRES_URL or "
                "SCREENGATE_TEST_POSTGRES_URL to a postgresql+asyncpg:// URL).",
            )
        else:
            yield Store("PostgreSQL", postgres_backend(postgres), dict(SEEDING_ENV))
    if "redis" in chosen:
        redis = redis_url_from_env()
        if postgres is None or redis is None:
            missing = " and ".join(
                name
                for name, value in (
                    ("SCREENGATE_TEST_POSTGRES_URL", postgres),
                    ("SCREENGATE_TEST_REDIS_URL", redis),
                )
                if value is None
            )
            _skip(skipped, f"PostgreSQL + Redis leases: skipped (set {missing}).")
        else:
            env = SEEDING_ENV | {"SCREENGATE_REDIS_URL": redis}
            yield Store("PostgreSQL + Redis", postgres_backend(postgres), env)


def redis_url_from_env() -> str | None:
    for variable in REDIS_URL_VARIABLES:
        if os.environ.get(variable):
            return os.environ[variable]
    return None


def _skip(skipped: list[str], reason: str) -> None:
    skipped.append(reason)
    print(reason, file=sys.stderr)


def run(chosen: Sequence[str], schedule: Schedule, scratch: Path) -> Outcome:
    summaries: list[Summary] = []
    vanishes: list[Vanish] = []
    skipped: list[str] = []
    trips: list[tuple[str, roundtrips.Count]] = []
    for store in stores(chosen, scratch, skipped):
        slug = store.name.lower().replace(" + ", "-")
        with store.backend as backend:
            with (
                serve(backend.url, scratch / f"streams-{slug}.log", env=store.env) as server,
                reference_app.serve(
                    _reference_url(backend.url, scratch, slug),
                    scratch / f"reference-{slug}.log",
                ) as reference_server,
            ):
                started = time.monotonic()
                devices = seed(server, max(schedule.levels))
                theirs = [
                    Device(token, "reference-profile")
                    for token in reference_app.seed_devices(reference_server, max(schedule.levels))
                ]
                print(
                    f"[streams {store.name}] {len(devices)} devices signed in on "
                    f"{server.base_url} in {time.monotonic() - started:.1f} s",
                    file=sys.stderr,
                )
                summaries += measure_store(
                    store.name,
                    server,
                    devices,
                    schedule,
                    ReferenceRun(reference_server, theirs),
                )
            trips.append((store.name, roundtrips.count(backend.url, store.env)))
            print(f"[streams {store.name}] round trips: {trips[-1][1]}", file=sys.stderr)
            short = store.env | {
                "SCREENGATE_STREAM_HEARTBEAT_SECONDS": str(SHORT_HEARTBEAT_SECONDS),
                "SCREENGATE_STREAM_LEASE_SECONDS": str(SHORT_LEASE_SECONDS),
            }
            with serve(backend.url, scratch / f"vanish-{slug}.log", env=short) as server:
                vanish = vanished_device(store.name, server)
                print(
                    f"[streams {store.name}] vanished device: screen free "
                    f"{vanish.admitted:.3f} s after its last heartbeat (lease "
                    f"{vanish.lease_seconds} s): {vanish.verdict}",
                    file=sys.stderr,
                )
                vanishes.append(vanish)
    return Outcome(summaries, vanishes, skipped, trips)


def _reference_url(url: str, scratch: Path, slug: str) -> str:
    """The reference's store: the same PostgreSQL database (its own tables), or a SQLite file
    of its own beside screengate's."""
    if url.startswith("sqlite"):
        return f"sqlite:///{scratch / f'reference-{slug}.db'}"
    return url


# --- the report ----------------------------------------------------------------------------------

HEADERS = (
    "Store",
    "Clients",
    "Measurement",
    "2xx/s",
    "Rounds (min-max)",
    "vs bare",
    "vs reference",
    "p50",
    "p99",
    "CPU/req",
    "vs bare (CPU)",
    "vs reference (CPU)",
    "409s",
    "Other non-2xx",
)
ALIGN = "lrlrrrrrrrrrrr"

TRIPS_HEADERS = (
    "Store",
    "Play: round trips",
    "pool checkouts",
    "Heartbeat: round trips",
    "pool checkouts",
    "Reference: Play / heartbeat",
)
TRIPS_ALIGN = "lrrrrr"


def trips_rows(trips: Sequence[tuple[str, roundtrips.Count]]) -> list[list[str]]:
    reference = f"{roundtrips.REFERENCE['play']} / {roundtrips.REFERENCE['heartbeat']}"
    return [
        [
            store,
            f"{c.play:.1f}",
            f"{c.play_checkouts:.1f}",
            f"{c.heartbeat:.1f}",
            f"{c.heartbeat_checkouts:.1f}",
            reference,
        ]
        for store, c in trips
    ]


VANISH_HEADERS = (
    "Store",
    "Heartbeat / lease",
    "Last refused Play",
    "First admitted Play",
    "Lease + retry gap",
    "Refusals (naming it)",
    "Its heartbeat then",
    "Verdict",
)
VANISH_ALIGN = "lrrrrrll"


def rows(summaries: Sequence[Summary]) -> list[list[str]]:
    return [
        [
            s.store,
            str(s.level),
            LABELS[s.kind],
            per_second(s.per_second),
            spread(
                min(r.per_second for r in s.rounds),
                max(r.per_second for r in s.rounds),
            ),
            percent(s.ratio),
            percent(s.reference_ratio),
            millis(s.p50_ms),
            millis(s.p99_ms),
            millis(s.cpu_ms_per_request),
            percent(s.cpu_ratio),
            percent(s.reference_cpu_ratio),
            str(sum(r.conflicts for r in s.rounds)),
            str(sum(r.other_failures for r in s.rounds)),
        ]
        for s in summaries
    ]


def vanish_rows(vanishes: Sequence[Vanish]) -> list[list[str]]:
    return [
        [
            v.store,
            f"{v.heartbeat_seconds} s / {v.lease_seconds} s",
            "—" if v.last_refused is None else f"{v.last_refused:.3f} s",
            f"{v.admitted:.3f} s",
            f"{v.bound:.3f} s",
            f"{v.refusals} ({v.refusals_naming_it})",
            v.comeback,
            v.verdict,
        ]
        for v in vanishes
    ]


MEDIANS = "Each figure is the median over the rounds (of two, the mean). "


def document(schedule: Schedule, outcome: Outcome, context: str) -> str:
    production = Settings.model_fields
    lease = production["stream_lease_seconds"].default
    heartbeat = production["stream_heartbeat_seconds"].default
    small = [str(level) for level in schedule.levels if level < BIG_LEVEL]
    timing = f"{_rounds(schedule.rounds)} of {schedule.duration:g} s at {' and '.join(small)}"
    if BIG_LEVEL in schedule.levels:
        timing += (
            f" clients, {_rounds(schedule.big_level_rounds)} of "
            f"{schedule.big_level_duration:g} s at {BIG_LEVEL} (to stay within minutes: at "
            f"{BIG_LEVEL} clients each Play waits seconds in the queue, which lengthens the "
            "warm-up and the drain of every run)"
        )
    else:
        timing += " clients"
    lines = [
        "## Benchmark: streams (Play, heartbeats, a vanished device's screen)",
        "",
        context,
        "",
        "- Server: `screengate serve --workers 1` (Granian) on 127.0.0.1, each store fresh and "
        "migrated; PostgreSQL + Redis is PostgreSQL with `SCREENGATE_REDIS_URL` set (the leases "
        "in Redis, the history in PostgreSQL). Production lease settings (heartbeat "
        f"{heartbeat} s, lease {lease} s) for the throughput rows.",
        "- Load generator: **built-in asyncio client** (`bench/loadgen_devices.py`) in its own "
        "process, one keep-alive connection per client, one request in flight on each, and each "
        "connection its own signed-in device (its own bearer token, its own stream). wrk is not "
        "used here: it cannot give each connection its own credential. The bare endpoint is "
        "measured by the same client at the same concurrency.",
        f"- Devices: {PLAN.capitalize()} accounts of {SCREENS} signed-in devices each (the "
        f"plan's {SCREENS} screens), so every Play is admitted: a device re-pressing Play "
        "replaces its own stream (one row ended, one inserted, the device's last activity "
        "updated, in one transaction under the account's lock). Only 201s count as Plays; "
        "409s are counted apart and should be 0. Heartbeats: each device heartbeats the stream "
        "its last admitted Play started, as fast as it can.",
        "- Passwords are hashed at argon2id t=1, m=8 KiB for seeding 256 devices quickly; "
        "nothing measured here hashes a password.",
        f"- Interleaved rounds (bare, Play, heartbeat at each concurrency in turn): {timing}. "
        f"{MEDIANS if schedule.rounds > 1 else ''}Every run warms up on "
        f"its own connections for {schedule.warmup:g} s and until every client has had an "
        f"answer (at most {WARMUP_CAP_SECONDS:g} s more), then counts without a break; "
        "p50/p99 are medians of the rounds' percentiles; "
        '"vs bare" is the median of per-round ratios to `GET /healthz`; CPU/req is the '
        "server's CPU time (all its threads; not PostgreSQL's or Redis's) per 2xx answer.",
        "",
        "- The reference (`bench/reference.py`): Litestar and the raw driver (asyncpg on "
        "PostgreSQL, aiosqlite on SQLite), tokens in a dict, the same admission (BEGIN; SELECT "
        "... FOR UPDATE; count live; end the device's own; INSERT; COMMIT) and a one-statement "
        "heartbeat (`UPDATE ... RETURNING`), served by Granian with one worker and measured in "
        'the same rounds, on the same store, at the same concurrency. "vs reference" is the '
        "median of per-round ratios of screengate's 2xx/s (and of its requests per CPU second) "
        "to the reference's; the reference rows show theirs to the bare endpoint.",
        "",
        markdown_table(HEADERS, rows(outcome.summaries), ALIGN),
        "",
        "### SQL round trips per request",
        "",
        "Counted on screengate's own engine, in process (`bench/roundtrips.py`): statements "
        "(SQLAlchemy `before_cursor_execute`), BEGIN/COMMIT/ROLLBACK sent by the driver (on "
        "SQLite the BEGIN IMMEDIATE is a statement; an autocommitted statement sends neither). "
        "Pool checkouts are shown apart: a connection is pinged on checkout (one more round "
        "trip) only after 10 s idle, never under load. Averages over "
        f"{roundtrips.REQUESTS} Plays (each replacing the device's own stream) and "
        f"{roundtrips.REQUESTS} heartbeats, after one of each to warm up. Redis commands are "
        "not counted.",
        "",
        markdown_table(TRIPS_HEADERS, trips_rows(outcome.trips), TRIPS_ALIGN),
        "",
        "### The screen a vanished device keeps",
        "",
        f"A Basic (1-screen) account. A TV starts a stream, heartbeats, then vanishes (no "
        f"stop, no heartbeat); a phone of the same account presses Play every "
        f"{RETRY_SECONDS * 1000:.0f} ms until it is admitted. Times are from the TV's last "
        "heartbeat answer to when each Play was sent; the server ran with "
        f"`SCREENGATE_STREAM_HEARTBEAT_SECONDS={SHORT_HEARTBEAT_SECONDS}` and "
        f"`SCREENGATE_STREAM_LEASE_SECONDS={SHORT_LEASE_SECONDS}` so the run takes seconds.",
        "",
        markdown_table(VANISH_HEADERS, vanish_rows(outcome.vanishes), VANISH_ALIGN),
        "",
        "Admission compares each lease's expiry with the clock at the moment of the Play (in "
        "SQL and in the Redis script alike; no sweeper runs), so the screen is free exactly "
        "one lease after the last heartbeat was renewed, and the waiting device gets it with "
        "its first Play after that: at lease + at most one retry interval (the gap between its "
        "last refused and its admitted Play). A Play never comes earlier than the lease minus "
        "the round trips, or the row says FAIL. In production (heartbeat "
        f"{heartbeat} s, lease {lease} s) a device that vanishes right after a heartbeat keeps "
        f"its screen for {lease} s, one that vanishes just before its next heartbeat "
        f"{lease - heartbeat} s, never more than {lease} s (+ the retry interval of whoever "
        "waits; a person pressing Play again, or a TV app retrying).",
        "",
        *(f"- {s}" for s in outcome.skipped),
    ]
    return "\n".join(lines).rstrip() + "\n"


def _rounds(n: int) -> str:
    return "1 round" if n == 1 else f"{n} rounds"


def section(chosen: Sequence[str], quick: bool, scratch: Path) -> str:
    """Run the stream benchmark and answer its Markdown section."""
    schedule = Schedule.quick() if quick else Schedule.full()
    context = f"{now()}, commit {revision()}; {machine()}."
    return document(schedule, run(chosen, schedule, scratch), context)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.streams", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one round, 1 and 16 clients")
    parser.add_argument("--backends", default=",".join(STORES), help="sqlite,postgres,redis")
    parser.add_argument(
        "--output",
        type=Path,
        help=f"where to write the section (default {RESULTS.relative_to(ROOT)}; quick: nowhere)",
    )
    args = parser.parse_args(argv)
    chosen = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(chosen) - set(STORES)
    if unknown:
        parser.error(f"unknown backends: {', '.join(sorted(unknown))}")
    output = args.output or (None if args.quick else RESULTS)
    with tempfile.TemporaryDirectory(prefix="screengate-bench-") as scratch:
        text = section(chosen, args.quick, Path(scratch))
    print(text)
    if output is not None:
        write_file(output, text)
        print(f"\nwritten to {output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
