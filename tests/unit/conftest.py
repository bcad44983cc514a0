"""Services over fakes: the memory store, a frozen clock, a fast hasher. No I/O, no sleeping."""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest

from screengate.adapters.bus import InProcessBus
from screengate.adapters.cipher import FernetCipher, new_data_key
from screengate.adapters.devices import UserAgentNamer
from screengate.adapters.hub import LocalDecisions, LocalNoticeHub, LocalPresence
from screengate.adapters.memory import MemoryDatabase, memory_unit_of_work_factory
from screengate.adapters.passkeys import WebAuthnCeremonies
from screengate.adapters.revocation import LocalRevocationView
from screengate.adapters.throttle import (
    LimitsCodeThrottle,
    LimitsSecondFactorThrottle,
    MemoryCounters,
)
from screengate.adapters.views import LocalViews
from screengate.domain.catalogue import DEMO_TITLES, Catalogue
from screengate.domain.device_codes import USER_CODE_ALPHABET, USER_CODE_LENGTH, DeviceCodePolicy
from screengate.domain.errors import TooManyAttempts, TooManyPinAttempts
from screengate.domain.ids import DeviceId, ProfileId
from screengate.domain.notices import Announcement, BusMessage
from screengate.domain.plans import PlanCatalogue
from screengate.domain.sessions import SessionPolicy
from screengate.domain.streams import StreamPolicy
from screengate.domain.two_step import TwoStepPolicy
from screengate.ports import Guesser, PinFailure, Ports
from screengate.services.acting import confirmed_writes
from screengate.services.views import AccountDevices, AccountView


class FrozenClock:
    def __init__(self, at: datetime = datetime(2026, 11, 21, 20, 0, tzinfo=UTC)) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, by: timedelta) -> None:
        self.at += by


class CountingTokens:
    """Predictable, unique tokens and ids, so a failing test prints something readable."""

    def __init__(self) -> None:
        self._n = itertools.count(1)

    def token(self) -> str:
        return f"token-{next(self._n):06d}-" + "x" * 22

    def new_id(self) -> str:
        return f"id-{next(self._n):06d}"

    def user_code(self) -> str:
        """Counting in the consonants' base 20: BBBBBBBC, BBBBBBBD, ..."""
        n, code = next(self._n), ""
        for _ in range(USER_CODE_LENGTH):
            n, digit = divmod(n, len(USER_CODE_ALPHABET))
            code = USER_CODE_ALPHABET[digit] + code
        return code


class PlainHasher:
    """Stands in for argon2: same contract, no cost; counts what would have cost."""

    def __init__(self) -> None:
        self.dummy_verifications = 0
        self.hashes = 0
        self.verifications = 0

    async def hash(self, secret: str) -> str:
        self.hashes += 1
        return _plain_hash(secret)

    async def verify(self, hashed: str, secret: str) -> bool:
        self.verifications += 1
        return hashed == _plain_hash(secret)

    async def verify_dummy(self, secret: str) -> None:
        self.dummy_verifications += 1

    def needs_rehash(self, hashed: str) -> bool:
        return False

    @property
    def work(self) -> int:
        """Every hash and verification so far, dummy ones included."""
        return self.hashes + self.verifications + self.dummy_verifications


def _plain_hash(secret: str) -> str:
    return "sha256$" + hashlib.sha256(secret.encode()).hexdigest()


class CountingThrottle:
    """Refuses after `allowed` failures per email (a known device: per device); remembers
    what it was told, and every attempt's address."""

    def __init__(self, allowed: int = 1_000) -> None:
        self.allowed = allowed
        self.failures: dict[str, int] = {}
        self.attempts: list[str | None] = []

    @asynccontextmanager
    async def turn(self, email: str) -> AsyncIterator[None]:
        yield  # one event loop and no I/O here: nothing interleaves a judgement

    @asynccontextmanager
    async def attempt(self, address: str | None) -> AsyncIterator[None]:
        self.attempts.append(address)
        yield

    async def check(self, guesser: Guesser) -> None:
        if self.failures.get(_key(guesser), 0) >= self.allowed:
            raise TooManyAttempts(60)

    async def failed(self, guesser: Guesser) -> None:
        self.failures[_key(guesser)] = self.failures.get(_key(guesser), 0) + 1

    async def succeeded(self, guesser: Guesser) -> None:
        self.failures.pop(_key(guesser), None)


def _key(guesser: Guesser) -> str:
    return f"{guesser.email} {guesser.device_id}" if guesser.device_id else guesser.email


