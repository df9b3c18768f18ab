"""Groups, anonymous admins, channels and other bots (issue: `is_bot` senders crashed every
handler with a TypeError and "Something went wrong"; the bot answered new-member messages and
registered whoever joined; anyone could press anyone's buttons)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage, TelegramMethod
from aiogram.types import Chat, Message, MessageEntity, Update, User
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from src.bootstrap import AppContext
from src.bot.local_session import BOT_USER
from src.database.models import User as UserRow
from tests.bot.helpers import calls, db_user, tr
from tests.support.fake_openai import FakeOpenAI
from tests.support.telegram import BotHarness, only, texts

GROUP = Chat(id=-100_500, type="supergroup", title="Traders")
CHANNEL = Chat(id=-100_900, type="channel", title="News")
ANONYMOUS_ADMIN = User(
    id=1_087_968_824, is_bot=True, first_name="Group", username="GroupAnonymousBot"
)
CHANNEL_BOT = User(id=136_817_688, is_bot=True, first_name="Channel", username="Channel_Bot")
OTHER_BOT = User(id=5_000_001, is_bot=True, first_name="Helper", username="helper_bot")
ANNA = User(id=630_001, is_bot=False, first_name="Anna", language_code="en")
BORIS = User(id=630_002, is_bot=False, first_name="Boris", language_code="ru")

SENDERS = {
    "anonymous admin": (ANONYMOUS_ADMIN, GROUP),
    "channel in its discussion group": (CHANNEL_BOT, CHANNEL),
    "another bot": (OTHER_BOT, None),
}
COMMANDS = [
    "/start",
    "/start ref_abcdefgh",
    "/points",
    "/level",
    "/daily",
    "/language",
    "/help",
    "/admin",
    "/points_analytics",
    "/points_config",
    "/points_grant 630001 100",
    "/points_deduct 630001 100",
    "/points_user 630001",
    "/unknown",
    "/points@syntra_bot",
]
MENTION = "@syntra_bot what is DeFi?"
_ids = itertools.count(50_000)


def group_message(
    text: str | None,
    sender: User | None,
    *,
    sender_chat: Chat | None = None,
    chat: Chat = GROUP,
    reply_to: Message | None = None,
    **fields: Any,
) -> Message:
    entities = None
    if text and text.startswith("@syntra_bot"):
        entities = [MessageEntity(type="mention", offset=0, length=len("@syntra_bot"))]
    return Message(
        message_id=next(_ids),
        date=datetime.now(UTC),
        chat=chat,
        from_user=sender,
        sender_chat=sender_chat,
        text=text,
        entities=entities,
        reply_to_message=reply_to,
        **fields,
    )


async def feed(harness: BotHarness, **update: Any) -> list[TelegramMethod[Any]]:
    return await harness.feed(Update(update_id=next(_ids), **update))


async def users_count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(UserRow)) or 0)


# ------------------------------------------------------------------ senders that are no person


@pytest.mark.parametrize("kind", SENDERS)
@pytest.mark.parametrize("text", [*COMMANDS, MENTION])
async def test_no_person_sender_gets_a_clear_reply_never_an_error(
    harness: BotHarness,
    context: AppContext,
    sessions: async_sessionmaker[AsyncSession],
    fake_llm: FakeOpenAI,
    kind: str,
    text: str,
) -> None:
    sender, sender_chat = SENDERS[kind]

    requests = await feed(harness, message=group_message(text, sender, sender_chat=sender_chat))

    assert texts(requests) == [tr("en")("anonymous-sender")]
    assert context.failures.snapshot() == {}
    assert await users_count(sessions) == 0 and not fake_llm.requests


@pytest.mark.parametrize("kind", SENDERS)
async def test_no_person_sender_not_addressing_the_bot_is_ignored(
    harness: BotHarness, context: AppContext, kind: str
) -> None:
    sender, sender_chat = SENDERS[kind]

    requests = await feed(harness, message=group_message("gm all", sender, sender_chat=sender_chat))

    assert calls(requests) == [] and context.failures.snapshot() == {}


@pytest.mark.parametrize("text", [*COMMANDS, "hello"])
async def test_channel_posts_are_ignored(
    harness: BotHarness, context: AppContext, sessions: async_sessionmaker[AsyncSession], text: str
) -> None:
    post = group_message(text, None, sender_chat=CHANNEL, chat=CHANNEL)

    assert calls(await feed(harness, channel_post=post)) == []
    assert calls(await feed(harness, edited_channel_post=post)) == []
    assert context.failures.snapshot() == {} and await users_count(sessions) == 0


# ---------------------------------------------------------------------------------- groups


async def test_group_chatter_is_ignored_and_registers_no_one(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession], fake_llm: FakeOpenAI
) -> None:
    assert calls(await feed(harness, message=group_message("anyone bullish?", ANNA))) == []
    assert not fake_llm.requests and await users_count(sessions) == 0


async def test_service_messages_are_ignored_and_a_joiner_can_still_be_referred(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await harness.send("/start", user_id=ANNA.id)
    code = (await db_user(sessions, ANNA.id)).referral_code
    service = [
        group_message(None, BORIS, new_chat_members=[BORIS]),
        group_message(None, BORIS, left_chat_member=BORIS),
        group_message(None, ANNA, new_chat_title="Traders 2"),
        group_message(None, ANNA, group_chat_created=True),
    ]
    for message in service:
        assert calls(await feed(harness, message=message)) == []
    assert await users_count(sessions) == 1  # Anna only

    await harness.send(f"/start ref_{code}", user_id=BORIS.id, language_code="ru")

    assert (await db_user(sessions, BORIS.id)).referrer_id == ANNA.id


async def test_a_mention_is_an_ai_question_answered_as_a_reply(
    harness: BotHarness, fake_llm: FakeOpenAI
) -> None:
    asked = group_message(MENTION, ANNA)

    requests = await feed(harness, message=asked)

    (answer,) = only(requests, SendMessage)
    assert answer.text == "Answer: what is DeFi?"  # the mention is not part of the question
    assert answer.chat_id == GROUP.id
    assert answer.reply_parameters is not None
    assert answer.reply_parameters.message_id == asked.message_id


async def test_a_reply_to_the_bot_is_answered(harness: BotHarness) -> None:
    ours = group_message("an earlier answer", BOT_USER)

    requests = await feed(harness, message=group_message("and ETH?", ANNA, reply_to=ours))

    assert texts(requests) == ["Answer: and ETH?"]


async def test_a_reply_to_someone_else_is_not_for_the_bot(harness: BotHarness) -> None:
    theirs = group_message("hi", BORIS)

    assert calls(await feed(harness, message=group_message("hey", ANNA, reply_to=theirs))) == []


@pytest.mark.parametrize("text", ["/points", "/points@syntra_bot", "/help"])
async def test_commands_in_groups_are_answered_as_replies(harness: BotHarness, text: str) -> None:
    asked = group_message(text, ANNA)

    (answer,) = only(await feed(harness, message=asked), SendMessage)

    assert answer.reply_parameters is not None
    assert answer.reply_parameters.message_id == asked.message_id


async def test_a_command_for_another_bot_is_ignored(harness: BotHarness) -> None:
    assert calls(await feed(harness, message=group_message("/points@other_bot", ANNA))) == []


# ----------------------------------------------------------------------- buttons in groups


async def _card_of(harness: BotHarness, owner: User) -> Message:
    """`owner` sent /points in the group; the card as Telegram shows it (a reply to them)."""
    asked = group_message("/points", owner)
    (card,) = only(await feed(harness, message=asked), SendMessage)
    return group_message(card.text, BOT_USER, reply_to=asked, reply_markup=card.reply_markup)


async def _press(harness: BotHarness, data: str, presser: User, message: Message) -> list[Any]:
    return await harness.feed(harness.updates.callback(data, user=presser, message=message))


@pytest.mark.parametrize(
    "data", ["pts:history:0", "pts:daily:0", "pts:top:0", "lang:ru", "menu:language"]
)
async def test_someone_elses_button_gets_an_alert_and_changes_nothing(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession], data: str
) -> None:
    card = await _card_of(harness, ANNA)

    requests = await _press(harness, data, BORIS, card)

    assert [(r.text, r.show_alert) for r in only(requests, AnswerCallbackQuery)] == [
        (tr("ru")("button-not-yours"), True)
    ]
    assert not only(requests, EditMessageText) and not only(requests, SendMessage)
    assert await users_count(sessions) == 1  # Boris pressed, nothing registered him
    assert (await db_user(sessions, ANNA.id)).language == "en"


async def test_the_owner_presses_their_own_button(harness: BotHarness) -> None:
    card = await _card_of(harness, ANNA)

    requests = await _press(harness, "pts:history:0", ANNA, card)

    (edit,) = only(requests, EditMessageText)
    assert edit.text.startswith("📜")


async def test_buttons_in_private_chats_are_unchanged(harness: BotHarness) -> None:
    requests = await harness.press("pts:history:0", user_id=ANNA.id)

    assert only(requests, EditMessageText)
