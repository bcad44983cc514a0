"""The ports the services need. Each has a real adapter; the stores also have an in-memory one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Container, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar

from screengate.domain.accounts import Account
from screengate.domain.catalogue import Catalogue
from screengate.domain.device_codes import (
    AuthorizationStatus,
    DeviceAuthorization,
    DeviceCodePolicy,
)
from screengate.domain.devices import Device
from screengate.domain.downloads import Download
from screengate.domain.events import SecurityEvent
from screengate.domain.ids import AccountId, DeviceId, DownloadId, ProfileId, SessionId, StreamId
from screengate.domain.mail import DeliveryState, Link, LinkPurpose, MailKind, Message
from screengate.domain.notices import BusMessage, Notice
from screengate.domain.plans import PlanCatalogue
from screengate.domain.profiles import Profile
from screengate.domain.sessions import (
    Credential,
    EndingSession,
    Principal,
    Session,
    SessionPolicy,
    SignOutReason,
    SignOutScope,
)
from screengate.domain.streams import Stream, StreamPolicy
from screengate.domain.two_step import (
    Challenge,
    Passkey,
    PasskeyKey,
    RelyingParty,
    TwoStepPolicy,
)

# At run time, not only for type checkers: the DI layer reads Ports' annotations.
from screengate.services.views import AccountDevices, AccountView

V = TypeVar("V")


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

    async def prune_unused(self, account_id: AccountId) -> int:
        """Delete the account's devices that hold no session any more; how many went.
        Under the account's lock: a sign-in may be about to give one a session."""


class SessionStore(Protocol):
    async def add(self, session: Session) -> None: ...

    async def get(self, session_id: SessionId) -> Session | None: ...

    async def live_for_account(self, account_id: AccountId) -> list[Session]:
        """Sessions not signed out, most recently seen first."""

    async def save(self, session: Session) -> None:
        """Everything but the receipt (told_at, confirmed_at), which only mark_* write."""

    async def ending(self, scope: SignOutScope) -> list[EndingSession]:
        """The live sessions `scope` covers, with their device's name, most recently seen
        first: what a sign-out is about to end."""

    async def end(self, scope: SignOutScope, reason: SignOutReason, at: datetime) -> int:
        """Sign out every live session `scope` covers, in one statement ("Sign out of all
        devices" may end thousands); how many it ended."""

    async def touch(
        self, session_id: SessionId, at: datetime, ip: str | None, location: str | None
    ) -> None:
        """Record a contact without reading the session first (the request hot path).
        A missing ip or location keeps the last known one; last_seen_at never goes back."""

    async def signed_out_after(
        self, since: datetime, limit: int
    ) -> list[tuple[SessionId, datetime]]:
        """Any account's sessions signed out after `since`, oldest first: (id, when)."""

    async def signed_out_since(
        self, account_id: AccountId, since: datetime, limit: int | None = None
    ) -> list[Session]:
        """Sessions signed out at or after `since`, most recently signed out first (the
        first `limit` of them)."""

    async def prune(
        self, ended_before: datetime, unseen_before: datetime, limit: int
    ) -> list[AccountId]:
        """Delete up to `limit` sessions signed out before `ended_before`, or never signed out
        and unseen since `unseen_before`, with their credentials, streams and downloads. The
        account of each session that went, oldest first."""

    async def mark_told(self, session_ids: Sequence[SessionId], at: datetime) -> None:
        """The sign-out receipt: these signed-out devices were told live. The first time sticks."""

    async def mark_confirmed(self, session_id: SessionId, at: datetime) -> bool:
        """The sign-out receipt: the device came back and was refused. True the first time."""

    async def time_up(self, now: datetime, limit: int) -> list[tuple[AccountId, SessionId]]:
        """Live temporary sign-ins whose end has come, any account's, soonest ended first."""


class CredentialStore(Protocol):
    async def add(self, credential: Credential) -> None: ...

    async def get(self, token_hash: str) -> Credential | None: ...

    async def claim(self, token_hash: str, at: datetime) -> bool:
        """Mark a refresh token used. Atomic: of two concurrent claims exactly one wins."""

    async def prune(self, before: datetime) -> int:
        """Forget credentials that expired before `before`; how many went."""


