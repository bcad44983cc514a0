"""`make test` runs the suite in two parts: most of it spread over the machine's cores, then,
one at a time and alone, the tests that load the machine on purpose or hold a deadline
(marked `serial`): a test that asserts "within a second" must not share two cores with
another test's two hundred devices."""

from __future__ import annotations

import pytest

SERIAL_FOLDERS = frozenset({"concurrency", "bench"})
# Correctness under concurrency, with no deadline tighter than its own generous ones: it runs
# beside the others (its module's servers start once, on one worker).
BESIDE_THE_OTHERS = frozenset({"test_held_body.py"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.parent.name in SERIAL_FOLDERS and item.path.name not in BESIDE_THE_OTHERS:
            item.add_marker(pytest.mark.serial)
