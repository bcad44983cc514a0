"""Support turns two-step sign-in off for someone who lost phone and codes: logged with why."""

from __future__ import annotations

from pathlib import Path

import pytest

from screengate.demo import DEMO_EMAIL
from screengate.domain.events import EventKind
from screengate.domain.two_step import new_totp_secret
from screengate.ports import Ports
from tests.cli.test_cli import account, assert_one_line_error, cli, in_store, ok, security_log
from tests.cli.test_cli import database as database


@pytest.fixture(autouse=True)
def two_step_on(database: dict[str, str], tmp_path: Path) -> None:
    ok("db", "upgrade")
    ok("demo")

    async def turn_on(ports: Ports) -> None:
        async with ports.uow() as uow:
            found = await uow.accounts.by_email(DEMO_EMAIL)
            assert found is not None
            found.totp_secret = ports.cipher.seal(new_totp_secret())
            found.totp_confirmed_at = found.created_at
            await uow.accounts.save(found)
            await uow.commit()

    in_store(turn_on)
    assert account().two_step_on


def test_support_turns_two_step_off_and_the_log_says_why() -> None:
    output = ok("accounts", "two-step", DEMO_EMAIL, "--off", "--reason", "lost phone, ID checked")

    assert "off" in output
    assert not account().two_step_on
    logged = [e for e in security_log() if e.kind is EventKind.TWO_STEP_DISABLED]
    assert len(logged) == 1
    assert logged[0].detail["by"] == "operator"
    assert logged[0].detail["reason"] == "lost phone, ID checked"


def test_turning_two_step_off_needs_a_reason() -> None:
    code, output = cli("accounts", "two-step", DEMO_EMAIL, "--off")

    assert code != 0
    assert "reason" in output
    assert account().two_step_on


def test_an_unknown_account_fails_in_one_line() -> None:
    code, output = cli("accounts", "two-step", "nobody@example.com", "--off", "--reason", "x")

    assert_one_line_error(code, output, "No account with that email", "nobody@example.com")
