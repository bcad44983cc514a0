"""The sender over the memory outbox and a scripted transport: no I/O, no sleeping."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

from screengate.adapters.mail.sender import MailSender
from screengate.adapters.mail.transport import DeliveryFailed
from screengate.adapters.memory import MemoryDatabase, memory_unit_of_work_factory
from screengate.domain.mail import DeliveryState, MailKind, Message, RetryPolicy
from screengate.ports import UnitOfWorkFactory

T0 = datetime(2026, 12, 1, 21, 0, tzinfo=UTC)
POLICY = RetryPolicy(timedelta(seconds=5), timedelta(minutes=1), max_attempts=3)


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def now(self) -> datetime:
        return self.at


class Transport:
    """Delivers, or refuses while `down`; remembers every message it was handed."""

    def __init__(self, *, down: bool = False, permanent: bool = False) -> None:
        self.down = down
        self.permanent = permanent
        self.delivered: list[str] = []

    @property
    def name(self) -> str:
        return "scripted"

    async def deliver(self, message: Message) -> None:
        await asyncio.sleep(0)  # let another sender run in between
        if self.down:
            raise DeliveryFailed("ConnectionRefusedError", permanent=self.permanent)
        self.delivered.append(message.id)


def message(n: int) -> Message:
    return Message(
        id=f"m{n}",
        to="ana@example.com",
        subject="s",
        text="t",
        html="h",
        kind=MailKind.PASSWORD_RESET,
        created_at=T0,
    )


async def queue(uow: UnitOfWorkFactory, count: int) -> None:
    async with uow() as work:
        for n in range(count):
            await work.outbox.add(message(n))
        await work.commit()


async def outbox(uow: UnitOfWorkFactory) -> list[Message]:
    async with uow() as work:
        return await work.outbox.recent(100)


async def test_two_senders_on_one_outbox_deliver_each_message_once() -> None:
    uow = memory_unit_of_work_factory(MemoryDatabase())
    await queue(uow, 10)
    transport, clock = Transport(), Clock()
    senders = [MailSender(uow, transport, clock, retry=POLICY) for _ in range(2)]

    await asyncio.gather(*(s.deliver_due() for s in senders))

    assert Counter(transport.delivered) == {f"m{n}": 1 for n in range(10)}
    assert {m.state for m in await outbox(uow)} == {DeliveryState.SENT}


async def test_a_failed_try_waits_its_back_off_and_the_last_one_gives_up() -> None:
    uow = memory_unit_of_work_factory(MemoryDatabase())
    await queue(uow, 1)
    transport, clock = Transport(down=True), Clock()
    sender = MailSender(uow, transport, clock, retry=POLICY)

    assert await sender.deliver_due() == 1
    assert await sender.deliver_due() == 0  # not due for 5 s
    clock.at += timedelta(seconds=5)
    assert await sender.deliver_due() == 1
    clock.at += timedelta(seconds=10)
    assert await sender.deliver_due() == 1
    [gave_up] = await outbox(uow)
    assert gave_up.state is DeliveryState.FAILED
    assert gave_up.attempts == 3
    clock.at += timedelta(hours=1)
    assert await sender.deliver_due() == 0


async def test_a_permanent_refusal_is_not_tried_again() -> None:
    uow = memory_unit_of_work_factory(MemoryDatabase())
    await queue(uow, 1)
    sender = MailSender(uow, Transport(down=True, permanent=True), Clock(), retry=POLICY)
    await sender.deliver_due()
    [refused] = await outbox(uow)
    assert refused.state is DeliveryState.FAILED
    assert refused.attempts == 1


async def test_mail_held_while_the_server_is_down_goes_once_it_is_back() -> None:
    uow = memory_unit_of_work_factory(MemoryDatabase())
    await queue(uow, 2)
    transport, clock = Transport(down=True), Clock()
    sender = MailSender(uow, transport, clock, retry=POLICY)
    await sender.deliver_due()
    transport.down = False
    clock.at += timedelta(seconds=5)
    await sender.deliver_due()
    clock.at += timedelta(minutes=5)
    await sender.deliver_due()
    assert sorted(transport.delivered) == ["m0", "m1"]
