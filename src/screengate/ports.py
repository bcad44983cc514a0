"""The ports the services need. Each has a real adapter; the stores also have an in-memory one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Container, Iterable
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from screengate.domain.accounts import Account
from screengate.domain.devices import Device
from screengate.domain.events import SecurityEvent
from screengate.domain.ids import AccountId, DeviceId, ProfileId, SessionId
from screengate.domain.plans import PlanCatalogue
from screengate.domain.profiles import Profile
from screengate.domain.sessions import Credential, Principal, Session, SessionPolicy, SignOut


class AccountStore(Protocol):
    async def add(self, account: Account) -> None:
        """Raises EmailTaken when another account has the email."""

    async def get(self, account_id: AccountId) -> Account | None: ...

    async def by_email(self, email: str) -> Account | None: ...

    async def save(self, account: Account) -> None: ...


class ProfileStore(Protocol):
    async def add(self, profile: Profile) -> None: ...

    async def for_account(self, account_id: AccountId) -> list[Profile]:
        """Oldest first: the order "Who's watching?" shows them in."""

    async def save(self, profile: Profile) -> None: ...

    async def delete(self, profile_id: ProfileId) -> None: ...


class DeviceStore(Protocol):
    async def add(self, device: Device) -> None: ...

    async def get(self, account_id: AccountId, device_id: DeviceId) -> Device | None:
        """None also when the device belongs to another account."""

    async def for_account(self, account_id: AccountId) -> list[Device]: ...

    async def save(self, device: Device) -> None: ...


class SessionStore(Protocol):
    async def add(self, session: Session) -> None: ...

    async def get(self, session_id: SessionId) -> Session | None: ...

    async def live_for_account(self, account_id: AccountId) -> list[Session]:
        """Sessions not signed out, most recently seen first."""

    async def save(self, session: Session) -> None: ...

    async def touch(
        self, session_id: SessionId, at: datetime, ip: str | None, location: str | None
    ) -> None:
        """Record a contact without reading the session first (the request hot path)."""


class CredentialStore(Protocol):
    async def add(self, credential: Credential) -> None: ...

    async def get(self, token_hash: str) -> Credential | None: ...

    async def claim(self, token_hash: str, at: datetime) -> bool:
        """Mark a refresh token used. Atomic: of two concurrent claims exactly one wins."""

    async def prune(self, before: datetime) -> int:
        """Forget credentials that expired before `before`; how many went."""


class SecurityLog(Protocol):
    async def add(self, event: SecurityEvent) -> None: ...

    async def page(
        self, account_id: AccountId, *, before_id: int | None, limit: int
    ) -> list[SecurityEvent]:
        """Newest first; `before_id` continues where the previous page ended."""


class UnitOfWork(Protocol):
    """One transaction over every store. Leaving without commit() rolls everything back."""

    @property
    def accounts(self) -> AccountStore: ...

    @property
    def profiles(self) -> ProfileStore: ...

    @property
    def devices(self) -> DeviceStore: ...

    @property
    def sessions(self) -> SessionStore: ...

    @property
    def credentials(self) -> CredentialStore: ...

    @property
    def events(self) -> SecurityLog: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...

    async def lock_account(self, account_id: AccountId) -> None:
        """Serialise writers of one account until commit (a row lock, or the store's own)."""


UnitOfWorkFactory = Callable[[], UnitOfWork]


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware UTC datetime."""


class TokenSource(Protocol):
    def token(self) -> str:
        """A credential with at least 128 bits of randomness."""

    def new_id(self) -> str:
        """A fresh identifier for an account, profile, device or session."""


class PasswordHasher(Protocol):
    async def hash(self, secret: str) -> str: ...

    async def verify(self, hashed: str, secret: str) -> bool: ...

    async def verify_dummy(self, secret: str) -> None:
        """Spend the time a real verify takes, so an unknown email answers like a wrong password."""

    def needs_rehash(self, hashed: str) -> bool: ...


class SignInThrottle(Protocol):
    async def check(self, email: str, ip: str | None) -> None:
        """Raise TooManyAttempts while this email or this client may not try again."""

    async def failed(self, email: str, ip: str | None) -> None: ...

    async def succeeded(self, email: str) -> None: ...


class EventBus(Protocol):
    async def publish(self, sign_out: SignOut) -> None:
        """Deliver to every subscriber on every instance; returns once this instance has it."""

    def subscribe(self, handler: Callable[[SignOut], Awaitable[None]]) -> None: ...


class RevocationView(Protocol):
    """This instance's view of which credentials are live, kept current by the event bus."""

    def get(self, token_hash: str) -> Principal | None: ...

    def put(self, token_hash: str, principal: Principal) -> None:
        """Keep a principal read from the store, unless its session was revoked meanwhile."""

    def revoke(self, session_ids: Iterable[SessionId]) -> None: ...

    def due_for_touch(self, session_id: SessionId, now: datetime) -> bool:
        """True when the store should hear of this contact (the first one in a while)."""


class DeviceNamer(Protocol):
    def name_for(self, user_agent: str | None) -> str | None:
        """A name a person recognises ("Chrome on macOS"), or None when the agent says nothing."""


class Geolocator(Protocol):
    def locate(self, ip: str | None) -> str | None:
        """An approximate place ("Lisbon, Portugal"), or None where unknown."""


@dataclass(frozen=True, slots=True)
class Ports:
    """Everything a use case may reach, wired once by create_app()."""

    uow: UnitOfWorkFactory
    clock: Clock
    tokens: TokenSource
    hasher: PasswordHasher
    pin_hasher: PasswordHasher
    throttle: SignInThrottle
    bus: EventBus
    revocations: RevocationView
    namer: DeviceNamer
    geo: Geolocator
    plans: PlanCatalogue
    policy: SessionPolicy
    common_passwords: Container[str]
