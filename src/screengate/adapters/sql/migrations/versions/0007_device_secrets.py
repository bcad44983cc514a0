"""Device secrets: a device id is proven by a secret only that device holds.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Devices from before have none: their next sign-in gets a new id and a secret.
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("secret_hash", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("secret_hash")
