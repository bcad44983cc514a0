"""Two-step sign-in: authenticator codes (RFC 6238), recovery codes, the challenge between the
password and the second step, passkeys, and the "confirm it's you" window. No I/O, no clock."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import pyotp

from screengate.domain.ids import AccountId, DeviceId, SessionId

TOTP_PERIOD = 30  # seconds per code (RFC 6238's default, what every authenticator app uses)
TOTP_DIGITS = 6
# A code from the step before or after now is accepted too: phones' clocks drift.
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
# No 0/o, 1/l/i: read off paper. 10 characters of 31: about 50 bits per code.
RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
RECOVERY_CODE_LENGTH = 10
# Wrong codes one challenge may take before it is spent: start again with the password.
MAX_CHALLENGE_FAILURES = 5
ISSUER = "screengate"


class Method(StrEnum):
    """How the second step may be taken."""

    TOTP = "totp"
    RECOVERY_CODE = "recovery_code"
    PASSKEY = "passkey"


class ChallengeKind(StrEnum):
    # The password was right; a code finishes the sign-in.
    SECOND_FACTOR = "second_factor"
    # WebAuthn ceremonies: their random challenge, kept until the browser answers.
    PASSKEY_REGISTRATION = "passkey_registration"
    PASSKEY_SIGN_IN = "passkey_sign_in"


@dataclass(frozen=True, slots=True)
class TwoStepPolicy:
    # How long a proof of identity ("confirm it's you") lasts on a session.
    reauth: timedelta = timedelta(minutes=5)
    # How long the second step may wait after the password.
    challenge_ttl: timedelta = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class PendingDevice:
    """The device a challenge will sign in, as the password step described it."""

    type: str
    name: str | None = None
    # The device it claims to be, and the hash of the secret it showed: it is that device
    # only if the secret still proves it when the session opens (else a new device).
    device_id: str | None = None
    user_agent: str | None = None
    secret_hash: str | None = None


@dataclass(slots=True)
class Challenge:
    """A short-lived, single-use token (kept only as its hash)."""

    token_hash: str
    kind: ChallengeKind
    created_at: datetime
    expires_at: datetime
    account_id: AccountId | None = None
    session_id: SessionId | None = None
    device: PendingDevice | None = None
    # The WebAuthn challenge bytes (base64url), for the passkey ceremonies.
    webauthn: str | None = None
    failures: int = 0
    used_at: datetime | None = None

    def usable(self, kind: ChallengeKind, now: datetime) -> bool:
        return (
            self.kind is kind
            and self.used_at is None
            and now < self.expires_at
            and self.failures < MAX_CHALLENGE_FAILURES
        )


@dataclass(slots=True)
class Passkey:
    id: str
    account_id: AccountId
    # base64url, as WebAuthn's rawId: how the browser names it.
    credential_id: str
    public_key: str
    sign_count: int
    name: str
    created_at: datetime
    last_used_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SignInSecondStep:
    """What the password step hands back when two-step is on."""

    challenge: str
    methods: tuple[Method, ...]
    device_id: DeviceId | None = None


def new_totp_secret() -> str:
    """160 random bits in base32, RFC 4226's recommended length."""
    return pyotp.random_base32(32)


def otpauth_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_PERIOD).provisioning_uri(
        name=email, issuer_name=ISSUER
    )


def code_at(secret: str, at: datetime) -> str:
    """The code an authenticator shows at `at` (tests and the docs' one-liner make them so)."""
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_PERIOD).at(at)


def matching_step(secret: str, code: str, now: datetime, last_used_step: int | None) -> int | None:
    """The time step whose code this is (now ± DRIFT_STEPS), if that step is later than the
    last one used: a code works once, and no earlier code works after it."""
    digits = "".join(code.split())
    if len(digits) != TOTP_DIGITS or not digits.isascii() or not digits.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_PERIOD)
    current = int(now.timestamp()) // TOTP_PERIOD
    found = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        # Every candidate compared, in constant time: no early exit says which one matched.
        if hmac.compare_digest(totp.generate_otp(step), digits):
            found = step
    if found is None or (last_used_step is not None and found <= last_used_step):
        return None
    return found


def new_recovery_code(random_bytes: bytes) -> str:
    """xxxxx-xxxxx from `random_bytes` (32 of them is plenty): bytes past the alphabet's
    largest multiple are skipped, so every character is equally likely."""
    size = len(RECOVERY_ALPHABET)
    usable = 256 - 256 % size
    chars = [RECOVERY_ALPHABET[b % size] for b in random_bytes if b < usable]
    if len(chars) < RECOVERY_CODE_LENGTH:
        raise ValueError("not enough random bytes for a recovery code")
    code = "".join(chars[:RECOVERY_CODE_LENGTH])
    return f"{code[:5]}-{code[5:]}"


def hash_recovery_code(account_id: AccountId, code: str) -> str:
    """Dashes, spaces and case ignored. The codes are random (about 50 bits) and guesses are
    throttled, so a fast hash serves, as it does for tokens; the account salts it."""
    folded = "".join(c for c in code.lower() if c.isalnum())
    return hashlib.sha256(f"{account_id}:{folded}".encode()).hexdigest()


def proven_recently(proven_at: datetime | None, now: datetime, policy: TwoStepPolicy) -> bool:
    return proven_at is not None and now - proven_at <= policy.reauth


def clean_passkey_name(raw: str | None, fallback: str) -> str:
    name = " ".join((raw or "").split())[:60]
    return name or fallback


@dataclass(frozen=True, slots=True)
class RelyingParty:
    """Who passkeys are for (WebAuthn): the site's host name, and the origin pages run on."""

    id: str
    origin: str
    name: str = ISSUER


@dataclass(frozen=True, slots=True)
class PasskeyKey:
    """What a verified registration yields: the credential's id, public key (COSE, base64url)
    and signature counter."""

    credential_id: str
    public_key: str
    sign_count: int