class StreamStore(Protocol):
    """Every stream ever started: the slots' truth on SQL stores, their history beside Redis."""

    async def add(self, stream: Stream) -> None: ...

    async def get(self, account_id: AccountId, stream_id: StreamId) -> Stream | None:
        """None also when the stream belongs to another account."""

    async def live_for_account(self, account_id: AccountId, now: datetime) -> list[Stream]:
        """Not ended and not expired at `now`, oldest first."""

    async def open_for_account(self, account_id: AccountId) -> list[Stream]:
        """Not ended (expired or not), oldest first: what a sign-out may have to end."""

    async def save(self, stream: Stream) -> None: ...

    async def lapsed(self, now: datetime, limit: int) -> list[Stream]:
        """Any account's streams not ended whose expiry (as the store has it) has passed,
        earliest first: leases nobody renewed, which nothing has closed yet."""

    async def renew(
        self, session_id: SessionId, stream_id: StreamId, expires_at: datetime, now: datetime
    ) -> bool:
        """Extend a live stream of this session without reading it first (the heartbeat path).
        False when it is not this session's, has ended, or expired before `now`."""


class StreamRenewals(Protocol):
    async def renew_while_signed_in(
        self,
        account_id: AccountId,
        session_id: SessionId,
        stream_id: StreamId,
        *,
        expires_at: datetime,
        now: datetime,
    ) -> bool:
        """The heartbeat in one statement, outside any unit of work: extend a live stream of
        this session only while the session itself is live in the store. False when the
        stream is not this session's, has ended or expired, or the session is signed out."""


class DownloadStore(Protocol):
    async def add(self, download: Download) -> None: ...

    async def get(self, account_id: AccountId, download_id: DownloadId) -> Download | None:
        """None also when the download belongs to another account."""

    async def live_for_account(self, account_id: AccountId, now: datetime) -> list[Download]:
        """Not revoked and not expired at `now`, oldest first."""

    async def open_for_account(self, account_id: AccountId) -> list[Download]:
        """Not revoked (expired or not), oldest first: what a sign-out may have to revoke."""

    async def save(self, download: Download) -> None: ...


class DeviceAuthorizationStore(Protocol):
    """The codes devices showed (RFC 8628), each found by its device code's hash or its
    user code."""

    async def add(self, authorization: DeviceAuthorization) -> None: ...

    async def by_device_code(self, device_code_hash: str) -> DeviceAuthorization | None: ...

    async def by_user_code(self, user_code: str) -> DeviceAuthorization | None:
        """The most recent authorization with this (normalised) user code."""

    async def save(self, authorization: DeviceAuthorization) -> None: ...

    async def save_if(
        self, authorization: DeviceAuthorization, status: AuthorizationStatus
    ) -> bool:
        """Save it only if the stored one still has `status` and no other account (atomic: of
        two accounts, or two approvals, racing for one code exactly one wins). True if saved."""

    async def polled(self, authorization_id: str, at: datetime, interval_seconds: int) -> None:
        """Record a poll (its time, the interval it leaves) and nothing else, so a poll can
        never undo a decision made meanwhile."""

    async def claimed(self, account_id: AccountId) -> list[DeviceAuthorization]:
        """This account's codes not yet spent: looked up and waiting, or approved and not yet
        collected by the device."""

    async def lapsed(self, now: datetime, limit: int) -> list[DeviceAuthorization]:
        """Codes an account looked up or approved that ran out of time unspent, earliest first."""

    async def prune(self, before: datetime) -> int:
        """Forget codes that expired before `before`; how many went."""


class SecurityLog(Protocol):
    async def add(self, event: SecurityEvent) -> None: ...

    async def add_for_sessions(self, scope: SignOutScope, event: SecurityEvent) -> None:
        """`event` once for every live session `scope` covers, in SessionStore.ending()'s
        order, each with that session's id, device id and device name (for a device that is
        gone, "Unknown device"). Call it before SessionStore.end() ends them."""

    async def add_for_each(self, session_ids: Sequence[SessionId], event: SecurityEvent) -> None:
        """`event` once for each of these sessions (live or not), each with that session's
        id, device id and device name, in no promised order."""

    async def page(
        self, account_id: AccountId, *, before_id: int | None, limit: int
    ) -> list[SecurityEvent]:
        """Newest first; `before_id` continues where the previous page ended."""


