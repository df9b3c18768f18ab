"""At most AI_REQUESTS_PER_USER AI requests per user in flight (issue: 30 messages sent at once
made 30 LLM requests and 30 ledger rows)."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from aiogram.methods import SendMessage, TelegramMethod
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from src.bot.middlewares.user import AI_REQUEST
from tests.bot.conftest import HarnessFactory
from tests.bot.helpers import LANGS, ledger, tr
from tests.support.fake_openai import FakeOpenAI
from tests.support.telegram import BotHarness

ME = 620_001
OTHER = 620_002


async def _burst(harness: BotHarness, user_id: int, count: int, lang: str = "en") -> list[str]:
    """`count` messages from `user_id` handled at once; the texts the bot sent."""
    updates = [
        harness.message_update(f"question {i}", user_id=user_id, language_code=lang)
        for i in range(count)
    ]
    harness.session.take()
    await asyncio.gather(*(harness.dispatcher.feed_update(harness.bot, u) for u in updates))
    return _sent(harness.session.take())


def _sent(requests: list[TelegramMethod[Any]]) -> list[str]:
    return [r.text for r in requests if isinstance(r, SendMessage)]


@pytest.mark.parametrize("lang", LANGS)
async def test_thirty_at_once_make_one_llm_call_and_one_ledger_row(
    harness: BotHarness,
    fake_llm: FakeOpenAI,
    sessions: async_sessionmaker[AsyncSession],
    lang: str,
) -> None:
    fake_llm.mode, fake_llm.delay = "slow", 0.5

    sent = await _burst(harness, ME, 30, lang)

    assert len(fake_llm.requests) == 1
    assert Counter(sent) == {tr(lang)("ai-busy"): 29, "Answer: question 0": 1}
    rows = await ledger(sessions, ME)
    assert [(r.transaction_type, r.amount) for r in rows] == [("earn_text_request", 10)]


async def test_the_next_question_after_the_answer_is_served(
    harness: BotHarness, fake_llm: FakeOpenAI
) -> None:
    fake_llm.mode, fake_llm.delay = "slow", 0.2
    await _burst(harness, ME, 5)

    sent = _sent(await harness.send("and now?", user_id=ME))

    assert sent == ["Answer: and now?"]
    assert len(fake_llm.requests) == 2


async def test_other_users_are_not_held_back(harness: BotHarness, fake_llm: FakeOpenAI) -> None:
    fake_llm.mode, fake_llm.delay = "slow", 0.3
    first = harness.message_update("mine", user_id=ME)
    theirs = harness.message_update("theirs", user_id=OTHER)

    await asyncio.gather(
        harness.dispatcher.feed_update(harness.bot, first),
        harness.dispatcher.feed_update(harness.bot, theirs),
    )

    assert sorted(_sent(harness.session.take())) == ["Answer: mine", "Answer: theirs"]


async def test_the_limit_is_a_setting(
    make_harness: HarnessFactory, fake_llm: FakeOpenAI, sessions: async_sessionmaker[AsyncSession]
) -> None:
    harness = make_harness(AI_REQUESTS_PER_USER="3")
    fake_llm.mode, fake_llm.delay = "slow", 0.5

    sent = await _burst(harness, ME, 10)

    assert len(fake_llm.requests) == 3
    assert Counter(sent)[tr("en")("ai-busy")] == 7
    # three answers, three award attempts, one paid: 5 s between two paid text requests
    amounts = sorted(row.amount for row in await ledger(sessions, ME))
    assert amounts == [0, 0, 10]


async def test_commands_are_not_ai_requests(harness: BotHarness, fake_llm: FakeOpenAI) -> None:
    """/points while a question is being answered: shown, not refused."""
    fake_llm.mode, fake_llm.delay = "slow", 0.3
    question = harness.message_update("slow one", user_id=ME)
    points = harness.message_update("/points", user_id=ME)

    feeding = asyncio.create_task(harness.dispatcher.feed_update(harness.bot, question))
    await asyncio.sleep(0.1)
    await harness.dispatcher.feed_update(harness.bot, points)
    await feeding

    sent = _sent(harness.session.take())
    assert tr("en")("ai-busy") not in sent and "Answer: slow one" in sent and len(sent) == 2


def test_every_ai_handler_carries_the_flag(harness: BotHarness) -> None:
    """The chat, /chart and pictures are AI requests (album parts are collected without it:
    a second part arrives while the first waits for the rest)."""
    assert AI_REQUEST == {"ai_request": True}
    flagged = [
        handler.callback.__name__
        for router in harness.dispatcher.chain_tail
        for handler in router.message.handlers
        if handler.flags.get("ai_request")
    ]
    assert sorted(flagged) == ["cmd_chart", "on_picture", "on_text"]
