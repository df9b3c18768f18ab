"""/start: registration, referral deep links (`/start ref_<code>`), daily login, welcome."""

from __future__ import annotations

from html import escape

import structlog
from aiogram import Bot, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import Message

from src.bot.keyboards.points import welcome_keyboard
from src.bot.replies import congratulate_level_up, notify
from src.bot.views.points import daily_text
from src.database.models import User
from src.locales import Translator, translator
from src.services.failures import FailureCounter, absorb
from src.services.points_service import PointsService, display_name
from src.services.user_service import REFERRAL_PREFIX, ReferralRefusal, UserService

log = structlog.get_logger(__name__)

REFUSAL_TEXT = {
    ReferralRefusal.UNKNOWN_CODE: "start-ref-unknown",
    ReferralRefusal.SELF: "start-ref-self",
    ReferralRefusal.NOT_NEW: "start-ref-not-new",
    ReferralRefusal.ALREADY_REFERRED: "start-ref-not-new",
    ReferralRefusal.LOOP: "start-ref-not-new",
}


async def cmd_start(
    message: Message,
    command: CommandObject,
    bot: Bot,
    t: Translator,
    db_user: User | None,
    user_created: bool,
    users: UserService,
    points: PointsService,
    failures: FailureCounter,
) -> None:
    if db_user is None:
        await message.answer(t("error-unavailable"))
        return
    name = escape(message.from_user.first_name if message.from_user else "")
    lines = [t("start-welcome-new" if user_created else "start-welcome-back", name=name)]

    payload = (command.args or "").strip()
    if payload.startswith(REFERRAL_PREFIX):
        lines.append(
            await _apply_referral(bot, db_user, payload, user_created, users, points, failures, t)
        )

    daily = await absorb(
        failures, "points", points.claim_daily_login(user_id=db_user.telegram_id),
        user_id=db_user.telegram_id, operation="daily_login",
    )  # fmt: skip
    if daily is not None:
        lines += [
            "",
            daily_text(t, daily, points.rules, now=points.now(), timezone=points.timezone),
        ]
    await message.answer("\n".join(lines), reply_markup=welcome_keyboard(t))
    await congratulate_level_up(bot, db_user.telegram_id, daily, t, points.rules)


async def _apply_referral(
    bot: Bot,
    user: User,
    payload: str,
    brand_new: bool,
    users: UserService,
    points: PointsService,
    failures: FailureCounter,
    t: Translator,
) -> str:
    result = await users.attach_referrer(
        user_id=user.telegram_id, code=payload, brand_new=brand_new
    )
    if result.referrer_id is None:
        assert result.refusal is not None
        log.info("referral refused", user_id=user.telegram_id, reason=result.refusal.value)
        return t(REFUSAL_TEXT[result.refusal])
    referrer = await users.get(result.referrer_id)
    bonus = await absorb(
        failures,
        "points",
        points.award_referral_signup(referrer_id=result.referrer_id, referred_id=user.telegram_id),
        user_id=result.referrer_id,
        operation="referral_signup",
    )
    if bonus is not None and not bonus.duplicate and referrer is not None:
        rt = translator(referrer.language)
        newcomer = escape(display_name(user.telegram_id, user.username, user.first_name))
        await notify(
            bot, referrer.telegram_id, rt("referral-bonus", name=newcomer, amount=bonus.amount)
        )
        await congratulate_level_up(bot, referrer.telegram_id, bonus, rt, points.rules)
    referrer_name = (
        display_name(referrer.telegram_id, referrer.username, referrer.first_name)
        if referrer
        else "?"
    )
    return t("start-referred", referrer=escape(referrer_name))


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_start, CommandStart())
    return router