class TwoStepStore(Protocol):
    """Recovery codes (hashes only), sign-in challenges and passkeys."""

    async def replace_recovery_codes(
        self, account_id: AccountId, code_hashes: Sequence[str], at: datetime
    ) -> None:
        """The account's codes are these, and only these, from now on (none: no codes)."""

    async def use_recovery_code(self, account_id: AccountId, code_hash: str, at: datetime) -> bool:
        """Spend an unused code. Atomic: of two concurrent uses of one code exactly one wins."""

    async def recovery_codes_left(self, account_id: AccountId) -> int: ...

    async def add_challenge(self, challenge: Challenge) -> None: ...

    async def challenge(self, token_hash: str) -> Challenge | None: ...

    async def save_challenge(self, challenge: Challenge) -> None: ...

    async def prune_challenges(self, before: datetime) -> int:
        """Forget challenges that expired before `before`; how many went."""

    async def add_passkey(self, passkey: Passkey) -> None: ...

    async def passkeys(self, account_id: AccountId) -> list[Passkey]:
        """Oldest first."""

    async def passkey_by_credential(self, credential_id: str) -> Passkey | None: ...

    async def save_passkey(self, passkey: Passkey) -> None: ...

    async def delete_passkey(self, account_id: AccountId, passkey_id: str) -> bool:
        """False when there is no such passkey on this account."""


class Outbox(Protocol):
    """Mail waiting to be sent: written in the transaction of the change that causes it."""

    async def add(self, message: Message) -> None: ...

    async def claim(self, now: datetime, until: datetime, limit: int) -> list[Message]:
        """Take up to `limit` due messages (pending, due by `now`, not held by another sender)
        and hold them until `until`, counting the try; oldest first. Two concurrent claims
        never get the same message."""

    async def sent(self, message_id: str, at: datetime) -> None: ...

    async def retry(self, message_id: str, error: str, at: datetime) -> None:
        """The try failed: let go of it, and let it be claimed again from `at`."""

    async def give_up(self, message_id: str, error: str) -> None:
        """The try failed and was the last: FAILED, never tried again."""

    async def get(self, message_id: str) -> Message | None: ...

    async def recent(self, limit: int, state: DeliveryState | None = None) -> list[Message]:
        """Newest first (the operator's view)."""

    async def states(self, message_ids: Sequence[str]) -> dict[str, DeliveryState]: ...


class LinkStore(Protocol):
    """The tokens of mailed links, by their hash."""

    async def add(self, link: Link) -> None: ...

    async def get(self, token_hash: str) -> Link | None: ...

    async def use(self, token_hash: str, at: datetime) -> bool:
        """Spend the link. Atomic: of two concurrent uses exactly one wins."""

    async def mark_opened(self, token_hash: str, at: datetime) -> bool:
        """The link's page was opened; True the first time."""

    async def void(self, account_id: AccountId, purpose: LinkPurpose, at: datetime) -> int:
        """Spend every unused link of this purpose on the account; how many."""

    async def sent_since(
        self, account_id: AccountId, purpose: LinkPurpose, device_key: str, since: datetime
    ) -> bool:
        """Whether a link of this purpose about this device (its id or name) went out since."""

    async def opened(self, message_ids: Sequence[str]) -> set[str]:
        """Which of these messages had a link opened."""


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

    @property
    def streams(self) -> StreamStore: ...

    @property
    def downloads(self) -> DownloadStore: ...

    @property
    def two_step(self) -> TwoStepStore: ...

    @property
    def outbox(self) -> Outbox: ...

    @property
    def links(self) -> LinkStore: ...

    @property
    def device_authorizations(self) -> DeviceAuthorizationStore: ...

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


@dataclass(frozen=True, slots=True)
class LeaseGrant:
    admitted: bool
    # When refused: the streams holding the slots, as the leases record them. When admitted:
    # this session's own earlier streams, which the new one replaced.
    holders: tuple[Stream, ...] = ()
    replaced: tuple[StreamId, ...] = ()


