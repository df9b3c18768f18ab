"""Plain text -> the AI assistant's answer, then `earn_text_request` (SPEC 3, 6).

The assistant is tests/support/fake_openai.py: a local HTTP server speaking the OpenAI
chat-completions protocol, switched between "ok", "slow", "error" and "malformed".
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape, unescape

import pytest
from aiogram.methods import SendMessage
from aiogram.types import Chat, Location, Message, Update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.points_config import Tier
from src.services.points_service import PointsService
from tests.bot.helpers import (
    LANGS,
    LEVEL_ICONS,
    LEVEL_NAMES,
    balance_of,
    break_method,
    calls,
    ledger,
    multiplier,
    tr,
    user_with_points,
    without_typing,
)
from tests.conftest import ADMIN_ID, ContextFactory, harness_for
from tests.support.clock import FakeClock
from tests.support.factories import create_user, set_tier
from tests.support.fake_openai import FakeOpenAI
from tests.support.telegram import BotHarness, only

ME = 600_001
LANGUAGE_NAMES = {"en": "English", "ru": "Russian"}


@pytest.mark.parametrize("lang", LANGS)
async def test_text_gets_typing_then_the_answer_then_points(
    harness: BotHarness,
    sessions: async_sessionmaker[AsyncSession],
    fake_llm: FakeOpenAI,
    lang: str,
) -> None:
    update = harness.message_update("What is DeFi?", user_id=ME, language_code=lang)
    assert update.message is not None

    requests = await harness.feed(update)

    assert calls(requests) == [("action", ME, "typing"), ("send", ME, "Answer: What is DeFi?")]
    assert await balance_of(sessions, ME) == 10
    (row,) = await ledger(sessions, ME)
    message_id = update.message.message_id
    assert (row.transaction_type, row.amount, row.transaction_id) == (
        "earn_text_request",
        10,
        f"text_req:{ME}:{message_id}",
    )
    assert row.metadata_json == {"chat_id": ME, "message_id": message_id}
    (request,) = fake_llm.requests
    system, user = request.body["messages"]
    assert system["role"] == "system"
    assert system["content"].endswith(f"Answer in {LANGUAGE_NAMES[lang]}.")
    assert user == {"role": "user", "content": "What is DeFi?"}
    assert request.body["user"] == str(ME)


async def test_answer_is_html_escaped(harness: BotHarness, fake_llm: FakeOpenAI) -> None:
    fake_llm.reply = "Use <b>limit</b> orders & never share 'seed' phrases"

    requests = await harness.send("tips?", user_id=ME)

    assert without_typing(requests) == [
        (
            "send",
            ME,
            "Use &lt;b&gt;limit&lt;/b&gt; orders &amp; never share &#x27;seed&#x27; phrases",
        )
    ]


async def test_same_update_delivered_twice_pays_once(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession]
) -> None:
    update = harness.message_update("gm", user_id=ME)

    first = await harness.feed(update)
    second = await harness.feed(update)

    assert without_typing(first) == without_typing(second) == [("send", ME, "Answer: gm")]
    assert await balance_of(sessions, ME) == 10
    assert len(await ledger(sessions, ME)) == 1


async def test_questions_inside_the_interval_are_served_but_not_paid(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    await harness.send("one", user_id=ME)
    clock.advance(seconds=4)
    second = await harness.send("two", user_id=ME)
    after_second = await balance_of(sessions, ME)
    clock.advance(seconds=1)  # 5 s after the paid one
    await harness.send("three", user_id=ME)

    assert without_typing(second) == [("send", ME, "Answer: two")]
    assert after_second == 10
    assert await balance_of(sessions, ME) == 20


async def test_text_earns_at_the_users_own_rate(
    harness: BotHarness, points: PointsService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await create_user(sessions, telegram_id=ME)
    await set_tier(sessions, ME, Tier.PREMIUM, datetime(2030, 1, 1, tzinfo=UTC))
    await points.admin_grant(user_id=ME, amount=5000, admin_id=ADMIN_ID)  # level 3

    await harness.send("gm", user_id=ME)

    assert await balance_of(sessions, ME) == 5018  # 10 x 1.2 x 1.5


@pytest.mark.parametrize("lang", LANGS)
async def test_award_that_crosses_a_level_sends_the_congratulation(
    harness: BotHarness,
    points: PointsService,
    sessions: async_sessionmaker[AsyncSession],
    lang: str,
) -> None:
    await user_with_points(sessions, points, ME, lang, 995)

    requests = await harness.send("gm", user_id=ME)

    level_up = tr(lang)(
        "level-up",
        icon=LEVEL_ICONS[1],
        name=LEVEL_NAMES[lang][1],
        level=2,
        multiplier=multiplier("1.1", lang),
    )
    assert calls(requests) == [
        ("action", ME, "typing"),
        ("send", ME, "Answer: gm"),
        ("send", ME, level_up),
    ]
    literal = {
        "en": "Level up!</b> You're now 📈 <b>Trader</b>",
        "ru": "Теперь вы 📈 <b>Трейдер</b>",
    }
    assert literal[lang] in level_up
    assert await balance_of(sessions, ME) == 1005


async def test_no_congratulation_without_a_level_change(
    harness: BotHarness, points: PointsService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await create_user(sessions, telegram_id=ME)
    await points.admin_grant(user_id=ME, amount=980, admin_id=ADMIN_ID)

    requests = await harness.send("gm", user_id=ME)

    assert len(only(requests, SendMessage)) == 1
    assert await balance_of(sessions, ME) == 990


# ---------------------------------------------------------------------------- non-blocking


async def test_points_failure_never_blocks_the_answer(
    harness: BotHarness,
    points: PointsService,
    sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    break_method(monkeypatch, points, "award_request", ConnectionError("points database is down"))

    requests = await harness.send("gm", user_id=ME, language_code="ru")

    assert calls(requests) == [("action", ME, "typing"), ("send", ME, "Answer: gm")]
    failures = harness.dispatcher["failures"]
    assert failures.get("points") == 1
    assert failures.get("handler") == 0  # nothing reached the error handler
    assert await ledger(sessions, ME) == []


async def test_registration_failure_still_answers(
    harness: BotHarness,
    sessions: async_sessionmaker[AsyncSession],
    fake_llm: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    break_method(
        monkeypatch, harness.dispatcher["users"], "register", ConnectionError("database is down")
    )

    requests = await harness.send("gm", user_id=ME, language_code="ru")

    assert calls(requests) == [("action", ME, "typing"), ("send", ME, "Answer: gm")]
    assert harness.dispatcher["failures"].get("user_registration") == 1
    assert fake_llm.requests[-1].body["messages"][0]["content"].endswith("Answer in Russian.")
    monkeypatch.undo()
    assert await ledger(sessions, ME) == []


@pytest.mark.parametrize("lang", LANGS)
async def test_registration_failure_on_points_says_unavailable(
    harness: BotHarness, monkeypatch: pytest.MonkeyPatch, lang: str
) -> None:
    break_method(
        monkeypatch, harness.dispatcher["users"], "register", ConnectionError("database is down")
    )

    requests = await harness.send("/points", user_id=ME, language_code=lang)

    assert calls(requests) == [("send", ME, tr(lang)("error-unavailable"))]


# ---------------------------------------------------------------------------- AI failures


async def assert_not_paid(sessions: async_sessionmaker[AsyncSession]) -> None:
    """No ledger row at all: not even a zero-amount bookkeeping one."""
    assert await balance_of(sessions, ME) == 0
    assert await ledger(sessions, ME) == []


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("mode", ["error", "malformed"])
async def test_ai_failure_says_so_and_pays_nothing(
    harness: BotHarness,
    sessions: async_sessionmaker[AsyncSession],
    fake_llm: FakeOpenAI,
    lang: str,
    mode: str,
) -> None:
    fake_llm.mode = mode  # type: ignore[assignment]

    requests = await harness.send("gm", user_id=ME, language_code=lang)

    assert without_typing(requests) == [("send", ME, tr(lang)("ai-failed"))]
    await assert_not_paid(sessions)
    fake_llm.mode = "ok"  # the failed request consumed no interval: the next one pays at once
    await harness.send("gm again", user_id=ME)
    assert await balance_of(sessions, ME) == 10


@pytest.mark.parametrize("lang", LANGS)
async def test_slow_ai_times_out_politely(
    impatient: BotHarness,
    sessions: async_sessionmaker[AsyncSession],
    fake_llm: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
    lang: str,
) -> None:
    fake_llm.mode = "slow"
    monkeypatch.setattr(fake_llm, "delay", 1.0)  # the client gives up after 0.3 s

    requests = await impatient.send("gm", user_id=ME, language_code=lang)

    assert calls(requests) == [("action", ME, "typing"), ("send", ME, tr(lang)("ai-timeout"))]
    await assert_not_paid(sessions)


@pytest.mark.parametrize("lang", LANGS)
async def test_ai_not_configured(
    no_ai: BotHarness, sessions: async_sessionmaker[AsyncSession], lang: str
) -> None:
    requests = await no_ai.send("gm", user_id=ME, language_code=lang)

    assert without_typing(requests) == [("send", ME, tr(lang)("ai-not-configured"))]
    await assert_not_paid(sessions)


def test_ai_failure_texts_literally() -> None:
    assert tr("en")("ai-timeout").startswith("⌛ The AI assistant is taking too long")
    assert tr("ru")("ai-timeout").startswith("⌛ ИИ-ассистент отвечает слишком долго")
    assert "isn't connected yet" in tr("en")("ai-not-configured")
    assert "ещё не подключён" in tr("ru")("ai-not-configured")
    assert "couldn't answer" in tr("en")("ai-failed")


# ---------------------------------------------------------------------------- long answers


async def test_long_answer_is_split_under_the_limit_and_escaped(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession], fake_llm: FakeOpenAI
) -> None:
    paragraphs = [
        " ".join(f"Step {p}.{s}: buy < sell & fees > 0 <script>." for s in range(8))
        for p in range(27)
    ]
    fake_llm.reply = "\n\n".join(paragraphs)
    assert 9000 <= len(fake_llm.reply) <= 12000

    requests = await harness.send("explain", user_id=ME)

    chunks = [m.text for m in only(requests, SendMessage)]
    assert len(chunks) >= 3
    for chunk in chunks:
        assert 0 < len(chunk) <= 4096
        assert "<" not in chunk and ">" not in chunk
        assert escape(unescape(chunk)) == chunk  # no entity was cut in half
    assert "\n\n".join(unescape(c) for c in chunks) == fake_llm.reply  # cut between paragraphs
    assert calls(requests)[0] == ("action", ME, "typing")
    assert await balance_of(sessions, ME) == 10  # one request, paid once


async def test_long_answer_without_paragraphs_loses_no_words(
    harness: BotHarness, fake_llm: FakeOpenAI
) -> None:
    fake_llm.reply = " ".join(f"w{i}&" for i in range(3000))

    requests = await harness.send("explain", user_id=ME)

    chunks = [m.text for m in only(requests, SendMessage)]
    assert len(chunks) >= 3 and all(len(c) <= 4096 for c in chunks)
    assert " ".join(unescape(c) for c in chunks).split() == fake_llm.reply.split()


# ---------------------------------------------------------------------------- other content


@pytest.mark.parametrize("lang", LANGS)
async def test_non_text_message_is_declined_politely(
    harness: BotHarness,
    sessions: async_sessionmaker[AsyncSession],
    fake_llm: FakeOpenAI,
    lang: str,
) -> None:
    message = Message(
        message_id=77,
        date=datetime.now(UTC),
        chat=Chat(id=ME, type="private"),
        from_user=harness.user(ME, lang),
        location=Location(latitude=55.75, longitude=37.62),
    )

    requests = await harness.feed(Update(update_id=9_999, message=message))

    assert calls(requests) == [("send", ME, tr(lang)("ai-only-text"))]
    assert fake_llm.requests == []
    assert await ledger(sessions, ME) == []


@pytest.mark.parametrize("lang", LANGS)
async def test_the_demo_assistant_answers_offline_and_the_answer_earns(
    make_context: ContextFactory,
    sessions: async_sessionmaker[AsyncSession],
    fake_llm: FakeOpenAI,
    lang: str,
) -> None:
    demo = harness_for(make_context(LLM_BASE_URL="demo"))

    requests = await demo.send("What is staking?", user_id=ME, language_code=lang)

    t = tr(lang)
    answer = f"{t('demo-label')}\n\n{t('demo-staking')}"
    assert without_typing(requests) == [("send", ME, escape(answer))]
    assert await balance_of(sessions, ME) == 10  # served, so paid, as any answer
    assert fake_llm.requests == []  # nothing left the process


GROUP = -100_500_600


def group_message(harness: BotHarness, text: str) -> Update:
    """`text` written in a group the bot shares with other bots."""
    message = Message(
        message_id=77,
        date=datetime.now(UTC),
        chat=Chat(id=GROUP, type="supergroup", title="Traders"),
        from_user=harness.user(ME),
        text=text,
    )
    return Update(update_id=9_000_001, message=message)


@pytest.mark.parametrize(
    "text", ["/points@other_bot", "/help@Other_Bot please", "/no_such_command@other_bot"]
)
async def test_a_command_for_another_bot_is_ignored(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession], text: str
) -> None:
    requests = await harness.feed(group_message(harness, text))

    assert calls(requests) == []  # not even "I don't know that command"
    assert await ledger(sessions, ME) == []


async def test_a_command_naming_this_bot_is_answered(harness: BotHarness) -> None:
    """The local Bot API's bot is @syntra_bot: a mention of it, in any case, is ours."""
    unknown = await harness.feed(group_message(harness, "/no_such_command@syntra_bot"))
    helped = await harness.feed(group_message(harness, "/help@Syntra_Bot"))

    assert calls(unknown) == [("send", GROUP, tr("en")("unknown-command"))]
    assert [c[:2] for c in calls(helped)] == [("send", GROUP)]
    assert "/points" in calls(helped)[0][2]
