"""`make bench`: issue 2's hot paths, issue 3's streams (bench/streams.py), issue 4's fan-out
(bench/fanout.py) and issue 9's sign-in flood (bench/sign_in_flood.py), as Markdown tables.

python -m bench                    # 3 interleaved rounds of 5 s; writes bench/results/latest.md
python -m bench --quick            # 1 round of 1 s per measurement: a smoke run
python -m bench --backends sqlite  # PostgreSQL runs when SCREENGATE_BENCH_POSTGRES_URL
                                   # (or SCREENGATE_TEST_POSTGRES_URL) is set; the
                                   # streams also on PostgreSQL + Redis leases when
                                   # SCREENGATE_TEST_REDIS_URL is set
python -m bench --fanout 2000      # the fan-out at other sizes (default 1000,10000;
                                   # quick 200); --fanout 0 leaves it out
python -m bench --backends sqlite --reads healthz,session --no-streams --fanout 0 --no-flood
                                   # only the revocation check beside the bare endpoint
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from bench import auth_reads, fanout, sign_in_flood, streams
from bench.databases import (
    Backend,
    postgres_backend,
    postgres_url_from_env,
    redis_url_from_env,
    sqlite_backend,
)
from bench.load import ROOT, LoadGenerator, choose_generator
from bench.measure import Measurement, Round, Summary, run_rounds
from bench.report import (
    cpu_millis,
    machine,
    markdown_table,
    millis,
    now,
    per_second,
    percent,
    revision,
)
from bench.report import write as write_file
from bench.server import Argon2Cost, serve

RESULTS = ROOT / "bench" / "results" / "latest.md"
BACKENDS = ("sqlite", "postgres")


@dataclass(frozen=True)
class Options:
    rounds: int
    duration: float
    warmup: float
    connections: auth_reads.Connections
    backends: tuple[str, ...]
    output: Path | None
    quick: bool
    fanout: tuple[int, ...]  # devices per fan-out run; none: no fan-out
    reads: tuple[str, ...]  # the reads' measurement keys; none: all of them
    streams: bool
    flood: bool


def parse(argv: Sequence[str] | None) -> tuple[Options, LoadGenerator]:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one round of 1 s: a smoke run")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 3; quick 1)")
    parser.add_argument("--duration", type=float, help="seconds per measurement (5; quick 1)")
    parser.add_argument("--warmup", type=float, help="uncounted seconds first (1; quick 0.5)")
    parser.add_argument("--connections", type=int, default=64, help="for the reads")
    parser.add_argument("--sign-in-connections", type=int, default=4)
    parser.add_argument("--generator", choices=("auto", "wrk", "builtin"), default="auto")
    parser.add_argument(
        "--backends", default=",".join(BACKENDS), help="comma-separated: sqlite,postgres"
    )
    parser.add_argument(
        "--output",
        type=Path,
        help=f"where to write the table (default {RESULTS.relative_to(ROOT)}; quick: nowhere)",
    )
    parser.add_argument(
        "--fanout", help="devices per fan-out run, comma-separated (1000,10000; quick 200; 0: none)"
    )
    parser.add_argument(
        "--reads", help=f"only these reads, comma-separated: {','.join(auth_reads.KEYS)}"
    )
    parser.add_argument(
        "--no-streams", dest="streams", action="store_false", help="leave the streams out"
    )
    parser.add_argument(
        "--no-flood", dest="flood", action="store_false", help="leave the sign-in flood out"
    )
    args = parser.parse_args(argv)
    reads = tuple(k.strip() for k in (args.reads or "").split(",") if k.strip())
    if set(reads) - set(auth_reads.KEYS):
        parser.error(f"unknown reads: {', '.join(sorted(set(reads) - set(auth_reads.KEYS)))}")
    backends = tuple(b.strip() for b in args.backends.split(",") if b.strip())
    unknown = set(backends) - set(BACKENDS)
    if unknown:
        parser.error(f"unknown backends: {', '.join(sorted(unknown))}")
    options = Options(
        rounds=args.rounds or (1 if args.quick else 3),
        duration=args.duration or (1.0 if args.quick else 5.0),
        warmup=args.warmup if args.warmup is not None else (0.5 if args.quick else 1.0),
        connections=auth_reads.Connections(args.connections, args.sign_in_connections),
        backends=backends,
        output=args.output or (None if args.quick else RESULTS),
        quick=args.quick,
        fanout=tuple(n for n in fanout.parse_sizes(args.fanout, args.quick) if n > 0),
        reads=reads,
        streams=args.streams,
        flood=args.flood,
    )
    return options, choose_generator(args.generator)


def main(argv: Sequence[str] | None = None) -> int:
    options, generator = parse(argv)
    cost = Argon2Cost.production()
    context = f"{now()}, commit {revision()}; {machine()}."
    table: list[list[str]] = []
    verdicts: list[str] = []
    skipped: list[str] = []
    reads: list[tuple[str, Summary]] = []
    fanout_text = ""
    with tempfile.TemporaryDirectory(prefix="screengate-bench-") as scratch:
        for backend in _backends(options.backends, Path(scratch), skipped):
            with backend as chosen:
                summaries = _run(chosen, options, generator, Path(scratch))
            table += auth_reads.rows(chosen.name, summaries)
            verdicts.append(_verdict(chosen, summaries))
            reads += [(chosen.name, s) for s in summaries]
        # PostgreSQL + Redis leases ride on PostgreSQL.
        stores = [*options.backends, *(["redis"] if "postgres" in options.backends else [])]
        streams_text = (
            streams.section(stores, options.quick, Path(scratch)) if options.streams else ""
        )
        if options.fanout:
            # The revocation check's cost comes from the reads above, not a second measurement.
            setups = [s for s in fanout.SETUPS if s in _fanout_setups(options.backends)]
            fanout_text = fanout.section(setups, options.fanout, Path(scratch), reads)
        flood_text = sign_in_flood.section(options.quick, Path(scratch)) if options.flood else ""
    text = _document(context, options, generator, cost, table, verdicts, skipped)
    if streams_text:
        text += "\n\n" + streams_text
    if fanout_text:
        text += "\n\n" + fanout_text
    if flood_text:
        text += "\n\n" + flood_text
    print(text)
    if options.output == RESULTS:
        if streams_text:
            write_file(streams.RESULTS, streams_text)
        if fanout_text:
            write_file(fanout.RESULTS, fanout_text)
        if flood_text:
            write_file(sign_in_flood.RESULTS, flood_text)
    if options.output is not None:
        write_file(options.output, text)
        print(f"\nwritten to {options.output}", file=sys.stderr)
    return 0


def _fanout_setups(backends: tuple[str, ...]) -> set[str]:
    """SQLite alone, and two instances on PostgreSQL + Redis when PostgreSQL is chosen."""
    return {"sqlite" if backend == "sqlite" else "redis" for backend in backends}


def _backends(
    chosen: tuple[str, ...], scratch: Path, skipped: list[str]
) -> Iterator[AbstractContextManager[Backend]]:
    if "sqlite" in chosen:
        yield sqlite_backend(scratch)
    if "postgres" in chosen:
        url = postgres_url_from_env()
        if url is None:
            skipped.append(
                "PostgreSQL: skipped (set SCREENGATE_BENCH_POSTGRES_URL or "
                "SCREENGATE_TEST_POSTGRES_URL to a postgresql+asyncpg:// URL)."
            )
            print(skipped[-1], file=sys.stderr)
        else:
            yield postgres_backend(url)
            redis = redis_url_from_env()
            if redis is None:
                skipped.append(
                    "PostgreSQL + Redis: skipped (set SCREENGATE_BENCH_REDIS_URL or "
                    "SCREENGATE_TEST_REDIS_URL to a redis:// URL)."
                )
                print(skipped[-1], file=sys.stderr)
            else:
                # The scale-out setup: the bus keeps every instance's caches current.
                yield _with_redis(postgres_backend(url), redis)


@contextmanager
def _with_redis(base: AbstractContextManager[Backend], redis_url: str) -> Iterator[Backend]:
    with base as backend:
        yield replace(
            backend, name=f"{backend.name} + Redis", env={"SCREENGATE_REDIS_URL": redis_url}
        )


def _run(
    backend: Backend, options: Options, generator: LoadGenerator, scratch: Path
) -> list[Summary]:
    log = scratch / f"server-{backend.name.lower()}.log"
    with serve(backend.url, log, env=auth_reads.SERVER_ENV | dict(backend.env)) as server:
        print(f"[{backend.name}] server on {server.base_url}; seeding", file=sys.stderr)
        fixture = auth_reads.seed(server)

        def progress(round_number: int, measurement: Measurement, done: Round) -> None:
            result = done.result
            print(
                f"[{backend.name}] round {round_number}/{options.rounds} "
                f"{measurement.label}: {per_second(result.per_second)}/s, "
                f"p50 {millis(result.p50_ms)}, p99 {millis(result.p99_ms)}, "
                f"server CPU {cpu_millis(done.cpu_ms_per_request)}/request, "
                f"non-2xx {result.failed}",
                file=sys.stderr,
            )

        return run_rounds(
            generator,
            server.host,
            server.port,
            [
                m
                for m in auth_reads.measurements(fixture, options.connections)
                if not options.reads or m.key in options.reads
            ],
            rounds=options.rounds,
            duration=options.duration,
            warmup=options.warmup,
            cpu=server.cpu_seconds,
            progress=progress,
        )


def _verdict(backend: Backend, summaries: list[Summary]) -> str:
    parts = [
        f"{s.measurement.label} {percent(s.ratio)} of bare, {auth_reads.verdict(s)} "
        f"(by server CPU per request: {percent(s.cpu_ratio)})"
        for s in summaries
        if s.ratio is not None
    ]
    note = f" ({backend.note})" if backend.note else ""
    return f"{backend.name}{note}: " + "; ".join(parts) + "."


def _document(
    context: str,
    options: Options,
    generator: LoadGenerator,
    cost: Argon2Cost,
    table: list[list[str]],
    verdicts: list[str],
    skipped: list[str],
) -> str:
    rounds = "round" if options.rounds == 1 else "rounds"
    lines = [
        "## Benchmark: authenticated reads and sign-ins",
        "",
        context,
        "",
        "- Server: `screengate serve --workers 1` (Granian, `screengate.app:from_env`) "
        "on 127.0.0.1, each store fresh and migrated by `screengate db upgrade`.",
        f"- Load generator: **{generator.name}**, in its own process; keep-alive, one request "
        "in flight per connection; only 2xx answers count.",
        f"- Each figure is the median of {options.rounds} interleaved {rounds} of "
        f"{options.duration:g} s (after {options.warmup:g} s of uncounted warm-up); "
        '"vs bare" is the median of the per-round ratios to `GET /healthz`.',
        "- CPU/req: the server's own CPU time (all its threads; not PostgreSQL's) per 2xx "
        'answer, which other work on a shared machine hardly moves; "vs bare (CPU)" is the '
        "throughput ratio that cost alone predicts.",
        f"- Sign-in: {cost.describe()} (the production default), "
        f"{options.connections.sign_ins} concurrent clients, at least "
        f"{auth_reads.SIGN_IN_MIN_SECONDS:g} s per round; CPU-bound by design.",
        "",
        markdown_table(auth_reads.HEADERS, table, auth_reads.ALIGN),
        "",
        f"Targets: an authenticated read keeps ≥ {auth_reads.TARGET_RATIO:.0%} of the bare "
        "endpoint's requests/s (issue 2); the revocation check alone "
        f"(`GET /v1/auth/session`) keeps ≥ {auth_reads.REVOCATION_TARGET_RATIO:.0%} (issue 4).",
        "",
        *(f"- {v}" for v in verdicts),
        *(f"- {s}" for s in skipped),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