class StreamLeases(Protocol):
    """Stream slots held outside the database (Redis), admitted by one atomic script."""

    async def acquire(self, stream: Stream, *, limit: int, now: datetime) -> LeaseGrant:
        """Hold a slot for `stream` (its account, session and expiry) if fewer than `limit`
        other sessions hold one; this session's own earlier lease is replaced."""

    async def renew(
        self,
        account_id: AccountId,
        session_id: SessionId,
        stream_id: StreamId,
        *,
        expires_at: datetime,
        now: datetime,
    ) -> bool:
        """False when the lease is gone (released or expired) or is another session's."""

    async def release(self, account_id: AccountId, stream_ids: Sequence[StreamId]) -> None: ...

    async def live(self, account_id: AccountId, now: datetime) -> list[Stream]:
        """The streams holding slots at `now`, oldest first, with their lease's expiry."""


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware UTC datetime."""


class TokenSource(Protocol):
    def token(self) -> str:
        """A credential with at least 128 bits of randomness."""

    def new_id(self) -> str:
        """A fresh identifier for an account, profile, device or session."""

    def user_code(self) -> str:
        """A code for a TV to show (RFC 8628 §6.1): USER_CODE_LENGTH characters drawn from
        USER_CODE_ALPHABET (domain/device_codes.py)."""


class PasswordHasher(Protocol):
    async def hash(self, secret: str) -> str: ...

    async def verify(self, hashed: str, secret: str) -> bool: ...

    async def verify_dummy(self, secret: str) -> None:
        """Spend the time a real verify takes, so an unknown email answers like a wrong password."""

    def needs_rehash(self, hashed: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class Guesser:
    """Who is trying an account's password: the email (normalised), the client's address,
    and the account's own device when it proved itself (its id and its secret)."""

    email: str
    address: str | None
    device_id: DeviceId | None = None


class SignInThrottle(Protocol):
    def turn(self, email: str) -> AbstractAsyncContextManager[None]:
        """Judge this email's sign-ins one at a time on this instance: a burst of guesses sent
        at once is counted as it is judged, instead of every guess passing check() first."""

    def attempt(self, address: str | None) -> AbstractAsyncContextManager[None]:
        """One sign-in, sign-up or password check from this address, right or wrong, held
        around its hashing: counted on entry, before any hashing, and holding one of the few
        places this address has on this instance until it leaves. TooManyAttempts (and nothing
        counted) past the address's count, or while its places are all taken."""

    async def check(self, guesser: Guesser) -> None:
        """Raise TooManyAttempts while this guesser may not try a password: a known device
        on its own count; anyone else on the (email, address) and the email's counts."""

    async def failed(self, guesser: Guesser) -> None: ...

    async def succeeded(self, guesser: Guesser) -> None:
        """The right password: the guesser's own count ((email, address), or the device's)
        starts again; the email's count from everywhere is left to time."""


class SecondFactorThrottle(Protocol):
    """Wrong second-step codes (authenticator, recovery, or "confirm it's you"), counted per
    account and shared by every instance; each challenge also dies after a few."""

    def turn(self, account_id: AccountId) -> AbstractAsyncContextManager[None]:
        """Judge this account's codes one at a time on this instance."""

    async def check(self, account_id: AccountId) -> None:
        """Raise TooManyAttempts while this account may not try a code."""

    async def failed(self, account_id: AccountId) -> None: ...


class DataCipher(Protocol):
    """Encryption at rest for secrets the service must read back (authenticator secrets)."""

    def seal(self, plain: str) -> str: ...

    def open(self, sealed: str) -> str:
        """Raises ValueError for what this key did not seal."""


class PasskeyCeremonies(Protocol):
    """WebAuthn: the options a browser needs, and checking what it answers."""

    def registration_options(
        self,
        rp: RelyingParty,
        *,
        user_id: str,
        user_name: str,
        challenge: bytes,
        exclude: Sequence[str],
    ) -> dict[str, Any]: ...

    def authentication_options(self, rp: RelyingParty, *, challenge: bytes) -> dict[str, Any]: ...

    def challenge_of(self, credential: Mapping[str, Any]) -> str | None:
        """The challenge (base64url) the answer says it signed; None when unreadable."""

    def credential_id_of(self, credential: Mapping[str, Any]) -> str | None: ...

    def verify_registration(
        self, rp: RelyingParty, credential: Mapping[str, Any], *, challenge: bytes
    ) -> PasskeyKey:
        """Raises InvalidPasskey."""

    def verify_authentication(
        self,
        rp: RelyingParty,
        credential: Mapping[str, Any],
        *,
        challenge: bytes,
        public_key: str,
        sign_count: int,
    ) -> int:
        """The new signature counter; raises InvalidPasskey."""


@dataclass(frozen=True, slots=True)
class PinFailure:
    """What counting one wrong PIN did."""

    # False when a count was already full (guesses judged elsewhere got there first).
    counted: bool
    # Seconds until a PIN may be tried again, if a count is full now; 0 while it is not.
    retry_after: int


