"""The operator CLI against a real SQLite file: every command, as support would type it."""

from __future__ import annotations

import asyncio
import re
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from typer.testing import CliRunner

from screengate.cli import app
from screengate.config import Settings
from screengate.demo import DEMO_EMAIL, DEMO_PASSWORD
from screengate.domain.accounts import MAX_CONSECUTIVE_FAILED_SIGN_INS, Account
from screengate.domain.devices import Device, DeviceType
from screengate.domain.errors import SignedOut
from screengate.domain.events import EventKind, SecurityEvent
from screengate.domain.ids import DeviceId, SessionId
from screengate.domain.profiles import Profile
from screengate.domain.sessions import Session, SignOutReason, TokenPair
from screengate.ports import Ports
from screengate.services import auth
from screengate.services.devices import list_devices_for_operator
from screengate.services.views import DeviceView
from screengate.wiring import open_ports

T = TypeVar("T")

SERVER_START_TIMEOUT = 20.0  # seconds

runner = CliRunner()


@pytest.fixture(autouse=True)
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A fresh SQLite file and a cheap argon2 for each test, for the CLI and the checks alike."""
    env = {
        "SCREENGATE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'screengate.db'}",
        "SCREENGATE_ARGON2_TIME_COST": "1",
        "SCREENGATE_ARGON2_MEMORY_KIB": "8",
        "SCREENGATE_ARGON2_PARALLELISM": "1",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


# helpers


def cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def ok(*args: str) -> str:
    code, output = cli(*args)
    assert code == 0, output
    return output


def in_store(work: Callable[[Ports], Awaitable[T]]) -> T:
    async def run() -> T:
        async with open_ports(Settings()) as ports:
            return await work(ports)

    return asyncio.run(run())


def seeded() -> str:
    ok("db", "upgrade")
    return ok("demo")


def devices_of(email: str = DEMO_EMAIL) -> list[DeviceView]:
    return in_store(lambda ports: list_devices_for_operator(ports, email))


def account(email: str = DEMO_EMAIL) -> Account:
    async def find(ports: Ports) -> Account:
        async with ports.uow() as uow:
            found = await uow.accounts.by_email(email)
        assert found is not None
        return found

    return in_store(find)


def profiles_of(email: str = DEMO_EMAIL) -> list[Profile]:
    account_id = account(email).id

    async def read(ports: Ports) -> list[Profile]:
        async with ports.uow() as uow:
            return await uow.profiles.for_account(account_id)

    return in_store(read)


def security_log(email: str = DEMO_EMAIL) -> list[SecurityEvent]:
    account_id = account(email).id

    async def read(ports: Ports) -> list[SecurityEvent]:
        async with ports.uow() as uow:
            return await uow.events.page(account_id, before_id=None, limit=1000)

    return in_store(read)


def sign_in(name: str, email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD) -> TokenPair:
    return in_store(
        lambda ports: auth.sign_in(
            ports,
            email=email,
            password=password,
            device_type=DeviceType.PHONE,
            device_name=name,
            ip="192.0.2.10",
        )
    )


def refusal(access_token: str) -> SignedOut:
    with pytest.raises(SignedOut) as refused:
        in_store(lambda ports: auth.authenticate(ports, access_token))
    return refused.value


def assert_one_line_error(code: int, output: str, *words: str) -> None:
    assert code == 1, output
    assert output.startswith("error:"), output
    assert output.count("\n") == 1, output
    assert "Traceback" not in output
    for word in words:
        assert word in output


# db upgrade and demo


def test_demo_creates_a_premium_household_with_three_profiles_and_six_devices() -> None:
    output = seeded()

    assert DEMO_EMAIL in output
    assert DEMO_PASSWORD in output
    assert "PIN 4826" in output
    assert "curl" in output
    assert account().plan == "premium"
    profiles = {p.name: p for p in profiles_of()}
    assert set(profiles) == {"Ana", "Ben", "Kids"}
    assert profiles["Kids"].kids
    assert [p.name for p in profiles.values() if p.locked] == ["Ben"]
    devices = devices_of()
    assert {d.name for d in devices} == {
        "Living Room TV",
        "Hotel Room TV",
        "Ana's iPhone",
        "PlayStation 5",
        "Chrome on macOS",
        "Fire TV Stick",
    }
    assert len({d.type for d in devices}) == 5
    assert len({d.location for d in devices}) >= 3
    assert len({d.last_seen_at for d in devices}) == 6
    assert all(d.last_activity and d.last_activity.profile_name for d in devices)


def test_demo_prints_no_credential_of_its_devices() -> None:
    output = seeded()

    # A token is 43 URL-safe characters; nothing printed looks like one.
    assert not re.search(r"[A-Za-z0-9_-]{40,}", output)


def test_running_demo_twice_adds_nothing() -> None:
    seeded()
    devices_before, log_before = devices_of(), security_log()

    output = ok("demo")

    assert "already there" in output
    assert DEMO_PASSWORD in output
    assert devices_of() == devices_before
    assert security_log() == log_before
    assert len(profiles_of()) == 3


def test_demo_signs_its_devices_back_in_as_the_same_devices_after_a_sign_out() -> None:
    seeded()
    ids_before = {d.name: d.device_id for d in devices_of()}
    ok("devices", "sign-out", DEMO_EMAIL, "--all")

    output = ok("demo")

    assert "signed in again" in output
    assert {d.name: d.device_id for d in devices_of()} == ids_before


def test_demo_leaves_alone_an_account_whose_password_was_changed() -> None:
    ok("db", "upgrade")
    ok("accounts", "create", DEMO_EMAIL, "--password", "someone-else-2026", "--plan", "basic")

    code, output = cli("demo")

    assert code == 0, output
    assert "no longer works" in output
    assert devices_of() == []
    assert account().plan == "basic"


def test_commands_before_db_upgrade_say_what_to_run() -> None:
    assert_one_line_error(*cli("devices", "list", DEMO_EMAIL), "screengate db upgrade")


# accounts


def test_accounts_create_prints_the_new_account_id() -> None:
    ok("db", "upgrade")

    output = ok("accounts", "create", "Sam@Example.com", "--password", "correct-horse-42")

    created = account("sam@example.com")
    assert created.id in output
    assert created.plan == "standard"


def test_accounts_create_asks_for_the_password_twice_without_echoing_it() -> None:
    ok("db", "upgrade")

    result = runner.invoke(
        app,
        ["accounts", "create", "sam@example.com", "--plan", "premium"],
        input="correct-horse-42\ncorrect-horse-42\n",
    )

    assert result.exit_code == 0, result.output
    assert "correct-horse-42" not in result.output
    assert account("sam@example.com").plan == "premium"


def test_accounts_create_refuses_a_common_password_in_one_line() -> None:
    ok("db", "upgrade")

    code, output = cli("accounts", "create", "sam@example.com", "--password", "password123")

    assert_one_line_error(code, output, "too common")


def test_accounts_create_refuses_an_email_that_is_taken() -> None:
    seeded()

    code, output = cli("accounts", "create", DEMO_EMAIL, "--password", "correct-horse-42")

    assert_one_line_error(code, output, "already exists")


def test_accounts_plan_moves_the_account_to_another_plan_and_logs_it() -> None:
    seeded()

    output = ok("accounts", "plan", DEMO_EMAIL, "basic")

    assert "basic" in output
    assert account().plan == "basic"
    assert security_log()[0].kind is EventKind.PLAN_CHANGED


def test_accounts_plan_refuses_an_unknown_plan_and_lists_the_real_ones() -> None:
    seeded()

    code, output = cli("accounts", "plan", DEMO_EMAIL, "platinum")

    assert_one_line_error(code, output, "platinum", "premium", "basic")
    assert account().plan == "premium"


def test_accounts_unlock_lets_a_locked_account_sign_in_again() -> None:
    seeded()

    async def lock(ports: Ports) -> None:
        async with ports.uow() as uow:
            locked = await uow.accounts.by_email(DEMO_EMAIL)
            assert locked is not None
            locked.failed_sign_ins = MAX_CONSECUTIVE_FAILED_SIGN_INS
            await uow.accounts.save(locked)
            await uow.commit()

    in_store(lock)
    assert account().sign_in_locked

    ok("accounts", "unlock", DEMO_EMAIL)

    assert sign_in("Unlocked Phone").access_token


@pytest.mark.parametrize(
    "command",
    [
        ["accounts", "plan", "nobody@example.com", "basic"],
        ["accounts", "unlock", "nobody@example.com"],
        ["devices", "list", "nobody@example.com"],
        ["devices", "sign-out", "nobody@example.com", "--all"],
    ],
)
def test_commands_about_an_unknown_account_fail_in_one_line(command: list[str]) -> None:
    ok("db", "upgrade")

    assert_one_line_error(*cli(*command), "No account with that email", "nobody@example.com")


# devices


def test_devices_list_shows_every_signed_in_device_with_its_id() -> None:
    seeded()

    output = ok("devices", "list", DEMO_EMAIL)

    for device in devices_of():
        assert device.name in output
        assert device.device_id in output
    assert "Barcelona, Spain" in output
    assert "stranger-things-s4e1" in output


def test_devices_sign_out_of_one_device_refuses_its_token_with_reason_operator() -> None:
    seeded()
    hotel = sign_in("Hotel Lobby Tablet")
    other = sign_in("Ben's Phone")

    output = ok("devices", "sign-out", DEMO_EMAIL, hotel.device_id)

    assert "Hotel Lobby Tablet" in output
    assert refusal(hotel.access_token).reason == "operator"
    assert in_store(lambda ports: auth.authenticate(ports, other.access_token))
    assert hotel.device_id not in {d.device_id for d in devices_of()}
    assert len(devices_of()) == 7
    confirmed, signed_out = security_log()[:2]
    # The hotel tablet came back after the sign-out and was refused: the receipt's last word.
    assert (confirmed.kind, confirmed.device_id) == (EventKind.SIGN_OUT_CONFIRMED, hotel.device_id)
    assert (signed_out.kind, signed_out.device_id) == (EventKind.SIGNED_OUT, hotel.device_id)
    assert signed_out.detail["reason"] == "operator"
    assert signed_out.detail["by_device_name"] == "Customer support"


def test_devices_sign_out_all_signs_out_every_device_with_reason_operator() -> None:
    seeded()
    phone = sign_in("Ben's Phone")
    log_before = len(security_log())

    output = ok("devices", "sign-out", DEMO_EMAIL, "--all")

    assert "Signed out 7 devices" in output
    assert "Ben's Phone" in output
    assert refusal(phone.access_token).reason == "operator"
    assert devices_of() == []
    new_events = security_log()[: len(security_log()) - log_before]
    signed_out = [e for e in new_events if e.kind is EventKind.SIGNED_OUT]
    assert len(signed_out) == 7
    assert {e.detail["reason"] for e in signed_out} == {"operator"}
    # Ben's phone came back and was refused: its receipt is confirmed.
    assert [e.kind for e in new_events if e not in signed_out] == [EventKind.SIGN_OUT_CONFIRMED]


def test_devices_sign_out_leaves_other_accounts_alone() -> None:
    seeded()
    ok("accounts", "create", "sam@example.com", "--password", "correct-horse-42")
    sams = sign_in("Sam's TV", email="sam@example.com", password="correct-horse-42")

    ok("devices", "sign-out", DEMO_EMAIL, "--all")

    assert in_store(lambda ports: auth.authenticate(ports, sams.access_token))
    code, output = cli("devices", "sign-out", DEMO_EMAIL, sams.device_id)
    assert_one_line_error(code, output, "No signed-in device")


@pytest.mark.parametrize(
    "arguments", [[], ["--all", "00000000-0000-0000-0000-000000000000"]], ids=["neither", "both"]
)
def test_devices_sign_out_needs_exactly_one_of_a_device_id_or_all(arguments: list[str]) -> None:
    seeded()

    code, output = cli("devices", "sign-out", DEMO_EMAIL, *arguments)

    assert code == 2, output
    assert "DEVICE_ID" in output
    assert len(devices_of()) == 6


# serve


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_healthy(client: httpx.Client, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        assert server.poll() is None, "the server exited while starting"
        try:
            if client.get("/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"no healthy answer within {SERVER_START_TIMEOUT} s")


def test_serve_on_sqlite_uses_one_worker_and_answers_sign_up_and_sign_in_over_http(
    tmp_path: Path, database: dict[str, str]
) -> None:
    ok("db", "upgrade")
    port = free_port()
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "screengate.cli", "serve", "--port", str(port)]
    with log.open("wb") as sink:
        server = subprocess.Popen([*command, "--workers", "2"], stdout=sink, stderr=sink)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            wait_until_healthy(client, server)
            signed_up = client.post(
                "/v1/auth/sign-up",
                json={"email": "sam@example.com", "password": "correct-horse-42"},
            )
            assert signed_up.status_code == 201, signed_up.text
            signed_in = client.post(
                "/v1/auth/sign-in",
                json={
                    "email": "sam@example.com",
                    "password": "correct-horse-42",
                    "device": {"type": "smart_tv", "name": "Living Room TV"},
                },
            )
            assert signed_in.status_code == 201, signed_in.text
            token = signed_in.json()["access_token"]
            account_page = client.get("/v1/account", headers={"authorization": f"Bearer {token}"})
            assert account_page.json()["email"] == "sam@example.com"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    printed = log.read_text()
    assert f"http://127.0.0.1:{port}" in printed
    assert "using 1 worker, not 2" in printed
    assert database["SCREENGATE_DATABASE_URL"] in printed


def test_sessions_prune_deletes_sessions_ended_long_ago_and_keeps_the_rest() -> None:
    seeded()
    owner = account()
    long_ago = datetime.now(UTC) - timedelta(days=91)
    hotel_tv = Device(
        id=DeviceId("hotel-tv"),
        account_id=owner.id,
        type=DeviceType.SMART_TV,
        name="Hotel TV",
        created_at=long_ago,
    )
    ended = Session(
        id=SessionId("hotel-tv-session"),
        account_id=owner.id,
        device_id=hotel_tv.id,
        created_at=long_ago,
        last_seen_at=long_ago,
        signed_out_at=long_ago,
        sign_out_reason=SignOutReason.SIGNED_OUT_REMOTELY,
    )

    async def add(ports: Ports) -> None:
        async with ports.uow() as uow:
            await uow.devices.add(hotel_tv)
            await uow.sessions.add(ended)
            await uow.commit()

    in_store(add)
    before = {view.device_id for view in devices_of()}

    output = ok("sessions", "prune")

    assert "Pruned 1 ended session, 1 device left with none" in output

    async def stored(ports: Ports) -> tuple[Session | None, Device | None]:
        async with ports.uow() as uow:
            return await uow.sessions.get(ended.id), await uow.devices.get(owner.id, hotel_tv.id)

    assert in_store(stored) == (None, None)
    assert {view.device_id for view in devices_of()} == before
    assert "Pruned 0 ended sessions" in ok("sessions", "prune")
