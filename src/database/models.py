"""The tables, as SQLAlchemy 2 typed models. No business rules here: see src/services.

The ledger (`points_transactions`) is append-only; `points_balances` is the per-user state row
that every movement updates under a row lock, so reads never have to sum the ledger.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class User(Base):
    __tablename__ = "users"

    telegram_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    username: Mapped[str | None] = mapped_column(String(64))
    first_name: Mapped[str | None] = mapped_column(String(128))
    language: Mapped[str] = mapped_column(String(2), server_default="en")
    tier: Mapped[str] = mapped_column(String(16), server_default="FREE")
    tier_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    referrer_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("users.telegram_id", ondelete="SET NULL")
    )
    referral_code: Mapped[str] = mapped_column(String(32), unique=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, server_default="false")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_seen_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )

    __table_args__ = (
        CheckConstraint("language IN ('ru', 'en')", name="language"),
        CheckConstraint("tier IN ('FREE', 'BASIC', 'PREMIUM', 'VIP')", name="tier"),
        CheckConstraint(
            "referrer_id IS NULL OR referrer_id <> telegram_id", name="no_self_referral"
        ),
        Index(None, func.lower(username), postgresql_where=text("username IS NOT NULL")),
        Index(None, "referrer_id", postgresql_where=text("referrer_id IS NOT NULL")),
        Index(None, "created_at", postgresql_using="brin"),
        Index(None, "tier_expires_at", postgresql_where=text("tier <> 'FREE'")),
    )


class PointsBalance(Base):
    __tablename__ = "points_balances"

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.telegram_id", ondelete="CASCADE"), primary_key=True
    )
    balance: Mapped[int] = mapped_column(BigInteger, server_default="0")
    lifetime_earned: Mapped[int] = mapped_column(BigInteger, server_default="0")
    lifetime_spent: Mapped[int] = mapped_column(BigInteger, server_default="0")
    level: Mapped[int] = mapped_column(SmallInteger, server_default="1")
    earning_multiplier: Mapped[Decimal] = mapped_column(Numeric(6, 3), server_default="1.0")
    current_streak: Mapped[int] = mapped_column(Integer, server_default="0")
    longest_streak: Mapped[int] = mapped_column(Integer, server_default="0")
    last_daily_login: Mapped[date | None] = mapped_column(Date)
    # Per-action time of the last *paid* request earn: {"earn_text_request": "<timestamptz>"}.
    last_earn_at: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    # Request earnings of `earned_today_date` (configured time zone), for the daily cap.
    earned_today: Mapped[int] = mapped_column(BigInteger, server_default="0")
    earned_today_date: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint("balance >= 0", name="balance_not_negative"),
        CheckConstraint(
            "balance = lifetime_earned - lifetime_spent", name="balance_matches_lifetime"
        ),
        CheckConstraint("level BETWEEN 1 AND 100", name="level_range"),
        Index("ix_points_balances_leaderboard", balance.desc(), "user_id"),
    )


class PointsTransaction(Base):
    __tablename__ = "points_transactions"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.telegram_id", ondelete="RESTRICT")
    )
    transaction_type: Mapped[str] = mapped_column(String(48))
    amount: Mapped[int] = mapped_column(BigInteger)
    balance_before: Mapped[int] = mapped_column(BigInteger)
    balance_after: Mapped[int] = mapped_column(BigInteger)
    transaction_id: Mapped[str] = mapped_column(String(128))
    metadata_json: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("clock_timestamp()")
    )

    __table_args__ = (
        UniqueConstraint("user_id", "transaction_id"),
        CheckConstraint("balance_after = balance_before + amount", name="amount_adds_up"),
        CheckConstraint("balance_after >= 0", name="balance_after_not_negative"),
        Index("ix_points_transactions_user_history", "user_id", text("id DESC")),
        Index("ix_points_transactions_created_brin", "created_at", postgresql_using="brin"),
        Index("ix_points_transactions_type_created", "transaction_type", "created_at"),
    )


class PointsLevel(Base):
    __tablename__ = "points_levels"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    name_ru: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    icon: Mapped[str] = mapped_column(String(16))
    points_required: Mapped[int] = mapped_column(BigInteger, unique=True)
    earning_multiplier: Mapped[Decimal] = mapped_column(Numeric(6, 3))
    description: Mapped[str] = mapped_column(Text, server_default="")
    color: Mapped[str] = mapped_column(String(16), server_default="#888888")


class PointsDailyTotal(Base):
    """Per-day (the configured zone), per-type totals of the ledger rows created before
    `PointsRollupState.rolled_until`: analytics read these instead of scanning the ledger,
    plus the rows since. Filled lazily by the analytics service (src/services/analytics_service.py)."""

    __tablename__ = "points_daily_totals"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    transaction_type: Mapped[str] = mapped_column(String(48), primary_key=True)
    tx_count: Mapped[int] = mapped_column(BigInteger)
    credits: Mapped[int] = mapped_column(BigInteger)
    debits: Mapped[int] = mapped_column(BigInteger)  # positive: points taken


class PointsRollupState(Base):
    """How far the daily totals reach, and in which time zone they were cut."""

    __tablename__ = "points_rollup_state"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    timezone: Mapped[str] = mapped_column(String(64))
    rolled_through: Mapped[date | None] = mapped_column(Date)  # the last local day fully in
    rolled_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # watermark

    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)


class PointsRankMarker(Base):
    """Every `spacing`-th user of the leaderboard when the markers were last rebuilt, with the
    number of users strictly ahead of that place, kept exact as the ledger grows (migration
    0006, src/services/rank_service.py): a user's rank is a marker's count plus a short count
    of the users between the marker and the user."""

    __tablename__ = "points_rank_markers"

    neg_balance: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # ascending = board
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ahead: Mapped[int] = mapped_column(BigInteger)


class PointsRankState(Base):
    """Which ledger rows the markers count: every row with id <= `through_id`."""

    __tablename__ = "points_rank_state"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    through_id: Mapped[int] = mapped_column(BigInteger)
    positive: Mapped[int] = mapped_column(BigInteger)  # users with points, as of through_id
    spacing: Mapped[int] = mapped_column(Integer)
    rebuilt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    advanced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)


class AdminAction(Base):
    """An admin grant/deduct awaiting or past its confirmation. The ledger key of its
    execution is `admin_action:{id}`, so a confirmation executes once however often pressed."""

    __tablename__ = "admin_actions"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    admin_id: Mapped[int] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.telegram_id", ondelete="CASCADE")
    )
    amount: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(Text, server_default="")
    status: Mapped[str] = mapped_column(String(16), server_default="pending")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The admin's message that asked for it (`admin_cmd:{chat}:{message}`): a command Telegram
    # delivers twice yields one pending action, not two prompts. NULL for quick buttons.
    source_key: Mapped[str | None] = mapped_column(String(128))

    __table_args__ = (
        Index(
            "uq_admin_actions_source",
            "admin_id",
            "source_key",
            unique=True,
            postgresql_where=text("source_key IS NOT NULL"),
        ),
        CheckConstraint("action IN ('grant', 'deduct')", name="action"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("status IN ('pending', 'done', 'cancelled', 'refused')", name="status"),
    )


class Purchase(Base):
    """A priced offer made to a user (pending until paid or expired); the client never prices it.
    `reference` is what the provider echoes back: the Stars invoice payload, the NOWPayments
    order_id, the TON comment."""

    __tablename__ = "payment_purchases"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.telegram_id"))
    tier: Mapped[str] = mapped_column(String(16))
    months: Mapped[int] = mapped_column(SmallInteger)
    provider: Mapped[str] = mapped_column(String(16))
    price: Mapped[Decimal] = mapped_column(Numeric(30, 9))
    currency: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str] = mapped_column(String(128), unique=True)
    recurring: Mapped[bool] = mapped_column(Boolean, server_default="false")  # Stars subscription
    status: Mapped[str] = mapped_column(String(16), server_default="pending")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    checkout_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A Stars subscription: its latest charge (editUserStarSubscription takes it), cancelled?
    charge_id: Mapped[str | None] = mapped_column(String(128))
    canceled: Mapped[bool] = mapped_column(Boolean, server_default="false")

    __table_args__ = (
        Index(None, "user_id", "id"),
        CheckConstraint("status IN ('pending', 'paid')", name="status"),
        CheckConstraint("months > 0", name="months_positive"),
    )


class Payment(Base):
    """One payment a provider reported, credited or not; (provider, provider_payment_id) is the
    idempotency key of complete_purchase. The span it bought is kept so a refund can end it."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    provider_payment_id: Mapped[str] = mapped_column(String(128))
    purchase_id: Mapped[int | None] = mapped_column(ForeignKey("payment_purchases.id"))
    user_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.telegram_id"))
    tier: Mapped[str | None] = mapped_column(String(16))
    months: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    amount: Mapped[Decimal] = mapped_column(Numeric(30, 9))
    currency: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(24))
    recurring: Mapped[bool] = mapped_column(Boolean, server_default="false")
    prev_tier: Mapped[str | None] = mapped_column(String(16))
    prev_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    span_start: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    span_end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    bonus: Mapped[int] = mapped_column(BigInteger, server_default="0")
    referrer_id: Mapped[int | None] = mapped_column(BigInteger)
    referrer_bonus: Mapped[int] = mapped_column(BigInteger, server_default="0")
    refunded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    refund_clawed: Mapped[int] = mapped_column(BigInteger, server_default="0")
    refund_unrecovered: Mapped[int] = mapped_column(BigInteger, server_default="0")
    raw: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("provider", "provider_payment_id"),
        Index(None, "user_id", "id"),
        Index(None, "created_at", postgresql_using="brin"),
        CheckConstraint(
            "status IN ('credited', 'mismatch', 'expired', 'unknown_purchase', 'refunded')",
            name="status",
        ),
    )


class PaymentEvent(Base):
    """Every status a provider reported (partially_paid, underpaid, refunded, ...), as sent."""

    __tablename__ = "payment_events"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    provider_payment_id: Mapped[str] = mapped_column(String(128))
    reference: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(32))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(30, 9))
    currency: Mapped[str | None] = mapped_column(String(16))
    raw: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index(None, "provider", "provider_payment_id"),)


class SubscriptionReminder(Base):
    """A reminder sent (or being sent) about one expiry: at most one per user, kind and date."""

    __tablename__ = "subscription_reminders"

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.telegram_id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # "soon" or "expired"
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
