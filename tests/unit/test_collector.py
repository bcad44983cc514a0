"""Holding the garbage collector through a burst, and always letting it go again."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator

import pytest

from screengate.adapters import collector


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    gc.enable()
    yield
    gc.enable()


def _until_enabled(seconds: float = 2.0) -> None:
    deadline = time.monotonic() + seconds
    while not gc.isenabled() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_a_hold_switches_the_collector_off_and_on_again_when_it_ends() -> None:
    collector.hold(0.05)
    assert not gc.isenabled()
    assert collector.held()
    _until_enabled()
    assert gc.isenabled()
    assert not collector.held()


def test_a_later_hold_extends_the_first() -> None:
    collector.hold(0.05)
    collector.hold(0.4)
    time.sleep(0.15)
    assert not gc.isenabled()
    _until_enabled()
    assert gc.isenabled()


def test_a_collector_someone_else_switched_off_stays_off() -> None:
    gc.disable()
    collector.hold(0.01)
    time.sleep(0.05)
    assert not gc.isenabled()
    assert not collector.held()