class PinThrottle(Protocol):
    """Wrong profile PINs, counted per profile (from every device) and per device (across the
    account's profiles), shared by every instance. Nothing but time takes a failure off a count:
    a correct PIN clears nothing, and a new PIN (set by someone who knows the account password)
    neither, so a pause is never a thing to lift by changing the PIN."""

    def turn(self, profile_id: ProfileId) -> AbstractAsyncContextManager[None]:
        """Judge this profile's PINs one at a time on this instance: a burst of guesses sent at
        once is counted as it is judged, instead of every guess passing check() first."""

    async def check(self, profile_id: ProfileId, device_id: DeviceId) -> None:
        """Raise TooManyPinAttempts while this profile or this device may not try a PIN."""

    async def failed(self, profile_id: ProfileId, device_id: DeviceId) -> PinFailure: ...


class CodeThrottle(Protocol):
    """Wrong TV codes, counted per account and per client address, shared by every instance."""

    def turn(self, account_id: AccountId) -> AbstractAsyncContextManager[None]:
        """Judge this account's codes one at a time on this instance."""

    async def check(self, account_id: AccountId, ip: str | None) -> None:
        """Raise TooManyCodeAttempts while this account or this address may not try a code."""

    async def failed(self, account_id: AccountId, ip: str | None) -> None: ...

    async def requested(self, ip: str | None) -> None:
        """A device at this address asks for a code; TooManyAttempts past the limit."""


class Decisions(Protocol):
    """Where a device waiting on its code (the TV page) hears, from any instance, that it
    was decided: at once, instead of at its next poll."""

    async def wait(self, authorization_id: str, within: float) -> str | None:
        """The decision ("approved", "denied", "voided"), or None when `within` s pass."""


class EventBus(Protocol):
    async def publish(self, message: BusMessage) -> None:
        """Deliver to every subscriber on every instance; returns once this instance has it.
        Never raises for a bus that is down: this instance still has it, and says so in logs."""

    def subscribe(self, handler: Callable[[BusMessage], Awaitable[None]]) -> None: ...

    @property
    def name(self) -> str:
        """What carries it: "in-process", "redis" or "postgresql"."""

    @property
    def shared(self) -> bool:
        """True when the bus reaches other instances (Redis, PostgreSQL), False for one
        process."""

    @property
    def connected(self) -> bool:
        """False while messages from other instances may be missed."""


class Presence(Protocol):
    """Which signed-in devices hold an open event stream, on any instance."""

    async def join(self, session_id: SessionId) -> None: ...

    async def leave(self, session_id: SessionId) -> None: ...

    async def connected(self, session_ids: Sequence[SessionId]) -> set[SessionId]: ...


class NoticeHub(Protocol):
    """This instance's open event streams, and the recent notices a reconnecting device missed."""

    def listen(
        self, session_id: SessionId, device_id: DeviceId, last_event_id: str | None
    ) -> Listener:
        """Open a stream for this device; past the device's budget here, its oldest stream is
        replaced (told so, then ended by its reader)."""

    def admit(self, address: str | None) -> AbstractContextManager[None]:
        """Hold one of this client address's stream places while the stream is open;
        TooManyEventStreams when none is left."""

    def expect(self, announcement_id: str) -> DeliveryWatch:
        """Start collecting word (from any instance) of devices told of this announcement.
        Call before publishing it: on one process the word comes back at once."""


class DeliveryWatch(Protocol):
    async def told(self, session_ids: Sequence[SessionId], within: float) -> set[SessionId]:
        """Which devices were told, waiting up to `within` s until these all were (any
        told meanwhile count too, listed or not)."""


class Listener(Protocol):
    """One open event stream: the missed notices first, then each new one as it comes."""

    def replay(self) -> list[Notice]: ...

    async def next(self, within: float) -> Notice | None:
        """The next notice, or None when `within` seconds pass without one (at once, once
        replaced)."""

    @property
    def replaced(self) -> bool:
        """True once newer streams of the same device took this one's place: end it."""

    def close(self) -> None: ...


