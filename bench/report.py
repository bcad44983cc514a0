"""Markdown tables, ready to paste into the README, and the figures' formats."""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bench.load import ROOT


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]], align: str) -> str:
    """A GitHub table; `align` has an "l" or "r" per column ("r" for figures)."""
    widths = [max(len(c) for c in column) for column in zip(headers, *rows, strict=True)]
    rules = [
        "-" * (w - 1) + ":" if a == "r" else "-" * w for a, w in zip(align, widths, strict=True)
    ]

    def line(cells: Sequence[str]) -> str:
        padded = [
            c.rjust(w) if a == "r" else c.ljust(w)
            for c, w, a in zip(cells, widths, align, strict=True)
        ]
        return "| " + " | ".join(padded) + " |"

    return "\n".join([line(headers), line(rules), *(line(r) for r in rows)])


def per_second(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def spread(low: float, high: float) -> str:
    return f"{per_second(low)}-{per_second(high)}"


def millis(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f} ms" if value >= 10 else f"{value:.2f} ms"


def cpu_millis(value: float | None) -> str:
    """CPU per request: three decimals below 1 ms, where two would hide a 10% difference."""
    if value is None:
        return "—"
    return f"{value:.3f} ms" if value < 1 else millis(value)


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def machine() -> str:
    """What the figures were measured on, in one line."""
    cpu = _cpu_model()
    return (
        f"{os.cpu_count()} CPUs{f' ({cpu})' if cpu else ''}, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}, "
        # On a shared machine, how busy it was tells how far to trust the figures.
        f"load average {os.getloadavg()[0]:.1f} at the start"
    )


def revision() -> str:
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return sha


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text if text.endswith("\n") else text + "\n")


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return " ".join(line.partition(":")[2].split())
    except OSError:
        return None
    return None
