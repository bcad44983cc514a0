"""What crosses the wire: msgspec structs for request bodies and answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import Meta, Struct

from screengate.domain.devices import DeviceType
from screengate.domain.events import SecurityEvent
from screengate.domain.profiles import Profile
from screengate.domain.sessions import ReceiptStatus, TokenPair
from screengate.services.views import (
    AccountView,
    ActivityPage,
    DeviceView,
    SignedOutDevice,
    SignedOutView,
    SignOutReceipt,
)

Email = Annotated[str, Meta(min_length=3, max_length=254, examples=["ana@example.com"])]
Password = Annotated[str, Meta(min_length=1, max_length=1024)]
PlanName = Annotated[str, Meta(min_length=1, max_length=40, examples=["premium"])]
Pin = Annotated[str, Meta(min_length=4, max_length=4, pattern=r"^[0-9]{4}$", examples=["1234"])]
ProfileName = Annotated[str, Meta(min_length=1, max_length=50)]
Token = Annotated[str, Meta(min_length=1, max_length=512)]


class Body(Struct, forbid_unknown_fields=True, kw_only=True):
    """Request bodies refuse unknown fields, so a typo is an error, not a silent no-op."""


class SignUp(Body):
    email: Email
    password: Password
    plan: PlanName = "standard"


class DeviceIn(Body):
    type: DeviceType
    name: Annotated[str, Meta(min_length=1, max_length=80)] | None = None
    # A device that signed in before sends back its id to stay the same entry in the list.
    # Ids are ours (UUIDs), so anything else is refused before it reaches a query.
    device_id: Annotated[str, Meta(max_length=64, pattern=r"^[A-Za-z0-9_-]*$")] | None = None
    # With device_id: the device_secret its last sign-in gave it. Without the right one, the
    # sign-in is a new device (a new id), whatever id it sent.
    device_secret: Annotated[str, Meta(max_length=128, pattern=r"^[A-Za-z0-9_-]*$")] | None = None


class SignIn(Body):
    email: Email
    password: Password
    device: DeviceIn


class Refresh(Body):
    refresh_token: Token


class SignOutAll(Body):
    keep_this_device: bool = False


class ChangePassword(Body):
    current_password: Password
    new_password: Password
    sign_out_all_devices: bool = True


class PasswordResetRequest(Body):
    email: Email


class PasswordResetConfirm(Body):
    token: Token
    new_password: Password


class LinkToken(Body):
    """The token of a mailed link ("This wasn't me", a new email's confirmation)."""

    token: Token


class ChangeEmail(Body):
    new_email: Email
    password: Password


class NewProfile(Body):
    name: ProfileName
    kids: bool = False
    pin: Pin | None = None


class ProfilePatch(Body):
    name: ProfileName | None = None
    kids: bool | None = None
    # A PIN locks the profile; null unlocks it; leaving it out changes nothing.
    pin: Pin | msgspec.UnsetType | None = msgspec.UNSET
    # The account password: needed, and checked, only when `pin` is given (set or null); a
    # PIN change that carries it needs no "confirm it's you" first.
    password: Password | None = None


TitleId = Annotated[str, Meta(min_length=1, max_length=80, examples=["night-harbour"])]
ProfileRef = Annotated[str, Meta(min_length=1, max_length=64)]


class Play(Body):
    profile_id: ProfileRef
    title_id: TitleId
    # Asked for only when the profile is locked.
    pin: Pin | None = None


class NewDownload(Body):
    profile_id: ProfileRef
    title_id: TitleId
    pin: Pin | None = None


class StreamStarted(Struct):
    stream_id: str
    heartbeat_interval: int
    expires_at: datetime
    title_id: str
    profile_id: str


class Lease(Struct):
    expires_at: datetime


class ActiveStream(Struct):
    stream_id: str
    device_id: str
    device_name: str | None
    device_type: str | None
    profile_name: str | None
    title_id: str
    started_at: datetime
    current: bool


class DownloadOut(Struct):
    download_id: str
    profile_id: str
    title_id: str
    created_at: datetime
    expires_at: datetime


class TitleOut(Struct):
    title_id: str
    name: str
    maturity: int
    year: int
    genre: str
    minutes: int
    kids: bool


class SignedUp(Struct):
    account_id: str
    email: str
    plan: str


class Tokens(Struct):
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int
    session_id: str
    device_id: str

    @classmethod
    def of(cls, pair: TokenPair) -> Tokens:
        return cls(
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            token_type="Bearer",  # noqa: S106 - the scheme name, not a secret
            expires_in=pair.expires_in,
            session_id=pair.session_id,
            device_id=pair.device_id,
        )


class SignedIn(Tokens):
    # Keep it with device_id and send both at the next sign-in, to stay this device; a new
    # one comes with every sign-in (the one sent is spent).
    device_secret: str

    @classmethod
    def of_sign_in(cls, pair: TokenPair) -> SignedIn:
        if pair.device_secret is None:  # pragma: no cover - every sign-in gives one
            raise ValueError("a sign-in gives the device a secret")
        return cls(
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            token_type="Bearer",  # noqa: S106 - the scheme name, not a secret
            expires_in=pair.expires_in,
            session_id=pair.session_id,
            device_id=pair.device_id,
            device_secret=pair.device_secret,
        )


class SessionOut(Struct):
    account_id: str
    device_id: str
    session_id: str
    access_token_expires_at: datetime


class PlanOut(Struct):
    name: str
    max_streams: int
    max_download_devices: int
    max_downloads_per_device: int


class ProfileOut(Struct):
    profile_id: str
    name: str
    kids: bool
    locked: bool

    @classmethod
    def of(cls, profile: Profile) -> ProfileOut:
        return cls(profile.id, profile.name, profile.kids, profile.locked)


class AccountOut(Struct):
    account_id: str
    email: str
    created_at: datetime
    plan: PlanOut
    profiles: list[ProfileOut]

    @classmethod
    def of(cls, view: AccountView) -> AccountOut:
        plan = view.plan
        return cls(
            account_id=view.account.id,
            email=view.account.email,
            created_at=view.account.created_at,
            plan=PlanOut(
                plan.name,
                plan.max_streams,
                plan.max_download_devices,
                plan.max_downloads_per_device,
            ),
            profiles=[ProfileOut.of(p) for p in view.profiles],
        )


class ActivityOut(Struct):
    at: datetime
    profile_id: str
    profile_name: str | None
    title_id: str


class DeviceOut(Struct):
    device_id: str
    session_id: str
    name: str
    type: DeviceType
    current: bool
    signed_in_at: datetime
    last_seen_at: datetime
    location: str | None
    last_activity: ActivityOut | None
    streaming: bool
    downloads: int
    # Only with ?include_signed_out=true, for devices signed out in the last 30 days.
    signed_out: SignOutInfo | None = None
    # A temporary sign-in's hard end ("Sign in until..."); null for "Keep signed in".
    signed_in_until: datetime | None = None

    @classmethod
    def ended(cls, view: SignedOutView) -> DeviceOut:
        return cls(
            device_id=view.device_id,
            session_id=view.session_id,
            name=view.name,
            type=view.type,
            current=False,
            signed_in_at=view.signed_in_at,
            last_seen_at=view.signed_out_at,
            location=None,
            last_activity=None,
            streaming=False,
            downloads=0,
            signed_out=SignOutInfo(
                at=view.signed_out_at,
                reason=view.reason,
                receipt=view.receipt.value,
                told_at=view.told_at,
                confirmed_at=view.confirmed_at,
            ),
        )

    @classmethod
    def of(cls, view: DeviceView) -> DeviceOut:
        activity = view.last_activity
        return cls(
            device_id=view.device_id,
            session_id=view.session_id,
            name=view.name,
            type=view.type,
            current=view.current,
            signed_in_at=view.signed_in_at,
            last_seen_at=view.last_seen_at,
            location=view.location,
            last_activity=ActivityOut(
                activity.at, activity.profile_id, activity.profile_name, activity.title_id
            )
            if activity
            else None,
            streaming=view.streaming,
            downloads=view.downloads,
            signed_in_until=view.signed_in_until,
        )


class SignedOutEntry(Struct):
    device_id: str
    name: str
    # Told live on its event stream before this answer; otherwise it is told at its next
    # contact (`receipt`: "told" or "pending").
    notified: bool
    receipt: str

    @classmethod
    def of(cls, device: SignedOutDevice) -> SignedOutEntry:
        status = ReceiptStatus.TOLD if device.notified else ReceiptStatus.PENDING
        return cls(device.device_id, device.name, device.notified, status.value)


class SignedOutDevices(Struct):
    signed_out: list[str]
    receipts: list[SignedOutEntry]

    @classmethod
    def of(cls, receipt: SignOutReceipt) -> SignedOutDevices:
        return cls(
            [d.device_id for d in receipt.devices], [SignedOutEntry.of(d) for d in receipt.devices]
        )


class SignedOutEverywhere(Struct):
    signed_out: list[SignedOutEntry]

    @classmethod
    def of(cls, receipt: SignOutReceipt) -> SignedOutEverywhere:
        return cls([SignedOutEntry.of(d) for d in receipt.devices])


class SignOutInfo(Struct):
    at: datetime
    reason: str
    # told: told live; confirmed: came back and was refused; pending: not heard from yet.
    receipt: str
    told_at: datetime | None
    confirmed_at: datetime | None


class EventOut(Struct):
    event_id: int
    kind: str
    at: datetime
    device_id: str | None
    device_name: str | None
    ip: str | None
    location: str | None
    detail: dict[str, str | int | bool | None]

    @classmethod
    def of(cls, event: SecurityEvent) -> EventOut:
        return cls(
            event_id=event.id or 0,
            kind=event.kind.value,
            at=event.at,
            device_id=event.device_id,
            device_name=event.device_name,
            ip=event.ip,
            location=event.location,
            detail=event.detail,
        )


class ActivityPageOut(Struct):
    events: list[EventOut]
    next_cursor: int | None

    @classmethod
    def of(cls, page: ActivityPage) -> ActivityPageOut:
        return cls([EventOut.of(e) for e in page.events], page.next_cursor)


class Problem(Struct, omit_defaults=True):
    """RFC 9457 problem details, with our stable `code`."""

    type: str
    title: str
    status: int
    code: str
    detail: str | None = None
    reason: str | None = None
    errors: list[dict[str, str]] | None = None
    limit: int | None = None
    active: list[dict[str, str | None]] | None = None
    devices: list[dict[str, str | int]] | None = None


class DeviceCodeDevice(Struct):
    type: DeviceType
    name: str


class DeviceAuthorizationOut(Struct):
    """What asks to be signed in with a code (RFC 8628 §5.4): judge it before approving."""

    user_code: str
    device: DeviceCodeDevice
    location: str | None
    requested_at: datetime
    expires_at: datetime


class DeviceDecision(Body):
    decision: Annotated[str, Meta(pattern="^(approve|deny)$", examples=["approve"])]
    # RFC 3339 with an offset; absent: "Keep signed in".
    until: datetime | None = None


class DeviceApproved(Struct):
    device_id: str
    signed_in_until: datetime | None


class SignedInUntil(Body):
    until: datetime


class SignedInUntilOut(Struct):
    device_id: str
    signed_in_until: datetime


class DeviceCodeAnswer(Struct):
    """RFC 8628 §3.2."""

    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str
    expires_in: int
    interval: int


class OAuthTokens(Struct):
    """RFC 6749 §5.1, with the device's ids."""

    access_token: str
    token_type: str
    expires_in: int
    refresh_token: str
    session_id: str
    device_id: str


class OAuthError(Struct, omit_defaults=True):
    """RFC 6749 §5.2: `error` is authorization_pending, slow_down, access_denied,
    expired_token, invalid_grant, unsupported_grant_type or invalid_request."""

    error: str
    error_description: str | None = None
