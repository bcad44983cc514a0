"""Settings in, Ports out: the one place adapters are chosen and built."""

from __future__ import annotations

import asyncio
import os
import secrets
import uuid
from collections.abc import AsyncIterator, Container
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import cache
from pathlib import Path

from limits.aio.storage import RedisStorage, Storage
from pydantic import BaseModel, Field, TypeAdapter
from redis.asyncio import Redis

from screengate.adapters.bus import InProcessBus
from screengate.adapters.cipher import FernetCipher, is_data_key, new_data_key
from screengate.adapters.devices import UserAgentNamer
from screengate.adapters.geo import MaxMindGeolocator, NoGeolocator
from screengate.adapters.hub import LocalDecisions, LocalNoticeHub, LocalPresence
from screengate.adapters.mail.compose import JinjaMailComposer
from screengate.adapters.mail.sender import MailSender
from screengate.adapters.mail.transport import EmlFolder, MailTransport, SmtpTransport
from screengate.adapters.memory import memory_unit_of_work_factory
from screengate.adapters.passkeys import WebAuthnCeremonies
from screengate.adapters.postgres import PostgresBus, PostgresPresence
from screengate.adapters.redis import RedisBus, RedisPresence, RedisStreamLeases, redis_client
from screengate.adapters.relay import RelayedBus
from screengate.adapters.revocation import LocalRevocationView
from screengate.adapters.security import (
    Argon2PasswordHasher,
    HashingGate,
    SecretTokenSource,
    SystemClock,
)
from screengate.adapters.sql.engine import plain_dsn
from screengate.adapters.throttle import (
    LimitsCodeThrottle,
    LimitsMailThrottle,
    LimitsPinThrottle,
    LimitsSecondFactorThrottle,
    LimitsSignInThrottle,
    MemoryCounters,
)
from screengate.adapters.views import LocalViews
from screengate.adapters.watch import watch_sign_outs
from screengate.config import Settings
from screengate.domain.catalogue import DEMO_TITLES, Catalogue, Maturity, Title
from screengate.domain.device_codes import DeviceCodePolicy
from screengate.domain.mail import RetryPolicy
from screengate.domain.notices import Announcement, BusMessage
from screengate.domain.sessions import SessionPolicy
from screengate.domain.streams import StreamPolicy
from screengate.domain.two_step import TwoStepPolicy
from screengate.ports import (
    Clock,
    EventBus,
    Geolocator,
    MailPorts,
    Ports,
    Presence,
    StreamRenewals,
    UnitOfWorkFactory,
)
from screengate.services.acting import confirmed_writes
from screengate.services.views import AccountDevices, AccountView


@cache
def common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords, as zxcvbn ships them (lower-cased)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])


