"""`python -m bench.sign_in_flood --quick`: three real servers, the owner's sign-ins timed with
and without a flood, and the flood refused where the server is as shipped."""

from __future__ import annotations

import subprocess
import sys

import pytest
from bench.sign_in_flood import SETUPS

from tests.bench.test_bench_smoke import ROOT

SECONDS = 90  # three servers on a busy machine


@pytest.mark.timeout(SECONDS + 5)
def test_the_quick_flood_benchmark_prints_a_row_per_setup_and_the_flood_is_refused() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.sign_in_flood", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=SECONDS,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "## Benchmark: sign-in flood" in done.stdout
    rows = {
        cells[0]: cells
        for line in done.stdout.splitlines()
        if line.startswith("| ") and not line.startswith("| Setup") and "---" not in line
        for cells in [[cell.strip() for cell in line.strip("|").split("|")]]
    }
    assert list(rows) == [setup.label for setup in SETUPS]
    quiet, shipped, lifted = rows.values()
    assert quiet[-1] == "—"  # no flood
    assert "of 429" in shipped[-1], shipped  # refused before hashing
    assert "of 429" not in lifted[-1], lifted  # nothing refused: every flood request hashed
    for row in rows.values():
        assert row[1] == "4", row  # every one of the owner's sign-ins succeeded
