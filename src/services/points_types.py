"""What PointsService takes and returns: outcomes, read views and typed errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    AWARDED = "awarded"  # credited in full
    PARTIALLY_CAPPED = "partially_capped"  # credited up to the daily cap
    DEBITED = "debited"
    RATE_LIMITED = "rate_limited"  # inside the action's minimum interval: nothing paid
    CAPPED = "capped"  # the daily cap is already reached: nothing paid
    INSUFFICIENT_FUNDS = "insufficient_funds"  # a debit refused: balance would go below zero

    @property
    def moved_points(self) -> bool:
        return self in {Outcome.AWARDED, Outcome.PARTIALLY_CAPPED, Outcome.DEBITED}


@dataclass(frozen=True, slots=True)
class PointsOutcome:
    """The result of one call. A replay (`duplicate=True`) carries the original outcome."""

    outcome: Outcome
    user_id: int
    transaction_type: str
    transaction_id: str
    amount: int  # signed points moved; 0 when nothing was paid
    balance_after: int
    level_before: int
    level_after: int
    duplicate: bool
    streak: int | None = None
    created_at: datetime | None = None

    @property
    def paid(self) -> bool:
        return self.amount != 0

    @property
    def leveled_up(self) -> bool:
        return not self.duplicate and self.level_after > self.level_before

    @property
    def reason(self) -> str | None:
        """Why nothing was paid, or None when points moved."""
        if self.duplicate:
            return "duplicate"
        return None if self.outcome.moved_points else self.outcome.value


class PointsError(Exception):
    """Base of every error PointsService raises; nothing was written when it is raised."""


class InvalidInputError(PointsError, ValueError):
    pass


class UnknownUserError(PointsError, LookupError):
    def __init__(self, user_id: int) -> None:
        super().__init__(f"unknown user {user_id}: register the user first")
        self.user_id = user_id


class IdempotencyConflictError(PointsError):
    """The key is already in the ledger for a different type or amount."""

    def __init__(self, key: str, original: dict[str, Any]) -> None:
        super().__init__(f"transaction key {key!r} was already used for {original}")
        self.key = key
        self.original = original


class InsufficientFundsError(PointsError):
    def __init__(self, user_id: int, balance: int, requested: int) -> None:
        super().__init__(f"user {user_id} has {balance} points, cannot debit {requested}")
        self.user_id = user_id
        self.balance = balance
        self.requested = requested


@dataclass(frozen=True, slots=True)
class BalanceView:
    """The balance response: exactly the SPEC section 7 field set."""

    balance: int
    lifetime_earned: int
    lifetime_spent: int
    level: int
    level_name: str
    level_icon: str
    earning_multiplier: Decimal
    current_streak: int
    longest_streak: int
    next_level_points: int
    progress_to_next_level: float


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    id: int
    transaction_type: str
    amount: int
    balance_after: int
    transaction_id: str
    created_at: datetime
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HistoryPage:
    entries: list[HistoryEntry]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True, slots=True)
class LeaderboardEntry:
    rank: int
    user_id: int
    display_name: str
    balance: int
    level: int


@dataclass(frozen=True, slots=True)
class Leaderboard:
    top: list[LeaderboardEntry]
    me: LeaderboardEntry | None


@dataclass(frozen=True, slots=True)
class LevelInfo:
    level: int
    name_ru: str
    name_en: str
    icon: str
    points_required: int
    earning_multiplier: Decimal
    description: str
    color: str


@dataclass(frozen=True, slots=True)
class TypeStats:
    count: int
    total: int


@dataclass(frozen=True, slots=True)
class UserStats:
    by_type: dict[str, TypeStats]
    transactions: int
    total_earned: int
    total_spent: int
    earned_today: int
    daily_cap: int
    rank: int


@dataclass(frozen=True, slots=True)
class PersonalRates:
    """What one user earns per served request now: base x level x tier, rounded half up."""

    level: int
    level_multiplier: Decimal
    tier: str
    tier_multiplier: Decimal
    requests: dict[str, int]
