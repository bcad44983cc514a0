"""A real screengate server on a free 127.0.0.1 port, in a background thread, for HTTP tests."""

from __future__ import annotations

import asyncio
import shutil
import socket
import threading
import time
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from tempfile import mkdtemp
from typing import Any, TypeVar, cast

import uvicorn
from litestar import Litestar

from screengate.app import create_app
from screengate.config import Settings
from screengate.ports import Ports
from tests.support.clock import FrozenClock

T = TypeVar("T")

STARTUP_SECONDS = 20.0
SHUTDOWN_SECONDS = 20.0


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    app: Litestar
    settings: Settings
    clock: FrozenClock
    loop: asyncio.AbstractEventLoop

    @property
    def ports(self) -> Ports:
        """The running app's ports: the same store and revocation view the routes use."""
        return cast("Ports", self.app.state.ports)

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        """Await `coroutine` on the server's own event loop (its store belongs to that loop)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)


@contextmanager
def live_server(
    settings: Settings,
    clock: FrozenClock | None = None,
    *,
    log_level: str = "warning",
    access_log: bool = False,
) -> Iterator[LiveServer]:
    """Serve create_app(settings) with uvicorn until the block ends; always shut it down."""
    clock = clock or FrozenClock()
    own_mail: Path | None = None
    if settings.mail_folder == Settings.model_fields["mail_folder"].default:
        # The .eml default goes to a folder of the test's own, not the working directory's var/.
        own_mail = Path(mkdtemp(prefix="screengate-mail-"))
        settings = settings.model_copy(update={"mail_folder": own_mail})
    app = create_app(settings, clock=clock)
    # No log_config: uvicorn's records then reach the root logger, where caplog sees them.
    config = uvicorn.Config(
        app,
        loop="asyncio",
        lifespan="on",
        log_config=None,
        log_level=log_level,
        access_log=access_log,
        # The app decides whom to believe (SCREENGATE_TRUSTED_PROXIES), as under Granian:
        # uvicorn must not rewrite the scheme and client from loopback's X-Forwarded-* first.
        proxy_headers=False,
    )
    server = uvicorn.Server(config)
    # IPPROTO_TCP spelled out: asyncio sets TCP_NODELAY only on sockets that say so, and
    # without it every keep-alive answer waits ~40 ms on Nagle and delayed ACKs.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    loops: list[asyncio.AbstractEventLoop] = []
    failures: list[BaseException] = []

    async def serve() -> None:
        loops.append(asyncio.get_running_loop())
        await server.serve(sockets=[sock])

    def main() -> None:
        try:
            asyncio.run(serve())
        except BaseException as error:  # surfaced by the waiting test, not lost in the thread
            failures.append(error)

    thread = threading.Thread(target=main, name=f"screengate-{port}", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not server.started:
            if failures or not thread.is_alive():
                raise RuntimeError(f"the server did not start: {failures!r}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the server did not start within {STARTUP_SECONDS} s")
            time.sleep(0.01)
        yield LiveServer(f"http://127.0.0.1:{port}", app, settings, clock, loops[0])
    finally:
        server.should_exit = True
        thread.join(SHUTDOWN_SECONDS)
        sock.close()
        if own_mail is not None:
            shutil.rmtree(own_mail, ignore_errors=True)
    if thread.is_alive():
        raise RuntimeError("the server did not stop")
