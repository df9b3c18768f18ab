"""What AdminService hands the admin panel: pending and executed actions, decisions, user cards."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from config.points_config import Tier
from src.services.admin_commands import AdminOp
from src.services.points_types import BalanceView, HistoryPage, PersonalRates, PointsOutcome
from src.services.user_types import UserProfile


class ActionStatus(StrEnum):
    """The stored status of an admin action (`admin_actions.status`)."""

    PENDING = "pending"
    DONE = "done"
    REFUSED = "refused"  # the ledger refused: the balance fell below the amount meanwhile
    CANCELLED = "cancelled"


class DecisionStatus(StrEnum):
    """What one ✅ / ❌ press did."""

    DONE = ActionStatus.DONE.value  # executed by this press
    REFUSED = ActionStatus.REFUSED.value
    CANCELLED = ActionStatus.CANCELLED.value  # cancelled by this press
    ALREADY_DECIDED = "already_decided"  # decided earlier (a double press): nothing changed
    EXPIRED = "expired"  # older than the confirmation's lifetime: cancelled, nothing moved
    NOT_FOUND = "not_found"
    NOT_YOURS = "not_yours"  # another admin's confirmation


@dataclass(frozen=True, slots=True)
class PendingAction:
    """Awaiting the admin's ✅ / ❌."""

    id: int
    op: AdminOp
    user: UserProfile
    amount: int
    description: str


@dataclass(frozen=True, slots=True)
class Executed:
    """Points moved (or, for a replayed key, had already moved)."""

    op: AdminOp
    user: UserProfile
    amount: int
    description: str
    outcome: PointsOutcome
    action_id: int | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    status: DecisionStatus
    action: PendingAction | None = None
    previous_status: ActionStatus | None = None  # for ALREADY_DECIDED
    executed: Executed | None = None


@dataclass(frozen=True, slots=True)
class UserCard:
    user: UserProfile
    balance: BalanceView
    rates: PersonalRates
    effective_tier: Tier
    rank: int
    transactions: int
    referrals: int
    history: HistoryPage
    page: int
    pages: int
