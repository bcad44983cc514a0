"""The device state file: private, and a refresh token exchanged once however many processes
act as the device."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

from screengate.client import Tokens
from screengate.client.state import DeviceState, DeviceStateFile


def pair(n: int) -> Tokens:
    return Tokens(f"access-{n}", f"refresh-{n}", 1e12, "session-1", "device-1")


def saved(path: Path, tokens: Tokens | None = None) -> DeviceStateFile:
    file = DeviceStateFile(path)
    url, email = "http://127.0.0.1:8000", "ana@example.com"
    file.save(DeviceState(url, email, "smart_tv", "TV", "device-1", tokens))
    return file


def test_the_state_file_is_readable_by_its_owner_only_and_round_trips(tmp_path: Path) -> None:
    file = saved(tmp_path / "devices" / "tv.json", pair(1))

    assert stat.S_IMODE(file.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(file.path.parent.stat().st_mode) == 0o700
    assert file.load().tokens == pair(1)
    assert "access-1" not in repr(file.load())


def test_forgetting_the_tokens_keeps_the_device_id(tmp_path: Path) -> None:
    file = saved(tmp_path / "tv.json", pair(1))

    file.forget_tokens()

    assert file.load().tokens is None
    assert file.load().device_id == "device-1"


async def test_two_processes_holding_the_same_pair_exchange_it_only_once(tmp_path: Path) -> None:
    path = tmp_path / "tv.json"
    saved(path, pair(1))
    listener, player = DeviceStateFile(path), DeviceStateFile(path)
    exchanged: list[str] = []

    async def exchange(held: Tokens) -> Tokens:
        exchanged.append(held.refresh_token)
        await asyncio.sleep(0.05)  # the other one tries meanwhile
        return pair(2)

    first, second = await asyncio.gather(
        listener.rotate(pair(1), exchange), player.rotate(pair(1), exchange)
    )

    assert exchanged == ["refresh-1"]
    assert first == second == pair(2)
    assert DeviceStateFile(path).load().tokens == pair(2)
