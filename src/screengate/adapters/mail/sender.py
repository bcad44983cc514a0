"""The outbox's sender: a task inside the server that hands due mail to the transport.

Each message is claimed in its own short transaction (FOR UPDATE SKIP LOCKED on PostgreSQL,
BEGIN IMMEDIATE on SQLite) and held for a lease while it is sent, so several instances on one
database share the work and never send a message twice. A failed try is retried with doubling
waits; after the last one the message is FAILED, logged, and listed by `screengate mail outbox`.
Only a crash between the server's "250 OK" and the next commit can send one twice (after the
lease): the at-least-once corner every outbox has.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import structlog

from screengate.adapters.mail.transport import DeliveryFailed, MailTransport
from screengate.domain.mail import Message, RetryPolicy
from screengate.ports import Clock, UnitOfWorkFactory

log = structlog.get_logger("screengate.mail")


class MailSender:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        transport: MailTransport,
        clock: Clock,
        *,
        retry: RetryPolicy,
        poll_seconds: float = 2.0,
        lease: timedelta = timedelta(minutes=5),
    ) -> None:
        self._uow = uow
        self._transport = transport
        self._clock = clock
        self._retry = retry
        self._poll_seconds = poll_seconds
        self._lease = lease
        self._woken = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """ports.Postman: a change that mails just committed."""
        self._woken.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="screengate-mail-sender")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def run(self) -> None:
        while True:
            try:
                sent = await self.deliver_due()
            except Exception as error:  # the store is down: look again at the next poll
                log.warning("mail_outbox_unreachable", error_type=type(error).__name__)
                sent = 0
            if sent:
                continue
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll_seconds):
                    await self._woken.wait()
            self._woken.clear()

    async def deliver_due(self) -> int:
        """Send what is due now, one claimed message at a time; how many were tried."""
        tried = 0
        while (message := await self._claim()) is not None:
            await self._deliver(message)
            tried += 1
        return tried

    async def _claim(self) -> Message | None:
        now = self._clock.now()
        async with self._uow() as uow:
            claimed = await uow.outbox.claim(now, now + self._lease, 1)
            await uow.commit()
        return claimed[0] if claimed else None

    async def _deliver(self, message: Message) -> None:
        try:
            await self._transport.deliver(message)
        except DeliveryFailed as failure:
            await self._failed(message, failure)
            return
        async with self._uow() as uow:
            await uow.outbox.sent(message.id, self._clock.now())
            await uow.commit()
        log.info("mail_sent", message_id=message.id, kind=message.kind.value)

    async def _failed(self, message: Message, failure: DeliveryFailed) -> None:
        reason = str(failure)
        async with self._uow() as uow:
            if failure.permanent or self._retry.gives_up_after(message.attempts):
                await uow.outbox.give_up(message.id, reason)
                gave_up = True
            else:
                retry_at = self._clock.now() + self._retry.delay_after(message.attempts)
                await uow.outbox.retry(message.id, reason, retry_at)
                gave_up = False
            await uow.commit()
        if gave_up:
            log.error(
                "mail_undeliverable",
                message_id=message.id,
                kind=message.kind.value,
                attempts=message.attempts,
                error=reason,
            )
        else:
            log.warning(
                "mail_delivery_failed_will_retry",
                message_id=message.id,
                kind=message.kind.value,
                attempts=message.attempts,
                error=reason,
            )
