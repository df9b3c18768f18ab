"""Plain data about users, as services hand it to handlers and views (never ORM rows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from config.points_config import Tier
from src.services.points_math import effective_tier

if TYPE_CHECKING:
    from src.database.models import User


def display_name(user_id: int, username: str | None, first_name: str | None) -> str:
    """How a user is named on screens: first name, else @username, else #id."""
    if first_name:
        return first_name
    if username:
        return f"@{username}"
    return f"#{user_id}"


@dataclass(frozen=True, slots=True)
class UserProfile:
    """A registered user as stored: identity, language, subscription, referral and role."""

    telegram_id: int
    username: str | None
    first_name: str | None
    language: str
    tier: str
    tier_expires_at: datetime | None
    referral_code: str
    referrer_id: int | None
    is_admin: bool
    created_at: datetime
    last_seen_at: datetime

    @classmethod
    def of(cls, row: User) -> UserProfile:
        return cls(
            telegram_id=row.telegram_id,
            username=row.username,
            first_name=row.first_name,
            language=row.language,
            tier=row.tier,
            tier_expires_at=row.tier_expires_at,
            referral_code=row.referral_code,
            referrer_id=row.referrer_id,
            is_admin=row.is_admin,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
        )

    @property
    def name(self) -> str:
        return display_name(self.telegram_id, self.username, self.first_name)

    def effective_tier(self, now: datetime) -> Tier:
        """The tier in force at `now`: the stored one until `tier_expires_at`, then FREE."""
        return effective_tier(self.tier, self.tier_expires_at, now)


@dataclass(frozen=True, slots=True)
class Registration:
    user: UserProfile
    created: bool  # True only for the call that created the user ("brand-new", SPEC 6)
    # The referral link that came with this registration (`/start ref_<code>`), decided in the
    # same transaction; None when none came.
    referral: ReferralResult | None = None


class ReferralRefusal(StrEnum):
    UNKNOWN_CODE = "unknown_code"
    SELF = "self_referral"
    NOT_NEW = "not_new_user"
    ALREADY_REFERRED = "already_referred"
    LOOP = "loop"


@dataclass(frozen=True, slots=True)
class ReferralResult:
    referrer_id: int | None
    refusal: ReferralRefusal | None
