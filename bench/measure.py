"""Interleaved rounds on a noisy machine: every measurement once per round, medians reported.

Running a read right after the bare endpoint it is compared with, round after round, means
a slow patch on a shared machine lowers both sides of a ratio instead of only one.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bench.load import HttpRequest, Load, LoadGenerator, LoadResult


@dataclass(frozen=True)
class Measurement:
    key: str
    label: str  # as the table shows it, e.g. "GET /v1/account"
    request: HttpRequest
    connections: int
    baseline: str | None = None  # key of the measurement this one is compared with
    # Seconds at least, whatever the run's duration: slow requests need a longer window
    # than a smoke run's second to finish more than a handful.
    min_duration: float = 0.0


@dataclass(frozen=True)
class Summary:
    measurement: Measurement
    rounds: tuple[LoadResult, ...]
    ratio: float | None  # median of the per-round ratios to the baseline

    @property
    def per_second(self) -> float:
        return statistics.median(r.per_second for r in self.rounds)

    @property
    def slowest(self) -> float:
        return min(r.per_second for r in self.rounds)

    @property
    def fastest(self) -> float:
        return max(r.per_second for r in self.rounds)

    @property
    def p50_ms(self) -> float | None:
        return _median([r.p50_ms for r in self.rounds])

    @property
    def p99_ms(self) -> float | None:
        return _median([r.p99_ms for r in self.rounds])

    @property
    def failed(self) -> int:
        return sum(r.failed for r in self.rounds)


Progress = Callable[[int, Measurement, LoadResult], None]


def run_rounds(
    generator: LoadGenerator,
    host: str,
    port: int,
    measurements: Sequence[Measurement],
    *,
    rounds: int,
    duration: float,
    warmup: float,
    progress: Progress | None = None,
) -> list[Summary]:
    """Each round runs every measurement in order; the summaries keep every round."""
    results: dict[str, list[LoadResult]] = {m.key: [] for m in measurements}
    for round_number in range(1, rounds + 1):
        for measurement in measurements:
            seconds = max(duration, measurement.min_duration)
            load = Load(measurement.connections, duration=seconds, warmup=warmup)
            result = generator.run(host, port, measurement.request, load)
            results[measurement.key].append(result)
            if progress is not None:
                progress(round_number, measurement, result)
    return [
        Summary(m, tuple(results[m.key]), _ratio(results, m.key, m.baseline)) for m in measurements
    ]


def _ratio(results: dict[str, list[LoadResult]], key: str, baseline: str | None) -> float | None:
    if baseline is None:
        return None
    ratios = [
        mine.per_second / theirs.per_second
        for mine, theirs in zip(results[key], results[baseline], strict=True)
        if theirs.per_second > 0
    ]
    return statistics.median(ratios) if ratios else None


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None
