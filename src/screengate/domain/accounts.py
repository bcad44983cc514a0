"""Accounts, email normalisation and the password rules."""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass
from datetime import datetime

from screengate.domain.errors import InvalidEmail, WeakPassword
from screengate.domain.ids import AccountId

MIN_PASSWORD_LENGTH = 8
# Long enough for any passphrase, short enough that hashing it is no denial-of-service lever.
MAX_PASSWORD_LENGTH = 256
# NIST SP 800-63B 5.2.2: no more than 100 consecutive failed attempts on one account.
MAX_CONSECUTIVE_FAILED_SIGN_INS = 100

# No whitespace or control characters anywhere (PostgreSQL cannot even store a NUL in text).
_LOCAL = r"[^@\s\x00-\x1f\x7f]{1,64}"
_LABEL = r"[^@\s.\x00-\x1f\x7f]+"
_EMAIL = re.compile(rf"^{_LOCAL}@{_LABEL}(\.{_LABEL})+$")


@dataclass(slots=True)
class Account:
    id: AccountId
    email: str
    password_hash: str
    plan: str
    created_at: datetime
    password_changed_at: datetime
    # The authenticator app's secret, sealed (encrypted) by the DataCipher; pending until
    # confirmed with a first code.
    totp_secret: str | None = None
    failed_sign_ins: int = 0
    # Set by "This wasn't me": no password sign-in until the password is reset.
    password_reset_required: bool = False
    totp_confirmed_at: datetime | None = None
    # The last time step whose code was accepted: no code of that step or before works again.
    totp_last_step: int | None = None

    @property
    def two_step_on(self) -> bool:
        return self.totp_secret is not None and self.totp_confirmed_at is not None

    @property
    def sign_in_locked(self) -> bool:
        return self.failed_sign_ins >= MAX_CONSECUTIVE_FAILED_SIGN_INS


def normalise_email(raw: str) -> str:
    """Emails are unique case-insensitively; we store and compare the lower-cased form."""
    email = raw.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise InvalidEmail(field="email")
    return email


def check_new_password(
    password: str, *, email: str, common: Container[str], field: str = "password"
) -> None:
    """Refuse what NIST SP 800-63B 5.1.1.2 says to refuse: short, common or contextual.

    `field` names the password in the request, so the error points at what to fix.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(
            f"Use at least {MIN_PASSWORD_LENGTH} characters.", field=field, rule="too_short"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(
            f"Use at most {MAX_PASSWORD_LENGTH} characters.", field=field, rule="too_long"
        )
    folded = password.lower()
    if folded in common:
        raise WeakPassword(
            "That password is too common; choose one that is hard to guess.",
            field=field,
            rule="common",
        )
    local_part = email.partition("@")[0]
    if folded in (email, local_part) or len(set(folded)) < 3:
        raise WeakPassword(
            "That password is too easy to guess; choose another.",
            field=field,
            rule="guessable",
        )
