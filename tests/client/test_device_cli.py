"""`screengate device ...` as separate processes against a real server, as in a demo."""

from __future__ import annotations

import json
import queue
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from screengate.emulator import device_app
from tests.client.conftest import PASSWORD, new_email
from tests.support.live_server import LiveServer

SECONDS = 30  # the most any one command may take; `timeout` kills it after that


def device_cli(*args: str) -> list[str]:
    return ["timeout", str(SECONDS), sys.executable, "-m", "screengate.cli", "device", *args]


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        device_cli(*args), cwd=cwd, capture_output=True, text=True, timeout=SECONDS + 5
    )


class Running:
    """A command that keeps running; its output lines as they come."""

    def __init__(self, cwd: Path, *args: str) -> None:
        self.process = subprocess.Popen(
            device_cli(*args), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))

    def wait_for(self, text: str, within: float = 15.0) -> str:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            self.lines.append(line)
            if text in line:
                return line
        raise AssertionError(f"no {text!r} within {within} s; got {self.lines}")

    def exit_code(self, within: float = 10.0) -> int:
        return self.process.wait(timeout=within)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5)


@pytest.fixture
def background(tmp_path: Path) -> Iterator[list[Running]]:
    started: list[Running] = []
    yield started
    for command in started:
        command.kill()


@pytest.fixture
def account(server: LiveServer) -> str:
    email = new_email()
    answer = httpx.post(
        f"{server.base_url}/v1/auth/sign-up",
        json={"email": email, "password": PASSWORD, "plan": "premium"},
    )
    assert answer.status_code == 201, answer.text
    return email


def sign_in_tv(server: LiveServer, cwd: Path, email: str) -> Path:
    done = run(
        cwd,
        "sign-in",
        "--url",
        server.base_url,
        "--email",
        email,
        "--password",
        PASSWORD,
        "--type",
        "smart_tv",
        "--name",
        "Living Room TV",
    )
    assert done.returncode == 0, done.stderr
    assert "Signed in as Living Room TV (smart_tv)" in done.stdout
    return cwd / "var" / "devices" / "living-room-tv.json"


@contextmanager
def phone(server: LiveServer, email: str) -> Iterator[httpx.Client]:
    """A phone signed in to the account, through the API."""
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        answer = http.post(
            "/v1/auth/sign-in",
            json={"email": email, "password": PASSWORD, "device": {"type": "phone"}},
        )
        assert answer.status_code == 201, answer.text
        http.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
        yield http


def test_device_sign_in_keeps_the_tokens_in_a_file_only_its_owner_can_read(
    server: LiveServer, tmp_path: Path, account: str
) -> None:
    state = sign_in_tv(server, tmp_path, account)

    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    saved = json.loads(state.read_text())
    assert saved["url"] == server.base_url
    assert saved["access_token"]
    assert saved["refresh_token"]
    assert PASSWORD not in state.read_text()


def test_device_listen_prints_the_sign_out_from_another_device_and_exits_0(
    server: LiveServer, tmp_path: Path, account: str, background: list[Running]
) -> None:
    state = sign_in_tv(server, tmp_path, account)
    listen = Running(tmp_path, "listen", "--state", str(state))
    background.append(listen)
    listen.wait_for("Connected.")

    with phone(server, account) as http:
        tv_id = json.loads(state.read_text())["device_id"]
        assert http.post(f"/v1/devices/{tv_id}/sign-out").status_code == 200

    assert listen.wait_for("Signed out:") == (
        "Signed out: You were signed out from another device."
    )
    assert listen.exit_code() == 0
    assert "refresh_token" not in json.loads(state.read_text())  # the dead tokens are gone


def test_device_play_says_why_playback_stopped_when_another_device_stops_it(
    server: LiveServer, tmp_path: Path, account: str, background: list[Running]
) -> None:
    state = sign_in_tv(server, tmp_path, account)
    playing = Running(tmp_path, "play", "--state", str(state), "--title", "night-harbour")
    background.append(playing)
    playing.wait_for("Playing night-harbour")

    with phone(server, account) as http:
        (stream,) = http.get("/v1/streams").json()
        assert http.delete(f"/v1/streams/{stream['stream_id']}").status_code == 204

    assert playing.wait_for("Playback stopped:") == (
        "Playback stopped: stopped from another device"
    )
    assert playing.exit_code() == 0


def test_device_devices_marks_this_device_and_sign_out_forgets_the_tokens(
    server: LiveServer, tmp_path: Path, account: str
) -> None:
    state = sign_in_tv(server, tmp_path, account)
    with phone(server, account):
        pass

    listed = run(tmp_path, "devices", "--state", str(state))
    assert listed.returncode == 0, listed.stderr
    assert "Living Room TV (this device)" in listed.stdout
    assert "phone" in listed.stdout

    signed_out = run(tmp_path, "sign-out", "--state", str(state))
    assert signed_out.returncode == 0, signed_out.stderr
    assert "Signed out Living Room TV (smart_tv)." in signed_out.stdout

    again = run(tmp_path, "devices", "--state", str(state))
    assert again.returncode == 1
    assert "is signed out" in again.stderr


def test_device_commands_without_a_state_file_say_to_sign_in_first(tmp_path: Path) -> None:
    done = run(tmp_path, "listen", "--state", str(tmp_path / "missing.json"))

    assert done.returncode == 1
    assert "run `screengate device sign-in` first" in done.stderr
    assert "Traceback" not in done.stderr


def test_device_sign_in_asks_for_the_password_without_echoing_it(
    server: LiveServer, tmp_path: Path, account: str
) -> None:
    state = tmp_path / "phone.json"
    arguments = ["sign-in", "--url", server.base_url, "--email", account, "--type", "phone"]

    result = CliRunner().invoke(device_app, [*arguments, "--state", str(state)], input=PASSWORD)

    assert result.exit_code == 0, result.output
    assert "Password:" in result.output
    assert PASSWORD not in result.output
    assert json.loads(state.read_text())["type"] == "phone"


def test_device_sign_in_again_after_a_sign_out_stays_the_same_device_by_its_secret(
    server: LiveServer, tmp_path: Path, account: str
) -> None:
    state = sign_in_tv(server, tmp_path, account)
    first = json.loads(state.read_text())
    assert first["device_secret"]
    assert run(tmp_path, "sign-out", "--state", str(state)).returncode == 0
    assert json.loads(state.read_text())["device_secret"] == first["device_secret"]  # kept

    again = json.loads(sign_in_tv(server, tmp_path, account).read_text())
    assert again["device_id"] == first["device_id"]
    assert again["device_secret"] not in (None, first["device_secret"])
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
