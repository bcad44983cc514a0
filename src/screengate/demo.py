"""The demo household `make run` creates: Premium, three profiles, six signed-in devices.

Everything goes through the use cases, with the clock moved back so that each device signed
in on its own day. Only what no use case sets yet (where a device was last seen, what it last
watched) is written through a unit of work afterwards. Running it again adds nothing: it signs
in only the demo devices that are no longer signed in, and never touches an account whose
password it does not know.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from screengate.domain.accounts import Account, normalise_email
from screengate.domain.devices import Activity, DeviceType
from screengate.domain.ids import AccountId, DeviceId, SessionId
from screengate.domain.profiles import Profile
from screengate.domain.sessions import hash_token
from screengate.ports import Ports
from screengate.services import accounts, auth, profiles
from screengate.services.devices import list_devices_for_operator
from screengate.services.profiles import ProfileChanges
from screengate.services.views import DeviceView

DEMO_EMAIL = "demo@screengate.local"
# Printed for anyone to read: long, not on any common-password list, and only ever a demo's.
DEMO_PASSWORD = "watch-together-2026"
DEMO_PLAN = "premium"
ACCOUNT_AGE = timedelta(days=200)


@dataclass(frozen=True, slots=True)
class DemoProfile:
    name: str
    kids: bool = False
    pin: str | None = None


@dataclass(frozen=True, slots=True)
class DemoDevice:
    name: str
    type: DeviceType
    user_agent: str
    # Documentation ranges (RFC 5737): addresses that belong to nobody.
    ip: str
    location: str
    signed_in: timedelta  # ago
    last_seen: timedelta  # ago
    watched: timedelta  # ago
    profile: str
    title_id: str


# The first one becomes the profile sign-up made; "Ben" is locked so the kids stay out.
PROFILES = (
    DemoProfile("Ana"),
    DemoProfile("Ben", pin="4826"),
    DemoProfile("Kids", kids=True),
)

_SAFARI_IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15"
_CHROME_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)

# Oldest sign-in first, so the security log reads in order.
DEVICES = (
    DemoDevice(
        "Ana's iPhone", DeviceType.PHONE, _SAFARI_IPHONE, "203.0.113.57", "Lisbon, Portugal",
        signed_in=timedelta(days=180), last_seen=timedelta(minutes=4),
        watched=timedelta(hours=20), profile="Ana", title_id="wednesday-s1e4",
    ),
    DemoDevice(
        "Living Room TV", DeviceType.SMART_TV, "Mozilla/5.0 (SMART-TV; Linux; Tizen 7.0)",
        "203.0.113.24", "Lisbon, Portugal",
        signed_in=timedelta(days=94), last_seen=timedelta(minutes=38),
        watched=timedelta(minutes=40), profile="Ana", title_id="stranger-things-s4e1",
    ),
    DemoDevice(
        "PlayStation 5", DeviceType.GAME_CONSOLE, "Mozilla/5.0 (PlayStation; PlayStation 5/8.20)",
        "203.0.113.24", "Lisbon, Portugal",
        signed_in=timedelta(days=61), last_seen=timedelta(days=2, hours=3),
        watched=timedelta(days=2, hours=4), profile="Ben", title_id="arcane-s2e1",
    ),
    DemoDevice(
        "Fire TV Stick", DeviceType.STREAMING_STICK, "Mozilla/5.0 (Linux; Android 9; AFTMM)",
        "203.0.113.88", "Coimbra, Portugal",
        signed_in=timedelta(days=23), last_seen=timedelta(days=1, hours=6),
        watched=timedelta(days=1, hours=7), profile="Kids", title_id="bluey-s3e10",
    ),
    DemoDevice(
        "Chrome on macOS", DeviceType.WEB_BROWSER, _CHROME_MAC, "198.51.100.142",
        "Porto, Portugal",
        signed_in=timedelta(days=12), last_seen=timedelta(hours=3),
        watched=timedelta(hours=3, minutes=10), profile="Ben", title_id="the-witcher-s3e2",
    ),
    # The one to sign out: the TV of a hotel stayed in last week, still signed in.
    DemoDevice(
        "Hotel Room TV", DeviceType.SMART_TV, "Mozilla/5.0 (Linux; webOS 6.0; LG Browser)",
        "198.51.100.77", "Barcelona, Spain",
        signed_in=timedelta(days=8), last_seen=timedelta(days=5, hours=2),
        watched=timedelta(days=5, hours=3), profile="Ben", title_id="the-crown-s2e3",
    ),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class DemoAccount:
    """What `screengate demo` reports: the credentials, and what the account holds now."""

    email: str
    password: str
    created: bool
    # False when someone changed the password since: then nothing was touched.
    password_works: bool
    signed_in_now: tuple[str, ...]
    profiles: list[Profile]
    devices: list[DeviceView]


async def seed_demo(
    ports: Ports, *, email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD
) -> DemoAccount:
    """Create the demo account, or bring back its devices; idempotent."""
    start = ports.clock.now()
    clock = _DemoClock(start - ACCOUNT_AGE)
    past = replace(ports, clock=clock)
    async with ports.uow() as uow:
        account = await uow.accounts.by_email(normalise_email(email))
    created = account is None
    if account is None:
        account = await accounts.sign_up(past, email=email, password=password, plan=DEMO_PLAN)
    elif not await ports.hasher.verify(account.password_hash, password):
        return await _report(ports, account, password, created=False, works=False, signed_in=())
    present = {view.name for view in await list_devices_for_operator(ports, account.email)}
    signed_in: list[tuple[DemoDevice, SessionId, DeviceId]] = []
    for spec in DEVICES:
        if spec.name in present:
            continue
        known_id, known_secret = await _known_device(ports, account.id, spec)
        clock.at = start - spec.signed_in
        pair = await auth.sign_in(
            past,
            email=account.email,
            password=password,
            device_type=spec.type,
            device_name=spec.name,
            device_id=known_id,
            device_secret=known_secret,
            ip=spec.ip,
            user_agent=spec.user_agent,
        )
        if created and not signed_in:
            # The household's profiles, made from its first device.
            await _create_profiles(past, pair.access_token)
        signed_in.append((spec, pair.session_id, pair.device_id))
    await _set_the_scene(ports, account.id, signed_in, start)
    names = tuple(spec.name for spec, _, _ in signed_in)
    return await _report(ports, account, password, created=created, works=True, signed_in=names)


class _DemoClock:
    """A clock set by hand, so the demo's devices signed in days ago. Each reading moves it
    on a second, so what was made one after another also sorts that way."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        self.at += timedelta(seconds=1)
        return self.at


