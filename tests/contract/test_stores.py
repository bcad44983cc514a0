"""The store contract of ports.py, run against every backend (see conftest.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta, timezone

import pytest

from screengate.domain.accounts import Account
from screengate.domain.devices import Activity, Device
from screengate.domain.downloads import Download
from screengate.domain.errors import EmailTaken
from screengate.domain.events import EventKind, SecurityEvent
from screengate.domain.ids import AccountId, DeviceId, SessionId
from screengate.domain.profiles import Profile
from screengate.domain.sessions import Credential, CredentialKind, Session, SignOutReason
from screengate.domain.streams import Stream
from screengate.ports import UnitOfWork
from tests.contract.factories import (
    T0,
    make_account,
    make_credential,
    make_device,
    make_event,
    make_profile,
    make_session,
)

UowFactory = Callable[[], UnitOfWork]
Record = Account | Profile | Device | Session | Credential | SecurityEvent | Stream | Download


async def store(uow_factory: UowFactory, *records: Record) -> None:
    """Add the records, parents before children, in one committed unit of work."""
    async with uow_factory() as uow:
        for record in records:
            await _add(uow, record)
        await uow.commit()


async def _add(uow: UnitOfWork, record: Record) -> None:
    if isinstance(record, Account):
        await uow.accounts.add(record)
    elif isinstance(record, Profile):
        await uow.profiles.add(record)
    elif isinstance(record, Device):
        await uow.devices.add(record)
    elif isinstance(record, Session):
        await uow.sessions.add(record)
    elif isinstance(record, Credential):
        await uow.credentials.add(record)
    elif isinstance(record, Stream):
        await uow.streams.add(record)
    elif isinstance(record, Download):
        await uow.downloads.add(record)
    else:
        await uow.events.add(record)


async def a_signed_in_device(uow_factory: UowFactory) -> tuple[Account, Device, Session]:
    account = make_account()
    device = make_device(account)
    session = make_session(device)
    await store(uow_factory, account, device, session)
    return account, device, session


async def account_named(uow_factory: UowFactory, account_id: AccountId) -> Account | None:
    async with uow_factory() as uow:
        return await uow.accounts.get(account_id)


async def session_named(uow_factory: UowFactory, session_id: SessionId) -> Session | None:
    async with uow_factory() as uow:
        return await uow.sessions.get(session_id)


# The unit of work


async def test_committed_work_is_seen_by_the_next_unit_of_work(uow_factory: UowFactory) -> None:
    account = make_account()
    await store(uow_factory, account)
    assert await account_named(uow_factory, account.id) == account


async def test_rolled_back_work_leaves_nothing_behind(uow_factory: UowFactory) -> None:
    account = make_account()
    async with uow_factory() as uow:
        await uow.accounts.add(account)
        await uow.profiles.add(make_profile(account))
        await uow.events.add(make_event(account))
    async with uow_factory() as uow:
        assert await uow.accounts.get(account.id) is None
        assert await uow.accounts.by_email(account.email) is None
        assert await uow.profiles.for_account(account.id) == []
        assert await uow.events.page(account.id, before_id=None, limit=10) == []


async def test_an_error_inside_a_unit_of_work_rolls_it_back(uow_factory: UowFactory) -> None:
    account = make_account()

    async def a_use_case_that_fails_half_way() -> None:
        async with uow_factory() as uow:
            await uow.accounts.add(account)
            raise LookupError("no such plan")

    with pytest.raises(LookupError):
        await a_use_case_that_fails_half_way()
    assert await account_named(uow_factory, account.id) is None


async def test_only_what_was_committed_outlives_the_unit_of_work(uow_factory: UowFactory) -> None:
    first, second = make_account(), make_account()
    async with uow_factory() as uow:
        await uow.accounts.add(first)
        await uow.commit()
        await uow.accounts.add(second)
    assert await account_named(uow_factory, first.id) == first
    assert await account_named(uow_factory, second.id) is None


async def test_locking_an_account_serialises_concurrent_writers(uow_factory: UowFactory) -> None:
    account = make_account()
    await store(uow_factory, account)

    async def count_a_failed_sign_in() -> None:
        async with uow_factory() as uow:
            await uow.lock_account(account.id)
            fresh = await uow.accounts.get(account.id)
            assert fresh is not None
            # Yield while holding the lock: without it, every writer would read the same count.
            await asyncio.sleep(0.01)
            fresh.failed_sign_ins += 1
            await uow.accounts.save(fresh)
            await uow.commit()

    await asyncio.gather(*(count_a_failed_sign_in() for _ in range(5)))
    stored = await account_named(uow_factory, account.id)
    assert stored is not None
    assert stored.failed_sign_ins == 5


# Accounts


async def test_an_account_is_found_by_id_and_by_email(uow_factory: UowFactory) -> None:
    account = make_account(totp_secret="JBSWY3DPEHPK3PXP", failed_sign_ins=3, plan="premium")
    await store(uow_factory, account)
    async with uow_factory() as uow:
        assert await uow.accounts.get(account.id) == account
        assert await uow.accounts.by_email(account.email) == account


async def test_an_unknown_account_or_email_is_none(uow_factory: UowFactory) -> None:
    await store(uow_factory, make_account())
    async with uow_factory() as uow:
        assert await uow.accounts.get(AccountId("nobody")) is None
        assert await uow.accounts.by_email("nobody@example.com") is None


async def test_a_second_account_with_the_same_email_is_refused(uow_factory: UowFactory) -> None:
    first = make_account(email="ana@example.com")
    await store(uow_factory, first)
    with pytest.raises(EmailTaken):
        await store(uow_factory, make_account(email="ana@example.com"))
    async with uow_factory() as uow:
        assert await uow.accounts.by_email("ana@example.com") == first


async def test_a_refused_email_leaves_the_unit_of_work_usable(uow_factory: UowFactory) -> None:
    first = make_account(email="ana@example.com")
    other = make_account(email="bea@example.com")
    await store(uow_factory, first)
    async with uow_factory() as uow:
        with pytest.raises(EmailTaken):
            await uow.accounts.add(make_account(email="ana@example.com"))
        await uow.accounts.add(other)
        await uow.commit()
    assert await account_named(uow_factory, other.id) == other


async def test_saving_an_account_changes_what_is_stored(uow_factory: UowFactory) -> None:
    account = make_account()
    await store(uow_factory, account)
    changed = replace(
        account,
        password_hash="$argon2id$new",
        password_changed_at=T0 + timedelta(hours=1),
        plan="premium",
        totp_secret="JBSWY3DPEHPK3PXP",
        failed_sign_ins=7,
    )
    async with uow_factory() as uow:
        await uow.accounts.save(changed)
        await uow.commit()
    assert await account_named(uow_factory, account.id) == changed


# Profiles


async def test_profiles_come_oldest_first_and_only_the_accounts_own(
    uow_factory: UowFactory,
) -> None:
    account, stranger = make_account(), make_account()
    kids = make_profile(account, name="Kids", kids=True, created_at=T0 + timedelta(minutes=2))
    ana = make_profile(account, name="Ana", created_at=T0)
    bea = make_profile(account, name="Bea", pin_hash="$argon2id$pin", created_at=T0 + timedelta(1))
    await store(uow_factory, account, stranger, kids, bea, ana, make_profile(stranger))
    async with uow_factory() as uow:
        assert await uow.profiles.for_account(account.id) == [ana, kids, bea]


async def test_saving_a_profile_changes_its_name_kids_flag_and_pin(uow_factory: UowFactory) -> None:
    account = make_account()
    profile = make_profile(account, name="Ana", kids=False)
    await store(uow_factory, account, profile)
    changed = replace(profile, name="Ana Maria", kids=True, pin_hash="$argon2id$pin")
    async with uow_factory() as uow:
        await uow.profiles.save(changed)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.profiles.for_account(account.id) == [changed]
        await uow.profiles.save(replace(changed, pin_hash=None))
        await uow.commit()
    async with uow_factory() as uow:
        (unlocked,) = await uow.profiles.for_account(account.id)
    assert not unlocked.locked


async def test_a_deleted_profile_is_gone_and_the_others_stay(uow_factory: UowFactory) -> None:
    account = make_account()
    keep = make_profile(account, name="Ana", created_at=T0)
    goes = make_profile(account, name="Guest", created_at=T0 + timedelta(minutes=1))
    await store(uow_factory, account, keep, goes)
    async with uow_factory() as uow:
        await uow.profiles.delete(goes.id)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.profiles.for_account(account.id) == [keep]


async def test_a_profile_a_device_last_played_on_can_still_be_deleted(
    uow_factory: UowFactory,
) -> None:
    account = make_account()
    profile = make_profile(account)
    device = make_device(account, last_activity=Activity(T0, profile.id, "title-1"))
    await store(uow_factory, account, profile, device)
    async with uow_factory() as uow:
        await uow.profiles.delete(profile.id)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.profiles.for_account(account.id) == []
        assert await uow.devices.get(account.id, device.id) == device


# Devices


async def test_a_device_reads_back_as_it_was_written(uow_factory: UowFactory) -> None:
    account = make_account()
    device = make_device(account, user_agent="Mozilla/5.0 (SMART-TV; Tizen 6.0)")
    await store(uow_factory, account, device)
    async with uow_factory() as uow:
        assert await uow.devices.get(account.id, device.id) == device


async def test_a_devices_last_activity_is_kept_and_can_be_replaced(
    uow_factory: UowFactory,
) -> None:
    account = make_account()
    profile = make_profile(account)
    device = make_device(account)
    await store(uow_factory, account, profile, device)
    watched = replace(device, last_activity=Activity(T0 + timedelta(hours=2), profile.id, "t-42"))
    async with uow_factory() as uow:
        await uow.devices.save(watched)
        await uow.commit()
    async with uow_factory() as uow:
        found = await uow.devices.get(account.id, device.id)
    assert found is not None
    assert found.last_activity == Activity(T0 + timedelta(hours=2), profile.id, "t-42")
    assert found == watched


async def test_renaming_a_device_is_saved(uow_factory: UowFactory) -> None:
    account = make_account()
    device = make_device(account, name="Smart TV")
    await store(uow_factory, account, device)
    async with uow_factory() as uow:
        await uow.devices.save(replace(device, name="Bedroom TV"))
        await uow.commit()
    async with uow_factory() as uow:
        found = await uow.devices.get(account.id, device.id)
    assert found is not None
    assert found.name == "Bedroom TV"


async def test_another_accounts_device_is_not_found(uow_factory: UowFactory) -> None:
    owner, stranger = make_account(), make_account()
    device = make_device(owner)
    await store(uow_factory, owner, stranger, device)
    async with uow_factory() as uow:
        assert await uow.devices.get(stranger.id, device.id) is None
        assert await uow.devices.get(owner.id, DeviceId("no-such-device")) is None
        assert await uow.devices.for_account(stranger.id) == []


async def test_an_accounts_devices_are_all_listed(uow_factory: UowFactory) -> None:
    account, stranger = make_account(), make_account()
    tv = make_device(account, created_at=T0)
    phone = make_device(account, name="Ana's phone", created_at=T0 + timedelta(days=1))
    await store(uow_factory, account, stranger, tv, phone, make_device(stranger))
    async with uow_factory() as uow:
        devices = await uow.devices.for_account(account.id)
    assert sorted(devices, key=lambda d: d.created_at) == [tv, phone]


# Sessions


async def test_a_session_reads_back_as_it_was_written(uow_factory: UowFactory) -> None:
    account = make_account()
    device = make_device(account)
    session = make_session(device, ip="203.0.113.7", location="Lisbon, Portugal")
    await store(uow_factory, account, device, session)
    assert await session_named(uow_factory, session.id) == session
    assert await session_named(uow_factory, SessionId("no-such-session")) is None


async def test_live_sessions_exclude_signed_out_ones_and_are_most_recent_first(
    uow_factory: UowFactory,
) -> None:
    account, stranger = make_account(), make_account()
    tv, phone, console = make_device(account), make_device(account), make_device(account)
    elsewhere = make_device(stranger)
    tv_session = make_session(tv, last_seen_at=T0 + timedelta(minutes=5))
    phone_session = make_session(phone, last_seen_at=T0 + timedelta(minutes=9))
    console_session = make_session(console, last_seen_at=T0 + timedelta(minutes=7))
    await store(uow_factory, account, stranger, tv, phone, console, elsewhere)
    await store(uow_factory, tv_session, phone_session, console_session, make_session(elsewhere))
    console_session.sign_out(SignOutReason.SIGNED_OUT_REMOTELY, T0 + timedelta(minutes=8))
    async with uow_factory() as uow:
        await uow.sessions.save(console_session)
        await uow.commit()
    async with uow_factory() as uow:
        live = await uow.sessions.live_for_account(account.id)
    assert [s.id for s in live] == [phone_session.id, tv_session.id]


async def test_a_signed_out_session_keeps_when_and_why(uow_factory: UowFactory) -> None:
    _, _, session = await a_signed_in_device(uow_factory)
    session.sign_out(SignOutReason.TOKEN_REUSE, T0 + timedelta(hours=1))
    async with uow_factory() as uow:
        await uow.sessions.save(session)
        await uow.commit()
    stored = await session_named(uow_factory, session.id)
    assert stored is not None
    assert stored.signed_out_at == T0 + timedelta(hours=1)
    assert stored.sign_out_reason is SignOutReason.TOKEN_REUSE
    assert not stored.live


async def test_touch_updates_last_seen_without_a_read(uow_factory: UowFactory) -> None:
    _, _, session = await a_signed_in_device(uow_factory)
    later = T0 + timedelta(minutes=3)
    async with uow_factory() as uow:
        await uow.sessions.touch(session.id, later, "198.51.100.4", "Porto, Portugal")
        await uow.commit()
    stored = await session_named(uow_factory, session.id)
    assert stored == replace(
        session, last_seen_at=later, ip="198.51.100.4", location="Porto, Portugal"
    )


async def test_touch_without_an_address_keeps_the_last_known_one(uow_factory: UowFactory) -> None:
    account = make_account()
    device = make_device(account)
    session = make_session(device, ip="203.0.113.7", location="Lisbon, Portugal")
    await store(uow_factory, account, device, session)
    async with uow_factory() as uow:
        await uow.sessions.touch(session.id, T0 + timedelta(minutes=1), None, None)
        await uow.commit()
    stored = await session_named(uow_factory, session.id)
    assert stored == replace(session, last_seen_at=T0 + timedelta(minutes=1))


async def test_a_late_touch_does_not_move_last_seen_back(uow_factory: UowFactory) -> None:
    _, _, session = await a_signed_in_device(uow_factory)
    async with uow_factory() as uow:
        await uow.sessions.touch(session.id, T0 + timedelta(minutes=5), None, None)
        await uow.sessions.touch(session.id, T0 + timedelta(minutes=4), None, None)
        await uow.commit()
    stored = await session_named(uow_factory, session.id)
    assert stored is not None
    assert stored.last_seen_at == T0 + timedelta(minutes=5)


# Credentials


async def test_a_credential_is_found_by_its_hash(uow_factory: UowFactory) -> None:
    _, _, session = await a_signed_in_device(uow_factory)
    access = make_credential(session, kind=CredentialKind.ACCESS)
    refresh = make_credential(session, kind=CredentialKind.REFRESH)
    await store(uow_factory, access, refresh)
    async with uow_factory() as uow:
        assert await uow.credentials.get(access.token_hash) == access
        assert await uow.credentials.get(refresh.token_hash) == refresh
        assert await uow.credentials.get("0" * 64) is None


async def test_a_refresh_token_is_claimed_once_only(uow_factory: UowFactory) -> None:
    _, _, session = await a_signed_in_device(uow_factory)
    refresh = make_credential(session)
    await store(uow_factory, refresh)
    used_at = T0 + timedelta(minutes=15)
    async with uow_factory() as uow:
        assert await uow.credentials.claim(refresh.token_hash, used_at)
        assert not await uow.credentials.claim(refresh.token_hash, used_at)
        await uow.commit()
    async with uow_factory() as uow:
        assert not await uow.credentials.claim(refresh.token_hash, used_at + timedelta(1))
        assert await uow.credentials.get(refresh.token_hash) == replace(refresh, used_at=used_at)


async def test_an_unknown_token_cannot_be_claimed(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        assert not await uow.credentials.claim("0" * 64, T0)


async def test_only_one_of_two_concurrent_claims_of_a_refresh_token_wins(
    uow_factory: UowFactory,
) -> None:
    _, _, session = await a_signed_in_device(uow_factory)
    refresh = make_credential(session)
    await store(uow_factory, refresh)

    async def claim() -> bool:
        async with uow_factory() as uow:
            won = await uow.credentials.claim(refresh.token_hash, T0 + timedelta(minutes=1))
            await uow.commit()
            return won

    assert sorted(await asyncio.gather(claim(), claim())) == [False, True]


async def test_prune_forgets_only_expired_credentials(uow_factory: UowFactory) -> None:
    _, _, session = await a_signed_in_device(uow_factory)
    cutoff = T0 + timedelta(days=1)
    expired = [
        make_credential(session, expires_at=cutoff - timedelta(seconds=1)),
        make_credential(session, kind=CredentialKind.ACCESS, expires_at=T0),
    ]
    current = [
        make_credential(session, expires_at=cutoff),
        make_credential(session, expires_at=cutoff + timedelta(days=29)),
    ]
    await store(uow_factory, *expired, *current)
    async with uow_factory() as uow:
        assert await uow.credentials.prune(cutoff) == 2
        await uow.commit()
    async with uow_factory() as uow:
        assert [await uow.credentials.get(c.token_hash) for c in expired] == [None, None]
        assert [await uow.credentials.get(c.token_hash) for c in current] == current


# The security log


async def test_security_log_pages_newest_first(uow_factory: UowFactory) -> None:
    account, stranger = make_account(), make_account()
    events = [make_event(account, at=T0 + timedelta(minutes=n)) for n in range(5)]
    await store(uow_factory, account, stranger, make_event(stranger), *events)
    async with uow_factory() as uow:
        first = await uow.events.page(account.id, before_id=None, limit=2)
        second = await uow.events.page(account.id, before_id=first[-1].id, limit=2)
        third = await uow.events.page(account.id, before_id=second[-1].id, limit=2)
    pages = [first, second, third]
    assert [[e.at for e in page] for page in pages] == [
        [events[4].at, events[3].at],
        [events[2].at, events[1].at],
        [events[0].at],
    ]
    ids = [e.id for page in pages for e in page if e.id is not None]
    assert len(ids) == len(events)
    assert ids == sorted(ids, reverse=True)
    assert {e.account_id for page in pages for e in page} == {account.id}


async def test_a_security_event_keeps_every_field_and_its_detail(uow_factory: UowFactory) -> None:
    account, device, session = await a_signed_in_device(uow_factory)
    event = SecurityEvent(
        account_id=account.id,
        kind=EventKind.SIGNED_OUT,
        at=T0,
        device_id=device.id,
        device_name=device.name,
        session_id=session.id,
        ip="2001:db8::1",
        location="Lisbon, Portugal",
        detail={"reason": "signed_out_remotely", "count": 2, "kept": False, "by": None},
    )
    await store(uow_factory, event)
    async with uow_factory() as uow:
        (stored,) = await uow.events.page(account.id, before_id=None, limit=10)
    assert stored.id is not None
    assert stored == replace(event, id=stored.id)


# Time


async def test_datetimes_come_back_aware_and_equal(uow_factory: UowFactory) -> None:
    # Not UTC, and with microseconds: a store must neither drop the offset nor round.
    lisbon_summer = timezone(timedelta(hours=1))
    at = T0.astimezone(lisbon_summer).replace(microsecond=123456)
    account = make_account(created_at=at, password_changed_at=at)
    profile = make_profile(account, created_at=at)
    device = make_device(account, created_at=at, last_activity=Activity(at, profile.id, "t-1"))
    session = make_session(device, created_at=at, last_seen_at=at, signed_out_at=at)
    credential = make_credential(session, issued_at=at, expires_at=at, used_at=at)
    await store(
        uow_factory, account, profile, device, session, credential, make_event(account, at=at)
    )
    async with uow_factory() as uow:
        found_account = await uow.accounts.get(account.id)
        (found_profile,) = await uow.profiles.for_account(account.id)
        found_device = await uow.devices.get(account.id, device.id)
        found_session = await uow.sessions.get(session.id)
        found_credential = await uow.credentials.get(credential.token_hash)
        (found_event,) = await uow.events.page(account.id, before_id=None, limit=1)
    assert found_account is not None
    assert found_device is not None
    assert found_session is not None
    assert found_credential is not None
    assert found_device.last_activity is not None
    moments = [
        found_account.created_at,
        found_account.password_changed_at,
        found_profile.created_at,
        found_device.created_at,
        found_device.last_activity.at,
        found_session.created_at,
        found_session.last_seen_at,
        found_session.signed_out_at,
        found_credential.issued_at,
        found_credential.expires_at,
        found_credential.used_at,
        found_event.at,
    ]
    for moment in moments:
        assert moment is not None
        assert moment.tzinfo is not None
        assert moment == at
