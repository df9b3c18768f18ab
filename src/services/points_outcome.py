"""A ledger call's answer as a typed outcome, logged and counted once: every movement ends here."""

from __future__ import annotations

import structlog

from config.points_config import TransactionType
from src import metrics
from src.database.ledger_calls import LedgerResult
from src.services.points_types import (
    IdempotencyConflictError,
    Outcome,
    PointsOutcome,
    UnknownUserError,
)

log = structlog.get_logger(__name__)


def finish_outcome(
    result: LedgerResult, *, user_id: int, transaction_type: str, key: str
) -> PointsOutcome:
    if result.outcome == "unknown_user":
        raise UnknownUserError(user_id)
    if result.outcome == "conflict":
        original = {"amount": result.amount, "ledger_id": result.ledger_id}
        raise IdempotencyConflictError(key, original)
    outcome = PointsOutcome(
        outcome=Outcome(result.outcome),
        user_id=user_id,
        transaction_type=transaction_type,
        transaction_id=key,
        amount=result.amount,
        balance_after=result.balance_after,
        level_before=result.level_before or 1,
        level_after=result.level_after or 1,
        duplicate=result.duplicate,
        streak=result.streak,
        created_at=result.created_at,
    )
    fields = {
        "user_id": user_id,
        "type": transaction_type,
        "amount": outcome.amount,
        "balance_after": outcome.balance_after,
        "key": key,
    }
    metrics.record_points(outcome)
    if outcome.duplicate and transaction_type == TransactionType.DAILY_LOGIN:
        # A returning user claiming again the same day: expected, not a redelivery.
        log.info("daily bonus already claimed", **fields)
    elif outcome.duplicate:
        log.warning("Duplicate transaction", outcome=outcome.outcome.value, **fields)
    elif outcome.paid:
        log.info("💎 points moved", outcome=outcome.outcome.value, **fields)
        if outcome.leveled_up:
            log.info(
                "level up",
                user_id=user_id,
                level_from=outcome.level_before,
                level_to=outcome.level_after,
            )
    else:
        log.info("points not paid", reason=outcome.reason, **fields)
    return outcome
