"""The device a request acts for, and the rule every write obeys: nothing for a signed-out device.

A request proves its device once, when its headers arrive (api/bearer.py, web/session.py). Its
body may come much later, and a sign-out may answer in between: the device is then signed out,
yet the request already passed the door. So every unit of work that Ports.uow opens while a
request acts for a device begins by taking the device's account lock (the lock every sign-out
takes) and confirming, under it, that the device's session is still live; if it is not, it
raises SignedOut and writes nothing. Because the check lives in the unit of work itself, a use
case added later is covered without remembering to ask.

A sign-out waits for that lock, so either the write committed before the sign-out began (and
the sign-out undoes what it must: streams, downloads), or the sign-out committed first and the
write is refused. Once a sign-out has answered, nothing more is written for that device.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from screengate.domain.errors import SignedOut
from screengate.domain.ids import AccountId, SessionId
from screengate.domain.sessions import Principal, SignOutReason
from screengate.ports import (
    AccountStore,
    CredentialStore,
    DeviceAuthorizationStore,
    DeviceStore,
    DownloadStore,
    LinkStore,
    Outbox,
    Ports,
    ProfileStore,
    SecurityLog,
    SessionStore,
    StreamStore,
    TwoStepStore,
    UnitOfWork,
    UnitOfWorkFactory,
)


@dataclass(slots=True)
class Acting:
    """One request: the device it proved, once it has proved one."""

    principal: Principal | None = None
    # The request signed its own device out (Sign out here, Sign out of all devices): what it
    # writes afterwards is that sign-out's own bookkeeping (its receipt), not the device's.
    ended_itself: bool = False


# A mutable holder, set once per request by the edge: dependencies that Litestar resolves in
# child tasks see the same holder, so the device one of them proves is known to the handler.
_acting: ContextVar[Acting | None] = ContextVar("screengate_acting", default=None)


@contextmanager
def serving_request() -> Iterator[Acting]:
    """Around one request: what it proves, and so what its writes must confirm, is its own."""
    acting = Acting()
    token = _acting.set(acting)
    try:
        yield acting
    finally:
        _acting.reset(token)


def act_for(principal: Principal) -> None:
    """The request has proved this device: from now on its writes are that device's."""
    acting = _acting.get()
    if acting is not None:
        acting.principal = principal
        acting.ended_itself = False


def sessions_ended(session_ids: Collection[SessionId]) -> None:
    """A sign-out is ending these sessions; if the request's own is one of them, the rest of
    the request is that sign-out finishing its work."""
    acting = _acting.get()
    principal = acting.principal if acting is not None else None
    if acting is not None and principal is not None and principal.session_id in session_ids:
        acting.ended_itself = True


def acting_device() -> Principal | None:
    """The device whose writes must still be signed in, if any."""
    acting = _acting.get()
    if acting is None or acting.ended_itself:
        return None
    return acting.principal


async def still_signed_in(ports: Ports) -> None:
    """For a use case whose change lives outside the store (a cookie the answer sets): the
    same confirmation a write makes, so a signed-out device gets nothing from it either."""
    async with ports.uow():
        pass


def confirmed_writes(factory: UnitOfWorkFactory) -> UnitOfWorkFactory:
    """Ports.uow as the services get it: each unit of work confirms the acting device first."""

    def new_unit_of_work() -> UnitOfWork:
        return ConfirmedUnitOfWork(factory())

    return new_unit_of_work


class ConfirmedUnitOfWork:
    """A unit of work that, while a request acts for a device, opens by locking the device's
    account and confirming its session is live there (SignedOut otherwise)."""

    def __init__(self, inner: UnitOfWork) -> None:
        self._inner = inner
        self._locked: AccountId | None = None

    @property
    def accounts(self) -> AccountStore:
        return self._inner.accounts

    @property
    def profiles(self) -> ProfileStore:
        return self._inner.profiles

    @property
    def devices(self) -> DeviceStore:
        return self._inner.devices

    @property
    def sessions(self) -> SessionStore:
        return self._inner.sessions

    @property
    def credentials(self) -> CredentialStore:
        return self._inner.credentials

    @property
    def events(self) -> SecurityLog:
        return self._inner.events

    @property
    def streams(self) -> StreamStore:
        return self._inner.streams

    @property
    def downloads(self) -> DownloadStore:
        return self._inner.downloads

    @property
    def two_step(self) -> TwoStepStore:
        return self._inner.two_step

    @property
    def outbox(self) -> Outbox:
        return self._inner.outbox

    @property
    def links(self) -> LinkStore:
        return self._inner.links

    @property
    def device_authorizations(self) -> DeviceAuthorizationStore:
        return self._inner.device_authorizations

    async def __aenter__(self) -> Self:
        await self._inner.__aenter__()
        principal = acting_device()
        if principal is None:
            return self
        try:
            await self.lock_account(principal.account_id)
            await self._confirm(principal)
        except BaseException as error:
            await self._inner.__aexit__(type(error), error, error.__traceback__)
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._inner.__aexit__(exc_type, exc, tb)

    async def commit(self) -> None:
        await self._inner.commit()

    async def lock_account(self, account_id: AccountId) -> None:
        if self._locked == account_id:
            return  # already held since the unit of work began: no second round trip
        await self._inner.lock_account(account_id)
        self._locked = account_id

    async def _confirm(self, principal: Principal) -> None:
        session = await self._inner.sessions.get(principal.session_id)
        if session is None or session.account_id != principal.account_id:
            raise SignedOut(SignOutReason.SIGNED_OUT_HERE.value, None)
        if not session.live:
            reason = session.sign_out_reason or SignOutReason.SIGNED_OUT_HERE
            raise SignedOut(str(reason), session.signed_out_at)