async def _known_device(
    ports: Ports, account_id: AccountId, spec: DemoDevice
) -> tuple[str | None, str | None]:
    """A demo device signed in before signs in again as the same device: the operator's seeding
    holds no device's secret, so it gives the device a new one to sign in with."""
    async with ports.uow() as uow:
        await uow.lock_account(account_id)
        known = await uow.devices.for_account(account_id)
        device = next((d for d in known if d.name == spec.name and d.type == spec.type), None)
        if device is None:
            return None, None
        secret = ports.tokens.token()
        device.secret_hash = hash_token(secret)
        await uow.devices.save(device)
        await uow.commit()
    return device.id, secret


async def _create_profiles(ports: Ports, access_token: str) -> None:
    principal = await auth.authenticate(ports, access_token)
    first, *others = PROFILES
    (made_at_sign_up,) = await profiles.list_profiles(ports, principal)
    await profiles.update_profile(
        ports,
        principal,
        made_at_sign_up.id,
        ProfileChanges(name=first.name, kids=first.kids, pin=first.pin),
    )
    for profile in others:
        await profiles.create_profile(
            ports, principal, name=profile.name, kids=profile.kids, pin=profile.pin
        )


async def _set_the_scene(
    ports: Ports,
    account_id: AccountId,
    signed_in: list[tuple[DemoDevice, SessionId, DeviceId]],
    start: datetime,
) -> None:
    """Where each device was last seen and what it last watched: no use case sets these yet."""
    if not signed_in:
        return
    async with ports.uow() as uow:
        await uow.lock_account(account_id)
        by_name = {p.name: p.id for p in await uow.profiles.for_account(account_id)}
        for spec, session_id, device_id in signed_in:
            session = await uow.sessions.get(session_id)
            device = await uow.devices.get(account_id, device_id)
            if session is None or device is None:
                continue
            session.last_seen_at = start - spec.last_seen
            session.location = spec.location
            await uow.sessions.save(session)
            profile_id = by_name.get(spec.profile) or next(iter(by_name.values()))
            device.last_activity = Activity(
                at=start - spec.watched, profile_id=profile_id, title_id=spec.title_id
            )
            await uow.devices.save(device)
        await uow.commit()


async def _report(
    ports: Ports,
    account: Account,
    password: str,
    *,
    created: bool,
    works: bool,
    signed_in: tuple[str, ...],
) -> DemoAccount:
    async with ports.uow() as uow:
        household = await uow.profiles.for_account(account.id)
    return DemoAccount(
        email=account.email,
        password=password,
        created=created,
        password_works=works,
        signed_in_now=signed_in,
        profiles=household,
        devices=await list_devices_for_operator(ports, account.email),
    )


def pin_of(profile: Profile) -> str | None:
    """The demo PIN of a locked demo profile, to print beside it."""
    if not profile.locked:
        return None
    return next((p.pin for p in PROFILES if p.name == profile.name), None)
