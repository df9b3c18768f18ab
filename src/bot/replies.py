"""Small reply helpers shared by several routers."""

from __future__ import annotations

import structlog
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

from config.points_config import PointsRules
from src.bot.views.points import level_up_text
from src.locales import Translator
from src.services.points_types import PointsOutcome
from src.services.user_service import REFERRAL_PREFIX

log = structlog.get_logger(__name__)


async def invite_link(bot: Bot, referral_code: str) -> str:
    me = await bot.me()  # cached by aiogram after the first call
    return f"https://t.me/{me.username}?start={REFERRAL_PREFIX}{referral_code}"


async def congratulate_level_up(
    bot: Bot, chat_id: int, outcome: PointsOutcome | None, t: Translator, rules: PointsRules
) -> None:
    """Send the level-up message if this award crossed a threshold (never for replays).

    Best effort, like `notify`: the points are already credited, and a referrer who blocked
    the bot must not turn the newcomer's /start into an error.
    """
    if outcome is not None and outcome.leveled_up:
        await notify(bot, chat_id, level_up_text(t, outcome, rules))


async def notify(bot: Bot, user_id: int, text: str) -> bool:
    """Message a user who is not the sender (they may have blocked the bot: that's fine)."""
    try:
        await bot.send_message(user_id, text)
    except TelegramAPIError as exc:
        log.info("notification not delivered", user_id=user_id, reason=str(exc))
        return False
    return True
