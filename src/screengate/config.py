"""Settings from SCREENGATE_* environment variables. Nothing is read until a Settings is made."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from screengate.domain.plans import DEFAULT_PLANS, Plan, PlanCatalogue


class PlanSetting(BaseModel):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    max_streams: int = Field(ge=1, le=100)
    max_download_devices: int = Field(ge=0, le=100)
    max_downloads_per_device: int = Field(ge=0, le=10_000)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SCREENGATE_", extra="ignore")

    # sqlite+aiosqlite:///path, postgresql+asyncpg://user@host/db, or memory:// for tests.
    database_url: str = "sqlite+aiosqlite:///./var/screengate.db"
    redis_url: str | None = None
    # PostgreSQL: connections each worker keeps (and as many again when busy). A request waits
    # at most database_pool_timeout_seconds for one, then answers 503 server_busy with
    # Retry-After, rather than queueing without bound.
    database_pool_size: int = Field(default=10, ge=1, le=1000)
    database_pool_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)

    # argon2id cost; RFC 9106's second recommendation is t=3, m=64 MiB. Tests lower it.
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=8)
    argon2_parallelism: int = Field(default=4, ge=1)

    access_token_seconds: int = Field(default=900, ge=1, le=900)
    session_idle_days: int = Field(default=30, ge=1)
    session_absolute_days: int = Field(default=365, ge=1)
    # Devices an account may be signed in on at once; signing in on one more answers 409
    # device_limit until one is signed out.
    max_devices_per_account: int = Field(default=100, ge=1, le=100_000)
    # Sessions that ended (signed out, or lapsed unseen) this long ago are deleted, with their
    # credentials and the devices left with none. At least the 30 days the device list shows.
    keep_ended_sessions_days: int = Field(default=90, ge=30)
    # How often the server's housekeeping runs (pruning those sessions); 0 turns it off (then
    # run `screengate sessions prune` from cron).
    housekeeping_interval_seconds: float = Field(default=3600.0, ge=0)
    # A browser's request that set off before its refreshed cookies arrived, still carrying the
    # refresh token just spent: served (without tokens) this long after, from the same address.
    web_refresh_leeway_seconds: float = Field(default=5.0, ge=0, le=30)

    # Sign-in safety (docs/security.md), in `limits` notation. Every sign-in, sign-up and
    # password check from one client address, right or wrong, malformed or not, counted before
    # any hashing:
    sign_in_limit_per_client: str = "30/minute;300/hour"
    # ...and how many of them are judged at once on each process (429 past it): one address's
    # share of the hashing queue, however many connections it opens.
    sign_in_concurrency_per_client: int = Field(default=2, ge=1, le=1000)
    # Wrong passwords for one email from one client address:
    sign_in_limit_per_account_client: str = "5/minute;20/hour"
    # Wrong passwords for one email from every address together, from devices it does not
    # know (a guesser spread over many addresses); the account's own devices are not held up:
    sign_in_limit_per_account: str = "50/hour;200/day"
    # Wrong passwords from one device the account knows (its id and secret), which is judged
    # on this count alone; a signed-in device's password checks count here too:
    sign_in_limit_per_device: str = "5/minute;30/hour"
    # Password (and PIN) hashing at once on each process, and how many more may wait for a
    # place; past both, 503 server_busy with Retry-After. Unset: one per CPU core.
    hashing_concurrency: int | None = Field(default=None, ge=1, le=256)
    hashing_queue: int = Field(default=8, ge=0, le=10_000)
    # Wrong profile PINs, `limits` notation: per profile from every device, and per device
    # across the account's profiles (a household often gives every profile the same PIN).
    # Past either, no PIN is tried until the window moves on: 10,000 PINs at 20 a day is years.
    pin_limit_per_profile: str = "5/15 minutes;20/day"
    pin_limit_per_device: str = "10/15 minutes;30/day"

    # Wrong second-step codes per account (`limits` notation), from every device together;
    # each sign-in challenge also dies after 5. 6-digit codes at 20 an hour: decades.
    second_factor_limit_per_account: str = "5/minute;20/hour"
    # "Confirm it's you": how long a proof lasts on a session before the sensitive changes.
    reauth_seconds: int = Field(default=300, ge=30, le=3600)
    # How long the second step of a sign-in may wait after the password.
    sign_in_challenge_seconds: int = Field(default=300, ge=30, le=900)
    # Fernet keys (urlsafe base64 of 32 bytes), comma-separated, newest first: they encrypt
    # authenticator secrets at rest. Unset: one made on the first start and kept in the
    # database (table server_secrets) -- set it in production, so that a copy of the database
    # alone does not hold the key. Make one: python -c "from cryptography.fernet import
    # Fernet; print(Fernet.generate_key().decode())"
    data_key: str | None = Field(default=None, min_length=44)
    # Passkeys (WebAuthn): the site's origin, e.g. https://watch.example.com. Unset: the
    # origin each request arrives on (fine on one host name; set it behind a proxy).
    passkey_origin: str | None = None
    # TV sign-in with a code (RFC 8628): how long a code lives, the least time between a
    # device's polls, and wrong codes entered by a signed-in person, per account and per
    # address (`limits` notation). A client address may ask for this many codes.
    device_code_seconds: int = Field(default=600, ge=60, le=1800)
    device_code_interval_seconds: int = Field(default=5, ge=1, le=60)
    code_limit_per_account: str = "10/15 minutes"
    code_limit_per_client: str = "10/15 minutes"
    # Generous: a hotel's TVs share one address, and each TV page keeps its code while it lasts.
    device_code_requests_per_client: str = "120/minute;2000/hour"
    # "Sign in until...": the shortest temporary sign-in (tests shorten it); the longest is
    # 30 days. The server checks this often for temporary sign-ins and stream leases that
    # have run out, and ends them.
    temporary_sign_in_min_seconds: int = Field(default=900, ge=1, le=86_400)
    sweep_seconds: float = Field(default=2.0, gt=0, le=60)

    plans: list[PlanSetting] = Field(
        default_factory=lambda: [_plan_setting(p) for p in DEFAULT_PLANS]
    )
    # Streams: a device checks in every heartbeat; a lease not renewed frees its slot.
    stream_heartbeat_seconds: int = Field(default=30, ge=1, le=30)
    stream_lease_seconds: int = Field(default=90, ge=2, le=90)
    download_licence_days: int = Field(default=7, ge=1, le=365)
    # JSON titles [{id, name, maturity, year, genre, minutes}]; the demo catalogue if unset.
    catalogue_file: Path | None = None

    # Open event streams (GET /v1/events, the pages' /events) on each instance: per device,
    # past which its oldest stream closes; per client address, past which a new one gets 429.
    event_streams_per_device: int = Field(default=3, ge=1, le=100)
    event_streams_per_address: int = Field(default=100, ge=1)

    # A sign-out waits up to this long to hear that connected devices were told (its receipt).
    sign_out_receipt_wait_seconds: float = Field(default=1.0, ge=0, le=10)

    # Mail. Unset SMTP URL: messages are written as .eml files under mail_folder instead.
    # smtp://user:pass@host:587?starttls, smtps://user:pass@host:465 (TLS from the start).
    smtp_url: str | None = None
    mail_from: str = "screengate <no-reply@screengate.localhost>"
    # Where mailed links point: the address people open the website at. Unset: this server's
    # own address (http://host:port), right for `make run`, wrong behind a proxy.
    public_url: str = ""
    mail_folder: Path = Path("var/mail")
    # The sender looks for due mail this often (and at once after a change that mails).
    mail_poll_seconds: float = Field(default=2.0, gt=0, le=60)
    # While the mail server cannot take a message: retry after 5 s, doubling up to 10 min,
    # and give up after 12 tries (about an hour and a quarter), logged and in `mail outbox`.
    mail_retry_first_seconds: float = Field(default=5.0, gt=0)
    mail_retry_max_seconds: float = Field(default=600.0, gt=0)
    mail_max_attempts: int = Field(default=12, ge=1, le=100)
    mail_smtp_timeout_seconds: float = Field(default=30.0, gt=0, le=300)
    # Password-reset mails asked for, `limits` notation: per email, and per client address.
    password_reset_limit_per_email: str = "3/15 minutes;10/day"
    password_reset_limit_per_address: str = "20/hour;100/day"

    geoip_database: Path | None = None
    # Addresses of reverse proxies whose X-Forwarded-For is believed.
    trusted_proxies: list[str] = Field(default_factory=list)
    # Signs the website's CSRF tokens and profile choice. Unset: one made on the first start and
    # kept in the database (table server_secrets), shared by every worker and instance on it.
    web_secret: str | None = Field(default=None, min_length=32)
    # /metrics is served only when this is set, and only to `Authorization: Bearer <token>`.
    metrics_token: str | None = Field(default=None, min_length=16)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    # A request body must have fully arrived this long after the request began, or 408.
    body_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    log_level: str = "INFO"
    log_json: bool = False

    @field_validator("smtp_url")
    @classmethod
    def _smtp_scheme(cls, url: str | None) -> str | None:
        if url and not url.startswith(("smtp://", "smtps://")):
            raise ValueError("SCREENGATE_SMTP_URL starts with smtp:// or smtps://")
        return url or None

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, url: str) -> str:
        if url and not url.startswith(("http://", "https://")):
            raise ValueError("SCREENGATE_PUBLIC_URL starts with http:// or https://")
        return url.rstrip("/")

    @property
    def link_base(self) -> str:
        """Where mailed links point: SCREENGATE_PUBLIC_URL, else this server's own address."""
        if self.public_url:
            return self.public_url
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @field_validator("plans")
    @classmethod
    def _plans_unique(cls, plans: list[PlanSetting]) -> list[PlanSetting]:
        names = [p.name for p in plans]
        if not names or len(set(names)) != len(names):
            raise ValueError("plans need at least one entry and unique names")
        return plans

    def plan_catalogue(self) -> PlanCatalogue:
        return PlanCatalogue(Plan(**p.model_dump()) for p in self.plans)

    @property
    def is_memory(self) -> bool:
        return self.database_url.startswith("memory:")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _plan_setting(plan: Plan) -> PlanSetting:
    return PlanSetting(
        name=plan.name,
        max_streams=plan.max_streams,
        max_download_devices=plan.max_download_devices,
        max_downloads_per_device=plan.max_downloads_per_device,
    )
