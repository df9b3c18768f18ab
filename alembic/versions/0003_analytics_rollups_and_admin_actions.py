"""Analytics rollups (closed days' totals per type) and admin actions awaiting confirmation.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "points_daily_totals",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("transaction_type", sa.String(length=48), nullable=False),
        sa.Column("tx_count", sa.BigInteger(), nullable=False),
        sa.Column("credits", sa.BigInteger(), nullable=False),
        sa.Column("debits", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "transaction_type", name=op.f("pk_points_daily_totals")),
    )
    op.create_table(
        "points_rollup_state",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("rolled_through", sa.Date(), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_points_rollup_state_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_rollup_state")),
    )
    op.create_table(
        "admin_actions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("admin_id", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("action IN ('grant', 'deduct')", name=op.f("ck_admin_actions_action")),
        sa.CheckConstraint(
            "status IN ('pending', 'done', 'cancelled', 'refused')",
            name=op.f("ck_admin_actions_status"),
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_admin_actions_amount_positive")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.telegram_id"],
            name=op.f("fk_admin_actions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_actions")),
    )


def downgrade() -> None:
    op.drop_table("admin_actions")
    op.drop_table("points_rollup_state")
    op.drop_table("points_daily_totals")
