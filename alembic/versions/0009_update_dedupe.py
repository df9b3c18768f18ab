"""Webhook update marks: an update delivered twice, or to two workers, is handled once.

Used only when REDIS_URL is not set (with Redis the marks are keys with an expiry). A row is
taken "in progress" (`done` false) with a short lease before an update is handled and turned
"done" with a long expiry after; an expired row may be taken again, so a worker killed
mid-update lets the redelivery run once its lease is over. The `update-marks-purge` job
deletes expired rows.

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The embedded server's application role; a DATABASE_URL deployment may not have it.
GRANT_APP = """
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'syntra_app') THEN
    GRANT SELECT, INSERT, UPDATE, DELETE ON bot_update_marks TO syntra_app;
  END IF;
END $$
"""


def upgrade() -> None:
    op.create_table(
        "bot_update_marks",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_bot_update_marks")),
    )
    op.create_index(op.f("ix_bot_update_marks_expires_at"), "bot_update_marks", ["expires_at"])
    op.execute(GRANT_APP)


def downgrade() -> None:
    op.drop_index(op.f("ix_bot_update_marks_expires_at"), table_name="bot_update_marks")
    op.drop_table("bot_update_marks")
