"""Admin actions remember the message that asked for them: a redelivered command makes one.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("admin_actions", sa.Column("source_key", sa.String(length=128), nullable=True))
    op.create_index(
        "uq_admin_actions_source",
        "admin_actions",
        ["admin_id", "source_key"],
        unique=True,
        postgresql_where=sa.text("source_key IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "uq_admin_actions_source",
        table_name="admin_actions",
        postgresql_where=sa.text("source_key IS NOT NULL"),
    )
    op.drop_column("admin_actions", "source_key")