class RevocationView(Protocol):
    """This instance's view of which credentials are live, kept current by the event bus."""

    def get(self, token_hash: str) -> Principal | None: ...

    def put(self, token_hash: str, principal: Principal) -> None:
        """Keep a principal read from the store, unless its session was revoked meanwhile."""

    def revoke(self, session_ids: Iterable[SessionId]) -> None: ...

    async def read_through(
        self, token_hash: str, read: Callable[[], Awaitable[Principal]]
    ) -> Principal:
        """`read()`'s principal (the store's), one read shared by concurrent checks of this
        token; never one that began before a revocation this instance has heard of."""

    @property
    def caching(self) -> bool:
        """Whether checks may be answered from this instance's cache right now."""

    def trust_cache(self, trusted: bool) -> None:
        """Off while the bus may be missing messages: every check then reads the store."""

    def due_for_touch(self, session_id: SessionId, now: datetime) -> bool:
        """True when the store should hear of this contact (the first one in a while)."""


class Views(Protocol[V]):
    """This instance's cache of one read model per account, emptied by the bus on every change."""

    def get(self, account_id: AccountId) -> V | None: ...

    async def read_through(self, account_id: AccountId, read: Callable[[], Awaitable[V]]) -> V:
        """The cached view, else `read()`'s, one read shared by the requests that want it."""

    def generation(self, account_id: AccountId) -> int:
        """Read before the store read; put() keeps the view only if it is unchanged."""

    def put(self, account_id: AccountId, view: V, generation: int) -> None: ...

    def forget(self, account_id: AccountId) -> None: ...

    def trust(self, trusted: bool) -> None: ...


class DeviceNamer(Protocol):
    def name_for(self, user_agent: str | None) -> str | None:
        """A name a person recognises ("Chrome on macOS"), or None when the agent says nothing."""


class Geolocator(Protocol):
    def locate(self, ip: str | None) -> str | None:
        """An approximate place ("Lisbon, Portugal"), or None where unknown."""


@dataclass(frozen=True, slots=True)
class ComposedMail:
    subject: str
    text: str
    html: str


class MailComposer(Protocol):
    def compose(self, kind: MailKind, context: dict[str, object]) -> ComposedMail:
        """The mail of this kind, from its templates, in the product's voice."""


class MailThrottle(Protocol):
    async def hit(self, email: str, ip: str | None) -> None:
        """Count a request for mail to this email from this address; TooManyMailRequests
        past either's limit."""


class Postman(Protocol):
    def wake(self) -> None:
        """Mail was just committed to the outbox: look now rather than at the next poll."""


class _Asleep:
    def wake(self) -> None:
        """Nobody to wake: the sender looks on its own schedule."""


@dataclass(frozen=True, slots=True)
class MailPorts:
    """What the mailing use cases need besides the store."""

    composer: MailComposer
    throttle: MailThrottle
    # Where mailed links point ("https://watch.example.com").
    public_url: str = "http://127.0.0.1:8000"
    postman: Postman = field(default_factory=_Asleep)


@dataclass(frozen=True, slots=True)
class Ports:
    """Everything a use case may reach, wired once by create_app()."""

    uow: UnitOfWorkFactory
    # For work that only reads: on SQLite it reads a snapshot without taking the write lock.
    reader: UnitOfWorkFactory
    clock: Clock
    tokens: TokenSource
    hasher: PasswordHasher
    pin_hasher: PasswordHasher
    throttle: SignInThrottle
    pin_throttle: PinThrottle
    bus: EventBus
    revocations: RevocationView
    namer: DeviceNamer
    geo: Geolocator
    plans: PlanCatalogue
    policy: SessionPolicy
    common_passwords: Container[str]
    catalogue: Catalogue
    streaming: StreamPolicy
    download_licence: timedelta
    presence: Presence
    hub: NoticeHub
    views: Views[AccountView]
    device_lists: Views[AccountDevices]
    # Two-step sign-in: the secrets' cipher, the code throttle, the windows.
    cipher: DataCipher
    second_factor_throttle: SecondFactorThrottle
    two_step: TwoStepPolicy
    ceremonies: PasskeyCeremonies
    code_throttle: CodeThrottle
    decisions: Decisions
    device_codes: DeviceCodePolicy
    # How long a sign-out waits to hear that connected devices were told (the receipt).
    receipt_wait: float = 1.0
    # None: slots are admitted in the store's own transaction (row lock / BEGIN IMMEDIATE).
    leases: StreamLeases | None = None
    # None: a heartbeat renews in a unit of work (which confirms the session like any write).
    renewals: StreamRenewals | None = None
    # None: nothing is mailed (unit tests of other use cases).
    mail: MailPorts | None = None
