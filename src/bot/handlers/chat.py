"""The AI chat: any plain text gets an answer from the assistant, and a served answer earns.

The answer waits on no database beyond a moment: the sender is registered beside it
(src/bot/middlewares/user.py), and the tier's daily quota (src/bot/quota_gate.py) is asked
with whatever that registration has produced within `USER_WAIT_SECONDS`. Over the quota the
question is not served (no AI call, no points) and the user is told when the quota resets; a
slow or unreachable database is not waited for (the quota fails open). Points come strictly
after the answer and through `absorb`, so a points failure can neither block nor delay the
reply (SPEC 6). The handler is an AI request (`AI_REQUEST`): one in flight per user, the
others are told to wait. The key `text_req:{chat_id}:{message_id}` makes a redelivered update
pay once and hold one quota slot.
"""

from __future__ import annotations

import structlog
from aiogram import Bot, F, Router
from aiogram.types import Message
from aiogram.utils.chat_action import ChatActionSender

from config.points_config import RequestAction, TransactionType
from src.bot.filters.commands import ForAnotherBot
from src.bot.middlewares.audience import is_group, without_mention
from src.bot.middlewares.user import AI_REQUEST, USER_WAIT_SECONDS, UserLookup
from src.bot.quota_gate import within_quota
from src.bot.replies import congratulate_level_up
from src.bot.text_split import split_escaped
from src.locales import Translator, translator
from src.services.failures import FailureCounter, absorb
from src.services.llm_client import (
    LLMClient,
    LLMError,
    LLMNotConfiguredError,
    LLMTimeoutError,
)
from src.services.points_service import PointsService
from src.services.quota_service import QuotaService
from src.services.user_types import UserProfile

log = structlog.get_logger(__name__)


async def on_text(
    message: Message,
    bot: Bot,
    t: Translator,
    user_lookup: UserLookup,
    llm: LLMClient,
    points: PointsService,
    failures: FailureCounter,
    quotas: QuotaService,
) -> None:
    assert message.text is not None and message.from_user is not None
    user_id, chat_id = message.from_user.id, message.chat.id
    key = f"text_req:{chat_id}:{message.message_id}"
    async with ChatActionSender.typing(bot=bot, chat_id=chat_id):
        known = await user_lookup.wait_briefly(USER_WAIT_SECONDS)
        if user_lookup.language_unknown:
            t = _language_of(known, t)
        served = await within_quota(
            quotas,
            known,
            RequestAction.TEXT,
            key,
            t=t,
            refuse=message.answer,
            serve=lambda: _answer(message, bot, t, llm),
        )
    if not served:
        return

    # Registered beside the answer: awaited only now, for the award.
    user = known or await user_lookup.wait()
    if user is None:  # the database is unreachable; already logged and counted
        return
    outcome = await absorb(
        failures,
        "points",
        points.award_request(
            user_id=user_id,
            action=RequestAction.TEXT,
            key=key,
            metadata={"chat_id": chat_id, "message_id": message.message_id},
        ),
        user_id=user_id,
        operation=TransactionType.TEXT_REQUEST,
    )
    await congratulate_level_up(bot, chat_id, outcome, _language_of(user, t), points.rules)


async def _answer(message: Message, bot: Bot, t: Translator, llm: LLMClient) -> bool:
    """Answer the question; True once the whole answer was sent (the request was served)."""
    assert message.from_user is not None
    user_id = message.from_user.id
    try:
        question = await _question(message, bot)
        answer = await llm.answer(question=question, language=t.language, user_id=user_id)
    except LLMError as exc:
        await message.answer(t(_llm_failure_text(exc, user_id)))
        return False
    for chunk in split_escaped(answer):
        await message.answer(chunk)
    return True


async def _question(message: Message, bot: Bot) -> str:
    """The text without the mention that addressed it to the bot in a group."""
    assert message.text is not None
    if not is_group(message):
        return message.text
    return without_mention(message.text, (await bot.me()).username) or message.text


def _language_of(user: UserProfile | None, t: Translator) -> Translator:
    return translator(user.language) if user is not None else t


def _llm_failure_text(exc: LLMError, user_id: int) -> str:
    if isinstance(exc, LLMNotConfiguredError):
        return "ai-not-configured"
    if isinstance(exc, LLMTimeoutError):
        log.warning("ai answer timed out", user_id=user_id)
        return "ai-timeout"
    log.warning("ai answer failed", user_id=user_id, reason=str(exc))
    return "ai-failed"


async def on_command_for_another_bot(message: Message) -> None:
    """Not ours to answer (`/points@other_bot`): stay silent, as a person in the group would."""
    log.debug("command for another bot ignored", chat_id=message.chat.id)


async def on_unknown_command(message: Message, t: Translator) -> None:
    await message.answer(t("unknown-command"))


async def on_other_content(message: Message, t: Translator) -> None:
    await message.answer(t("ai-only-text"))


def create_router() -> Router:
    """Registered last: it takes whatever no other router wanted."""
    router = Router(name=__name__)
    router.message.register(on_command_for_another_bot, ForAnotherBot())
    router.message.register(on_unknown_command, F.text.startswith("/"))
    router.message.register(on_text, F.text, flags=AI_REQUEST)
    router.message.register(on_other_content)
    return router
