"""A real screengate server for a benchmark: migrated, on a free loopback port, always stopped.

The operator's own commands do the work: `screengate db upgrade`, then `screengate serve`
(Granian, one worker, `screengate.app:from_env`), in a process group of its own so that
stopping it also stops its worker.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

from screengate.config import Settings

HOST = "127.0.0.1"
STARTUP_SECONDS = 30.0
MIGRATION_SECONDS = 120.0
STOP_SECONDS = 10.0  # after SIGTERM, before SIGKILL
KILL_SECONDS = 5.0


@dataclass(frozen=True)
class Argon2Cost:
    time_cost: int
    memory_kib: int
    parallelism: int

    @classmethod
    def production(cls) -> Argon2Cost:
        """The defaults a deployment gets when it sets nothing."""
        fields = Settings.model_fields
        return cls(
            time_cost=fields["argon2_time_cost"].default,
            memory_kib=fields["argon2_memory_kib"].default,
            parallelism=fields["argon2_parallelism"].default,
        )

    def describe(self) -> str:
        return f"argon2id t={self.time_cost}, m={self.memory_kib // 1024} MiB, p={self.parallelism}"

    def env(self) -> dict[str, str]:
        return {
            "SCREENGATE_ARGON2_TIME_COST": str(self.time_cost),
            "SCREENGATE_ARGON2_MEMORY_KIB": str(self.memory_kib),
            "SCREENGATE_ARGON2_PARALLELISM": str(self.parallelism),
        }


@dataclass(frozen=True)
class RunningServer:
    host: str
    port: int
    pid: int
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def cpu_seconds(self) -> float | None:
        """CPU time used so far by the server's processes (every thread), None off Linux.

        Unlike requests/s, CPU per request hardly moves when other work shares the machine.
        """
        return process_group_cpu_seconds(self.pid)


def screengate(*arguments: str) -> list[str]:
    """The operator CLI, from this interpreter's environment."""
    return [sys.executable, "-m", "screengate.cli", *arguments]


def migrate(database_url: str) -> None:
    """`screengate db upgrade`: the schema at head."""
    done = subprocess.run(
        screengate("db", "upgrade"),
        env=server_env(database_url),
        capture_output=True,
        text=True,
        timeout=MIGRATION_SECONDS,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"screengate db upgrade failed:\n{done.stdout}{done.stderr}"[-3000:])


def server_env(database_url: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This environment without any SCREENGATE_* or GRANIAN_* the caller happens to have set,
    so a benchmark measures the defaults a deployment gets, plus only what it asks for."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SCREENGATE_", "GRANIAN_"))
    }
    env |= Argon2Cost.production().env()
    env |= {
        "SCREENGATE_DATABASE_URL": database_url,
        "SCREENGATE_LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    return env | dict(extra or {})


@contextmanager
def serve(
    database_url: str,
    log: Path,
    *,
    env: Mapping[str, str] | None = None,
    workers: int = 1,
) -> Iterator[RunningServer]:
    """Migrate, serve on a free port, wait until it answers, stop it after."""
    migrate(database_url)
    port = free_port()
    command = screengate("serve", "--host", HOST, "--port", str(port), "--workers", str(workers))
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            # Mail (the .eml default) beside the server's log, not in the working directory.
            env=server_env(
                database_url, {"SCREENGATE_MAIL_FOLDER": str(log.parent / "mail"), **(env or {})}
            ),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the worker goes down with it
        )
        server = RunningServer(HOST, port, process.pid, log)
        try:
            _wait_until_ready(process, server)
        except BaseException:
            stop(process)
            raise
        try:
            yield server
        except Exception:
            # The log goes with the caller's scratch folder: show its end while it exists.
            print(f"server log, last lines:\n{_tail(server)}", file=sys.stderr)
            raise
        finally:
            stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's process group, SIGKILL if it has not gone in time."""
    for sig, wait in ((signal.SIGTERM, STOP_SECONDS), (signal.SIGKILL, KILL_SECONDS)):
        if process.poll() is not None:
            break
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
    # The worker may outlive its parent by a moment; make sure the group is gone.
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def process_group_cpu_seconds(group: int) -> float | None:
    """User + system CPU seconds of the live processes in a process group, from /proc."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    ticks = 0
    for stat in proc.glob("[0-9]*/stat"):
        try:
            # The command name, in parentheses, may hold spaces: split after it.
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # the process has just gone
        if int(fields[2]) == group:  # pgrp
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def process_group_rss_bytes(group: int) -> int | None:
    """Resident memory of the live processes in a process group, from /proc; None off Linux."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    total = 0
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
            if int(fields[2]) != group:  # pgrp
                continue
            status = (stat.parent / "status").read_text()
        except OSError:
            continue  # the process has just gone
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024  # kB
    return total


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_ready(process: subprocess.Popen[bytes], server: RunningServer) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    with httpx.Client(base_url=server.base_url, timeout=1.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited ({process.returncode}):\n{_tail(server)}")
            try:
                if client.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise RuntimeError(f"the server did not answer in {STARTUP_SECONDS:.0f} s:\n{_tail(server)}")


def _tail(server: RunningServer) -> str:
    return server.log.read_text(errors="replace")[-3000:]