@asynccontextmanager
async def open_ports(
    settings: Settings, *, clock: Clock | None = None, send_mail: bool = False
) -> AsyncIterator[Ports]:
    """Build every adapter for these settings, and close what needs closing afterwards.
    `send_mail`: run the outbox's sender meanwhile (the server does; a CLI command does not)."""
    async with _store(settings) as (uow, reader, renewals), _redis(settings) as redis:
        hasher = Argon2PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_kib=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
            gate=HashingGate(
                slots=settings.hashing_concurrency or os.cpu_count() or 1,
                queue=settings.hashing_queue,
            ),
        )
        bus: EventBus
        presence: Presence
        if settings.is_sqlite or settings.is_memory:
            # One process owns an embedded database, so the in-process bus reaches every
            # instance there is.
            bus = InProcessBus()
            revocations = LocalRevocationView(caching=True)
            views = LocalViews[AccountView](enabled=True, max_age_seconds=VIEW_SECONDS)
            device_lists = LocalViews[AccountDevices](enabled=True, max_age_seconds=VIEW_SECONDS)
            presence = LocalPresence()
        else:
            # Instances share the database: Redis pub/sub when there is Redis, else
            # PostgreSQL's own LISTEN/NOTIFY. Caches are trusted only while subscribed, and
            # re-read now and then all the same.
            instance = uuid.uuid4().hex
            shared: RedisBus | PostgresBus
            if redis is not None:
                shared = RedisBus(redis)
                presence = RedisPresence(redis, instance_id=instance)
            else:
                dsn = plain_dsn(settings.database_url)
                shared = PostgresBus(dsn)
                presence = PostgresPresence(dsn, instance_id=instance)
            bus = shared
            revocations = LocalRevocationView(caching=False, max_age_seconds=CACHE_SECONDS)
            views = LocalViews[AccountView](enabled=False, max_age_seconds=CACHE_SECONDS)
            device_lists = LocalViews[AccountDevices](enabled=False, max_age_seconds=CACHE_SECONDS)
            for trust in (revocations.trust_cache, views.trust, device_lists.trust):
                shared.on_state(trust)
        hub = LocalNoticeHub(
            bus,
            per_device=settings.event_streams_per_device,
            per_address=settings.event_streams_per_address,
        )

        decisions = LocalDecisions()

        async def on_message(message: BusMessage) -> None:
            # Refuse first, then tell: a told device is already refused here.
            if isinstance(message, Announcement):
                revocations.revoke(message.revoked)
                views.forget(message.account_id)
                device_lists.forget(message.account_id)
            await hub.on_message(message)
            await decisions.on_message(message)

        bus.subscribe(on_message)
        watcher = (
            asyncio.create_task(watch_sign_outs(reader, revocations, clock or SystemClock()))
            if settings.is_sqlite
            else None
        )
        counters = _limits_storage(settings)
        sender = mail_sender(settings, uow)
        mail = MailPorts(
            composer=JinjaMailComposer(),
            throttle=LimitsMailThrottle(
                counters,
                per_email=settings.password_reset_limit_per_email,
                per_address=settings.password_reset_limit_per_address,
                fallback=MemoryCounters() if settings.redis_url else None,
            ),
            public_url=settings.link_base,
            postman=sender,
        )
        cipher = FernetCipher(await data_keys(settings, clock or SystemClock()))
        async with _running(bus, presence, watcher), _sending(sender, send_mail):
            yield Ports(
                # Writes made for a signed-out device are refused (services/acting.py).
                uow=confirmed_writes(uow),
                reader=reader,
                clock=clock or SystemClock(),
                tokens=SecretTokenSource(),
                hasher=hasher,
                pin_hasher=hasher,
                throttle=LimitsSignInThrottle(
                    counters,
                    per_client=settings.sign_in_limit_per_client,
                    per_account_client=settings.sign_in_limit_per_account_client,
                    per_account=settings.sign_in_limit_per_account,
                    per_device=settings.sign_in_limit_per_device,
                    at_once_per_client=settings.sign_in_concurrency_per_client,
                    fallback=MemoryCounters() if settings.redis_url else None,
                ),
                pin_throttle=LimitsPinThrottle(
                    counters,
                    per_profile=settings.pin_limit_per_profile,
                    per_device=settings.pin_limit_per_device,
                    fallback=MemoryCounters() if settings.redis_url else None,
                ),
                bus=bus,
                revocations=revocations,
                namer=UserAgentNamer(),
                geo=_geolocator(settings),
                plans=settings.plan_catalogue(),
                policy=SessionPolicy(
                    access_ttl=timedelta(seconds=settings.access_token_seconds),
                    idle_ttl=timedelta(days=settings.session_idle_days),
                    absolute_ttl=timedelta(days=settings.session_absolute_days),
                    browser_refresh_leeway=timedelta(seconds=settings.web_refresh_leeway_seconds),
                    max_devices=settings.max_devices_per_account,
                    keep_ended=timedelta(days=settings.keep_ended_sessions_days),
                ),
                common_passwords=_common(),
                catalogue=load_catalogue(settings.catalogue_file),
                streaming=StreamPolicy(
                    heartbeat_interval=timedelta(seconds=settings.stream_heartbeat_seconds),
                    lease=timedelta(seconds=settings.stream_lease_seconds),
                ),
                download_licence=timedelta(days=settings.download_licence_days),
                presence=presence,
                hub=hub,
                views=views,
                device_lists=device_lists,
                code_throttle=LimitsCodeThrottle(
                    counters,
                    per_account=settings.code_limit_per_account,
                    per_client=settings.code_limit_per_client,
                    requests_per_client=settings.device_code_requests_per_client,
                    fallback=MemoryCounters() if settings.redis_url else None,
                ),
                decisions=decisions,
                device_codes=DeviceCodePolicy(
                    lifetime=timedelta(seconds=settings.device_code_seconds),
                    interval=timedelta(seconds=settings.device_code_interval_seconds),
                    min_temporary=timedelta(seconds=settings.temporary_sign_in_min_seconds),
                ),
                cipher=cipher,
                ceremonies=WebAuthnCeremonies(),
                second_factor_throttle=LimitsSecondFactorThrottle(
                    counters,
                    per_account=settings.second_factor_limit_per_account,
                    fallback=MemoryCounters() if settings.redis_url else None,
                ),
                two_step=TwoStepPolicy(
                    reauth=timedelta(seconds=settings.reauth_seconds),
                    challenge_ttl=timedelta(seconds=settings.sign_in_challenge_seconds),
                ),
                receipt_wait=settings.sign_out_receipt_wait_seconds,
                leases=RedisStreamLeases(redis) if redis is not None else None,
                renewals=renewals,
                mail=mail,
            )


