"""Keeping Python's cyclic garbage collector out of a burst of work for a moment.

With ten thousand event streams open the heap holds close to a million tracked objects, and a
full collection takes 0.2-0.9 s on this 2-core machine. One that starts while a sign-out is
being told to every device stops them all for that long, and the burst's own allocations are
what tend to start it. Reference counting still frees what the burst leaves behind; cycles
wait the few seconds until the collector runs again.
"""

from __future__ import annotations

import gc
import threading

# A thread's timer, not the event loop's: a loop that closes (a test's, a server's) before
# the hold ends must not leave the collector switched off for good.
_lock = threading.Lock()
# Long enough for a burst of ten thousand, short enough for cycles to wait without harm.
BURST_SECONDS = 5.0
_release: threading.Timer | None = None


def hold(seconds: float) -> None:
    """No automatic collection for the next `seconds` (a later hold extends it)."""
    global _release
    with _lock:
        if _release is not None:
            _release.cancel()
        elif gc.isenabled():
            gc.disable()
        else:
            return  # switched off by someone else: not ours to switch back on
        timer = threading.Timer(seconds, _resume)
        timer.args = (timer,)
        timer.daemon = True
        _release = timer
        timer.start()


def held() -> bool:
    return _release is not None


def _resume(timer: threading.Timer) -> None:
    global _release
    with _lock:
        if _release is timer:  # not one a later hold replaced
            _release = None
            gc.enable()
