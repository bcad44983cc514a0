"""The domain's rules, in microseconds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from screengate.domain.accounts import check_new_password, normalise_email
from screengate.domain.devices import DeviceType, choose_device_name
from screengate.domain.errors import (
    InvalidEmail,
    InvalidProfile,
    LastProfile,
    ProfileLimit,
    ProfileNameTaken,
    UnknownPlan,
    WeakPassword,
)
from screengate.domain.ids import AccountId, DeviceId, ProfileId, SessionId
from screengate.domain.plans import Plan, PlanCatalogue
from screengate.domain.profiles import (
    Profile,
    check_can_add,
    check_can_delete,
    check_pin,
    clean_profile_name,
)
from screengate.domain.sessions import Session, SessionPolicy, SignOutReason, end_sessions

NOW = datetime(2026, 11, 21, 20, 0, tzinfo=UTC)
COMMON = frozenset({"password", "iloveyou"})


def _session(n: int, *, seen: datetime = NOW) -> Session:
    return Session(
        id=SessionId(f"s{n}"),
        account_id=AccountId("a"),
        device_id=DeviceId(f"d{n}"),
        created_at=seen,
        last_seen_at=seen,
    )


def _profile(n: int, name: str | None = None) -> Profile:
    return Profile(ProfileId(f"p{n}"), AccountId("a"), name or f"P{n}", False, NOW)


def test_the_default_catalogue_matches_the_design() -> None:
    plans = PlanCatalogue()
    assert plans["basic"] == Plan("basic", 1, 1, 100)
    assert plans["standard_with_ads"] == Plan("standard_with_ads", 2, 2, 15)
    assert plans["standard"] == Plan("standard", 2, 2, 100)
    assert plans["premium"] == Plan("premium", 4, 6, 100)


def test_an_unknown_plan_names_the_plans_there_are() -> None:
    with pytest.raises(UnknownPlan) as raised:
        PlanCatalogue()["diamond"]
    assert raised.value.extra["plans"] == ["basic", "standard_with_ads", "standard", "premium"]


def test_emails_compare_case_insensitively() -> None:
    assert normalise_email("  Ana.Silva@Example.COM ") == "ana.silva@example.com"


@pytest.mark.parametrize("raw", ["", "ana", "ana@", "@example.com", "ana@example", "a b@x.io"])
def test_what_is_not_an_email_is_refused(raw: str) -> None:
    with pytest.raises(InvalidEmail):
        normalise_email(raw)


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("short", "too_short"),
        ("x" * 257, "too_long"),
        ("PASSWORD", "common"),
        ("ana@example.com", "guessable"),
        ("ana-but-longer", None),
        ("aaaaaaaaaa", "guessable"),
    ],
)
def test_new_passwords_follow_nist_rules(password: str, rule: str | None) -> None:
    if rule is None:
        check_new_password(password, email="ana@example.com", common=COMMON)
        return
    with pytest.raises(WeakPassword) as raised:
        check_new_password(password, email="ana@example.com", common=COMMON)
    assert raised.value.extra["rule"] == rule


def test_a_sixth_profile_is_refused() -> None:
    with pytest.raises(ProfileLimit):
        check_can_add([_profile(n) for n in range(5)], "Sixth")


def test_profile_names_are_unique_ignoring_case() -> None:
    with pytest.raises(ProfileNameTaken):
        check_can_add([_profile(1, "Ana")], "ana")


def test_the_last_profile_cannot_be_deleted() -> None:
    with pytest.raises(LastProfile):
        check_can_delete([_profile(1)])


@pytest.mark.parametrize("pin", ["123", "12345", "12a4", "١٢٣٤"])
def test_a_pin_is_exactly_four_ascii_digits(pin: str) -> None:
    with pytest.raises(InvalidProfile):
        check_pin(pin)


def test_profile_names_fold_their_whitespace() -> None:
    assert clean_profile_name("  Ana   Maria ") == "Ana Maria"
    with pytest.raises(InvalidProfile):
        clean_profile_name("   ")


def test_the_clients_device_name_wins_then_the_user_agents_then_the_types() -> None:
    assert choose_device_name("Living Room TV", "Chrome on macOS", DeviceType.SMART_TV) == (
        "Living Room TV"
    )
    assert choose_device_name(None, "Chrome on macOS", DeviceType.WEB_BROWSER) == "Chrome on macOS"
    assert choose_device_name("  ", None, DeviceType.GAME_CONSOLE) == "Game console"


def test_ending_sessions_keeps_the_first_reason() -> None:
    sessions = [_session(1), _session(2)]
    first = end_sessions(AccountId("a"), sessions[:1], SignOutReason.SIGNED_OUT_REMOTELY, NOW)
    later = NOW + timedelta(minutes=1)
    second = end_sessions(AccountId("a"), sessions, SignOutReason.SIGNED_OUT_EVERYWHERE, later)
    assert first.session_ids == ("s1",)
    assert second.session_ids == ("s2",)
    assert sessions[0].sign_out_reason is SignOutReason.SIGNED_OUT_REMOTELY
    assert sessions[0].signed_out_at == NOW
    assert sessions[1].sign_out_reason is SignOutReason.SIGNED_OUT_EVERYWHERE


def test_a_session_lapses_when_idle_or_too_old() -> None:
    policy = SessionPolicy(idle_ttl=timedelta(days=30), absolute_ttl=timedelta(days=365))
    session = _session(1)
    assert not session.has_lapsed(NOW + timedelta(days=29), policy)
    assert session.has_lapsed(NOW + timedelta(days=30), policy)
    session.last_seen_at = NOW + timedelta(days=364)
    assert session.has_lapsed(NOW + timedelta(days=365), policy)


def test_access_tokens_never_live_longer_than_fifteen_minutes() -> None:
    with pytest.raises(ValueError, match="15 minutes"):
        SessionPolicy(access_ttl=timedelta(minutes=16))


@given(st.lists(st.sampled_from(list(SignOutReason)), min_size=1, max_size=5))
def test_however_many_sign_outs_a_session_ends_once(reasons: list[SignOutReason]) -> None:
    session = _session(1)
    ended = [end_sessions(AccountId("a"), [session], reason, NOW).session_ids for reason in reasons]
    assert sum(len(ids) for ids in ended) == 1
    assert session.sign_out_reason is reasons[0]
