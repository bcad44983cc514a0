"""Issue 2's hot paths: authenticated reads beside the bare endpoint, and sign-ins.

(a) GET /healthz, the bare endpoint: no auth, no store;
(b) GET /v1/account with a bearer token: the revocation check plus one store read;
(c) GET /v1/devices for an account with 10 signed-in devices;
(d) POST /v1/auth/sign-in at production argon2 cost: CPU-bound by design.
Target: an authenticated read keeps at least half of the bare endpoint's throughput.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import httpx

from bench.load import HttpRequest
from bench.measure import Measurement, Summary
from bench.report import cpu_millis, millis, per_second, percent, spread
from bench.server import RunningServer

DEVICES = 10
TARGET_RATIO = 0.5
# Every sign-in counts against its client address, and only a few from one address are judged
# at once; the load generator is one address (127.0.0.1): lift both, or the sign-in row would
# measure 429s. bench/sign_in_flood.py measures them.
SERVER_ENV = {
    "SCREENGATE_SIGN_IN_LIMIT_PER_CLIENT": "1000000/minute",
    "SCREENGATE_SIGN_IN_CONCURRENCY_PER_CLIENT": "1000",
}
# A sign-in takes a few hundred ms at production cost: give it a window worth counting.
SIGN_IN_MIN_SECONDS = 3.0
DEVICE_TYPES = (
    "smart_tv",
    "phone",
    "game_console",
    "web_browser",
    "tablet",
    "pc_app",
    "streaming_stick",
)


@dataclass(frozen=True)
class Fixture:
    """A reader with DEVICES signed-in devices, and another account to sign in to."""

    access_token: str
    signer_email: str
    password: str


@dataclass(frozen=True)
class Connections:
    reads: int
    sign_ins: int


def seed(server: RunningServer) -> Fixture:
    """Set the accounts up through the API itself, as a client would."""
    run = secrets.token_hex(4)
    password = f"bench {secrets.token_urlsafe(12)}"  # random, so never on the common list
    reader = f"reader-{run}@bench.example"
    signer = f"signer-{run}@bench.example"
    with httpx.Client(base_url=server.base_url, timeout=60.0) as client:
        for email in (reader, signer):
            _expect(client.post("/v1/auth/sign-up", json=_sign_up(email, password)), 201)
        tokens = [
            _expect(client.post("/v1/auth/sign-in", json=_sign_in(reader, password, n)), 201)
            for n in range(DEVICES)
        ]
        token = str(tokens[0]["access_token"])
        listed = client.get("/v1/devices", headers={"Authorization": f"Bearer {token}"})
        devices = _expect(listed, 200)
        if len(devices) != DEVICES:
            raise RuntimeError(f"expected {DEVICES} devices, the server lists {len(devices)}")
    return Fixture(access_token=token, signer_email=signer, password=password)


KEYS = ("healthz", "session", "account", "devices", "sign_in")


def measurements(fixture: Fixture, connections: Connections) -> list[Measurement]:
    bearer = {"Authorization": f"Bearer {fixture.access_token}"}
    sign_in = _sign_in(fixture.signer_email, fixture.password, 0)
    return [
        Measurement(
            "healthz", "GET /healthz (bare)", HttpRequest("GET", "/healthz"), connections.reads
        ),
        Measurement(
            "session",
            "GET /v1/auth/session (revocation check only)",
            HttpRequest("GET", "/v1/auth/session", bearer),
            connections.reads,
            baseline="healthz",
        ),
        Measurement(
            "account",
            "GET /v1/account",
            HttpRequest("GET", "/v1/account", bearer),
            connections.reads,
            baseline="healthz",
        ),
        Measurement(
            "devices",
            f"GET /v1/devices ({DEVICES} devices)",
            HttpRequest("GET", "/v1/devices", bearer),
            connections.reads,
            baseline="healthz",
        ),
        Measurement(
            "sign_in",
            "POST /v1/auth/sign-in",
            HttpRequest.json("POST", "/v1/auth/sign-in", sign_in),
            connections.sign_ins,
            min_duration=SIGN_IN_MIN_SECONDS,
        ),
    ]


HEADERS = (
    "Backend",
    "Measurement",
    "Conns",
    "Requests/s",
    "Rounds (min-max)",
    "vs bare",
    "≥ 50%?",
    "p50",
    "p99",
    "CPU/req",
    "vs bare (CPU)",
    "Non-2xx",
)
ALIGN = "llrrrrlrrrrr"


def rows(backend: str, summaries: list[Summary]) -> list[list[str]]:
    return [
        [
            backend,
            s.measurement.label,
            str(s.measurement.connections),
            per_second(s.per_second),
            spread(s.slowest, s.fastest),
            percent(s.ratio),
            verdict(s),
            millis(s.p50_ms),
            millis(s.p99_ms),
            cpu_millis(s.cpu_ms_per_request),
            percent(s.cpu_ratio),
            str(s.failed),
        ]
        for s in summaries
    ]


# Issue 4: the revocation check alone may cost at most 30% of the bare endpoint's throughput.
REVOCATION_TARGET_RATIO = 0.70


def verdict(summary: Summary) -> str:
    """PASS or MISS for the reads a target is about; blank for the others."""
    if summary.ratio is None:
        return ""
    target = REVOCATION_TARGET_RATIO if summary.measurement.key == "session" else TARGET_RATIO
    return "PASS" if summary.ratio >= target else "MISS"


def _sign_up(email: str, password: str) -> dict[str, str]:
    return {"email": email, "password": password, "plan": "premium"}


def _sign_in(email: str, password: str, n: int) -> dict[str, object]:
    kind = DEVICE_TYPES[n % len(DEVICE_TYPES)]
    return {
        "email": email,
        "password": password,
        "device": {"type": kind, "name": f"Bench {kind.replace('_', ' ')} {n + 1}"},
    }


def _expect(response: httpx.Response, status: int) -> Any:
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path} answered "
            f"{response.status_code}, not {status}: {response.text[:500]}"
        )
    return response.json()
