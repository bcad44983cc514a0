"""`python -m bench --quick` against SQLite: a real server, the built-in generator, a table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The whole run: server start, seeding at production argon2 cost, 4 measurements; then the
# streams (bench/streams.py): two more servers, 6 measurements and a 3 s lease running out;
# then the fan-out (bench/fanout.py): one more server and 200 listening devices. The streams
# also run the reference app (bench/reference.py) beside screengate and count SQL round trips.
SECONDS = 180

EXPECTED_ROWS = (
    "GET /healthz (bare)",
    "GET /v1/auth/session (revocation check only)",
    "GET /v1/account",
    "GET /v1/devices (10 devices)",
    "POST /v1/auth/sign-in",
)
STREAMS_HEADING = "## Benchmark: streams"
FANOUT_HEADING = "## Benchmark: fan-out"
EXPECTED_STREAM_ROWS = [
    [clients, label]
    for clients in ("1", "16")
    for label in (
        "GET /healthz (bare)",
        "POST /v1/streams (Play)",
        "POST /v1/streams/{id}/heartbeat",
        "reference: Play",
        "reference: heartbeat",
    )
]
TRIPS_HEADING = "### SQL round trips per request"


def run_quick_bench() -> str:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--backends",
            "sqlite",
            "--generator",
            "builtin",
            "--no-flood",  # smoke-tested on its own: tests/bench/test_flood_smoke.py
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=SECONDS,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def table_rows(markdown: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in markdown.splitlines()
        if line.startswith("| SQLite")
    ]


@pytest.mark.timeout(SECONDS + 5)
def test_the_quick_benchmark_prints_a_row_per_hot_path_with_figures() -> None:
    output, _, fanout = run_quick_bench().partition(FANOUT_HEADING)
    reads, _, streams = output.partition(STREAMS_HEADING)

    rows = table_rows(reads)
    assert [row[1] for row in rows] == list(EXPECTED_ROWS)
    for row in rows:
        requests_per_second = float(row[3].replace(",", ""))
        assert requests_per_second > 0, row
        assert row[-1] == "0", f"non-2xx answers in {row}"
    assert "built-in asyncio client" in output
    assert "SQLite: GET /v1/auth/session" in output

    streams, _, vanished = streams.partition("### The screen a vanished device keeps")
    throughput, _, trips = streams.partition(TRIPS_HEADING)
    stream_rows = table_rows(throughput)
    assert [row[1:3] for row in stream_rows] == EXPECTED_STREAM_ROWS
    for row in stream_rows:
        assert float(row[3].replace(",", "")) > 0, row
        assert row[-2:] == ["0", "0"], f"409s or other non-2xx answers in {row}"
    for row in stream_rows:
        if row[2] in ("POST /v1/streams (Play)", "POST /v1/streams/{id}/heartbeat"):
            assert row[6].endswith("%"), f"no ratio to the reference in {row}"
    [counted] = table_rows(trips)
    play_trips, heartbeat_trips = float(counted[1]), float(counted[3])
    assert play_trips >= 1, counted
    assert heartbeat_trips >= 1, counted
    assert counted[-1] == "6 / 1", counted

    [vanish] = table_rows(vanished)
    assert vanish[-1] == "PASS", vanish

    [told] = table_rows(fanout)
    assert told[1:4] == ["200", "200", "200"], told  # devices, streams open, told
