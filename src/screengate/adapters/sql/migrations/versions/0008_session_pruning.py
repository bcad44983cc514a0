"""An index on when live sessions were last seen: housekeeping prunes those long lapsed.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    live = sa.text("signed_out_at IS NULL")
    op.create_index(
        "ix_sessions_live_last_seen_at",
        "sessions",
        ["last_seen_at"],
        postgresql_where=live,
        sqlite_where=live,
    )


def downgrade() -> None:
    op.drop_index("ix_sessions_live_last_seen_at", table_name="sessions")
