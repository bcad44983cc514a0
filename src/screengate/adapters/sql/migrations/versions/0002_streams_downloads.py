"""Streams (leases on the plan's stream slots) and downloads (licences on one device).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out rather than imported from tables.py, as in 0001.
Timestamp = sa.DateTime(timezone=True)


def _parent_fks(table: str, *parents: str) -> list[sa.ForeignKeyConstraint]:
    return [
        sa.ForeignKeyConstraint(
            [f"{parent}_id"],
            [f"{parent}s.id"],
            name=op.f(f"fk_{table}_{parent}_id_{parent}s"),
            ondelete="CASCADE",
        )
        for parent in parents
    ]


def _open_index(name: str, table: str, columns: list[str], open_when: str) -> None:
    # Partial: only what has not ended yet is read on the hot paths.
    op.create_index(
        name,
        table,
        columns,
        postgresql_where=sa.text(open_when),
        sqlite_where=sa.text(open_when),
    )


def upgrade() -> None:
    op.create_table(
        "streams",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("account_id", sa.String(), nullable=False),
        sa.Column("session_id", sa.String(), nullable=False),
        sa.Column("device_id", sa.String(), nullable=False),
        sa.Column("profile_id", sa.String(), nullable=False),
        sa.Column("title_id", sa.String(), nullable=False),
        sa.Column("started_at", Timestamp, nullable=False),
        sa.Column("expires_at", Timestamp, nullable=False),
        sa.Column("ended_at", Timestamp, nullable=True),
        sa.Column("end_reason", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_streams")),
        *_parent_fks("streams", "account", "session", "device"),
    )
    _open_index(
        "ix_streams_open_account_id_expires_at",
        "streams",
        ["account_id", "expires_at"],
        "ended_at IS NULL",
    )
    _open_index("ix_streams_open_session_id", "streams", ["session_id"], "ended_at IS NULL")
    op.create_table(
        "downloads",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("account_id", sa.String(), nullable=False),
        sa.Column("device_id", sa.String(), nullable=False),
        sa.Column("session_id", sa.String(), nullable=False),
        sa.Column("profile_id", sa.String(), nullable=False),
        sa.Column("title_id", sa.String(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("expires_at", Timestamp, nullable=False),
        sa.Column("revoked_at", Timestamp, nullable=True),
        sa.Column("revoke_reason", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_downloads")),
        *_parent_fks("downloads", "account", "device", "session"),
    )
    _open_index(
        "ix_downloads_open_account_id_expires_at",
        "downloads",
        ["account_id", "expires_at"],
        "revoked_at IS NULL",
    )
    _open_index("ix_downloads_open_session_id", "downloads", ["session_id"], "revoked_at IS NULL")


def downgrade() -> None:
    for table in ("downloads", "streams"):
        op.drop_table(table)
