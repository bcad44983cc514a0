"""Accounts, profiles, devices, sessions, credentials and the security log.

Revision ID: 0001
Revises:
Create Date: 2025-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out rather than imported from tables.py: a migration must not change when the
# application's schema moves on. The tests check that head still matches tables.py.
Timestamp = sa.DateTime(timezone=True)
EventId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _account_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["account_id"],
        ["accounts.id"],
        name=op.f(f"fk_{table}_account_id_accounts"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("email", sa.String(), nullable=False),
        sa.Column("password_hash", sa.String(), nullable=False),
        sa.Column("plan", sa.String(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("password_changed_at", Timestamp, nullable=False),
        sa.Column("totp_secret", sa.String(), nullable=True),
        sa.Column("failed_sign_ins", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("email", name=op.f("uq_accounts_email")),
    )
    op.create_table(
        "profiles",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("account_id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("kids", sa.Boolean(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("pin_hash", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_profiles")),
        _account_fk("profiles"),
    )
    op.create_index("ix_profiles_account_id_created_at", "profiles", ["account_id", "created_at"])
    op.create_table(
        "devices",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("account_id", sa.String(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.Column("last_activity_at", Timestamp, nullable=True),
        sa.Column("last_activity_profile_id", sa.String(), nullable=True),
        sa.Column("last_activity_title_id", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
        _account_fk("devices"),
    )
    op.create_index("ix_devices_account_id", "devices", ["account_id"])
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("account_id", sa.String(), nullable=False),
        sa.Column("device_id", sa.String(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("last_seen_at", Timestamp, nullable=False),
        sa.Column("ip", sa.String(), nullable=True),
        sa.Column("location", sa.String(), nullable=True),
        sa.Column("signed_out_at", Timestamp, nullable=True),
        sa.Column("sign_out_reason", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
        _account_fk("sessions"),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_sessions_device_id_devices"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_sessions_live_account_id",
        "sessions",
        ["account_id"],
        postgresql_where=sa.text("signed_out_at IS NULL"),
        sqlite_where=sa.text("signed_out_at IS NULL"),
    )
    op.create_table(
        "credentials",
        sa.Column("token_hash", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("session_id", sa.String(), nullable=False),
        sa.Column("account_id", sa.String(), nullable=False),
        sa.Column("device_id", sa.String(), nullable=False),
        sa.Column("issued_at", Timestamp, nullable=False),
        sa.Column("expires_at", Timestamp, nullable=False),
        sa.Column("used_at", Timestamp, nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_credentials")),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_credentials_session_id_sessions"),
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_credentials_session_id", "credentials", ["session_id"])
    op.create_index("ix_credentials_expires_at", "credentials", ["expires_at"])
    op.create_table(
        "security_events",
        sa.Column("id", EventId, autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("at", Timestamp, nullable=False),
        sa.Column("device_id", sa.String(), nullable=True),
        sa.Column("device_name", sa.String(), nullable=True),
        sa.Column("session_id", sa.String(), nullable=True),
        sa.Column("ip", sa.String(), nullable=True),
        sa.Column("location", sa.String(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_events")),
        _account_fk("security_events"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_security_events_account_id_id", "security_events", ["account_id", "id"])


def downgrade() -> None:
    for table in ("security_events", "credentials", "sessions", "devices", "profiles", "accounts"):
        op.drop_table(table)
