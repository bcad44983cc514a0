"""Getting an account back by mail: Forgot password?, and "This wasn't me"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog

from screengate.domain.accounts import Account, check_new_password, normalise_email
from screengate.domain.errors import InvalidEmail, InvalidLink
from screengate.domain.events import EventKind, SecurityEvent
from screengate.domain.ids import AccountId
from screengate.domain.mail import Link, LinkPurpose, MailKind
from screengate.domain.sessions import SignOutReason, hash_token
from screengate.ports import Ports, UnitOfWork
from screengate.services.announce import announce
from screengate.services.mail import (
    forgot_link,
    mail_committed,
    mail_ports,
    new_link,
    queue_mail,
    when,
)
from screengate.services.sign_out import end_everywhere
from screengate.services.views import SignOutReceipt

log = structlog.get_logger("screengate.recovery")

# A token longer than any we hand out is not looked up at all.
MAX_TOKEN = 200


async def check_reset_request(ports: Ports, email: str, ip: str | None) -> str:
    """Count the request (TooManyMailRequests past the limits); the email, normalised. Called
    before answering 202, so it must not depend on whether the email has an account."""
    try:
        email = normalise_email(email)
    except InvalidEmail:
        email = email.strip().lower()[:254]
    await mail_ports(ports).throttle.hit(email, ip)
    return email


async def mail_reset_link(ports: Ports, email: str, ip: str | None) -> None:
    """After the 202: mail a reset link if the email has an account; nothing otherwise. Run
    after the answer has gone, so its time tells nobody which it was."""
    try:
        async with ports.uow() as uow:
            account = await uow.accounts.by_email(email)
            if account is None:
                return
            await uow.lock_account(account.id)
            await _mail_reset(uow, ports, account, MailKind.PASSWORD_RESET, {})
            await uow.events.add(
                SecurityEvent(
                    account_id=account.id,
                    kind=EventKind.PASSWORD_RESET_REQUESTED,
                    at=ports.clock.now(),
                    ip=ip,
                    location=ports.geo.locate(ip),
                )
            )
            await uow.commit()
    except Exception as error:  # after the answer: nobody to tell but the log
        log.error("password_reset_mail_failed", error_type=type(error).__name__)
        return
    mail_committed(ports)


async def _mail_reset(
    uow: UnitOfWork,
    ports: Ports,
    account: Account,
    kind: MailKind,
    context: dict[str, object],
) -> None:
    message_id = ports.tokens.new_id()
    link = await new_link(uow, ports, LinkPurpose.RESET_PASSWORD, account.id, message_id=message_id)
    await queue_mail(
        uow,
        ports,
        kind,
        to=account.email,
        account_id=account.id,
        context={"link": link, **context},
        message_id=message_id,
    )


@dataclass(frozen=True, slots=True)
class OpenedLink:
    """What a link's page shows before anyone confirms."""

    purpose: LinkPurpose
    email: str
    expires_at: datetime
    # The new address (confirm_email) or the one to go back to (undo_email).
    other_email: str | None = None


async def open_link(ports: Ports, token: str, *purposes: LinkPurpose) -> OpenedLink:
    """The page a mailed link opens: InvalidLink unless it still works. The first opening is
    logged (the security activity shows which alerts were opened from the link)."""
    now = ports.clock.now()
    link = await usable_link(ports, token, purposes, now)
    async with ports.uow() as uow:
        account = await uow.accounts.get(link.account_id)
        if account is None:
            raise InvalidLink()
        if await uow.links.mark_opened(link.token_hash, now):
            await uow.events.add(
                SecurityEvent(
                    account_id=account.id,
                    kind=EventKind.MAIL_LINK_OPENED,
                    at=now,
                    detail={"message_id": link.message_id, "link": link.purpose.value},
                )
            )
            await uow.commit()
    return OpenedLink(link.purpose, account.email, link.expires_at, link.email)


