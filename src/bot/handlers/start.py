"""/start: the welcome, the referral a deep link carries (`/start ref_<code>`), the daily claim."""

from __future__ import annotations

from html import escape

from aiogram import Bot, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import Message

from config.points_config import PointsRules
from src.bot.keyboards.points import welcome_keyboard
from src.bot.middlewares.user import NEEDS_USER, UserLookup
from src.bot.replies import congratulate_level_up, notify
from src.bot.views.points import daily_text
from src.locales import Translator, translator
from src.services.onboarding_service import OnboardingService, ReferralOutcome
from src.services.user_types import ReferralRefusal, UserProfile

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
    user: UserProfile,
    user_lookup: UserLookup,
    onboarding: OnboardingService,
    rules: PointsRules,
) -> None:
    # Done before the handler (a command); with `ref_<code>` it decided the link in its own
    # transaction, so a failure between registration and link lost neither.
    registration = await user_lookup.registration()
    user_created = bool(registration and registration.created)
    welcome = await onboarding.welcome(
        user=user,
        payload=command.args or "",
        brand_new=user_created,
        linked=registration.referral if registration else None,
    )
    name = escape(message.from_user.first_name if message.from_user else "")
    lines = [t("start-welcome-new" if user_created else "start-welcome-back", name=name)]
    if welcome.referral is not None:
        lines.append(await _referral_line(bot, user, welcome.referral, t, rules))
    if welcome.daily is not None:
        lines += ["", daily_text(t, welcome.daily, rules, next_day_in=welcome.next_day_in)]
    await message.answer("\n".join(lines), reply_markup=welcome_keyboard(t))
    await congratulate_level_up(bot, user.telegram_id, welcome.daily, t, rules)


async def _referral_line(
    bot: Bot, user: UserProfile, referral: ReferralOutcome, t: Translator, rules: PointsRules
) -> str:
    """The newcomer's line about the link; the referrer hears of the bonus in their language."""
    if referral.refusal is not None:
        return t(REFUSAL_TEXT[referral.refusal])
    referrer, bonus = referral.referrer, referral.bonus
    if referrer is not None and bonus is not None and not bonus.duplicate:
        rt = translator(referrer.language)
        text = rt("referral-bonus", name=escape(user.name), amount=bonus.amount)
        await notify(bot, referrer.telegram_id, text)
        await congratulate_level_up(bot, referrer.telegram_id, bonus, rt, rules)
    return t("start-referred", referrer=escape(referrer.name if referrer else "?"))


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cmd_start, CommandStart(), flags=NEEDS_USER)
    return router
