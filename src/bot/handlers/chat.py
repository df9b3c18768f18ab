"""The AI chat: any plain text gets an answer from the assistant, and a served answer earns.

Points come strictly after the answer is sent and through `absorb`, so a points failure can
neither block nor delay the reply (SPEC 6). The key `text_req:{chat_id}:{message_id}` makes a
redelivered update pay once.
"""

from __future__ import annotations

import structlog
from aiogram import Bot, F, Router
from aiogram.types import Message
from aiogram.utils.chat_action import ChatActionSender

from config.points_config import PointsRules, RequestAction, TransactionType
from src.bot.filters.commands import ForAnotherBot
from src.bot.replies import congratulate_level_up
from src.bot.text_split import split_escaped
from src.locales import Translator
from src.services.failures import FailureCounter, absorb
from src.services.llm_client import (
    LLMClient,
    LLMError,
    LLMNotConfiguredError,
    LLMTimeoutError,
)
from src.services.points_service import PointsService
from src.services.user_types import UserProfile

log = structlog.get_logger(__name__)


async def on_text(
    message: Message,
    bot: Bot,
    t: Translator,
    user: UserProfile | None,
    llm: LLMClient,
    points: PointsService,
    failures: FailureCounter,
    rules: PointsRules,
) -> None:
    assert message.text is not None and message.from_user is not None
    user_id, chat_id = message.from_user.id, message.chat.id
    try:
        async with ChatActionSender.typing(bot=bot, chat_id=chat_id):
            answer = await llm.answer(question=message.text, language=t.language, user_id=user_id)
    except LLMNotConfiguredError:
        await message.answer(t("ai-not-configured"))
        return
    except LLMTimeoutError:
        log.warning("ai answer timed out", user_id=user_id)
        await message.answer(t("ai-timeout"))
        return
    except LLMError as exc:
        log.warning("ai answer failed", user_id=user_id, reason=str(exc))
        await message.answer(t("ai-failed"))
        return
    for chunk in split_escaped(answer):
        await message.answer(chunk)

    if user is None:  # the database is unreachable; already logged and counted
        return
    outcome = await absorb(
        failures,
        "points",
        points.award_request(
            user_id=user_id,
            action=RequestAction.TEXT,
            key=f"text_req:{chat_id}:{message.message_id}",
            metadata={"chat_id": chat_id, "message_id": message.message_id},
        ),
        user_id=user_id,
        operation=TransactionType.TEXT_REQUEST,
    )
    await congratulate_level_up(bot, chat_id, outcome, t, rules)


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
    router.message.register(on_text, F.text)
    router.message.register(on_other_content)
    return router
