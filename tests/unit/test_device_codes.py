"""TV codes and temporary sign-ins, in microseconds: the code's alphabet and spelling, RFC
8628's answers to a poll, the bounds of "Sign in until...", and the sweep's use cases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from screengate.adapters.security import SecretTokenSource
from screengate.domain.device_codes import (
    USER_CODE_ALPHABET,
    AuthorizationStatus,
    DeviceAuthorization,
    DeviceCodePolicy,
    PollAnswer,
    normalise_user_code,
    shown,
)
from screengate.domain.devices import DeviceType
from screengate.domain.errors import CodeNotFound, InvalidUntil, SignedOut
from screengate.domain.sessions import SignOutReason
from screengate.ports import Ports
from screengate.services import auth, device_codes
from screengate.services.sweep import end_ended_temporary_sign_ins, expire_codes
from tests.unit.conftest import FrozenClock
from tests.unit.test_services import _account, _device, _who

T0 = FrozenClock().now()


def authorization(**fields: object) -> DeviceAuthorization:
    values: dict[str, object] = {
        "id": "a1",
        "device_code_hash": "h",
        "user_code": "BCDFGHJK",
        "client_id": "tv",
        "device_type": DeviceType.SMART_TV,
        "device_name": "TV",
        "requested_at": T0,
        "expires_at": T0 + timedelta(minutes=10),
        "interval_seconds": 5,
    }
    values.update(fields)
    return DeviceAuthorization(**values)  # type: ignore[arg-type]


def test_a_new_code_is_eight_consonants_and_is_shown_in_two_halves() -> None:
    for _ in range(200):
        code = SecretTokenSource().user_code()
        assert len(code) == 8
        assert set(code) <= set(USER_CODE_ALPHABET)
        assert shown(code) == f"{code[:4]}-{code[4:]}"
    assert set("AEIOUY0123456789") & set(USER_CODE_ALPHABET) == set()


@given(st.text(max_size=30))
def test_whatever_is_typed_reads_as_a_code_only_when_it_can_be_one(text: str) -> None:
    code = normalise_user_code(text)
    assert code is None or (len(code) == 8 and set(code) <= set(USER_CODE_ALPHABET))


def test_dashes_spaces_and_case_do_not_matter() -> None:
    for typed in ("bcdf-ghjk", "BCDF GHJK", "BCDFGHJK", " bcdfghjk\t"):
        assert normalise_user_code(typed) == "BCDFGHJK"
    for wrong in ("BCDF-GHJ", "BCDF-GHJKL", "ABCD-EFGH", "BCDF-GHJ1", "\uff22CDFGHJK"):
        assert normalise_user_code(wrong) is None


def test_a_poll_sooner_than_the_interval_slows_the_device_down_for_good() -> None:
    code = authorization()
    assert code.poll(T0) is PollAnswer.AUTHORIZATION_PENDING
    assert code.poll(T0 + timedelta(seconds=4)) is PollAnswer.SLOW_DOWN
    assert code.interval_seconds == 10
    assert code.poll(T0 + timedelta(seconds=13)) is PollAnswer.SLOW_DOWN  # 9 s < 10 s
    assert code.poll(T0 + timedelta(seconds=28)) is PollAnswer.AUTHORIZATION_PENDING


def test_each_state_answers_a_poll_as_rfc_8628_says() -> None:
    later = T0 + timedelta(seconds=5)
    answers = {
        AuthorizationStatus.PENDING: PollAnswer.AUTHORIZATION_PENDING,
        AuthorizationStatus.APPROVED: PollAnswer.APPROVED,
        AuthorizationStatus.DENIED: PollAnswer.ACCESS_DENIED,
        AuthorizationStatus.VOIDED: PollAnswer.ACCESS_DENIED,
        AuthorizationStatus.EXPIRED: PollAnswer.EXPIRED_TOKEN,
        AuthorizationStatus.REDEEMED: PollAnswer.INVALID_GRANT,
    }
    for status, answer in answers.items():
        assert authorization(status=status).poll(later) is answer
    approved_too_late = authorization(status=AuthorizationStatus.APPROVED)
    assert approved_too_late.poll(T0 + timedelta(minutes=10)) is PollAnswer.EXPIRED_TOKEN


def test_a_temporary_sign_in_lasts_between_the_minimum_and_thirty_days() -> None:
    policy = DeviceCodePolicy(min_temporary=timedelta(minutes=15))
    assert policy.check_until(T0 + timedelta(minutes=15), T0) == T0 + timedelta(minutes=15)
    assert policy.check_until(T0 + timedelta(days=30), T0) == T0 + timedelta(days=30)
    for wrong in (T0 + timedelta(minutes=14), T0 + timedelta(days=30, seconds=1)):
        with pytest.raises(InvalidUntil):
            policy.check_until(wrong, T0)
    with pytest.raises(InvalidUntil):
        policy.check_until(T0.replace(tzinfo=None), T0)


async def test_the_sweep_signs_a_temporary_sign_in_out_when_its_time_is_up(
    ports: Ports, clock: FrozenClock
) -> None:
    await _account(ports)
    phone = await _who(ports, await _device(ports))
    offer = await device_codes.request_code(ports, client_id="tv")
    until = clock.now() + timedelta(hours=4)
    await device_codes.decide(ports, phone, offer.user_code, approve=True, until=until)
    tv = await device_codes.collect_tokens(ports, offer.device_code, "tv", pace=False)
    clock.advance(timedelta(hours=3, minutes=59))
    assert await end_ended_temporary_sign_ins(ports, clock.now()) == 0
    clock.advance(timedelta(minutes=1))
    assert await end_ended_temporary_sign_ins(ports, clock.now()) == 1
    assert await end_ended_temporary_sign_ins(ports, clock.now()) == 0  # once
    with pytest.raises(SignedOut) as refused:
        await auth.refresh(ports, tv.refresh_token)
    assert refused.value.reason == SignOutReason.TEMPORARY_ACCESS_ENDED


async def test_a_refresh_at_the_end_signs_out_instead_of_renewing(
    ports: Ports, clock: FrozenClock
) -> None:
    await _account(ports)
    phone = await _who(ports, await _device(ports))
    offer = await device_codes.request_code(ports, client_id="tv")
    until = clock.now() + timedelta(minutes=20)
    await device_codes.decide(ports, phone, offer.user_code, approve=True, until=until)
    tv = await device_codes.collect_tokens(ports, offer.device_code, "tv", pace=False)
    assert tv.expires_in == 900  # 15 minutes, within the 20
    clock.advance(timedelta(minutes=10))
    renewed = await auth.refresh(ports, tv.refresh_token)
    assert renewed.expires_in == 600  # never past the end
    clock.advance(timedelta(minutes=10))
    with pytest.raises(SignedOut) as refused:
        await auth.refresh(ports, renewed.refresh_token)
    assert refused.value.reason == SignOutReason.TEMPORARY_ACCESS_ENDED


async def test_a_looked_up_code_that_runs_out_is_logged_as_expired_once(
    ports: Ports, clock: FrozenClock
) -> None:
    await _account(ports)
    phone = await _who(ports, await _device(ports))
    offer = await device_codes.request_code(ports, client_id="tv")
    await device_codes.look_up(ports, phone, offer.user_code, None)
    clock.advance(timedelta(minutes=10))
    assert await expire_codes(ports, clock.now()) == 1
    assert await expire_codes(ports, clock.now()) == 0
    with pytest.raises(CodeNotFound):
        await device_codes.look_up(ports, phone, offer.user_code, None)


async def test_a_decided_code_is_open_to_nobody_and_a_long_name_is_cut(ports: Ports) -> None:
    await _account(ports)
    phone = await _who(ports, await _device(ports))
    offer = await device_codes.request_code(ports, client_id="tv", device_name="x" * 500)
    decided = await device_codes.decide(ports, phone, offer.user_code, approve=True)
    assert decided.device_id is not None
    with pytest.raises(CodeNotFound):
        await device_codes.look_up(ports, phone, offer.user_code, None)
    with pytest.raises(CodeNotFound):
        await device_codes.decide(ports, phone, offer.user_code, approve=False)
    async with ports.reader() as uow:
        device = await uow.devices.get(phone.account_id, decided.device_id)
    assert device is not None
    assert len(device.name) == 80
