"""Tier arithmetic of a purchase (SPEC 9): what span a payment buys. No I/O, no state.

- Nothing active (FREE, or expired): the span starts now.
- The same tier: it extends from the later of now and the current expiry.
- A higher tier: starts now; the unused time of the lower tier is converted at the ratio of the
  two tiers' monthly prices (same method, same currency) and added as extra days.
- A lower tier while a higher one is active is refused when offered (`create_purchase`). If it
  is paid anyway (the user bought a higher tier in between), the paid time is converted the
  other way and extends the higher tier: money is never taken for nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from config.payment_rules import DAYS_PER_MONTH, PAID_TIERS
from config.points_config import Tier
from src.services.points_math import effective_tier


def rank(tier: str) -> int:
    """FREE 0, BASIC 1, PREMIUM 2, VIP 3."""
    return PAID_TIERS.index(tier) + 1 if tier in PAID_TIERS else 0


@dataclass(frozen=True, slots=True)
class Span:
    tier: str  # the stored tier after the payment
    start: datetime
    end: datetime  # the new tier_expires_at


def months_of(months: int) -> timedelta:
    return timedelta(days=DAYS_PER_MONTH * months)


def _scaled(duration: timedelta, numerator: Decimal, denominator: Decimal) -> timedelta:
    seconds = Decimal(str(duration.total_seconds())) * numerator / denominator
    return timedelta(seconds=int(seconds))  # whole seconds, rounded down: never over-credit


def new_span(
    *,
    current_tier: str,
    current_expires: datetime | None,
    tier: str,
    months: int,
    now: datetime,
    monthly: dict[str, Decimal],
) -> Span:
    """The span a payment of `tier` x `months` buys; `monthly` prices each paid tier."""
    active = effective_tier(current_tier, current_expires, now)
    bought = months_of(months)
    if active is Tier.FREE or current_expires is None:
        return Span(tier, now, now + bought)
    if active.value == tier:
        start = max(now, current_expires)
        return Span(tier, start, start + bought)
    if rank(tier) > rank(active.value):
        extra = _scaled(current_expires - now, monthly[active.value], monthly[tier])
        return Span(tier, now, now + bought + extra)
    extra = _scaled(bought, monthly[tier], monthly[active.value])
    return Span(active.value, current_expires, current_expires + extra)


def is_downgrade(
    *, current_tier: str, current_expires: datetime | None, tier: str, now: datetime
) -> bool:
    active = effective_tier(current_tier, current_expires, now)
    return rank(tier) < rank(active.value)