class ClockedPinThrottle:
    """Wrong PINs in one moving window per profile and per device, on the frozen clock: the
    port's contract (tests/contract/test_throttle.py holds the real one to it) in plain Python."""

    def __init__(
        self,
        clock: FrozenClock,
        per_profile: int = 5,
        per_device: int = 10,
        window: timedelta = timedelta(minutes=15),
    ) -> None:
        self.clock = clock
        self.per_profile, self.per_device, self.window = per_profile, per_device, window
        self.failures: dict[tuple[str, str], list[datetime]] = {}

    @asynccontextmanager
    async def turn(self, profile_id: ProfileId) -> AsyncIterator[None]:
        yield  # one event loop and no I/O here: nothing interleaves a judgement

    async def check(self, profile_id: ProfileId, device_id: DeviceId) -> None:
        wait = self._wait(profile_id, device_id)
        if wait:
            raise TooManyPinAttempts(wait)

    async def failed(self, profile_id: ProfileId, device_id: DeviceId) -> PinFailure:
        counted = self._wait(profile_id, device_id) == 0
        if counted:
            for key in (("profile", profile_id), ("device", device_id)):
                self.failures.setdefault(key, []).append(self.clock.now())
        return PinFailure(counted=counted, retry_after=self._wait(profile_id, device_id))

    def _wait(self, profile_id: ProfileId, device_id: DeviceId) -> int:
        now, waits = self.clock.now(), [0]
        for key, limit in (
            (("profile", profile_id), self.per_profile),
            (("device", device_id), self.per_device),
        ):
            recent = [at for at in self.failures.get(key, []) if at > now - self.window]
            if len(recent) >= limit:  # full until the limit-th newest leaves the window
                waits.append(math.ceil((recent[-limit] + self.window - now).total_seconds()))
        return max(waits)


class RecordingBus(InProcessBus):
    def __init__(self) -> None:
        super().__init__()
        self.published: list[BusMessage] = []

    async def publish(self, message: BusMessage) -> None:
        self.published.append(message)
        await super().publish(message)

    def announcements(self) -> list[Announcement]:
        return [m for m in self.published if isinstance(m, Announcement)]


class FixedPlaces:
    def locate(self, ip: str | None) -> str | None:
        return {"203.0.113.7": "Lisbon, Portugal"}.get(ip or "")


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def ports(clock: FrozenClock) -> Ports:
    hasher = PlainHasher()
    bus = RecordingBus()
    revocations = LocalRevocationView(caching=True)
    hub = LocalNoticeHub(bus)
    views = LocalViews[AccountView](enabled=True, max_age_seconds=60)
    device_lists = LocalViews[AccountDevices](enabled=True, max_age_seconds=60)

    decisions = LocalDecisions()

    async def on_message(message: BusMessage) -> None:
        if isinstance(message, Announcement):
            revocations.revoke(message.revoked)
            views.forget(message.account_id)
            device_lists.forget(message.account_id)
        await hub.on_message(message)
        await decisions.on_message(message)

    bus.subscribe(on_message)
    store = memory_unit_of_work_factory(MemoryDatabase())
    return Ports(
        uow=confirmed_writes(store),
        reader=store,
        clock=clock,
        tokens=CountingTokens(),
        hasher=hasher,
        pin_hasher=hasher,
        throttle=CountingThrottle(),
        pin_throttle=ClockedPinThrottle(clock),
        bus=bus,
        revocations=revocations,
        namer=UserAgentNamer(),
        geo=FixedPlaces(),
        plans=PlanCatalogue(),
        policy=SessionPolicy(),
        common_passwords=frozenset({"password", "12345678", "qwertyuiop"}),
        catalogue=Catalogue(DEMO_TITLES),
        streaming=StreamPolicy(),
        download_licence=timedelta(days=7),
        presence=LocalPresence(),
        hub=hub,
        views=views,
        device_lists=device_lists,
        cipher=FernetCipher([new_data_key()]),
        second_factor_throttle=LimitsSecondFactorThrottle(
            MemoryCounters(), per_account="5/minute;20/hour"
        ),
        two_step=TwoStepPolicy(),
        ceremonies=WebAuthnCeremonies(),
        code_throttle=LimitsCodeThrottle(
            MemoryCounters(),
            per_account="10/15 minutes",
            per_client="10/15 minutes",
            requests_per_client="1000/minute",
        ),
        decisions=decisions,
        device_codes=DeviceCodePolicy(),
        receipt_wait=0.5,
    )
