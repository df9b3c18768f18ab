"""Initial schema: users, the points ledger, per-user balances and the seeded levels.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "points_levels",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("name_ru", sa.String(length=64), nullable=False),
        sa.Column("name_en", sa.String(length=64), nullable=False),
        sa.Column("icon", sa.String(length=16), nullable=False),
        sa.Column("points_required", sa.BigInteger(), nullable=False),
        sa.Column("earning_multiplier", sa.Numeric(precision=6, scale=3), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("color", sa.String(length=16), server_default="#888888", nullable=False),
        sa.PrimaryKeyConstraint("level", name=op.f("pk_points_levels")),
        sa.UniqueConstraint("points_required", name=op.f("uq_points_levels_points_required")),
    )
    op.create_table(
        "users",
        sa.Column("telegram_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("first_name", sa.String(length=128), nullable=True),
        sa.Column("language", sa.String(length=2), server_default="en", nullable=False),
        sa.Column("tier", sa.String(length=16), server_default="FREE", nullable=False),
        sa.Column("tier_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("referrer_id", sa.BigInteger(), nullable=True),
        sa.Column("referral_code", sa.String(length=32), nullable=False),
        sa.Column("is_admin", sa.Boolean(), server_default="false", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "last_seen_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("language IN ('ru', 'en')", name=op.f("ck_users_language")),
        sa.CheckConstraint(
            "tier IN ('FREE', 'BASIC', 'PREMIUM', 'VIP')", name=op.f("ck_users_tier")
        ),
        sa.CheckConstraint(
            "referrer_id IS NULL OR referrer_id <> telegram_id",
            name=op.f("ck_users_no_self_referral"),
        ),
        sa.ForeignKeyConstraint(
            ["referrer_id"],
            ["users.telegram_id"],
            name=op.f("fk_users_referrer_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("telegram_id", name=op.f("pk_users")),
        sa.UniqueConstraint("referral_code", name=op.f("uq_users_referral_code")),
    )
    op.create_index(
        op.f("ix_users_created_at"), "users", ["created_at"], unique=False, postgresql_using="brin"
    )
    op.create_index(
        op.f("ix_users_referrer_id"),
        "users",
        ["referrer_id"],
        unique=False,
        postgresql_where=sa.text("referrer_id IS NOT NULL"),
    )
    op.create_index(
        op.f("ix_users_username"),
        "users",
        [sa.literal_column("lower(username)")],
        unique=False,
        postgresql_where=sa.text("username IS NOT NULL"),
    )
    op.create_table(
        "points_balances",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("balance", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("lifetime_earned", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("lifetime_spent", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("level", sa.SmallInteger(), server_default="1", nullable=False),
        sa.Column(
            "earning_multiplier",
            sa.Numeric(precision=6, scale=3),
            server_default="1.0",
            nullable=False,
        ),
        sa.Column("current_streak", sa.Integer(), server_default="0", nullable=False),
        sa.Column("longest_streak", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_daily_login", sa.Date(), nullable=True),
        sa.Column(
            "last_earn_at",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("earned_today", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("earned_today_date", sa.Date(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "balance = lifetime_earned - lifetime_spent",
            name=op.f("ck_points_balances_balance_matches_lifetime"),
        ),
        sa.CheckConstraint("balance >= 0", name=op.f("ck_points_balances_balance_not_negative")),
        sa.CheckConstraint("level BETWEEN 1 AND 100", name=op.f("ck_points_balances_level_range")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.telegram_id"],
            name=op.f("fk_points_balances_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_points_balances")),
    )
    op.create_index(
        "ix_points_balances_leaderboard",
        "points_balances",
        [sa.literal_column("balance DESC"), "user_id"],
        unique=False,
    )
    op.create_table(
        "points_transactions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("transaction_type", sa.String(length=48), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("balance_before", sa.BigInteger(), nullable=False),
        sa.Column("balance_after", sa.BigInteger(), nullable=False),
        sa.Column("transaction_id", sa.String(length=128), nullable=False),
        sa.Column(
            "metadata_json",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "balance_after = balance_before + amount",
            name=op.f("ck_points_transactions_amount_adds_up"),
        ),
        sa.CheckConstraint(
            "balance_after >= 0", name=op.f("ck_points_transactions_balance_after_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.telegram_id"],
            name=op.f("fk_points_transactions_user_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_transactions")),
        sa.UniqueConstraint(
            "user_id", "transaction_id", name=op.f("uq_points_transactions_user_id_transaction_id")
        ),
    )
    op.create_index(
        "ix_points_transactions_created_brin",
        "points_transactions",
        ["created_at"],
        unique=False,
        postgresql_using="brin",
    )
    op.create_index(
        "ix_points_transactions_type_created",
        "points_transactions",
        ["transaction_type", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_points_transactions_user_history",
        "points_transactions",
        ["user_id", sa.literal_column("id DESC")],
        unique=False,
    )

    _seed_levels()


# The six levels of SPEC section 5, frozen here as the migration's own data: later changes to
# the rules go through POINTS_CONFIG_FILE (synced at start-up) or a new migration.
LEVELS = [
    (1, "Новичок", "Beginner", "🌱", 0, "1.0", "First steps", "#8BC34A"),
    (2, "Трейдер", "Trader", "📈", 1000, "1.1", "Regular user", "#03A9F4"),
    (3, "Аналитик", "Analyst", "🔍", 5000, "1.2", "Reads the market", "#3F51B5"),
    (4, "Эксперт", "Expert", "⭐", 15000, "1.3", "Knows the tools", "#FFC107"),
    (5, "Мастер", "Master", "💎", 50000, "1.5", "Top of the community", "#9C27B0"),
    (6, "Легенда", "Legend", "👑", 150000, "2.0", "The very best", "#FF5722"),
]


def _seed_levels() -> None:
    table = sa.table(
        "points_levels",
        sa.column("level", sa.SmallInteger),
        sa.column("name_ru", sa.String),
        sa.column("name_en", sa.String),
        sa.column("icon", sa.String),
        sa.column("points_required", sa.BigInteger),
        sa.column("earning_multiplier", sa.Numeric),
        sa.column("description", sa.Text),
        sa.column("color", sa.String),
    )
    keys = [
        "level",
        "name_ru",
        "name_en",
        "icon",
        "points_required",
        "earning_multiplier",
        "description",
        "color",
    ]
    op.bulk_insert(table, [dict(zip(keys, row, strict=True)) for row in LEVELS])


def downgrade() -> None:
    op.drop_index("ix_points_transactions_user_history", table_name="points_transactions")
    op.drop_index("ix_points_transactions_type_created", table_name="points_transactions")
    op.drop_index(
        "ix_points_transactions_created_brin",
        table_name="points_transactions",
        postgresql_using="brin",
    )
    op.drop_table("points_transactions")
    op.drop_index("ix_points_balances_leaderboard", table_name="points_balances")
    op.drop_table("points_balances")
    op.drop_index(
        op.f("ix_users_username"),
        table_name="users",
        postgresql_where=sa.text("username IS NOT NULL"),
    )
    op.drop_index(
        op.f("ix_users_referrer_id"),
        table_name="users",
        postgresql_where=sa.text("referrer_id IS NOT NULL"),
    )
    op.drop_index(op.f("ix_users_created_at"), table_name="users", postgresql_using="brin")
    op.drop_table("users")
    op.drop_table("points_levels")
