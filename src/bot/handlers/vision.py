"""Pictures: a photo or an image file (JPEG, PNG, WEBP) is analysed by the AI, and earns.

The caption is the question (none: a default "analyse this chart or screenshot" in the user's
language). An album gets one answer for all its pictures (src/bot/albums.py). Bad input (not
an image, too big, does not decode) gets a clear reply and costs nothing: no AI call, no
points. Points come after the answer was sent, through `absorb`, like the text chat; the key
`vision_req:{chat_id}:{message_id}` (an album: its first message) makes a redelivered update
pay once. `serve` is the one path from pictures to an answer and its points.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog
from aiogram import Bot, F, Router
from aiogram.types import Message
from aiogram.utils.chat_action import ChatActionSender

from config.points_config import RequestAction, TransactionType
from src.bootstrap import AppContext
from src.bot.albums import AlbumCollector
from src.bot.middlewares.user import AI_REQUEST, USER_WAIT_SECONDS, UserLookup
from src.bot.pictures import Picture, PictureRefused, fetch, picture_in
from src.bot.quota_gate import within_quota
from src.bot.replies import congratulate_level_up
from src.bot.text_split import split_escaped
from src.locales import Translator, translator
from src.metrics import VISION_REQUESTS
from src.services.failures import absorb
from src.services.llm_client import (
    LLMClient,
    LLMError,
    LLMNotConfiguredError,
    LLMTimeoutError,
)
from src.services.vision_images import ImageTooLargeError, ImageUnreadableError, prepare_images

log = structlog.get_logger(__name__)

# The photo handler is an AI request (one in flight per user). Album parts are collected by a
# handler without the flag: the second part arrives while the first waits for the rest.


@dataclass(frozen=True)
class PictureRequest:
    chat_id: int
    user_id: int
    message_id: int  # the award key's: the album's first message
    pictures: tuple[Picture, ...]
    question: str


async def on_picture(
    message: Message,
    bot: Bot,
    t: Translator,
    user_lookup: UserLookup,
    llm: LLMClient,
    context: AppContext,
) -> None:
    await _answer_messages([message], bot, t, user_lookup, llm, context)


async def on_album_part(
    message: Message,
    bot: Bot,
    t: Translator,
    user_lookup: UserLookup,
    llm: LLMClient,
    context: AppContext,
    albums: AlbumCollector,
) -> None:
    parts = await albums.collect(message)
    if parts is not None:  # this part arrived first: it answers for the whole album
        await _answer_messages(parts, bot, t, user_lookup, llm, context)


async def _answer_messages(
    parts: list[Message],
    bot: Bot,
    t: Translator,
    user_lookup: UserLookup,
    llm: LLMClient,
    context: AppContext,
) -> None:
    first = parts[0]
    if first.from_user is None:  # a channel or an anonymous admin: nobody to answer or pay
        return
    max_bytes = context.settings.vision_max_file_mb * 1024 * 1024
    try:
        pictures = tuple(picture_in(part, max_bytes) for part in parts)
    except PictureRefused as refusal:
        VISION_REQUESTS.labels(outcome_label(refusal.key)).inc()
        await first.answer(t(refusal.key, **refusal.args_))
        return
    caption = next((p.caption.strip() for p in parts if p.caption and p.caption.strip()), None)
    request = PictureRequest(
        chat_id=first.chat.id,
        user_id=first.from_user.id,
        message_id=first.message_id,
        pictures=pictures,
        question=caption or t("vision-default-question"),
    )
    await serve(request, first, bot, t, user_lookup, llm, context)


async def serve(
    request: PictureRequest,
    reply_to: Message,
    bot: Bot,
    t: Translator,
    user_lookup: UserLookup,
    llm: LLMClient,
    context: AppContext,
) -> None:
    """Quota, download, check, ask the AI, answer, award: every picture request goes through
    here (an album takes one slot, keyed by the message answered)."""
    key = f"vision_req:{request.chat_id}:{request.message_id}"
    # The sender is registered beside this handler: waited for briefly, for the quota's tier.
    known = await user_lookup.wait_briefly(USER_WAIT_SECONDS)
    if known is not None and user_lookup.language_unknown:
        t = translator(known.language)

    async def answer() -> bool:
        async with ChatActionSender.typing(bot=bot, chat_id=request.chat_id):
            text = await _analyse(request, bot, t, llm, context)
        if text is None:
            return False
        for chunk in split_escaped(text):
            await reply_to.answer(chunk)
        return True

    refuse = reply_to.answer
    if not await within_quota(
        context.quotas, known, RequestAction.VISION, key, t=t, refuse=refuse, serve=answer
    ):
        return
    VISION_REQUESTS.labels("answered").inc()
    log.info("pictures analysed", user_id=request.user_id, pictures=len(request.pictures))

    if (known or await user_lookup.wait()) is None:  # database unreachable: logged, counted
        return
    outcome = await absorb(
        context.failures,
        "points",
        context.points.award_request(
            user_id=request.user_id,
            action=RequestAction.VISION,
            key=key,
            metadata={
                "chat_id": request.chat_id,
                "message_id": request.message_id,
                "pictures": len(request.pictures),
            },
        ),
        user_id=request.user_id,
        operation=TransactionType.VISION_REQUEST,
    )
    await congratulate_level_up(bot, request.chat_id, outcome, t, context.rules)


async def _analyse(
    request: PictureRequest, bot: Bot, t: Translator, llm: LLMClient, context: AppContext
) -> str | None:
    """The AI's answer, or None after telling the user why there is none."""
    max_bytes = context.settings.vision_max_file_mb * 1024 * 1024
    key, args = "ai-failed", dict[str, Any]()
    try:
        if not llm.configured:  # say so before downloading anything
            raise LLMNotConfiguredError("LLM_BASE_URL is not set")
        files = [await fetch(bot, picture, max_bytes) for picture in request.pictures]
        images = await prepare_images(files)
        return await llm.analyse_images(
            images=images, question=request.question, language=t.language, user_id=request.user_id
        )
    except PictureRefused as refusal:
        key, args = refusal.key, refusal.args_
    except ImageTooLargeError:
        key = "vision-too-many-pixels"
    except ImageUnreadableError as exc:
        log.info("picture does not decode", user_id=request.user_id, reason=str(exc))
        key = "vision-unreadable"
    except LLMNotConfiguredError:
        key = "ai-not-configured"
    except LLMTimeoutError:
        log.warning("picture analysis timed out", user_id=request.user_id)
        key = "ai-timeout"
    except LLMError as exc:
        log.warning("picture analysis failed", user_id=request.user_id, reason=str(exc))
    VISION_REQUESTS.labels(outcome_label(key)).inc()
    await bot.send_message(request.chat_id, t(key, **args))
    return None


def outcome_label(reply_key: str) -> str:
    """The metric's label for a reply: `vision-too-big` -> too_big, any `ai-*` -> ai_error."""
    if reply_key.startswith("ai-"):
        return "ai_error"
    return reply_key.removeprefix("vision-").replace("-", "_")


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(on_album_part, F.media_group_id)
    router.message.register(on_picture, F.photo | F.document, flags=AI_REQUEST)
    return router
