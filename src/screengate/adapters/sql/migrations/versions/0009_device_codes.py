"""TV sign-in with a code (RFC 8628), and temporary sign-ins.

Revision ID: 0009
Revises: 0008 (was 0006; main gained 0008 meanwhile)
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# Written out rather than imported from tables.py, as in 0001.
UtcDateTime = sa.DateTime(timezone=True)

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("signed_in_until", UtcDateTime, nullable=True))
    live_and_temporary = sa.text("signed_out_at IS NULL AND signed_in_until IS NOT NULL")
    op.create_index(
        "ix_sessions_live_signed_in_until",
        "sessions",
        ["signed_in_until"],
        postgresql_where=live_and_temporary,
        sqlite_where=live_and_temporary,
    )
    open_streams = sa.text("ended_at IS NULL")
    op.create_index(
        "ix_streams_open_expires_at",
        "streams",
        ["expires_at"],
        postgresql_where=open_streams,
        sqlite_where=open_streams,
    )
    op.create_table(
        "device_authorizations",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("device_code_hash", sa.String(), nullable=False),
        sa.Column("user_code", sa.String(), nullable=False),
        sa.Column("client_id", sa.String(), nullable=False),
        sa.Column("device_type", sa.String(), nullable=False),
        sa.Column("device_name", sa.String(), nullable=False),
        sa.Column("requested_at", UtcDateTime, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
        sa.Column("interval_seconds", sa.Integer(), nullable=False),
        sa.Column("ip", sa.String(), nullable=True),
        sa.Column("location", sa.String(), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("last_polled_at", UtcDateTime, nullable=True),
        sa.Column("account_id", sa.String(), nullable=True),
        sa.Column("decided_at", UtcDateTime, nullable=True),
        sa.Column("decided_by_device_id", sa.String(), nullable=True),
        sa.Column("signed_in_until", UtcDateTime, nullable=True),
        sa.Column("device_id", sa.String(), nullable=True),
        sa.Column("session_id", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_device_authorizations"),
        sa.UniqueConstraint("device_code_hash", name="uq_device_authorizations_device_code_hash"),
    )
    op.create_index("ix_device_authorizations_user_code", "device_authorizations", ["user_code"])
    op.create_index("ix_device_authorizations_account_id", "device_authorizations", ["account_id"])
    op.create_index("ix_device_authorizations_expires_at", "device_authorizations", ["expires_at"])


def downgrade() -> None:
    op.drop_table("device_authorizations")
    op.drop_index("ix_streams_open_expires_at", table_name="streams")
    op.drop_index("ix_sessions_live_signed_in_until", table_name="sessions")
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("signed_in_until")
