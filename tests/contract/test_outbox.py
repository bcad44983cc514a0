"""The outbox and the mailed links' tokens, the same on every store: memory, SQLite, PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from screengate.domain.mail import DeliveryState, Link, LinkPurpose, MailKind, Message
from tests.contract.factories import T0, make_account, new_id
from tests.contract.test_stores import UowFactory, store

LEASE = timedelta(minutes=5)


def make_message(account_id: str | None = None, minutes: int = 0) -> Message:
    return Message(
        id=new_id(),
        to="ana@example.com",
        subject="Your password was changed",
        text="Hi,\n",
        html="<p>Hi,</p>",
        kind=MailKind.PASSWORD_CHANGED,
        created_at=T0 + timedelta(minutes=minutes),
        account_id=account_id,  # type: ignore[arg-type]
    )


async def queue(uow_factory: UowFactory, *messages: Message) -> None:
    async with uow_factory() as uow:
        for message in messages:
            await uow.outbox.add(message)
        await uow.commit()


async def claim(
    uow_factory: UowFactory, now: timedelta = timedelta(0), limit: int = 10
) -> list[str]:
    async with uow_factory() as uow:
        claimed = await uow.outbox.claim(T0 + now, T0 + now + LEASE, limit)
        await uow.commit()
    return [m.id for m in claimed]


async def test_a_message_of_a_change_that_rolled_back_is_never_sent(
    uow_factory: UowFactory,
) -> None:
    async with uow_factory() as uow:
        await uow.outbox.add(make_message())
        # No commit: the change and its mail go together.
    assert await claim(uow_factory) == []


async def test_due_messages_are_claimed_oldest_first_with_the_try_counted(
    uow_factory: UowFactory,
) -> None:
    account = make_account()
    await store(uow_factory, account)
    late, early = make_message(account.id, 2), make_message(account.id, 1)
    await queue(uow_factory, late, early)

    assert await claim(uow_factory) == [early.id, late.id]
    async with uow_factory() as uow:
        held = await uow.outbox.get(early.id)
    assert held is not None
    assert held.attempts == 1
    assert held.account_id == account.id
    assert held.state is DeliveryState.PENDING


async def test_a_claimed_message_is_not_claimed_again_until_its_lease_runs_out(
    uow_factory: UowFactory,
) -> None:
    message = make_message()
    await queue(uow_factory, message)
    assert await claim(uow_factory) == [message.id]
    assert await claim(uow_factory, timedelta(minutes=1)) == []
    # The sender died mid-send: another takes it once the lease is over.
    assert await claim(uow_factory, LEASE) == [message.id]


async def test_a_sent_message_is_never_claimed_again(uow_factory: UowFactory) -> None:
    message = make_message()
    await queue(uow_factory, message)
    await claim(uow_factory)
    async with uow_factory() as uow:
        await uow.outbox.sent(message.id, T0)
        await uow.commit()
    assert await claim(uow_factory, LEASE * 2) == []
    async with uow_factory() as uow:
        assert await uow.outbox.states([message.id, "nope"]) == {message.id: DeliveryState.SENT}


async def test_a_failed_try_is_due_again_at_its_retry_time(uow_factory: UowFactory) -> None:
    message = make_message()
    await queue(uow_factory, message)
    await claim(uow_factory)
    async with uow_factory() as uow:
        await uow.outbox.retry(message.id, "ConnectionRefusedError", T0 + timedelta(seconds=10))
        await uow.commit()
    assert await claim(uow_factory, timedelta(seconds=9)) == []
    assert await claim(uow_factory, timedelta(seconds=10)) == [message.id]


async def test_a_message_given_up_on_stays_failed_with_its_error(uow_factory: UowFactory) -> None:
    message = make_message()
    await queue(uow_factory, message)
    await claim(uow_factory)
    async with uow_factory() as uow:
        await uow.outbox.give_up(message.id, "smtp 550: no such mailbox")
        await uow.commit()
    assert await claim(uow_factory, LEASE * 2) == []
    async with uow_factory() as uow:
        [failed] = await uow.outbox.recent(10, DeliveryState.FAILED)
    assert failed.id == message.id
    assert failed.last_error == "smtp 550: no such mailbox"


async def test_concurrent_claims_never_share_a_message(uow_factory: UowFactory) -> None:
    messages = [make_message(minutes=n) for n in range(12)]
    await queue(uow_factory, *messages)

    claims = await asyncio.gather(*(claim(uow_factory, limit=2) for _ in range(8)))

    taken = [message_id for claimed in claims for message_id in claimed]
    assert len(taken) == len(set(taken))
    assert set(taken) == {m.id for m in messages}


def make_link(account_id: str, purpose: LinkPurpose = LinkPurpose.RESET_PASSWORD) -> Link:
    return Link(
        token_hash=new_id(),
        purpose=purpose,
        account_id=account_id,  # type: ignore[arg-type]
        created_at=T0,
        expires_at=T0 + timedelta(hours=1),
        device_key="smart_tv/Hotel TV",
    )


async def test_a_link_is_used_once(uow_factory: UowFactory) -> None:
    account = make_account()
    link = make_link(account.id)
    await store(uow_factory, account)
    async with uow_factory() as uow:
        await uow.links.add(link)
        await uow.commit()

    async def use() -> bool:
        async with uow_factory() as uow:
            used = await uow.links.use(link.token_hash, T0)
            await uow.commit()
        return used

    assert sorted(await asyncio.gather(*(use() for _ in range(4)))) == [False] * 3 + [True]


async def test_voiding_spends_only_unused_links_of_that_purpose(uow_factory: UowFactory) -> None:
    account = make_account()
    reset, other = make_link(account.id), make_link(account.id)
    secure = make_link(account.id, LinkPurpose.SECURE_ACCOUNT)
    await store(uow_factory, account)
    async with uow_factory() as uow:
        for link in (reset, other, secure):
            await uow.links.add(link)
        await uow.links.use(other.token_hash, T0)
        assert await uow.links.void(account.id, LinkPurpose.RESET_PASSWORD, T0) == 1
        await uow.commit()
    async with uow_factory() as uow:
        voided = await uow.links.get(reset.token_hash)
        kept = await uow.links.get(secure.token_hash)
    assert voided is not None
    assert not voided.usable(T0)
    assert kept is not None
    assert kept.usable(T0)


async def test_a_links_first_opening_is_kept_and_alerts_are_found_by_device(
    uow_factory: UowFactory,
) -> None:
    account = make_account()
    link = make_link(account.id, LinkPurpose.SECURE_ACCOUNT)
    link.message_id = "message-1"
    await store(uow_factory, account)
    async with uow_factory() as uow:
        await uow.links.add(link)
        assert await uow.links.opened(["message-1"]) == set()
        assert await uow.links.mark_opened(link.token_hash, T0)
        assert await uow.links.opened(["message-1", "message-2"]) == {"message-1"}
        assert not await uow.links.mark_opened(link.token_hash, T0 + timedelta(minutes=1))
        purpose = LinkPurpose.SECURE_ACCOUNT
        assert await uow.links.sent_since(account.id, purpose, "smart_tv/Hotel TV", T0)
        assert not await uow.links.sent_since(account.id, purpose, "phone/Ana", T0)
        later = T0 + timedelta(seconds=1)
        assert not await uow.links.sent_since(account.id, purpose, "smart_tv/Hotel TV", later)
        await uow.commit()
    async with uow_factory() as uow:
        opened = await uow.links.get(link.token_hash)
    assert opened is not None
    assert opened.opened_at == T0
