"""Interleaved rounds on a noisy machine: every measurement once per round, medians reported.

Running a read right after the bare endpoint it is compared with, round after round, means
a slow patch on a shared machine lowers both sides of a ratio instead of only one. Each
measurement also records the server's CPU time per answered request, which other work on
the machine hardly moves, so the figures can be checked against a second, steadier one.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

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


# Seconds between the warm-up and the counted run: a generator that stops drops its
# in-flight requests, and the server should finish those before counting starts.
SETTLE_SECONDS = 0.5

CpuProbe = Callable[[], float | None]


class RoundFigures(Protocol):
    """What one round of a measurement yields, whichever load generator ran it."""

    @property
    def per_second(self) -> float: ...

    @property
    def p50_ms(self) -> float | None: ...

    @property
    def p99_ms(self) -> float | None: ...

    @property
    def cpu_ms_per_request(self) -> float | None: ...


class MedianOverRounds:
    """A measurement's figures: the median of its rounds' (the machine is shared and noisy)."""

    rounds: Sequence[RoundFigures]

    @property
    def per_second(self) -> float:
        return statistics.median(r.per_second for r in self.rounds)

    @property
    def p50_ms(self) -> float | None:
        return median([r.p50_ms for r in self.rounds])

    @property
    def p99_ms(self) -> float | None:
        return median([r.p99_ms for r in self.rounds])

    @property
    def cpu_ms_per_request(self) -> float | None:
        return median([r.cpu_ms_per_request for r in self.rounds])


R = TypeVar("R", bound=RoundFigures)


def median_ratio(
    mine: Sequence[R], theirs: Sequence[R], rate: Callable[[R], float | None]
) -> float | None:
    """The median over rounds of this measurement's rate over the baseline's, round by round."""
    ratios = []
    for a, b in zip(mine, theirs, strict=True):
        numerator, denominator = rate(a), rate(b)
        if numerator is not None and denominator:
            ratios.append(numerator / denominator)
    return statistics.median(ratios) if ratios else None


def requests_per_cpu_second(one: RoundFigures) -> float | None:
    cost = one.cpu_ms_per_request
    return 1000 / cost if cost else None


def median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


@dataclass(frozen=True)
class Round:
    result: LoadResult
    cpu_seconds: float | None  # the server's, during the counted run

    @property
    def per_second(self) -> float:
        return self.result.per_second

    @property
    def p50_ms(self) -> float | None:
        return self.result.p50_ms

    @property
    def p99_ms(self) -> float | None:
        return self.result.p99_ms

    @property
    def cpu_ms_per_request(self) -> float | None:
        if self.cpu_seconds is None or self.result.ok == 0:
            return None
        return self.cpu_seconds / self.result.ok * 1000


@dataclass(frozen=True)
class Summary(MedianOverRounds):
    measurement: Measurement
    rounds: tuple[Round, ...]
    ratio: float | None  # median of the per-round ratios of requests/s to the baseline
    cpu_ratio: float | None  # the baseline's CPU per request over this one's, per-round median

    @property
    def results(self) -> tuple[LoadResult, ...]:
        return tuple(r.result for r in self.rounds)

    @property
    def slowest(self) -> float:
        return min(r.per_second for r in self.results)

    @property
    def fastest(self) -> float:
        return max(r.per_second for r in self.results)

    @property
    def failed(self) -> int:
        return sum(r.failed for r in self.results)


Progress = Callable[[int, Measurement, Round], None]


def run_rounds(
    generator: LoadGenerator,
    host: str,
    port: int,
    measurements: Sequence[Measurement],
    *,
    rounds: int,
    duration: float,
    warmup: float,
    cpu: CpuProbe = lambda: None,
    progress: Progress | None = None,
) -> list[Summary]:
    """Each round runs every measurement in order, warm-up first; summaries keep every round."""
    done: dict[str, list[Round]] = {m.key: [] for m in measurements}
    for round_number in range(1, rounds + 1):
        for measurement in measurements:
            seconds = max(duration, measurement.min_duration)
            one = measure(generator, host, port, measurement, seconds, warmup, cpu)
            done[measurement.key].append(one)
            if progress is not None:
                progress(round_number, measurement, one)
    return [
        Summary(
            m,
            tuple(done[m.key]),
            ratio=_ratio(done, m, _per_second),
            cpu_ratio=_ratio(done, m, requests_per_cpu_second),
        )
        for m in measurements
    ]


def measure(
    generator: LoadGenerator,
    host: str,
    port: int,
    measurement: Measurement,
    seconds: float,
    warmup: float,
    cpu: CpuProbe,
) -> Round:
    """An uncounted warm-up, a pause, then the counted run with the server's CPU around it."""
    if warmup > 0:
        generator.run(host, port, measurement.request, Load(measurement.connections, warmup))
        time.sleep(SETTLE_SECONDS)
    before = cpu()
    result = generator.run(host, port, measurement.request, Load(measurement.connections, seconds))
    after = cpu()
    used = after - before if before is not None and after is not None else None
    return Round(result, used)


def _per_second(one: Round) -> float | None:
    return one.per_second


def _ratio(
    done: dict[str, list[Round]], measurement: Measurement, rate: Callable[[Round], float | None]
) -> float | None:
    if measurement.baseline is None:
        return None
    return median_ratio(done[measurement.key], done[measurement.baseline], rate)
