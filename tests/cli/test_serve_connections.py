"""`screengate serve` is made for many open event streams: as many connections per worker as
its file limit allows (Granian's own default stops at 1,024), and HTTP/1.1 only by default
(HTTP/2 detection costs ~11 KiB more per open connection)."""

from __future__ import annotations

import resource
from pathlib import Path
from typing import Any

import granian
import pytest
from granian.constants import HTTPModes
from typer.testing import CliRunner

from screengate.cli import RESERVED_FILES, app, connection_budget

runner = CliRunner()


class FakeGranian:
    """Records how serve would start Granian, and starts nothing."""

    started: dict[str, Any] = {}

    def __init__(self, target: str, **options: Any) -> None:
        FakeGranian.started = {"target": target, **options}

    def serve(self) -> None:
        pass


@pytest.fixture(autouse=True)
def fake_granian(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(granian, "Granian", FakeGranian)
    monkeypatch.setenv("SCREENGATE_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")


def test_the_connection_budget_is_the_file_limit_raised_to_its_hard_ceiling() -> None:
    budget = connection_budget()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert soft == hard
    assert budget >= 1024
    assert budget <= max(1024, soft - RESERVED_FILES)


def test_serve_gives_each_worker_room_for_more_than_granians_1024_connections() -> None:
    result = runner.invoke(app, ["serve", "--port", "8123"])

    assert result.exit_code == 0, result.output
    assert FakeGranian.started["backpressure"] == connection_budget()
    assert FakeGranian.started["backlog"] == 1024
    assert FakeGranian.started["http"] == HTTPModes.http1  # 11 KiB less per connection than auto
    assert f"connections per worker: {connection_budget():,}" in result.output


def test_serve_takes_the_backlog_and_backpressure_it_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SCREENGATE_BACKLOG", "4096")

    result = runner.invoke(
        app, ["serve", "--port", "8123", "--backpressure", "20000", "--http", "auto"]
    )

    assert result.exit_code == 0, result.output
    assert (FakeGranian.started["backlog"], FakeGranian.started["backpressure"]) == (4096, 20000)
    assert FakeGranian.started["http"] == HTTPModes.auto
