"""The schema, in SQLAlchemy Core. Alembic's migrations must produce exactly this."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    false,
)

# Stable constraint names, so a later migration can name what it alters or drops.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out: timestamptz on PostgreSQL, naive UTC text on SQLite."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"refusing a naive datetime: {value!r}")
        value = value.astimezone(UTC)
        # SQLite keeps no offset; storing every value in UTC keeps text order = time order.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# On SQLite only INTEGER PRIMARY KEY is the auto-incrementing rowid; BIGINT would not be.
EventId = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData(naming_convention=NAMING_CONVENTION)

accounts = Table(
    "accounts",
    metadata,
    Column("id", String, primary_key=True),
    # Already lower-cased by the domain, so a plain unique constraint is case-insensitive.
    Column("email", String, nullable=False, unique=True),
    Column("password_hash", String, nullable=False),
    Column("plan", String, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("password_changed_at", UtcDateTime, nullable=False),
    Column("totp_secret", String, nullable=True),
    Column("failed_sign_ins", Integer, nullable=False, server_default="0"),
    Column("totp_confirmed_at", UtcDateTime, nullable=True),
    Column("totp_last_step", BigInteger, nullable=True),
    # "This wasn't me": password sign-in is refused until the password is reset.
    Column("password_reset_required", Boolean, nullable=False, server_default=false()),
)

profiles = Table(
    "profiles",
    metadata,
    Column("id", String, primary_key=True),
    Column(
        "account_id",
        String,
        ForeignKey("accounts.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", String, nullable=False),
    Column("kids", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("pin_hash", String, nullable=True),
    Index("ix_profiles_account_id_created_at", "account_id", "created_at"),
)

devices = Table(
    "devices",
    metadata,
    Column("id", String, primary_key=True),
    Column(
        "account_id",
        String,
        ForeignKey("accounts.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("type", String, nullable=False),
    Column("name", String, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("user_agent", Text, nullable=True),
    # Activity, flattened: all three set, or all three null. No foreign key on the profile:
    # deleting a profile must not be blocked by a device that once played on it.
    Column("last_activity_at", UtcDateTime, nullable=True),
    Column("last_activity_profile_id", String, nullable=True),
    Column("last_activity_title_id", String, nullable=True),
    # sha256 of the device's secret (256 random bits), as tokens are kept.
    Column("secret_hash", String, nullable=True),
    Index("ix_devices_account_id", "account_id"),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", String, primary_key=True),
    Column(
        "account_id",
        String,
        ForeignKey("accounts.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column(
        "device_id",
        String,
        ForeignKey("devices.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("ip", String, nullable=True),
    Column("location", String, nullable=True),
    Column("signed_out_at", UtcDateTime, nullable=True),
    Column("sign_out_reason", String, nullable=True),
    Column("told_at", UtcDateTime, nullable=True),
    Column("confirmed_at", UtcDateTime, nullable=True),
    Column("proven_at", UtcDateTime, nullable=True),
    # A temporary sign-in's hard end ("Sign in until..."); null for "Keep signed in".
    Column("signed_in_until", UtcDateTime, nullable=True),
)

# The sweep that ends temporary sign-ins looks only at the live ones that have an end.
Index(
    "ix_sessions_live_signed_in_until",
    sessions.c.signed_in_until,
    postgresql_where=sessions.c.signed_out_at.is_(None) & sessions.c.signed_in_until.is_not(None),
    sqlite_where=sessions.c.signed_out_at.is_(None) & sessions.c.signed_in_until.is_not(None),
)

# Every sign-out path starts with "the live sessions of this account": keep only those indexed.
Index(
    "ix_sessions_live_account_id",
    sessions.c.account_id,
    postgresql_where=sessions.c.signed_out_at.is_(None),
    sqlite_where=sessions.c.signed_out_at.is_(None),
)

# Recent sign-outs, for the instance that must learn of those other processes committed.
Index(
    "ix_sessions_signed_out_at",
    sessions.c.signed_out_at,
    postgresql_where=sessions.c.signed_out_at.is_not(None),
    sqlite_where=sessions.c.signed_out_at.is_not(None),
)

# Live sessions unseen for long, for housekeeping to prune once they have lapsed long ago.
Index(
    "ix_sessions_live_last_seen_at",
    sessions.c.last_seen_at,
    postgresql_where=sessions.c.signed_out_at.is_(None),
    sqlite_where=sessions.c.signed_out_at.is_(None),
)

credentials = Table(
    "credentials",
    metadata,
    Column("token_hash", String, primary_key=True),
    Column("kind", String, nullable=False),
    Column(
        "session_id",
        String,
        ForeignKey("sessions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    # Copied from the session, so proving a request needs one read by primary key.
    Column("account_id", String, nullable=False),
    Column("device_id", String, nullable=False),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime, nullable=True),
    Index("ix_credentials_session_id", "session_id"),
    Index("ix_credentials_expires_at", "expires_at"),
)

security_events = Table(
    "security_events",
    metadata,
    # Also the pagination cursor: it only grows (AUTOINCREMENT on SQLite, a sequence on PostgreSQL).
    Column("id", EventId, primary_key=True, autoincrement=True),
    Column(
        "account_id",
        String,
        ForeignKey("accounts.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("kind", String, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("device_id", String, nullable=True),
    Column("device_name", String, nullable=True),
    Column("session_id", String, nullable=True),
    Column("ip", String, nullable=True),
    Column("location", String, nullable=True),
    Column("detail", JSON, nullable=False),
    # A B-tree on (account_id, id) is read backwards for "newest first"; no DESC index needed.
    Index("ix_security_events_account_id_id", "account_id", "id"),
    sqlite_autoincrement=True,
)

streams = Table(
    "streams",
    metadata,
    Column("id", String, primary_key=True),
    Column(
        "account_id",
        String,
        ForeignKey("accounts.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column(
        "session_id",
        String,
        ForeignKey("sessions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column(
        "device_id",
        String,
        ForeignKey("devices.id", ondelete="CASCADE"),
        nullable=False,
    ),
    # No foreign key, as on devices.last_activity_profile_id: history must not block a deletion.
    Column("profile_id", String, nullable=False),
    Column("title_id", String, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime, nullable=True),
    Column("end_reason", String, nullable=True),
)

# Admission reads "the account's live streams" on every Play. Streams that vanished without a
# stop stay open but expired, so expires_at follows account_id and the scan starts at `now`.
Index(
    "ix_streams_open_account_id_expires_at",
    streams.c.account_id,
    streams.c.expires_at,
    postgresql_where=streams.c.ended_at.is_(None),
    sqlite_where=streams.c.ended_at.is_(None),
)
# Every sign-out ends the open streams of its sessions.
Index(
    "ix_streams_open_session_id",
    streams.c.session_id,
    postgresql_where=streams.c.ended_at.is_(None),
    sqlite_where=streams.c.ended_at.is_(None),
)

downloads = Table(
    "downloads",
    metadata,
    Column("id", String, primary_key=True),
    Column(
        "account_id",
        String,
        ForeignKey("accounts.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column(
        "device_id",
        String,
        ForeignKey("devices.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column(
        "session_id",
        String,
        ForeignKey("sessions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("profile_id", String, nullable=False),
    Column("title_id", String, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("revoke_reason", String, nullable=True),
)

# The download limits read the account's live licences; a sign-out revokes its sessions' ones.
Index(
    "ix_downloads_open_account_id_expires_at",
    downloads.c.account_id,
    downloads.c.expires_at,
    postgresql_where=downloads.c.revoked_at.is_(None),
    sqlite_where=downloads.c.revoked_at.is_(None),
)
Index(
    "ix_downloads_open_session_id",
    downloads.c.session_id,
    postgresql_where=downloads.c.revoked_at.is_(None),
    sqlite_where=downloads.c.revoked_at.is_(None),
)

# Streams nobody renewed and nothing closed: the sweep that ends them reads by expiry.
Index(
    "ix_streams_open_expires_at",
    streams.c.expires_at,
    postgresql_where=streams.c.ended_at.is_(None),
    sqlite_where=streams.c.ended_at.is_(None),
)

# The codes TVs show (RFC 8628). No foreign keys: a code is requested before any account is
# involved, and its record outlives nothing it points to by more than its pruning.
device_authorizations = Table(
    "device_authorizations",
    metadata,
    Column("id", String, primary_key=True),
    # Only the hash: the device code is the TV's bearer secret until it collects its tokens.
    Column("device_code_hash", String, nullable=False, unique=True),
    Column("user_code", String, nullable=False),
    Column("client_id", String, nullable=False),
    Column("device_type", String, nullable=False),
    Column("device_name", String, nullable=False),
    Column("requested_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("interval_seconds", Integer, nullable=False),
    Column("ip", String, nullable=True),
    Column("location", String, nullable=True),
    Column("user_agent", Text, nullable=True),
    Column("status", String, nullable=False),
    Column("last_polled_at", UtcDateTime, nullable=True),
    Column("account_id", String, nullable=True),
    Column("decided_at", UtcDateTime, nullable=True),
    Column("decided_by_device_id", String, nullable=True),
    Column("signed_in_until", UtcDateTime, nullable=True),
    Column("device_id", String, nullable=True),
    Column("session_id", String, nullable=True),
    Index("ix_device_authorizations_user_code", "user_code"),
    Index("ix_device_authorizations_account_id", "account_id"),
    Index("ix_device_authorizations_expires_at", "expires_at"),
)

# Secrets the instances on one database share and nobody configured (the pages' signing
# secret): made once, by whichever process starts first.
server_secrets = Table(
    "server_secrets",
    metadata,
    Column("name", String, primary_key=True),
    Column("value", String, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

# Which devices hold an open event stream, per instance, when PostgreSQL is the only shared
# service (adapters/postgres/presence.py). Rows are moments old and lapse by themselves: on
# PostgreSQL the table is UNLOGGED (migration 0006: not written to the WAL, emptied by a crash,
# which is fine).
presence = Table(
    "presence",
    metadata,
    Column("session_id", String, primary_key=True),
    Column("instance_id", String, primary_key=True),
    # Epoch milliseconds: the instance refreshes its rows well before this.
    Column("until_ms", BigInteger, nullable=False),
)

# Two-step sign-in (migration 0011). Recovery codes: only their hashes, each spent once.
recovery_codes = Table(
    "recovery_codes",
    metadata,
    Column(
        "account_id",
        String,
        ForeignKey("accounts.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("code_hash", String, primary_key=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime, nullable=True),
)

# Between the password and the second step, and the passkey ceremonies: minutes old, single use.
sign_in_challenges = Table(
    "sign_in_challenges",
    metadata,
    Column("token_hash", String, primary_key=True),
    Column("kind", String, nullable=False),
    Column("account_id", String, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=True),
    Column("session_id", String, ForeignKey("sessions.id", ondelete="CASCADE"), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("device_type", String, nullable=True),
    Column("device_name", String, nullable=True),
    Column("device_id", String, nullable=True),
    Column("user_agent", Text, nullable=True),
    Column("device_secret_hash", String, nullable=True),
    Column("webauthn", String, nullable=True),
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("used_at", UtcDateTime, nullable=True),
    Index("ix_sign_in_challenges_expires_at", "expires_at"),
)

passkeys = Table(
    "passkeys",
    metadata,
    Column("id", String, primary_key=True),
    Column(
        "account_id",
        String,
        ForeignKey("accounts.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("credential_id", String, nullable=False, unique=True),
    Column("public_key", Text, nullable=False),
    Column("sign_count", BigInteger, nullable=False),
    Column("name", String, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_used_at", UtcDateTime, nullable=True),
    Index("ix_passkeys_account_id", "account_id"),
)

# Mail waiting to be sent, written in the transaction of the change that causes it.
outbox = Table(
    "outbox",
    metadata,
    Column("id", String, primary_key=True),
    Column("account_id", String, ForeignKey("accounts.id", ondelete="SET NULL"), nullable=True),
    Column("kind", String, nullable=False),
    Column("recipient", String, nullable=False),
    Column("subject", String, nullable=False),
    Column("text", Text, nullable=False),
    Column("html", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("state", String, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UtcDateTime, nullable=True),
    Column("claimed_until", UtcDateTime, nullable=True),
    Column("sent_at", UtcDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
)

# The sender's scan: only what is still to send.
Index(
    "ix_outbox_pending_created_at",
    outbox.c.created_at,
    postgresql_where=outbox.c.state == "pending",
    sqlite_where=outbox.c.state == "pending",
)

# The tokens of mailed links, by hash only.
mail_links = Table(
    "mail_links",
    metadata,
    Column("token_hash", String, primary_key=True),
    Column("purpose", String, nullable=False),
    Column("account_id", String, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime, nullable=True),
    Column("opened_at", UtcDateTime, nullable=True),
    Column("message_id", String, nullable=True),
    Column("email", String, nullable=True),
    Column("device_key", String, nullable=True),
    Index("ix_mail_links_account_id_purpose", "account_id", "purpose"),
)