async def reset_password(
    ports: Ports, token: str, new_password: str, ip: str | None = None
) -> SignOutReceipt:
    """A new password from a mailed link: the link is spent, every other reset link voided,
    every device signed out (password_reset), and the owner told."""
    now = ports.clock.now()
    link = await usable_link(ports, token, (LinkPurpose.RESET_PASSWORD,), now)
    async with ports.reader() as reader:
        account = await reader.accounts.get(link.account_id)
    if account is None:
        raise InvalidLink()
    check_new_password(
        new_password, email=account.email, common=ports.common_passwords, field="new_password"
    )
    new_hash = await ports.hasher.hash(new_password)
    async with ports.uow() as uow:
        await uow.lock_account(link.account_id)
        # Spent under the account's lock: of two resets racing with one link, one wins.
        if not await uow.links.use(link.token_hash, now):
            raise InvalidLink()
        fresh = await uow.accounts.get(link.account_id)
        if fresh is None:
            raise InvalidLink()
        fresh.password_hash = new_hash
        fresh.password_changed_at = now
        fresh.failed_sign_ins = 0
        fresh.password_reset_required = False
        await uow.accounts.save(fresh)
        await uow.links.void(fresh.id, LinkPurpose.RESET_PASSWORD, now)
        await uow.events.add(
            SecurityEvent(
                account_id=fresh.id,
                kind=EventKind.PASSWORD_RESET,
                at=now,
                ip=ip,
                location=ports.geo.locate(ip),
            )
        )
        receipt = await end_everywhere(uow, ports, fresh.id, SignOutReason.PASSWORD_RESET, ip=ip)
        await queue_mail(
            uow,
            ports,
            MailKind.PASSWORD_CHANGED,
            to=fresh.email,
            account_id=fresh.id,
            context={
                "when": when(now),
                "how": "with a reset link from an email",
                "signed_out": True,
                "forgot_link": forgot_link(ports),
            },
        )
        await uow.commit()
    mail_committed(ports)
    return await announce(ports, receipt)


async def secure_account(ports: Ports, token: str, ip: str | None = None) -> SignOutReceipt:
    """ "This wasn't me": every device signed out (account_secured), reset links voided, the
    password refused until reset, and a reset link mailed at once."""
    now = ports.clock.now()
    link = await usable_link(ports, token, (LinkPurpose.SECURE_ACCOUNT,), now)
    async with ports.uow() as uow:
        await uow.lock_account(link.account_id)
        if not await uow.links.use(link.token_hash, now):
            raise InvalidLink()
        account = await uow.accounts.get(link.account_id)
        if account is None:
            raise InvalidLink()
        receipt = await lock_out_everyone(uow, ports, account, link, ip, now)
        await uow.commit()
    mail_committed(ports)
    return await announce(ports, receipt)


async def lock_out_everyone(
    uow: UnitOfWork,
    ports: Ports,
    account: Account,
    link: Link,
    ip: str | None,
    now: datetime,
) -> SignOutReceipt:
    """Inside the caller's transaction (holding the account's lock): the account secured."""
    if link.purpose is LinkPurpose.UNDO_EMAIL and link.email:
        # The change being undone may have been the intruder's: the address goes back too.
        previous, account.email = account.email, link.email
        await _log(uow, ports, account.id, EventKind.EMAIL_CHANGED, ip, now, previous, link.email)
    account.password_reset_required = True
    await uow.accounts.save(account)
    await uow.links.void(account.id, LinkPurpose.RESET_PASSWORD, now)
    await uow.links.void(account.id, LinkPurpose.CONFIRM_EMAIL, now)
    await uow.events.add(
        SecurityEvent(
            account_id=account.id,
            kind=EventKind.ACCOUNT_SECURED,
            at=now,
            ip=ip,
            location=ports.geo.locate(ip),
            detail={"link": link.purpose.value},
        )
    )
    receipt = await end_everywhere(uow, ports, account.id, SignOutReason.ACCOUNT_SECURED, ip=ip)
    await _mail_reset(
        uow, ports, account, MailKind.ACCOUNT_SECURED, {"count": len(receipt.devices)}
    )
    return receipt


async def _log(
    uow: UnitOfWork,
    ports: Ports,
    account_id: AccountId,
    kind: EventKind,
    ip: str | None,
    now: datetime,
    old_email: str,
    new_email: str,
) -> None:
    await uow.events.add(
        SecurityEvent(
            account_id=account_id,
            kind=kind,
            at=now,
            ip=ip,
            location=ports.geo.locate(ip),
            detail={"from": old_email, "to": new_email},
        )
    )


async def usable_link(
    ports: Ports, token: str, purposes: tuple[LinkPurpose, ...], now: datetime
) -> Link:
    if not token or len(token) > MAX_TOKEN:
        raise InvalidLink()
    async with ports.reader() as uow:
        link = await uow.links.get(hash_token(token))
    if link is None or link.purpose not in purposes or not link.usable(now):
        raise InvalidLink()
    return link
