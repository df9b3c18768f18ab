"""The AI chat: any plain text gets an answer from the assistant, and a served answer earns.

The daily quota of the user's tier is asked first: over it, the question is not served (no AI
call, no points) and the user is told when the quota resets. A question that ends up not
answered gives its slot back, so the quota counts served requests. Points come strictly after
the answer is sent and through `absorb`, so a points failure can neither block nor delay the
reply (SPEC 6); the quota fails open the same way. The key `text_req:{chat_id}:{message_id}`
makes a redelivered update pay once and hold one quota slot.
"""

from __future__ import annotations

import structlog
from aiogram import Bot, F, Router
from aiogram.types import Message
from aiogram.utils.chat_action import ChatActionSender

from config.points_config import RequestAction, TransactionType
from src.bot.filters.commands import ForAnotherBot
from src.bot.quota_gate import within_quota
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
from src.services.quota_service import QuotaService
from src.services.user_types import UserProfile

log = structlog.get_logger(__name__)


async def _ask(message: Message, bot: Bot, t: Translator, llm: LLMClient) -> str | None:
    """The assistant's answer, or None after telling the user why there is none."""
    assert message.text is not None and message.from_user is not None
    user_id = message.from_user.id
    try:
        async with ChatActionSender.typing(bot=bot, chat_id=message.chat.id):
            return await llm.answer(question=message.text, language=t.language, user_id=user_id)
    except LLMNotConfiguredError:
        await message.answer(t("ai-not-configured"))
    except LLMTimeoutError:
        log.warning("ai answer timed out", user_id=user_id)
        await message.answer(t("ai-timeout"))
    except LLMError as exc:
        log.warning("ai answer failed", user_id=user_id, reason=str(exc))
        await message.answer(t("ai-failed"))
    return None


async def _serve(message: Message, bot: Bot, t: Translator, llm: LLMClient) -> bool:
    """Answer the question; True once the whole answer was sent (the request was served)."""
    answer = await _ask(message, bot, t, llm)
    if answer is None:
        return False
    for chunk in split_escaped(answer):
        await message.answer(chunk)
    return True


async def on_text(
    message: Message,
    bot: Bot,
    t: Translator,
    user: UserProfile | None,
    llm: LLMClient,
    points: PointsService,
    failures: FailureCounter,
    quotas: QuotaService,
) -> None:
    assert message.text is not None and message.from_user is not None
    user_id, chat_id = message.from_user.id, message.chat.id
    key = f"text_req:{chat_id}:{message.message_id}"
    served = await within_quota(
        quotas,
        user,
        RequestAction.TEXT,
        key,
        t=t,
        refuse=message.answer,
        serve=lambda: _serve(message, bot, t, llm),
    )
    if not served:
        return

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
    await congratulate_level_up(bot, chat_id, outcome, t, points.rules)


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
