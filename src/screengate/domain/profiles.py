"""Profiles: the "Who's watching?" choice, up to five per account, optionally PIN-locked."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from screengate.domain.errors import InvalidProfile, LastProfile, ProfileLimit, ProfileNameTaken
from screengate.domain.ids import AccountId, ProfileId

MAX_PROFILES = 5
MAX_PROFILE_NAME = 50
_PIN = re.compile(r"^[0-9]{4}$")
# Control characters count as spaces: never meant in a name, unsafe in a terminal, and
# PostgreSQL cannot store a NUL.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(slots=True)
class Profile:
    id: ProfileId
    account_id: AccountId
    name: str
    kids: bool
    created_at: datetime
    pin_hash: str | None = None

    @property
    def locked(self) -> bool:
        return self.pin_hash is not None


def clean_profile_name(raw: str) -> str:
    name = " ".join(_CONTROL.sub(" ", raw).split())
    if not name or len(name) > MAX_PROFILE_NAME:
        raise InvalidProfile(
            f"A profile name has 1 to {MAX_PROFILE_NAME} characters.", field="name"
        )
    return name


def check_pin(pin: str) -> None:
    if not _PIN.match(pin):
        raise InvalidProfile("A profile lock PIN is exactly 4 digits.", field="pin")


def check_can_add(existing: list[Profile], name: str) -> None:
    if len(existing) >= MAX_PROFILES:
        raise ProfileLimit(f"An account has at most {MAX_PROFILES} profiles.", limit=MAX_PROFILES)
    check_name_free(existing, name, keep=None)


def check_name_free(existing: list[Profile], name: str, keep: ProfileId | None) -> None:
    folded = name.casefold()
    if any(p.name.casefold() == folded and p.id != keep for p in existing):
        raise ProfileNameTaken(f"There is already a profile called {name!r}.", field="name")


def check_can_delete(existing: list[Profile]) -> None:
    if len(existing) <= 1:
        raise LastProfile()