def mail_sender(settings: Settings, uow: UnitOfWorkFactory) -> MailSender:
    """The outbox's sender: to the SMTP server, or .eml files when there is none. Its retries
    follow the system's clock, whatever clock the use cases are given."""
    transport: MailTransport = (
        SmtpTransport(
            settings.smtp_url, settings.mail_from, timeout=settings.mail_smtp_timeout_seconds
        )
        if settings.smtp_url
        else EmlFolder(settings.mail_folder, settings.mail_from)
    )
    return MailSender(
        uow,
        transport,
        SystemClock(),
        retry=RetryPolicy(
            first_delay=timedelta(seconds=settings.mail_retry_first_seconds),
            max_delay=timedelta(seconds=settings.mail_retry_max_seconds),
            max_attempts=settings.mail_max_attempts,
        ),
        poll_seconds=settings.mail_poll_seconds,
        # Longer than the slowest try can take, so no other sender takes a message mid-send.
        lease=timedelta(seconds=settings.mail_smtp_timeout_seconds * 4 + 60),
    )


@asynccontextmanager
async def _sending(sender: MailSender, send_mail: bool) -> AsyncIterator[None]:
    if send_mail:
        sender.start()
    try:
        yield
    finally:
        await sender.stop()


async def web_secret(settings: Settings, clock: Clock) -> str:
    """What signs the pages' CSRF tokens and profile cookies: the operator's, or else one kept
    in the database, so that every worker and instance on it accepts what another signed."""
    if settings.web_secret:
        return settings.web_secret
    candidate = secrets.token_hex(32)
    if settings.is_memory:
        return candidate  # a memory store lives and dies with this one process
    from screengate.adapters.sql.engine import create_engine_for
    from screengate.adapters.sql.secrets import shared_secret

    engine = create_engine_for(settings.database_url)
    try:
        return await shared_secret(engine, WEB_SECRET, candidate, clock.now())
    finally:
        await engine.dispose()


