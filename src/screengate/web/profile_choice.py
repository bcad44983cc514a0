"""Who's watching on this browser: the chosen profile, kept in a signed cookie.

A locked profile's PIN is asked once, when the profile is picked, and then kept (masked)
in the cookie so Play can present it, as an app keeps it in memory. The cookie is bound
to the session: copied to another device, or after a sign-out, it is worth nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from screengate.domain.ids import ProfileId, SessionId


@dataclass(frozen=True, slots=True)
class ProfileChoice:
    profile_id: ProfileId
    pin: str | None = None


def seal(secret: bytes, session_id: SessionId, choice: ProfileChoice) -> str:
    nonce = secrets.token_hex(16)
    pin = choice.pin or ""
    masked = bytes(
        a ^ b for a, b in zip(pin.encode(), _pad(secret, session_id, nonce), strict=False)
    )
    body = json.dumps([choice.profile_id, nonce, masked.hex()], separators=(",", ":"))
    payload = base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")
    return f"{payload}.{_tag(secret, session_id, payload)}"


def unseal(secret: bytes, session_id: SessionId, value: str | None) -> ProfileChoice | None:
    """The choice made on this session, or None if there is none or it was not ours."""
    # Ours are ASCII: anything else is not ours (and compare_digest would raise on it).
    if not value or len(value) > 1024 or not value.isascii():
        return None
    payload, _, tag = value.partition(".")
    if not hmac.compare_digest(tag, _tag(secret, session_id, payload)):
        return None
    try:
        profile_id, nonce, masked = json.loads(base64.urlsafe_b64decode(payload + "=" * 4))
        pad = _pad(secret, session_id, nonce)
        pin = bytes(a ^ b for a, b in zip(bytes.fromhex(masked), pad, strict=False)).decode()
    except (ValueError, TypeError):
        return None
    return ProfileChoice(ProfileId(str(profile_id)), pin or None)


def _tag(secret: bytes, session_id: str, payload: str) -> str:
    message = f"profile-choice\0{session_id}\0{payload}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def _pad(secret: bytes, session_id: str, nonce: str) -> bytes:
    # A one-time pad from a keyed hash of a fresh nonce: the PIN never sits in the clear.
    return hmac.new(secret, f"pin-pad\0{session_id}\0{nonce}".encode(), hashlib.sha256).digest()
