"""Signing up, the account page, changing the password or the plan."""

from __future__ import annotations

from screengate.domain.accounts import Account, check_new_password, normalise_email
from screengate.domain.errors import AccountNotFound, EmailTaken, InvalidToken
from screengate.domain.events import EventKind, SecurityEvent
from screengate.domain.ids import AccountId, ProfileId
from screengate.domain.mail import MailKind
from screengate.domain.notices import CodeDecided
from screengate.domain.profiles import Profile, clean_profile_name
from screengate.domain.sessions import Principal, SignOutReason, SignOutScope
from screengate.ports import Ports, UnitOfWork
from screengate.services.announce import account_changed, announce
from screengate.services.mail import forgot_link, mail_committed, queue_mail, when
from screengate.services.passwords import confirm_password
from screengate.services.sign_out import end_and_log, void_codes
from screengate.services.views import AccountView, SignOutReceipt


async def sign_up(
    ports: Ports, *, email: str, password: str, plan: str, ip: str | None = None
) -> Account:
    # Counted before anything else, malformed input too: sign-up hashes a password.
    async with ports.throttle.attempt(ip):
        email = normalise_email(email)
        ports.plans[plan]
        check_new_password(password, email=email, common=ports.common_passwords)
        async with ports.reader() as uow:
            if await uow.accounts.by_email(email) is not None:
                raise EmailTaken(field="email")
        password_hash = await ports.hasher.hash(password)
    now = ports.clock.now()
    account = Account(
        id=AccountId(ports.tokens.new_id()),
        email=email,
        password_hash=password_hash,
        plan=plan,
        created_at=now,
        password_changed_at=now,
    )
    first_profile = Profile(
        id=ProfileId(ports.tokens.new_id()),
        account_id=account.id,
        name=clean_profile_name(email.partition("@")[0].replace(".", " ").title()[:50]),
        kids=False,
        created_at=now,
    )
    async with ports.uow() as uow:
        await uow.accounts.add(account)
        await uow.profiles.add(first_profile)
        await uow.events.add(
            SecurityEvent(
                account_id=account.id,
                kind=EventKind.SIGNED_UP,
                at=now,
                ip=ip,
                location=ports.geo.locate(ip),
                detail={"plan": plan},
            )
        )
        await uow.commit()
    return account


async def get_account(ports: Ports, principal: Principal) -> AccountView:
    async def read() -> AccountView:
        async with ports.reader() as uow:
            account = await _account(uow, principal.account_id)
            profiles = await uow.profiles.for_account(account.id)
        return AccountView(account=account, plan=ports.plans[account.plan], profiles=profiles)

    return await ports.views.read_through(principal.account_id, read)


async def change_password(
    ports: Ports,
    principal: Principal,
    *,
    current_password: str,
    new_password: str,
    sign_out_all_devices: bool = True,
    ip: str | None = None,
) -> SignOutReceipt | None:
    """The other half of taking an account back: every other device must sign in again.
    The current password is checked like a sign-in's (counted, throttled, wrong ones logged)."""
    async with ports.reader() as uow:
        account = await _account(uow, principal.account_id)
    # The new password's rules first: nothing is hashed for a change that cannot be made.
    check_new_password(
        new_password, email=account.email, common=ports.common_passwords, field="new_password"
    )
    await confirm_password(
        ports,
        principal,
        current_password,
        purpose="change the password",
        field="current_password",
        ip=ip,
    )
    new_hash = await ports.hasher.hash(new_password)
    now = ports.clock.now()
    async with ports.uow() as uow:
        await uow.lock_account(account.id)
        fresh = await _account(uow, account.id)
        fresh.password_hash = new_hash
        fresh.password_changed_at = now
        fresh.failed_sign_ins = 0
        await uow.accounts.save(fresh)
        await uow.events.add(
            SecurityEvent(
                account_id=account.id,
                kind=EventKind.PASSWORD_CHANGED,
                at=now,
                device_id=principal.device_id,
                session_id=principal.session_id,
                ip=ip,
                location=ports.geo.locate(ip),
                detail={"signed_out_other_devices": sign_out_all_devices},
            )
        )
        receipt = None
        others = SignOutScope(account.id, keep=principal.session_id)
        if sign_out_all_devices:
            receipt = await end_and_log(
                uow, ports, others, SignOutReason.PASSWORD_CHANGED, principal, ip
            )
            voided: tuple[str, ...] = ()
        else:
            # Devices stay signed in, but a TV code approved with the old password does not
            # sign anything in after the new one.
            voided = await void_codes(uow, ports, others, SignOutReason.PASSWORD_CHANGED, now)
        if ports.mail is not None:
            await queue_mail(
                uow,
                ports,
                MailKind.PASSWORD_CHANGED,
                to=fresh.email,
                account_id=fresh.id,
                context={
                    "when": when(now),
                    "how": None,
                    "signed_out": sign_out_all_devices,
                    "forgot_link": forgot_link(ports),
                },
            )
        await uow.commit()
    mail_committed(ports)
    if receipt is not None:
        receipt = await announce(ports, receipt)
    for authorization_id in voided:
        await ports.bus.publish(CodeDecided(authorization_id, "voided"))
    return receipt


async def change_plan(ports: Ports, email: str, plan: str) -> Account:
    """The operator's plan change. A downgrade stops nothing already playing."""
    ports.plans[plan]
    async with ports.uow() as uow:
        account = await uow.accounts.by_email(normalise_email(email))
        if account is None:
            raise AccountNotFound(email=email)
        await uow.lock_account(account.id)
        previous, account.plan = account.plan, plan
        await uow.accounts.save(account)
        await uow.events.add(
            SecurityEvent(
                account_id=account.id,
                kind=EventKind.PLAN_CHANGED,
                at=ports.clock.now(),
                detail={"from": previous, "to": plan, "by": "operator"},
            )
        )
        await uow.commit()
    await account_changed(ports, account.id)
    return account


async def unlock_sign_in(ports: Ports, email: str) -> Account:
    """Support lifts the lock that 100 consecutive failed sign-ins put on an account."""
    async with ports.uow() as uow:
        account = await uow.accounts.by_email(normalise_email(email))
        if account is None:
            raise AccountNotFound(email=email)
        await uow.lock_account(account.id)
        account.failed_sign_ins = 0
        await uow.accounts.save(account)
        await uow.events.add(
            SecurityEvent(
                account_id=account.id,
                kind=EventKind.SIGN_IN_UNLOCKED,
                at=ports.clock.now(),
                detail={"by": "operator"},
            )
        )
        await uow.commit()
    return account


async def _account(uow: UnitOfWork, account_id: AccountId) -> Account:
    account = await uow.accounts.get(account_id)
    if account is None:
        # The session outlived its account: treat the credential as unknown.
        raise InvalidToken()
    return account
