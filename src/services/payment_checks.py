"""The checks of an offer against what the provider says: at checkout and at payment."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from typing import TypeVar

import structlog
from sqlalchemy.exc import DBAPIError

from src.database.ledger_errors import RETRYABLE_SQLSTATES, sqlstate
from src.database.models import Purchase
from src.services.payment_types import CheckoutVerdict, CompletionStatus

log = structlog.get_logger(__name__)

T = TypeVar("T")
ATTEMPTS = 5


async def retrying(call: Callable[[], Awaitable[T]]) -> T:
    """Run a payment transaction again after a deadlock or serialization failure."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await call()
        except DBAPIError as exc:
            if sqlstate(exc) not in RETRYABLE_SQLSTATES or attempt == ATTEMPTS:
                raise
            log.warning("payment transaction retried", sqlstate=sqlstate(exc), attempt=attempt)
            await asyncio.sleep(0.01 * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def verdict_for(
    row: Purchase | None, *, user_id: int, amount: Decimal, currency: str, now: datetime
) -> CheckoutVerdict:
    if row is None:
        return CheckoutVerdict(False, "unknown")
    if row.user_id != user_id:
        return CheckoutVerdict(False, "user")
    if row.status == "paid" and not row.recurring:
        return CheckoutVerdict(False, "paid")
    if row.price != amount or row.currency != currency:
        return CheckoutVerdict(False, "price")
    if row.status == "pending" and row.expires_at <= now:
        return CheckoutVerdict(False, "expired")
    return CheckoutVerdict(True)


def judge_payment(
    row: Purchase | None, *, amount: Decimal, currency: str, now: datetime
) -> tuple[CompletionStatus, bool]:
    """(status, renewal) of a payment for `row`: credit it, or record why not."""
    if row is None:
        return CompletionStatus.UNKNOWN_PURCHASE, False
    renewal = row.status == "paid" and row.recurring
    if currency != row.currency or amount < row.price or (row.status == "paid" and not renewal):
        return CompletionStatus.MISMATCH, renewal
    honoured = row.checkout_at is not None and row.checkout_at <= row.expires_at
    if not renewal and row.expires_at <= now and not honoured:
        return CompletionStatus.EXPIRED, False
    return CompletionStatus.CREDITED, renewal
