"""The notices a page shows after a redirect, chosen by a code in the address.

Anyone can link to any address, so the address only picks a sentence from this fixed set and
gives numbers, read as integers: no text from it ever reaches the page, and an unknown code
or a number that is not one shows nothing rather than something odd.
"""

from __future__ import annotations

from dataclasses import dataclass

MOST_DEVICES = 10_000  # a count past this is not one we sent


@dataclass(frozen=True, slots=True)
class Banner:
    headline: str
    advice: str


def sign_in_banner(done: str | None, count: str | None) -> Banner | None:
    """The sign-in page's notice after this browser signed out (`?done=everywhere&count=3`),
    or after a password was reset from a mailed link (`?done=password_reset`)."""
    if done == "password_reset":
        return Banner(
            headline="Your new password is saved.",
            advice="Every device was signed out. Sign in with the new password.",
        )
    if done != "everywhere":
        return None
    devices = _number(count)
    every = f"all {devices} devices" if devices is not None and devices > 1 else "all devices"
    return Banner(
        headline=f"You signed out of {every}, this one included.",
        advice="Every device must sign in again. "
        "If you shared your password, sign in and change it now.",
    )


def _number(text: str | None) -> int | None:
    # ASCII digits only: int() would also take " 3", "+3", "3_000" and other scripts' digits.
    if text is None or not text.isascii() or not text.isdigit() or len(text) > 6:
        return None
    number = int(text)
    return number if number <= MOST_DEVICES else None