async def data_keys(settings: Settings, clock: Clock) -> list[str]:
    """What seals authenticator secrets: the operator's keys (newest first), or else one kept
    in the database like the web secret, so every instance on it opens what another sealed."""
    if settings.data_key:
        keys = [k.strip() for k in settings.data_key.split(",") if k.strip()]
        if not keys or not all(is_data_key(k) for k in keys):
            raise ValueError("SCREENGATE_DATA_KEY: comma-separated Fernet keys, newest first")
        return keys
    candidate = new_data_key()
    if settings.is_memory:
        return [candidate]
    from screengate.adapters.sql.engine import create_engine_for
    from screengate.adapters.sql.secrets import shared_secret

    engine = create_engine_for(settings.database_url)
    try:
        return [await shared_secret(engine, DATA_KEY, candidate, clock.now())]
    finally:
        await engine.dispose()


WEB_SECRET = "web"
DATA_KEY = "data"
# With Redis, a cached credential or account page is re-read at least this often.
CACHE_SECONDS = 5.0
# On an embedded store, how stale an account page may be after a change made by another
# process (the operator's CLI); changes made through the server show at once.
VIEW_SECONDS = 2.0


@asynccontextmanager
async def _redis(settings: Settings) -> AsyncIterator[Redis | None]:
    if not settings.redis_url:
        yield None
        return
    client = redis_client(settings.redis_url)
    try:
        yield client
    finally:
        await client.aclose()


@asynccontextmanager
async def _running(
    bus: EventBus, presence: Presence, watcher: asyncio.Task[None] | None
) -> AsyncIterator[None]:
    """Start what runs in the background (the bus subscription, presence refresh), and
    stop it all, with the sign-out watcher, at the end."""
    if isinstance(bus, RelayedBus):
        await bus.start()
    if isinstance(presence, RedisPresence | PostgresPresence):
        presence.start()
    try:
        yield
    finally:
        if watcher is not None:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
        if isinstance(presence, RedisPresence | PostgresPresence):
            await presence.stop()
        if isinstance(bus, RelayedBus):
            await bus.stop()


def _common() -> Container[str]:
    return common_passwords()


@asynccontextmanager
async def _store(
    settings: Settings,
) -> AsyncIterator[tuple[UnitOfWorkFactory, UnitOfWorkFactory, StreamRenewals | None]]:
    """(for writers, for readers, for heartbeats in one statement) on one store."""
    if settings.is_memory:
        memory = memory_unit_of_work_factory()
        yield memory, memory, None
        return
    from screengate.adapters.sql.uow import create_engine_for, sql_stores

    engine = create_engine_for(
        settings.database_url,
        pool_size=settings.database_pool_size,
        pool_timeout=settings.database_pool_timeout_seconds,
    )
    try:
        yield sql_stores(engine)
    finally:
        await engine.dispose()


class _TitleFile(BaseModel):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,79}$")
    name: str = Field(min_length=1, max_length=120)
    maturity: Maturity
    year: int
    genre: str
    minutes: int = Field(ge=1)


def load_catalogue(path: Path | None) -> Catalogue:
    """The operator's catalogue file, or the demo catalogue."""
    if path is None:
        return Catalogue(DEMO_TITLES)
    entries = TypeAdapter(list[_TitleFile]).validate_json(path.read_bytes())
    return Catalogue(Title(**entry.model_dump()) for entry in entries)


def _limits_storage(settings: Settings) -> Storage:
    if settings.redis_url:
        # Shared counters, so a client cannot spread its guesses over several instances.
        uri = settings.redis_url.replace("redis://", "async+redis://", 1)
        return RedisStorage(
            uri,
            implementation="redispy",
            key_prefix="screengate:limits",
            # An unreachable Redis must cost a sign-in a second at most, not hang it.
            socket_timeout=1.0,
            socket_connect_timeout=1.0,
        )
    return MemoryCounters()


def _geolocator(settings: Settings) -> Geolocator:
    if settings.geoip_database is not None:
        return MaxMindGeolocator(settings.geoip_database)
    return NoGeolocator()
