"""A locked profile's PIN cannot be guessed: wrong PINs are counted per profile and per device,
and past the limit no PIN is tried, the right one neither, until the window moves on."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import pytest

from screengate.adapters.throttle import LimitsPinThrottle, MemoryCounters
from screengate.domain.devices import DeviceType
from screengate.domain.errors import ProfileLocked, TooManyPinAttempts, wait_in_words
from screengate.domain.events import EventKind
from screengate.domain.profiles import Profile
from screengate.domain.sessions import Principal
from screengate.ports import Ports
from screengate.services import accounts, auth, downloads, profiles, streams
from screengate.services.activity import security_activity
from screengate.services.profiles import ProfileChanges
from tests.unit.conftest import FrozenClock

EMAIL = "ana@example.com"
PASSWORD = "correct horse battery"
PIN = "4826"
TITLE = "night-harbour"
WRONG = [f"{n:04d}" for n in range(1000, 1100)]


async def _household(ports: Ports, devices: int = 2) -> tuple[list[Principal], Profile]:
    """An account with `devices` signed-in TVs and a profile locked with PIN."""
    await accounts.sign_up(ports, email=EMAIL, password=PASSWORD, plan="premium")
    signed_in = []
    for _ in range(devices):
        pair = await auth.sign_in(
            ports, email=EMAIL, password=PASSWORD, device_type=DeviceType.SMART_TV
        )
        signed_in.append(await auth.authenticate(ports, pair.access_token))
    ben = await profiles.create_profile(ports, signed_in[0], name="Ben", pin=PIN)
    return signed_in, ben


async def _play(ports: Ports, who: Principal, profile: Profile, pin: str | None) -> None:
    await streams.start_stream(ports, who, profile_id=profile.id, title_id=TITLE, pin=pin)


async def _guess_wrong(ports: Ports, who: Principal, profile: Profile, times: int) -> None:
    for pin in WRONG[:times]:
        with pytest.raises(ProfileLocked):
            await _play(ports, who, profile, pin)


async def _kinds(ports: Ports, who: Principal) -> list[EventKind]:
    page = await security_activity(ports, who, limit=100)
    return [e.kind for e in page.events]


async def test_the_fifth_wrong_pin_pauses_the_profile_and_the_right_pin_waits_too(
    ports: Ports, clock: FrozenClock
) -> None:
    (tv, _), ben = await _household(ports)
    await _guess_wrong(ports, tv, ben, 4)
    with pytest.raises(TooManyPinAttempts) as paused:
        await _play(ports, tv, ben, WRONG[4])
    assert paused.value.retry_after_seconds == 15 * 60
    assert paused.value.detail == "Too many wrong PINs. Try again in 15 minutes."

    clock.advance(timedelta(minutes=1))
    with pytest.raises(TooManyPinAttempts) as still:
        await _play(ports, tv, ben, PIN)
    assert still.value.detail == "Too many wrong PINs. Try again in 14 minutes."
    assert still.value.extra["retry_after"] == 14 * 60


async def test_the_pause_holds_on_every_device_and_leaves_other_profiles_alone(
    ports: Ports,
) -> None:
    (tablet, tv), ben = await _household(ports)
    mum = await profiles.create_profile(ports, tv, name="Mum", pin="1357")
    await _guess_wrong(ports, tablet, ben, 4)
    with pytest.raises(TooManyPinAttempts):
        await _play(ports, tablet, ben, WRONG[4])

    with pytest.raises(TooManyPinAttempts):
        await _play(ports, tv, ben, PIN)
    with pytest.raises(TooManyPinAttempts):  # downloads present the same PIN
        await downloads.start_download(ports, tv, profile_id=ben.id, title_id=TITLE, pin=PIN)
    await _play(ports, tv, mum, "1357")


async def test_once_the_window_has_passed_the_right_pin_opens_the_profile(
    ports: Ports, clock: FrozenClock
) -> None:
    (tv, _), ben = await _household(ports)
    await _guess_wrong(ports, tv, ben, 4)
    with pytest.raises(TooManyPinAttempts):
        await _play(ports, tv, ben, WRONG[4])
    clock.advance(timedelta(minutes=14, seconds=59))
    with pytest.raises(TooManyPinAttempts):
        await _play(ports, tv, ben, PIN)
    clock.advance(timedelta(seconds=1))
    await _play(ports, tv, ben, PIN)


async def test_the_owners_correct_pin_buys_a_guesser_no_more_guesses(ports: Ports) -> None:
    # Were a correct PIN to clear the count, a tablet could guess four at a time for ever,
    # between the owner's own entries on the TV.
    (tablet, tv), ben = await _household(ports)
    await _guess_wrong(ports, tablet, ben, 4)
    await _play(ports, tv, ben, PIN)
    with pytest.raises(TooManyPinAttempts):
        await _play(ports, tablet, ben, WRONG[4])
    # Its own correct PIN clears nothing either.
    with pytest.raises(TooManyPinAttempts):
        await _play(ports, tablet, ben, PIN)


async def test_a_device_guessing_across_profiles_is_paused_on_all_of_them(ports: Ports) -> None:
    # Households often give every profile the same PIN: a device gets 10 guesses, not 5 each.
    (tablet, tv), ben = await _household(ports)
    mum = await profiles.create_profile(ports, tv, name="Mum", pin="1357")
    dad = await profiles.create_profile(ports, tv, name="Dad", pin="2468")
    await _guess_wrong(ports, tablet, ben, 4)
    await _guess_wrong(ports, tablet, mum, 4)
    await _guess_wrong(ports, tablet, dad, 1)
    with pytest.raises(TooManyPinAttempts):
        await _play(ports, tablet, dad, WRONG[1])

    with pytest.raises(TooManyPinAttempts):
        await _play(ports, tablet, mum, "1357")
    await _play(ports, tv, mum, "1357")  # the profiles themselves are not paused


async def test_a_new_pin_does_not_lift_the_pause(ports: Ports) -> None:
    (tablet, tv), ben = await _household(ports, devices=2)
    await _guess_wrong(ports, tablet, ben, 4)
    with pytest.raises(TooManyPinAttempts):
        await _play(ports, tablet, ben, WRONG[4])
    await profiles.update_profile(ports, tv, ben.id, ProfileChanges(pin="9151", password=PASSWORD))
    with pytest.raises(TooManyPinAttempts):
        await _play(ports, tv, ben, "9151")
    assert EventKind.PROFILE_PIN_CHANGED in await _kinds(ports, tv)


async def test_no_pin_at_all_is_no_guess(ports: Ports) -> None:
    (tv, _), ben = await _household(ports)
    for _ in range(20):
        with pytest.raises(ProfileLocked):
            await _play(ports, tv, ben, None)
    await _play(ports, tv, ben, PIN)
    assert EventKind.PIN_FAILED not in await _kinds(ports, tv)


async def test_a_paused_profile_says_so_even_before_a_pin_is_given(ports: Ports) -> None:
    (tv, _), ben = await _household(ports)
    await _guess_wrong(ports, tv, ben, 4)
    with pytest.raises(TooManyPinAttempts):
        await _play(ports, tv, ben, WRONG[4])
    with pytest.raises(TooManyPinAttempts):
        await _play(ports, tv, ben, None)
    with pytest.raises(TooManyPinAttempts):
        await profiles.check_pin_pause(ports, tv, ben)


async def test_every_wrong_pin_is_in_the_security_log_and_the_pause_once(ports: Ports) -> None:
    (tablet, tv), ben = await _household(ports)
    await _guess_wrong(ports, tablet, ben, 4)
    for _ in range(3):  # the fifth, then two refused without being tried
        with pytest.raises(TooManyPinAttempts):
            await _play(ports, tablet, ben, WRONG[4])

    page = await security_activity(ports, tv, limit=100)
    pin_events = [e for e in page.events if e.kind.startswith("pin_")]
    assert [e.kind for e in pin_events] == [EventKind.PIN_ATTEMPTS_EXCEEDED] + [
        EventKind.PIN_FAILED
    ] * 5
    paused = pin_events[0]
    assert paused.detail == {"profile_id": ben.id, "profile_name": "Ben", "retry_after": 900}
    assert paused.device_id == tablet.device_id
    assert paused.device_name == "Smart TV"
    assert {e.session_id for e in pin_events} == {tablet.session_id}


async def test_a_burst_of_guesses_sent_at_once_gets_no_more_than_the_limit(
    ports: Ports,
) -> None:
    # The real throttle over in-process counters, and a hasher that yields while it verifies,
    # as argon2 in a worker thread does: every guess is in flight before any is answered.
    real = LimitsPinThrottle(MemoryCounters(), per_profile="5/hour", per_device="1000/hour")
    ports = dataclasses.replace(ports, pin_throttle=real)
    (tv, _), ben = await _household(ports)
    slow = ports.pin_hasher
    verify = slow.verify

    async def slow_verify(hashed: str, secret: str) -> bool:
        for _ in range(5):
            await asyncio.sleep(0)
        return await verify(hashed, secret)

    object.__setattr__(slow, "verify", slow_verify)
    guesses = [*WRONG[:30], PIN, *WRONG[30:60]]
    outcomes = await asyncio.gather(
        *(_play(ports, tv, ben, pin) for pin in guesses), return_exceptions=True
    )

    assert sum(isinstance(o, ProfileLocked) for o in outcomes) == 4
    assert sum(isinstance(o, TooManyPinAttempts) for o in outcomes) == len(guesses) - 4
    assert (await _kinds(ports, tv)).count(EventKind.PIN_FAILED) == 5


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (1, "1 second"),
        (45, "45 seconds"),
        (60, "1 minute"),
        (61, "2 minutes"),
        (14 * 60, "14 minutes"),
        (119 * 60, "119 minutes"),
        (2 * 3600, "2 hours"),
        (23 * 3600 + 1, "24 hours"),
    ],
)
def test_a_wait_is_said_in_words_rounded_up(seconds: int, words: str) -> None:
    assert wait_in_words(seconds) == words
