"""The TON poller's cursor: the logical time of the last transaction it has handled.

One row per wallet address, so changing TON_WALLET_ADDRESS starts the new wallet from its
beginning instead of skipping it. The poller advances the row in the same transaction as
the payments it records, so a crash replays from the last committed point (completion is
idempotent on the transaction hash).

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "syntra_app"


def upgrade() -> None:
    op.create_table(
        "ton_cursor",
        sa.Column("wallet", sa.Text(), nullable=False),
        sa.Column("last_lt", sa.BigInteger(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.text("now()"),
        ),
        sa.CheckConstraint("last_lt >= 0", name="ck_ton_cursor_lt_non_negative"),
        sa.PrimaryKeyConstraint("wallet", name="pk_ton_cursor"),
    )

    # The application role reads and moves the cursor (a server without the role: no-op).
    op.execute(
        f"DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN "
        f"GRANT SELECT, INSERT, UPDATE ON ton_cursor TO {APP_ROLE}; END IF; END $$"
    )


def downgrade() -> None:
    op.drop_table("ton_cursor")
