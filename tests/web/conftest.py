"""The website and the TV app in a real server: a uvicorn thread on SQLite, and Debian's chromium.

Browser tests never download a browser: they drive /usr/bin/chromium and skip, saying why,
when it is not installed (.ci/run installs it with apt).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright

from screengate.config import Settings
from tests.support.clock import FrozenClock
from tests.support.databases import migrated_database
from tests.support.live_server import LiveServer, live_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# `SCREENGATE_DOCS_SCREENSHOTS=1 pytest tests/web` also refreshes the README's pictures.
WRITE_DOCS = os.environ.get("SCREENGATE_DOCS_SCREENSHOTS") == "1"
VIEWPORT = {"width": 1280, "height": 800}
HEARTBEAT_SECONDS = 2

# Browsers the tests pretend to be, so the device list names them as people would see them.
CHROME_ON_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
EDGE_ON_MACOS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"
)
TV_BROWSER = (
    "Mozilla/5.0 (Linux; Tizen 7.0) AppleWebKit/537.36 "
    "(KHTML, like Gecko) SamsungBrowser/6.0 TV Safari/537.36"
)


def web_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "argon2_time_cost": 1,
        "argon2_memory_kib": 8,
        "argon2_parallelism": 1,
        "sign_in_limit_per_client": "10000/minute",
        "sign_in_concurrency_per_client": 1000,
        "stream_heartbeat_seconds": HEARTBEAT_SECONDS,
        "log_level": "WARNING",
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with migrated_database("sqlite", tmp_path_factory.mktemp("web")) as url:
        yield url


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[LiveServer]:
    with live_server(web_settings(database_url), FrozenClock()) as running:
        yield running


@pytest.fixture(scope="module")
def api(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=15.0) as client:
        yield client


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    """This test's screenshot folder under test-artifacts/ (gitignored)."""
    folder = ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    return folder


@pytest.fixture(scope="module")
def browser(server: LiveServer) -> Iterator[Browser]:
    # After the server: Playwright's sync API holds an event loop in this thread, and the
    # database fixture must run its migrations (asyncio.run) before that.
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium); no browser tests")
    with sync_playwright() as playwright:
        # launch() gives the browser a fresh, temporary user-data dir of its own.
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


class Device:
    """One browser context: a device with its own cookies, as a second laptop or a TV is."""

    def __init__(self, context: BrowserContext, base_url: str, shots: Shots) -> None:
        self.context = context
        # What the pages' Content-Security-Policy refused, as chromium reports it on the console.
        self.violations: list[str] = []
        context.on("console", self._heard)
        self.page = context.new_page()
        self.base_url = base_url
        self.shots = shots

    def _heard(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            self.violations.append(f"{message.page.url if message.page else '?'}: {message.text}")

    def open(self, path: str) -> Page:
        self.page.goto(self.base_url + path)
        return self.page

    def shot(self, name: str, docs: str | None = None) -> None:
        self.shots.take(self.page, name, docs)


class Shots:
    """Numbered screenshots in the test's artifact folder; some also become the README's."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0

    def take(self, page: Page, name: str, docs: str | None = None) -> None:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        page.screenshot(path=str(path))
        if docs and WRITE_DOCS:
            DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, DOCS_SCREENSHOTS / f"{docs}.png")


NewDevice = Callable[..., Device]


@pytest.fixture
def new_device(browser: Browser, server: LiveServer, artifacts: Path) -> Iterator[NewDevice]:
    """Open a new device (browser context) with a User-Agent; all close when the test ends.

    Every page any browser test opens is also a test of the Content-Security-Policy: a test
    whose pages logged a violation fails at its end.
    """
    contexts: list[BrowserContext] = []
    devices: list[Device] = []
    shots = Shots(artifacts)

    def open_device(user_agent: str = CHROME_ON_WINDOWS, javascript: bool = True) -> Device:
        context = browser.new_context(
            viewport=VIEWPORT,  # type: ignore[arg-type]
            user_agent=user_agent,
            java_script_enabled=javascript,
        )
        context.set_default_timeout(5_000)
        contexts.append(context)
        devices.append(Device(context, server.base_url, shots))
        return devices[-1]

    yield open_device
    for context in contexts:
        context.close()
    violations = [v for device in devices for v in device.violations]
    assert not violations, "the Content-Security-Policy refused:\n" + "\n".join(violations)
