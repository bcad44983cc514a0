"""The domain's rules, in microseconds."""

from __future__ import annotations

from dataclasses import replace
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
from screengate.domain.ids import AccountId, DeviceId, ProfileId, SessionId, is_well_formed
from screengate.domain.plans import Plan, PlanCatalogue
from screengate.domain.profiles import (
    Profile,
    check_can_add,
    check_can_delete,
    check_pin,
    clean_profile_name,
)
from screengate.domain.sessions import (
    Credential,
    CredentialKind,
    Session,
    SessionPolicy,
    SignOutReason,
    SignOutScope,
    follows_its_refresh,
    signed_in_devices,
)

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


def test_a_session_keeps_the_first_reason_it_was_signed_out_for() -> None:
    session = _session(1)
    assert session.sign_out(SignOutReason.SIGNED_OUT_REMOTELY, NOW)
    assert not session.sign_out(SignOutReason.SIGNED_OUT_EVERYWHERE, NOW + timedelta(minutes=1))
    assert (session.sign_out_reason, session.signed_out_at) == (
        SignOutReason.SIGNED_OUT_REMOTELY,
        NOW,
    )


def test_a_sign_out_scope_covers_live_sessions_of_its_account_it_names() -> None:
    one, two, gone = _session(1), _session(2), _session(3)
    gone.sign_out(SignOutReason.EXPIRED, NOW)
    elsewhere = replace(_session(4), account_id=AccountId("b"))
    everything = SignOutScope(AccountId("a"))
    assert [s.id for s in (one, two, gone, elsewhere) if everything.covers(s)] == ["s1", "s2"]
    assert not SignOutScope(AccountId("a"), keep=one.id).covers(one)
    assert SignOutScope(AccountId("a"), keep=one.id).covers(two)
    assert SignOutScope(AccountId("a"), device_id=DeviceId("d2")).covers(two)
    assert not SignOutScope(AccountId("a"), device_id=DeviceId("d2")).covers(one)
    assert SignOutScope(AccountId("a"), session_id=one.id).covers(one)
    assert not SignOutScope(AccountId("a"), session_id=one.id).covers(two)


def test_a_session_lapses_when_idle_or_too_old() -> None:
    policy = SessionPolicy(idle_ttl=timedelta(days=30), absolute_ttl=timedelta(days=365))
    session = _session(1)
    assert not session.has_lapsed(NOW + timedelta(days=29), policy)
    assert session.has_lapsed(NOW + timedelta(days=30), policy)
    session.last_seen_at = NOW + timedelta(days=364)
    assert session.has_lapsed(NOW + timedelta(days=365), policy)


def _spent_at(at: datetime | None) -> Credential:
    return Credential(
        token_hash="h",
        kind=CredentialKind.REFRESH,
        session_id=SessionId("s1"),
        account_id=AccountId("a"),
        device_id=DeviceId("d1"),
        issued_at=NOW,
        expires_at=NOW + timedelta(days=30),
        used_at=at,
    )


def test_a_spent_refresh_token_follows_its_refresh_from_its_address_within_the_leeway() -> None:
    session = replace(_session(1), ip="203.0.113.10")
    leeway = timedelta(seconds=5)
    spent = _spent_at(NOW)
    assert follows_its_refresh(spent, session, "203.0.113.10", NOW + leeway, leeway)
    # Spent on an instance whose clock runs a little ahead: still the same moment.
    assert follows_its_refresh(spent, session, "203.0.113.10", NOW - timedelta(seconds=1), leeway)
    assert not follows_its_refresh(spent, session, "203.0.113.10", NOW + 2 * leeway, leeway)
    assert not follows_its_refresh(spent, session, "198.51.100.66", NOW, leeway)
    assert not follows_its_refresh(spent, session, None, NOW, leeway)
    assert not follows_its_refresh(_spent_at(None), session, "203.0.113.10", NOW, leeway)
    session.sign_out(SignOutReason.TOKEN_REUSE, NOW)
    assert not follows_its_refresh(spent, session, "203.0.113.10", NOW, leeway)


def test_the_browser_refresh_leeway_is_at_most_thirty_seconds() -> None:
    with pytest.raises(ValueError, match="30 seconds"):
        SessionPolicy(browser_refresh_leeway=timedelta(seconds=31))


def test_access_tokens_never_live_longer_than_fifteen_minutes() -> None:
    with pytest.raises(ValueError, match="15 minutes"):
        SessionPolicy(access_ttl=timedelta(minutes=16))


@given(st.lists(st.sampled_from(list(SignOutReason)), min_size=1, max_size=5))
def test_however_many_sign_outs_a_session_ends_once(reasons: list[SignOutReason]) -> None:
    session = _session(1)
    ended = [session.sign_out(reason, NOW) for reason in reasons]
    assert ended.count(True) == 1
    assert session.sign_out_reason is reasons[0]


def test_only_ids_of_the_shape_the_service_gives_or_accepts_are_well_formed() -> None:
    assert is_well_formed("1b4e28ba-2fa1-11d2-883f-0016d3cca427")
    assert is_well_formed("living_room-tv")
    for odd in ("", "a\x00b", "a b", "é", "x" * 65, "../x"):
        assert not is_well_formed(odd)


def test_the_device_limit_counts_signed_in_devices_once_and_no_lapsed_or_signed_out_one() -> None:
    policy = SessionPolicy(idle_ttl=timedelta(days=30), absolute_ttl=timedelta(days=365))
    now = datetime(2026, 6, 1, tzinfo=UTC)

    def session(device: str, seen_days_ago: int, signed_out: bool = False) -> Session:
        return Session(
            id=SessionId(f"s-{device}-{seen_days_ago}"),
            account_id=AccountId("a"),
            device_id=DeviceId(device),
            created_at=now - timedelta(days=seen_days_ago),
            last_seen_at=now - timedelta(days=seen_days_ago),
            signed_out_at=now if signed_out else None,
        )

    counted = signed_in_devices(
        [session("tv", 0), session("tv", 1), session("phone", 30), session("pc", 2, True)],
        now,
        policy,
    )

    assert counted == {DeviceId("tv")}


def test_a_session_policy_allows_one_device_at_least() -> None:
    with pytest.raises(ValueError, match="one device"):
        SessionPolicy(max_devices=0)
