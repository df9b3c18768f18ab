"""The payment tables (migration 0008): offers made to users, payments reported by providers,
every provider event, and the expiry reminders sent. On `Base.metadata` like the rest."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Numeric,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from src.database.models import Base


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
