"""The hub's budgets: a device's few streams (the oldest gives way), an address's places."""

from __future__ import annotations

import asyncio

import pytest

from screengate.adapters.bus import InProcessBus
from screengate.adapters.hub import LocalNoticeHub
from screengate.domain.errors import TooManyEventStreams
from screengate.domain.ids import DeviceId, SessionId

TV, PHONE = DeviceId("tv"), DeviceId("phone")


async def test_a_devices_fourth_stream_replaces_its_oldest_and_no_other() -> None:
    hub = LocalNoticeHub(InProcessBus(), per_device=3)
    phone = hub.listen(SessionId("p"), PHONE, None)
    first, second, third = (hub.listen(SessionId("t"), TV, None) for _ in range(3))

    fourth = hub.listen(SessionId("t"), TV, None)

    assert first.replaced
    assert await first.next(10.0) is None  # at once: a replaced stream waits for nothing
    assert not any(s.replaced for s in (second, third, fourth, phone))
    assert hub.listening() == 4
    first.close()  # its reader ends it; closing again is harmless
    assert hub.listening() == 4


async def test_a_waiting_stream_wakes_when_it_is_replaced() -> None:
    hub = LocalNoticeHub(InProcessBus(), per_device=1)
    old = hub.listen(SessionId("t"), TV, None)
    waiting = asyncio.ensure_future(old.next(30.0))
    await asyncio.sleep(0)  # it waits now, with 30 s to go
    hub.listen(SessionId("t"), TV, None)

    assert await asyncio.wait_for(waiting, 1.0) is None
    assert old.replaced


def test_an_address_holds_its_budget_of_places_and_gets_each_back() -> None:
    hub = LocalNoticeHub(InProcessBus(), per_address=2)
    with hub.admit("203.0.113.7"), hub.admit("203.0.113.7"):
        with pytest.raises(TooManyEventStreams) as refused:
            hub.admit("203.0.113.7").__enter__()
        with hub.admit("198.51.100.1"):  # another address has places of its own
            pass
    assert refused.value.retry_after_seconds > 0
    with hub.admit("203.0.113.7"), hub.admit("203.0.113.7"):
        pass


def test_a_place_comes_back_when_its_stream_fails() -> None:
    hub = LocalNoticeHub(InProcessBus(), per_address=1)
    with pytest.raises(RuntimeError), hub.admit("203.0.113.7"):
        raise RuntimeError("the stream broke")
    with hub.admit("203.0.113.7"):
        pass
