"""The two-step rules on their own: codes in their window, once; recovery codes' shape."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from screengate.domain.ids import AccountId
from screengate.domain.two_step import (
    RECOVERY_ALPHABET,
    TOTP_PERIOD,
    TwoStepPolicy,
    code_at,
    hash_recovery_code,
    matching_step,
    new_recovery_code,
    new_totp_secret,
    proven_recently,
)

NOW = datetime(2026, 12, 1, 20, 0, 15, tzinfo=UTC)
STEP = timedelta(seconds=TOTP_PERIOD)
CURRENT = int(NOW.timestamp()) // TOTP_PERIOD


def test_the_code_of_now_or_one_step_either_side_matches_and_says_its_step() -> None:
    secret = new_totp_secret()
    assert matching_step(secret, code_at(secret, NOW), NOW, None) == CURRENT
    assert matching_step(secret, code_at(secret, NOW - STEP), NOW, None) == CURRENT - 1
    assert matching_step(secret, code_at(secret, NOW + STEP), NOW, None) == CURRENT + 1


def test_a_code_two_steps_away_does_not_match() -> None:
    secret = new_totp_secret()
    for far in (NOW - 2 * STEP, NOW + 2 * STEP):
        code = code_at(secret, far)
        if code not in {code_at(secret, NOW + k * STEP) for k in (-1, 0, 1)}:
            assert matching_step(secret, code, NOW, None) is None


def test_no_code_of_the_last_used_step_or_before_matches_again() -> None:
    secret = new_totp_secret()
    assert matching_step(secret, code_at(secret, NOW), NOW, CURRENT) is None
    assert matching_step(secret, code_at(secret, NOW - STEP), NOW, CURRENT) is None
    assert matching_step(secret, code_at(secret, NOW + STEP), NOW, CURRENT) == CURRENT + 1


def test_spaces_are_forgiven_and_odd_input_never_matches() -> None:
    secret = new_totp_secret()
    code = code_at(secret, NOW)
    assert matching_step(secret, f" {code[:3]} {code[3:]} ", NOW, None) == CURRENT
    for odd in ("", "12345", "1234567", "١٢٣٤٥٦", "12345a", "\x00" * 6):
        assert matching_step(secret, odd, NOW, None) is None


def test_recovery_codes_use_the_unambiguous_alphabet_and_forgive_dashes_and_case() -> None:
    code = new_recovery_code(bytes(range(256))[:40])
    assert len(code) == 11
    assert code[5] == "-"
    assert set(code.replace("-", "")) <= set(RECOVERY_ALPHABET)
    account = AccountId("a1")
    assert hash_recovery_code(account, code) == hash_recovery_code(
        account, code.upper().replace("-", " ")
    )
    assert hash_recovery_code(account, code) != hash_recovery_code(AccountId("a2"), code)


def test_a_proof_lasts_the_window_and_no_longer() -> None:
    policy = TwoStepPolicy(reauth=timedelta(minutes=5))
    assert proven_recently(NOW, NOW + timedelta(minutes=5), policy)
    assert not proven_recently(NOW, NOW + timedelta(minutes=5, seconds=1), policy)
    assert not proven_recently(None, NOW, policy)
