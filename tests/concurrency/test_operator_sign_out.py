"""The support desk signs a device out from the CLI, a process of its own, while the embedded
server runs: the server refuses the device within a fraction of a second, though it had the
credential cached."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from bench.server import serve, server_env

from tests.concurrency.test_play_race import FAST_ARGON2, PASSWORD, _bearer
from tests.support.databases import migrated_database


@pytest.mark.timeout(120)
def test_an_operator_sign_out_from_the_cli_reaches_a_running_embedded_server(
    tmp_path: Path,
) -> None:
    email = f"desk-{os.urandom(4).hex()}@example.com"
    with (
        migrated_database("sqlite", tmp_path) as url,
        serve(url, tmp_path / "server.log", env=FAST_ARGON2) as server,
        httpx.Client(base_url=server.base_url, timeout=10) as client,
    ):
        client.post(
            "/v1/auth/sign-up", json={"email": email, "password": PASSWORD, "plan": "basic"}
        )
        token = client.post(
            "/v1/auth/sign-in",
            json={"email": email, "password": PASSWORD, "device": {"type": "smart_tv"}},
        ).json()["access_token"]
        assert client.get("/v1/account", headers=_bearer(token)).status_code == 200

        desk = subprocess.run(
            [sys.executable, "-m", "screengate.cli", "devices", "sign-out", email, "--all"],
            env=server_env(url, FAST_ARGON2),
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert desk.returncode == 0, desk.stdout + desk.stderr
        returned = time.monotonic()
        while True:
            answer = client.get("/v1/account", headers=_bearer(token))
            if answer.status_code == 401:
                break
            assert time.monotonic() - returned < 1.0, "still accepted a second after"
            time.sleep(0.02)
    assert answer.json()["reason"] == "operator"
