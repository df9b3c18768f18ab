"""Plain data for the admin views of payments and for reminders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from src.database.models import Payment


@dataclass(frozen=True, slots=True)
class Revenue:
    provider: str
    currency: str
    payments: int
    total: Decimal


@dataclass(frozen=True, slots=True)
class ProblemPayment:
    """A payment that needs an admin's eye: not credited, or refunded with points unrecovered."""

    id: int
    provider: str
    provider_payment_id: str
    user_id: int | None
    status: str
    amount: Decimal
    currency: str
    unrecovered: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PaymentsSummary:
    revenue: tuple[Revenue, ...]  # credited payments, refunds excluded
    subscribers: dict[str, int]  # active (unexpired) users by tier
    refunds: int
    problems: tuple[ProblemPayment, ...]  # the latest ones


@dataclass(frozen=True, slots=True)
class PaymentLine:
    id: int
    user_id: int | None
    provider: str
    provider_payment_id: str
    tier: str | None
    months: int
    amount: Decimal
    currency: str
    status: str
    created_at: datetime
    unrecovered: int
    bonus: int = 0


@dataclass(frozen=True, slots=True)
class UserPayments:
    payments: tuple[PaymentLine, ...]  # newest first
    total: int


@dataclass(frozen=True, slots=True)
class Reminder:
    user_id: int
    language: str
    kind: str  # "soon" or "expired"
    tier: str
    expires_at: datetime


def problem_of(p: Payment) -> ProblemPayment:
    return ProblemPayment(
        p.id,
        p.provider,
        p.provider_payment_id,
        p.user_id,
        p.status,
        p.amount,
        p.currency,
        p.refund_unrecovered,
        p.created_at,
    )


def line_of(p: Payment) -> PaymentLine:
    return PaymentLine(
        p.id,
        p.user_id,
        p.provider,
        p.provider_payment_id,
        p.tier,
        p.months,
        p.amount,
        p.currency,
        p.status,
        p.created_at,
        p.refund_unrecovered,
        p.bonus,
    )
