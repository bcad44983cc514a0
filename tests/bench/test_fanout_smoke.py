"""`python -m bench.fanout --quick` on SQLite: a real server, 50 listening devices, one table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECONDS = 110  # server starts, seeding at production argon2 cost for the reads, 50 streams


@pytest.mark.timeout(SECONDS + 10)
def test_the_quick_fan_out_tells_every_listening_device_and_prints_a_row() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.fanout",
            "--quick",
            "--setups",
            "sqlite",
            "--devices",
            "50",
            "--generator",
            "builtin",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=SECONDS,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]

    (row,) = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in done.stdout.splitlines()
        if line.startswith("| SQLite, 1 instance")
    ]
    devices, streams_open, told = row[1:4]
    assert (devices, streams_open, told) == ("50", "50", "50")
    assert row[8].endswith(", 50"), row  # the answer's notified count
    assert "of the bare endpoint's requests/s" in done.stdout
