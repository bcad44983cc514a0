"""An index on sign-out times: an embedded server polls for sign-outs other processes made.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    signed_out = sa.text("signed_out_at IS NOT NULL")
    op.create_index(
        "ix_sessions_signed_out_at",
        "sessions",
        ["signed_out_at"],
        postgresql_where=signed_out,
        sqlite_where=signed_out,
    )


def downgrade() -> None:
    op.drop_index("ix_sessions_signed_out_at", table_name="sessions")
