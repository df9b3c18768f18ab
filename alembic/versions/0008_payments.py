"""Payments: purchases (priced offers), payments (what providers reported), their events,
expiry reminders; `refund_subscription` becomes a ledger transaction type.

The ledger's transaction_type gets a CHECK listing every type (config/points_config.py
`TransactionType`), added NOT VALID and then validated, so existing rows are checked without
holding a long exclusive lock.

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TYPES = (
    "earn_text_request",
    "earn_vision_request",
    "earn_chart_request",
    "earn_daily_login",
    "earn_referral_signup",
    "earn_referral_purchase",
    "earn_subscription",
    "refund_subscription",
    "admin_grant",
    "admin_deduct",
    "spend",
)
TABLES = ("payment_purchases", "payments", "payment_events", "subscription_reminders")
APP_ROLE = "syntra_app"


def _ts(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _jsonb() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "raw", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False
    )


def _purchases() -> None:
    op.create_table(
        "payment_purchases",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("months", sa.SmallInteger(), nullable=False),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("price", sa.Numeric(30, 9), nullable=False),
        sa.Column("currency", sa.String(16), nullable=False),
        sa.Column("reference", sa.String(128), nullable=False),
        sa.Column("recurring", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("status", sa.String(16), server_default="pending", nullable=False),
        _ts("created_at"),
        _ts("expires_at"),
        _ts("checkout_at", True),
        _ts("paid_at", True),
        sa.Column("charge_id", sa.String(128), nullable=True),
        sa.Column("canceled", sa.Boolean(), server_default="false", nullable=False),
        sa.CheckConstraint("status IN ('pending', 'paid')", name="ck_payment_purchases_status"),
        sa.CheckConstraint("months > 0", name="ck_payment_purchases_months_positive"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.telegram_id"], name="fk_payment_purchases_user_id_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_payment_purchases"),
        sa.UniqueConstraint("reference", name="uq_payment_purchases_reference"),
    )
    op.create_index("ix_payment_purchases_user_id_id", "payment_purchases", ["user_id", "id"])


def _payments() -> None:
    op.create_table(
        "payments",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("provider_payment_id", sa.String(128), nullable=False),
        sa.Column("purchase_id", sa.BigInteger(), nullable=True),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("tier", sa.String(16), nullable=True),
        sa.Column("months", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("amount", sa.Numeric(30, 9), nullable=False),
        sa.Column("currency", sa.String(16), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("recurring", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("prev_tier", sa.String(16), nullable=True),
        _ts("prev_expires_at", True),
        _ts("span_start", True),
        _ts("span_end", True),
        sa.Column("bonus", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("referrer_id", sa.BigInteger(), nullable=True),
        sa.Column("referrer_bonus", sa.BigInteger(), server_default="0", nullable=False),
        _ts("refunded_at", True),
        sa.Column("refund_clawed", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("refund_unrecovered", sa.BigInteger(), server_default="0", nullable=False),
        _jsonb(),
        _ts("created_at"),
        sa.CheckConstraint(
            "status IN ('credited', 'mismatch', 'expired', 'unknown_purchase', 'refunded')",
            name="ck_payments_status",
        ),
        sa.ForeignKeyConstraint(
            ["purchase_id"],
            ["payment_purchases.id"],
            name="fk_payments_purchase_id_payment_purchases",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.telegram_id"], name="fk_payments_user_id_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_payments"),
        sa.UniqueConstraint(
            "provider", "provider_payment_id", name="uq_payments_provider_provider_payment_id"
        ),
    )
    op.create_index("ix_payments_user_id_id", "payments", ["user_id", "id"])
    op.create_index("ix_payments_created_at", "payments", ["created_at"], postgresql_using="brin")


def _events_and_reminders() -> None:
    op.create_table(
        "payment_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("provider_payment_id", sa.String(128), nullable=False),
        sa.Column("reference", sa.String(128), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("amount", sa.Numeric(30, 9), nullable=True),
        sa.Column("currency", sa.String(16), nullable=True),
        _jsonb(),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_payment_events"),
    )
    op.create_index(
        "ix_payment_events_provider_provider_payment_id",
        "payment_events",
        ["provider", "provider_payment_id"],
    )
    op.create_table(
        "subscription_reminders",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        _ts("expires_at"),
        _ts("sent_at"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.telegram_id"],
            name="fk_subscription_reminders_user_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "kind", "expires_at", name="pk_subscription_reminders"),
    )


def upgrade() -> None:
    _purchases()
    _payments()
    _events_and_reminders()
    op.create_index(
        "ix_users_tier_expires_at",
        "users",
        ["tier_expires_at"],
        postgresql_where=sa.text("tier <> 'FREE'"),
    )
    allowed = ", ".join(f"'{t}'" for t in TYPES)
    op.execute(
        "ALTER TABLE points_transactions ADD CONSTRAINT ck_points_transactions_transaction_type "
        f"CHECK (transaction_type IN ({allowed})) NOT VALID"
    )
    op.execute(
        "ALTER TABLE points_transactions VALIDATE CONSTRAINT ck_points_transactions_transaction_type"
    )
    # The application role reads and writes the new tables (a server without the role: no-op).
    grants = "; ".join(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {t} TO {APP_ROLE}" for t in TABLES)
    op.execute(
        f"DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN "
        f"{grants}; GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}; "
        "END IF; END $$"
    )


def downgrade() -> None:
    op.execute(
        "ALTER TABLE points_transactions DROP CONSTRAINT IF EXISTS "
        "ck_points_transactions_transaction_type"
    )
    op.drop_index("ix_users_tier_expires_at", table_name="users")
    for table in ("subscription_reminders", "payment_events", "payments", "payment_purchases"):
        op.drop_table(table)
