"""Profiles: "Who's watching?", add, rename, lock with a PIN, delete."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from screengate.domain.errors import ProfileLocked, ProfileNotFound, TooManyPinAttempts
from screengate.domain.events import EventKind, SecurityEvent
from screengate.domain.ids import ProfileId
from screengate.domain.profiles import (
    Profile,
    check_can_add,
    check_can_delete,
    check_name_free,
    check_pin,
    clean_profile_name,
)
from screengate.domain.sessions import Principal
from screengate.ports import PinFailure, Ports
from screengate.services.acting import still_signed_in
from screengate.services.announce import account_changed
from screengate.services.passwords import confirm_password


@dataclass(frozen=True, slots=True)
class ProfileChanges:
    """A PATCH: None leaves a field as it is; `remove_pin` unlocks the profile. Setting or
    removing a PIN needs the account `password`."""

    name: str | None = None
    kids: bool | None = None
    pin: str | None = None
    remove_pin: bool = False
    password: str | None = field(default=None, repr=False)


async def list_profiles(ports: Ports, principal: Principal) -> list[Profile]:
    async with ports.reader() as uow:
        return await uow.profiles.for_account(principal.account_id)


async def create_profile(
    ports: Ports, principal: Principal, *, name: str, kids: bool = False, pin: str | None = None
) -> Profile:
    name = clean_profile_name(name)
    if pin is not None:
        check_pin(pin)
        # Nothing is hashed for a profile that could not be added.
        check_can_add(await list_profiles(ports, principal), name)
    pin_hash = await ports.pin_hasher.hash(pin) if pin is not None else None
    async with ports.uow() as uow:
        await uow.lock_account(principal.account_id)
        existing = await uow.profiles.for_account(principal.account_id)
        check_can_add(existing, name)
        profile = Profile(
            id=ProfileId(ports.tokens.new_id()),
            account_id=principal.account_id,
            name=name,
            kids=kids,
            created_at=ports.clock.now(),
            pin_hash=pin_hash,
        )
        await uow.profiles.add(profile)
        await uow.events.add(
            SecurityEvent(
                account_id=principal.account_id,
                kind=EventKind.PROFILE_CREATED,
                at=profile.created_at,
                device_id=principal.device_id,
                session_id=principal.session_id,
                detail={"profile_name": name, "kids": kids},
            )
        )
        await uow.commit()
    await account_changed(ports, principal.account_id)
    return profile


async def update_profile(
    ports: Ports,
    principal: Principal,
    profile_id: ProfileId,
    changes: ProfileChanges,
    *,
    ip: str | None = None,
) -> Profile:
    """Rename, mark for kids, lock or unlock. A PIN set or removed needs the account password
    (checked like a sign-in's: counted, throttled, wrong ones logged), is logged itself, and
    leaves the wrong-PIN counts as they are: a new PIN lifts no pause."""
    name = clean_profile_name(changes.name) if changes.name is not None else None
    if changes.pin is not None:
        check_pin(changes.pin)
    # Everything that needs no hashing first: a profile that is not there is 404 at once.
    profile = _find(await list_profiles(ports, principal), profile_id)
    pin_change = changes.pin is not None or (changes.remove_pin and profile.locked)
    if pin_change:
        await confirm_password(
            ports,
            principal,
            changes.password,
            purpose="change a profile's PIN",
            field="password",
            ip=ip,
        )
    pin_hash = await ports.pin_hasher.hash(changes.pin) if changes.pin is not None else None
    async with ports.uow() as uow:
        await uow.lock_account(principal.account_id)
        existing = await uow.profiles.for_account(principal.account_id)
        profile = _find(existing, profile_id)
        if name is not None:
            check_name_free(existing, name, keep=profile.id)
            profile.name = name
        if changes.kids is not None:
            profile.kids = changes.kids
        if changes.remove_pin:
            profile.pin_hash = None
        elif pin_hash is not None:
            profile.pin_hash = pin_hash
        await uow.profiles.save(profile)
        if pin_change:
            device = await uow.devices.get(principal.account_id, principal.device_id)
            await uow.events.add(
                SecurityEvent(
                    account_id=principal.account_id,
                    kind=EventKind.PROFILE_PIN_CHANGED,
                    at=ports.clock.now(),
                    device_id=principal.device_id,
                    device_name=device.name if device else None,
                    session_id=principal.session_id,
                    ip=ip,
                    location=ports.geo.locate(ip),
                    detail={
                        "profile_id": profile.id,
                        "profile_name": profile.name,
                        "lock": "removed" if changes.remove_pin else "set",
                    },
                )
            )
        await uow.commit()
    await account_changed(ports, principal.account_id)
    return profile


async def delete_profile(ports: Ports, principal: Principal, profile_id: ProfileId) -> None:
    async with ports.uow() as uow:
        await uow.lock_account(principal.account_id)
        existing = await uow.profiles.for_account(principal.account_id)
        profile = _find(existing, profile_id)
        check_can_delete(existing)
        await uow.profiles.delete(profile.id)
        await uow.events.add(
            SecurityEvent(
                account_id=principal.account_id,
                kind=EventKind.PROFILE_DELETED,
                at=ports.clock.now(),
                device_id=principal.device_id,
                session_id=principal.session_id,
                detail={"profile_name": profile.name},
            )
        )
        await uow.commit()
    await account_changed(ports, principal.account_id)


async def require_pin(
    ports: Ports, principal: Principal, profile: Profile, pin: str | None
) -> None:
    """A locked profile opens only with its PIN. Wrong PINs count against the profile and this
    device (ProfileLocked); once a count is full, no PIN is tried, the right one neither
    (TooManyPinAttempts), until its window moves on. No PIN at all is no guess."""
    if profile.pin_hash is None:
        return
    throttle = ports.pin_throttle
    if pin is None:
        await throttle.check(profile.id, principal.device_id)
        raise ProfileLocked(profile_id=profile.id)
    # One at a time, counted before the next is judged: a burst sent at once gets no more
    # guesses than one sent slowly.
    async with throttle.turn(profile.id):
        await throttle.check(profile.id, principal.device_id)
        if await ports.pin_hasher.verify(profile.pin_hash, pin):
            return
        failure = await throttle.failed(profile.id, principal.device_id)
    if failure.counted:
        await _log_wrong_pin(ports, principal, profile, failure)
    if failure.retry_after:
        raise TooManyPinAttempts(failure.retry_after)
    raise ProfileLocked(profile_id=profile.id)


async def choose_profile(
    ports: Ports, principal: Principal, profile_id: ProfileId, pin: str | None
) -> Profile:
    """ "Who's watching?": a locked profile needs its PIN, and only a signed-in device chooses."""
    profile = _find(await list_profiles(ports, principal), profile_id)
    await require_pin(ports, principal, profile, pin)
    await still_signed_in(ports)
    return profile


async def check_pin_pause(ports: Ports, principal: Principal, profile: Profile) -> None:
    """Raise TooManyPinAttempts while this locked profile, or this device, may not try a PIN."""
    if profile.locked:
        await ports.pin_throttle.check(profile.id, principal.device_id)


async def _log_wrong_pin(
    ports: Ports, principal: Principal, profile: Profile, failure: PinFailure
) -> None:
    """Every wrong PIN in the security log, and the pause once, when this one began it."""
    async with ports.uow() as uow:
        device = await uow.devices.get(principal.account_id, principal.device_id)
        wrong = SecurityEvent(
            account_id=principal.account_id,
            kind=EventKind.PIN_FAILED,
            at=ports.clock.now(),
            device_id=principal.device_id,
            device_name=device.name if device else None,
            session_id=principal.session_id,
            detail={"profile_id": profile.id, "profile_name": profile.name},
        )
        await uow.events.add(wrong)
        if failure.retry_after:
            paused = {**wrong.detail, "retry_after": failure.retry_after}
            await uow.events.add(
                replace(wrong, kind=EventKind.PIN_ATTEMPTS_EXCEEDED, detail=paused)
            )
        await uow.commit()


def _find(profiles: list[Profile], profile_id: ProfileId) -> Profile:
    for profile in profiles:
        if profile.id == profile_id:
            return profile
    raise ProfileNotFound(profile_id=profile_id)
