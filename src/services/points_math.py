"""The points arithmetic and input checks shared by reads and movements: no I/O, no state."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from config.points_config import Tier
from src.services.points_types import InvalidInputError

MAX_AMOUNT: Final = 10**12  # far above any real movement, far below bigint overflow
MAX_PAGE: Final = 100
MAX_TELEGRAM_ID: Final = 2**63 - 1  # Telegram ids fit a signed 64-bit integer


def check_int(name: str, value: object, *, minimum: int = 1, maximum: int = MAX_AMOUNT) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"{name} must be a whole number, got {value!r}")
    if value < minimum:
        raise InvalidInputError(f"{name} must be at least {minimum}, got {value}")
    if value > maximum:
        raise InvalidInputError(f"{name} must be at most {maximum}, got {value}")
    return value


def check_text(value: object, *, name: str, limit: int, required: bool = False) -> None:
    """A key or description: a string of at most `limit` characters (non-blank if required)."""
    if value is None and not required:
        return
    if not isinstance(value, str) or (required and not value.strip()):
        raise InvalidInputError(f"{name} must be a non-empty string")
    if len(value) > limit:
        raise InvalidInputError(f"{name} is {len(value)} characters long; the limit is {limit}")


def effective_tier(tier: str, expires_at: datetime | None, now: datetime) -> Tier:
    """The stored tier while it has not expired, else FREE (SPEC 1)."""
    if expires_at is None or expires_at <= now:
        return Tier.FREE
    return Tier(tier)


def request_points(base: int, level_multiplier: Decimal, tier_multiplier: Decimal) -> int:
    """SPEC rounding: exact Decimal product, half up (the database function does the same)."""
    exact = Decimal(base) * level_multiplier * tier_multiplier
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
