"""Changing the account's email: nothing changes until the new address confirms, and the old
one is told, with a link to undo it for 7 days."""

from __future__ import annotations

from screengate.domain.accounts import normalise_email
from screengate.domain.errors import EmailTaken, InvalidLink
from screengate.domain.events import EventKind, SecurityEvent
from screengate.domain.mail import LinkPurpose, MailKind
from screengate.domain.sessions import Principal
from screengate.ports import Ports
from screengate.services.announce import account_changed, announce
from screengate.services.mail import mail_committed, new_link, queue_mail, when
from screengate.services.passwords import confirm_password
from screengate.services.recovery import lock_out_everyone, usable_link


async def request_email_change(
    ports: Ports, principal: Principal, *, new_email: str, password: str, ip: str | None = None
) -> None:
    """Mail a confirmation link to the new address; the account keeps its email meanwhile.
    The password is checked like every password check (counted, throttled, wrong ones logged),
    after the new address is found well-formed: nothing is hashed for a change that cannot be."""
    new_email = normalise_email(new_email)
    account = await confirm_password(
        ports, principal, password, purpose="change the email", field="password", ip=ip
    )
    now = ports.clock.now()
    async with ports.uow() as uow:
        await uow.lock_account(account.id)
        if await uow.accounts.by_email(new_email) is not None:
            raise EmailTaken(field="new_email")
        message_id = ports.tokens.new_id()
        link = await new_link(
            uow,
            ports,
            LinkPurpose.CONFIRM_EMAIL,
            account.id,
            message_id=message_id,
            email=new_email,
        )
        await queue_mail(
            uow,
            ports,
            MailKind.EMAIL_CHANGE_CONFIRM,
            to=new_email,
            account_id=account.id,
            context={"new_email": new_email, "link": link},
            message_id=message_id,
        )
        await uow.events.add(
            SecurityEvent(
                account_id=account.id,
                kind=EventKind.EMAIL_CHANGE_REQUESTED,
                at=now,
                device_id=principal.device_id,
                session_id=principal.session_id,
                ip=ip,
                location=ports.geo.locate(ip),
                detail={"to": new_email},
            )
        )
        await uow.commit()
    mail_committed(ports)


async def confirm_email_change(ports: Ports, token: str, ip: str | None = None) -> None:
    """Follow a link from the email-change mails: the new address's confirmation makes the
    change (and tells the old address, with an undo link); the old address's undo link takes
    the address back and secures the account, as "This wasn't me" does."""
    now = ports.clock.now()
    link = await usable_link(ports, token, (LinkPurpose.CONFIRM_EMAIL, LinkPurpose.UNDO_EMAIL), now)
    receipt = None
    async with ports.uow() as uow:
        await uow.lock_account(link.account_id)
        account = await uow.accounts.get(link.account_id)
        if account is None or link.email is None:
            raise InvalidLink()
        taken = await uow.accounts.by_email(link.email)
        if taken is not None and taken.id != account.id:
            raise EmailTaken(field="token")
        if not await uow.links.use(link.token_hash, now):
            raise InvalidLink()
        if link.purpose is LinkPurpose.UNDO_EMAIL:
            receipt = await lock_out_everyone(uow, ports, account, link, ip, now)
        else:
            old_email, account.email = account.email, link.email
            await uow.accounts.save(account)
            await uow.links.void(account.id, LinkPurpose.CONFIRM_EMAIL, now)
            await uow.events.add(
                SecurityEvent(
                    account_id=account.id,
                    kind=EventKind.EMAIL_CHANGED,
                    at=now,
                    ip=ip,
                    location=ports.geo.locate(ip),
                    detail={"from": old_email, "to": link.email},
                )
            )
            message_id = ports.tokens.new_id()
            undo = await new_link(
                uow,
                ports,
                LinkPurpose.UNDO_EMAIL,
                account.id,
                message_id=message_id,
                email=old_email,
            )
            await queue_mail(
                uow,
                ports,
                MailKind.EMAIL_CHANGED,
                to=old_email,
                account_id=account.id,
                context={
                    "old_email": old_email,
                    "new_email": link.email,
                    "when": when(now),
                    "link": undo,
                },
                message_id=message_id,
            )
        await uow.commit()
    mail_committed(ports)
    if receipt is not None:
        await announce(ports, receipt)
    await account_changed(ports, link.account_id)
