"""/start for the points system: the referral link a newcomer came with, and the daily claim.

Both are non-blocking (SPEC 6): a points failure is logged and counted, and the welcome still
goes out; the result says what happened so the bot can word it and notify the referrer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import structlog

from src.services.failures import FailureCounter, absorb
from src.services.points_service import PointsService
from src.services.points_types import PointsOutcome
from src.services.user_service import REFERRAL_PREFIX, UserService
from src.services.user_types import ReferralRefusal, ReferralResult, UserProfile

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ReferralOutcome:
    refusal: ReferralRefusal | None  # None: the link was applied
    referrer: UserProfile | None = None
    bonus: PointsOutcome | None = None  # the referrer's; None if refused or the award failed


@dataclass(frozen=True, slots=True)
class Welcome:
    referral: ReferralOutcome | None  # None: /start carried no referral link
    daily: PointsOutcome | None  # None: the claim failed (logged and counted)
    next_day_in: timedelta  # until the next daily claim is possible


class OnboardingService:
    def __init__(
        self, *, users: UserService, points: PointsService, failures: FailureCounter
    ) -> None:
        self._users = users
        self._points = points
        self._failures = failures

    async def welcome(
        self,
        *,
        user: UserProfile,
        payload: str,
        brand_new: bool,
        linked: ReferralResult | None = None,
    ) -> Welcome:
        """`payload` is what followed /start (a deep link such as `ref_<code>`, or nothing);
        `linked`: the link already decided with the registration, in its transaction
        (`UserService.register(referral_code=...)`); without it the link is decided here."""
        referral = None
        if payload.strip().startswith(REFERRAL_PREFIX):
            referral = await self._apply_referral(user, payload.strip(), brand_new, linked)
        daily = await absorb(
            self._failures,
            "points",
            self._points.claim_daily_login(user_id=user.telegram_id),
            user_id=user.telegram_id,
            operation="daily_login",
        )
        return Welcome(referral=referral, daily=daily, next_day_in=self._points.until_next_day())

    async def _apply_referral(
        self, user: UserProfile, payload: str, brand_new: bool, linked: ReferralResult | None
    ) -> ReferralOutcome:
        result = linked or await self._users.attach_referrer(
            user_id=user.telegram_id, code=payload, brand_new=brand_new
        )
        if result.referrer_id is None:
            assert result.refusal is not None
            log.info("referral refused", user_id=user.telegram_id, reason=result.refusal.value)
            return ReferralOutcome(refusal=result.refusal)
        referrer = await self._users.get(result.referrer_id)
        bonus = await absorb(
            self._failures,
            "points",
            self._points.award_referral_signup(
                referrer_id=result.referrer_id, referred_id=user.telegram_id
            ),
            user_id=result.referrer_id,
            operation="referral_signup",
        )
        return ReferralOutcome(refusal=None, referrer=referrer, bonus=bonus)
