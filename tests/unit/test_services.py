"""The use cases over fakes: what each one changes, refuses and announces."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import pytest

from screengate.adapters.throttle import LimitsSignInThrottle, MemoryCounters
from screengate.domain.devices import DeviceType
from screengate.domain.errors import (
    DeviceNotFound,
    EmailTaken,
    InvalidCredentials,
    InvalidToken,
    SignedOut,
    TokenExpired,
    TooManyAttempts,
    WrongPassword,
)
from screengate.domain.events import EventKind
from screengate.domain.ids import DeviceId
from screengate.domain.sessions import Principal, SignOutReason, TokenPair
from screengate.ports import Ports
from screengate.services import accounts, auth, sign_out
from screengate.services.activity import security_activity
from screengate.services.devices import list_devices
from tests.unit.conftest import CountingThrottle, FrozenClock, PlainHasher, RecordingBus

EMAIL = "ana@example.com"
PASSWORD = "correct horse battery"


async def _account(ports: Ports) -> None:
    await accounts.sign_up(ports, email=EMAIL, password=PASSWORD, plan="premium")


async def _device(ports: Ports, type_: DeviceType = DeviceType.PHONE, **kw: str) -> TokenPair:
    return await auth.sign_in(ports, email=EMAIL, password=PASSWORD, device_type=type_, **kw)


async def _who(ports: Ports, pair: TokenPair) -> Principal:
    return await auth.authenticate(ports, pair.access_token)


async def _reason_refused(ports: Ports, pair: TokenPair) -> tuple[str, str]:
    with pytest.raises(SignedOut) as access:
        await auth.authenticate(ports, pair.access_token)
    with pytest.raises(SignedOut) as refresh:
        await auth.refresh(ports, pair.refresh_token)
    return access.value.reason, refresh.value.reason


async def test_signing_up_twice_with_one_email_is_refused(ports: Ports) -> None:
    await _account(ports)
    with pytest.raises(EmailTaken):
        await accounts.sign_up(ports, email="ANA@example.com", password=PASSWORD, plan="basic")


async def test_sign_up_gives_the_account_its_first_profile(ports: Ports) -> None:
    await _account(ports)
    view = await accounts.get_account(ports, await _who(ports, await _device(ports)))
    assert [p.name for p in view.profiles] == ["Ana"]
    assert view.plan.max_streams == 4


async def test_an_unknown_email_costs_a_dummy_verification(ports: Ports) -> None:
    assert isinstance(ports.hasher, PlainHasher)
    with pytest.raises(InvalidCredentials):
        await auth.sign_in(
            ports, email="nobody@example.com", password=PASSWORD, device_type=DeviceType.PHONE
        )
    assert ports.hasher.dummy_verifications == 1


async def test_a_wrong_password_is_logged_and_counted(ports: Ports) -> None:
    await _account(ports)
    with pytest.raises(InvalidCredentials):
        await auth.sign_in(ports, email=EMAIL, password="nope", device_type=DeviceType.PHONE)
    pair = await _device(ports)
    page = await security_activity(ports, await _who(ports, pair))
    kinds = [e.kind for e in page.events]
    assert kinds[:2] == [EventKind.SIGNED_IN, EventKind.SIGN_IN_FAILED]
    assert isinstance(ports.throttle, CountingThrottle)
    assert ports.throttle.failures == {}


async def test_a_throttled_email_is_refused_even_with_the_right_password(ports: Ports) -> None:
    await _account(ports)
    assert isinstance(ports.throttle, CountingThrottle)
    ports.throttle.allowed = 2
    for _ in range(2):
        with pytest.raises(InvalidCredentials):
            await auth.sign_in(ports, email=EMAIL, password="nope", device_type=DeviceType.PHONE)
    with pytest.raises(TooManyAttempts):
        await _device(ports)


async def test_guesses_sent_all_at_once_are_judged_one_at_a_time(ports: Ports) -> None:
    await _account(ports)
    real = LimitsSignInThrottle(
        MemoryCounters(),
        per_client="1000/hour",
        per_account_client="5/hour",
        per_account="5/hour",
        per_device="1000/hour",
    )
    ports = dataclasses.replace(ports, throttle=real)
    assert isinstance(ports.hasher, PlainHasher)
    verify = ports.hasher.verify

    async def slow_verify(hashed: str, secret: str) -> bool:
        for _ in range(5):  # as a real hash yields to the loop while it runs
            await asyncio.sleep(0)
        return await verify(hashed, secret)

    object.__setattr__(ports.hasher, "verify", slow_verify)
    guesses = [f"guess {n}" for n in range(30)] + [PASSWORD] + [f"guess {n}" for n in range(30)]
    outcomes = await asyncio.gather(
        *(
            auth.sign_in(ports, email=EMAIL, password=p, device_type=DeviceType.PHONE)
            for p in guesses
        ),
        return_exceptions=True,
    )

    assert sum(isinstance(o, InvalidCredentials) for o in outcomes) == 5
    assert sum(isinstance(o, TooManyAttempts) for o in outcomes) == len(guesses) - 5


async def test_a_hundred_wrong_passwords_lock_nothing_the_right_one_still_signs_in(
    ports: Ports,
) -> None:
    await _account(ports)
    for _ in range(100):
        with pytest.raises(InvalidCredentials):
            await auth.sign_in(ports, email=EMAIL, password="nope", device_type=DeviceType.PHONE)
    assert (await _device(ports)).access_token


async def test_every_sign_in_counts_against_its_address_before_anything_is_hashed(
    ports: Ports,
) -> None:
    await _account(ports)
    assert isinstance(ports.throttle, CountingThrottle)
    assert isinstance(ports.hasher, PlainHasher)
    work = ports.hasher.work
    for email in ("not an email", "x" * 300):
        with pytest.raises(InvalidCredentials):
            await auth.sign_in(
                ports, email=email, password=PASSWORD, device_type=DeviceType.PHONE, ip=HOME
            )
    assert ports.hasher.work == work  # a malformed email is nobody's: nothing to hash
    await _device(ports, ip=HOME)
    assert ports.throttle.attempts[-3:] == [HOME, HOME, HOME]


async def test_a_device_that_signs_in_again_keeps_its_identity(ports: Ports) -> None:
    await _account(ports)
    first = await _device(ports, DeviceType.SMART_TV, device_name="Living Room TV")
    assert first.device_secret
    again = await _device(
        ports,
        DeviceType.SMART_TV,
        device_id=first.device_id,
        device_secret=first.device_secret,
    )
    assert again.device_id == first.device_id
    assert again.session_id != first.session_id
    assert again.device_secret != first.device_secret  # the one just used is spent


async def test_another_devices_id_without_its_secret_is_a_new_device_not_a_takeover(
    ports: Ports,
) -> None:
    await _account(ports)
    tv = await _device(ports, DeviceType.SMART_TV, device_name="Living Room TV")
    assert tv.device_secret is not None
    for secret in (None, "a guess", tv.device_secret + "x"):
        kw = {"device_id": tv.device_id} | ({"device_secret": secret} if secret else {})

        intruder = await _device(ports, DeviceType.SMART_TV, **kw)
        assert intruder.device_id != tv.device_id
    assert (await _who(ports, tv)).device_id == tv.device_id  # the TV is still signed in
    spent = tv.device_secret
    await _device(ports, DeviceType.SMART_TV, device_id=tv.device_id, device_secret=spent)
    replayed = await _device(
        ports, DeviceType.SMART_TV, device_id=tv.device_id, device_secret=spent
    )
    assert replayed.device_id != tv.device_id


async def test_refresh_rotates_and_a_replay_signs_the_device_out(ports: Ports) -> None:
    await _account(ports)
    pair = await _device(ports)
    newer = await auth.refresh(ports, pair.refresh_token)
    assert (await _who(ports, newer)).session_id == pair.session_id
    with pytest.raises(SignedOut) as replay:
        await auth.refresh(ports, pair.refresh_token)
    assert replay.value.reason == "token_reuse"
    assert await _reason_refused(ports, newer) == ("token_reuse", "token_reuse")
    assert isinstance(ports.bus, RecordingBus)
    signed_out = [n for a in ports.bus.announcements() for n in a.notices if n.kind == "signed_out"]
    assert signed_out[-1].data["reason"] == SignOutReason.TOKEN_REUSE


HOME = "203.0.113.10"
ELSEWHERE = "198.51.100.66"


async def test_a_browser_presenting_its_spent_refresh_token_a_moment_later_is_served_without_tokens(
    ports: Ports, clock: FrozenClock
) -> None:
    await _account(ports)
    pair = await _device(ports, DeviceType.WEB_BROWSER, ip=HOME)
    newer = await auth.refresh_for_browser(ports, pair.refresh_token, HOME)
    assert isinstance(newer, TokenPair)
    clock.advance(ports.policy.browser_refresh_leeway)
    late = await auth.refresh_for_browser(ports, pair.refresh_token, HOME)
    assert late == Principal(
        account_id=(await _who(ports, newer)).account_id,
        device_id=DeviceId(pair.device_id),
        session_id=pair.session_id,
        expires_at=clock.now() + ports.policy.browser_refresh_leeway,
    )
    assert (await _who(ports, newer)).session_id == pair.session_id  # nothing was signed out


@pytest.mark.parametrize(
    ("address", "after"),
    [(ELSEWHERE, timedelta(0)), (HOME, timedelta(seconds=6)), (None, timedelta(0))],
    ids=["from-elsewhere-at-once", "from-home-after-the-leeway", "from-no-address"],
)
async def test_a_spent_browser_refresh_token_from_elsewhere_or_later_is_a_replay(
    ports: Ports, clock: FrozenClock, address: str | None, after: timedelta
) -> None:
    await _account(ports)
    pair = await _device(ports, DeviceType.WEB_BROWSER, ip=HOME)
    newer = await auth.refresh_for_browser(ports, pair.refresh_token, HOME)
    assert isinstance(newer, TokenPair)
    clock.advance(after)
    with pytest.raises(SignedOut) as replay:
        await auth.refresh_for_browser(ports, pair.refresh_token, address)
    assert replay.value.reason == "token_reuse"
    assert await _reason_refused(ports, newer) == ("token_reuse", "token_reuse")


async def test_the_api_refresh_gives_a_spent_token_no_leeway(ports: Ports) -> None:
    await _account(ports)
    pair = await _device(ports, ip=HOME)
    await auth.refresh(ports, pair.refresh_token, HOME)
    with pytest.raises(SignedOut) as replay:
        await auth.refresh(ports, pair.refresh_token, HOME)
    assert replay.value.reason == "token_reuse"


async def test_an_expired_access_token_asks_for_a_refresh(ports: Ports, clock: FrozenClock) -> None:
    await _account(ports)
    pair = await _device(ports)
    await _who(ports, pair)
    clock.advance(timedelta(minutes=15))
    with pytest.raises(TokenExpired):
        await _who(ports, pair)
    assert (await auth.refresh(ports, pair.refresh_token)).access_token


async def test_a_device_idle_for_thirty_days_must_sign_in_again(
    ports: Ports, clock: FrozenClock
) -> None:
    await _account(ports)
    pair = await _device(ports)
    clock.advance(timedelta(days=30))
    with pytest.raises(SignedOut) as lapsed:
        await auth.refresh(ports, pair.refresh_token)
    assert lapsed.value.reason == "expired"


async def test_an_unknown_token_is_invalid_not_signed_out(ports: Ports) -> None:
    with pytest.raises(InvalidToken):
        await auth.authenticate(ports, "forged")
    with pytest.raises(InvalidToken):
        await auth.refresh(ports, "forged")


async def test_signing_out_here_refuses_both_tokens_at_once(ports: Ports) -> None:
    await _account(ports)
    pair, other = await _device(ports), await _device(ports, DeviceType.SMART_TV)
    await sign_out.sign_out(ports, await _who(ports, pair))
    assert await _reason_refused(ports, pair) == ("signed_out_here", "signed_out_here")
    assert (await _who(ports, other)).device_id == other.device_id


async def test_signing_out_a_device_remotely_leaves_the_others(ports: Ports) -> None:
    await _account(ports)
    phone, tv = await _device(ports), await _device(ports, DeviceType.SMART_TV)
    receipt = await sign_out.sign_out_device(
        ports, await _who(ports, phone), DeviceId(tv.device_id)
    )
    assert [d.device_id for d in receipt.devices] == [tv.device_id]
    assert await _reason_refused(ports, tv) == ("signed_out_remotely", "signed_out_remotely")
    listed = await list_devices(ports, await _who(ports, phone))
    assert [(d.device_id, d.current) for d in listed] == [(phone.device_id, True)]


async def test_another_accounts_device_is_not_found(ports: Ports) -> None:
    await _account(ports)
    await accounts.sign_up(ports, email="ben@example.com", password=PASSWORD, plan="basic")
    bens = await auth.sign_in(
        ports, email="ben@example.com", password=PASSWORD, device_type=DeviceType.PHONE
    )
    anas = await _device(ports)
    with pytest.raises(DeviceNotFound):
        await sign_out.sign_out_device(ports, await _who(ports, anas), DeviceId(bens.device_id))
    assert (await _who(ports, bens)).device_id == bens.device_id


async def test_sign_out_everywhere_reaches_every_device_unless_this_one_is_kept(
    ports: Ports,
) -> None:
    await _account(ports)
    pairs = [await _device(ports, t) for t in (DeviceType.PHONE, DeviceType.SMART_TV)]
    kept = await sign_out.sign_out_everywhere(
        ports, await _who(ports, pairs[0]), keep_this_device=True
    )
    assert [d.device_id for d in kept.devices] == [pairs[1].device_id]
    everyone = await sign_out.sign_out_everywhere(ports, await _who(ports, pairs[0]))
    assert [d.device_id for d in everyone.devices] == [pairs[0].device_id]
    for pair in pairs:
        with pytest.raises(SignedOut):
            await _who(ports, pair)


async def test_changing_the_password_signs_out_every_other_device(ports: Ports) -> None:
    await _account(ports)
    here, there = await _device(ports), await _device(ports, DeviceType.GAME_CONSOLE)
    receipt = await accounts.change_password(
        ports, await _who(ports, here), current_password=PASSWORD, new_password="new and better"
    )
    assert receipt is not None
    assert [d.device_id for d in receipt.devices] == [there.device_id]
    assert await _reason_refused(ports, there) == ("password_changed", "password_changed")
    assert (await _who(ports, here)).device_id == here.device_id
    with pytest.raises(InvalidCredentials):
        await _device(ports)


async def test_a_wrong_current_password_changes_nothing(ports: Ports) -> None:
    await _account(ports)
    here, there = await _device(ports), await _device(ports, DeviceType.GAME_CONSOLE)
    with pytest.raises(WrongPassword):
        await accounts.change_password(
            ports, await _who(ports, here), current_password="nope", new_password="new and better"
        )
    assert (await _who(ports, there)).device_id == there.device_id
    assert (await _device(ports)).access_token


async def test_the_support_desk_signs_out_with_its_own_reason(ports: Ports) -> None:
    await _account(ports)
    pair = await _device(ports)
    receipt = await sign_out.operator_sign_out(ports, EMAIL, None)
    assert [d.device_id for d in receipt.devices] == [pair.device_id]
    assert await _reason_refused(ports, pair) == ("operator", "operator")


async def test_contact_is_recorded_at_most_once_a_minute(ports: Ports, clock: FrozenClock) -> None:
    await _account(ports)
    pair, viewer = await _device(ports), await _device(ports, DeviceType.PC_APP)
    clock.advance(timedelta(seconds=30))
    await _who(ports, pair)
    clock.advance(timedelta(seconds=20))
    await _who(ports, pair)
    seen = {
        d.device_id: d.last_seen_at for d in await list_devices(ports, await _who(ports, viewer))
    }
    assert seen[pair.device_id] == clock.now() - timedelta(seconds=20)


async def test_activity_pages_walk_every_event_once(ports: Ports) -> None:
    await _account(ports)
    pair = await _device(ports)
    for _ in range(4):
        await _device(ports)
    me = await _who(ports, pair)
    seen: list[int] = []
    cursor: int | None = None
    while True:
        page = await security_activity(ports, me, cursor=cursor, limit=2)
        seen += [e.id or 0 for e in page.events]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == sorted(seen, reverse=True)
    assert len(seen) == len(set(seen)) == 6


async def test_two_sign_ins_sent_at_once_with_one_device_secret_make_one_of_them_a_new_device(
    ports: Ports,
) -> None:
    await _account(ports)
    tv = await _device(ports, DeviceType.SMART_TV)
    assert tv.device_secret is not None
    both = await asyncio.gather(
        *(
            _device(
                ports, DeviceType.SMART_TV, device_id=tv.device_id, device_secret=tv.device_secret
            )
            for _ in range(2)
        )
    )
    assert sorted(pair.device_id == tv.device_id for pair in both) == [False, True]
