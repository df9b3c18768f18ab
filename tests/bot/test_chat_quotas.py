"""Daily tier quotas in the text chat, /points and /points_config, through the production
dispatcher (SPEC 8: "Tier quotas"): over the quota a question is not served (no AI call, no
ledger row) and the user is told when the quota resets and where to see it."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from config.points_config import RequestAction, Tier
from src.bootstrap import AppContext
from src.bot.dispatcher import USER_COMMANDS
from src.database.engine import create_engine
from src.services.quota_service import QuotaService
from src.services.user_types import UserProfile
from tests.bot.admin_helpers import ADMIN, become_admin
from tests.bot.helpers import (
    LANGS,
    balance_of,
    break_method,
    calls,
    ledger,
    tr,
    without_typing,
)
from tests.conftest import ContextFactory, harness_for
from tests.support.clock import FakeClock
from tests.support.factories import create_user
from tests.support.fake_openai import FakeOpenAI
from tests.support.telegram import BotHarness

ME = 620_001
TEXT = RequestAction.TEXT

# FakeClock: 10 March 2026 12:00 UTC, TIMEZONE=UTC: twelve hours to the reset.
REFUSED = {
    "en": "⏳ You've used today's 30 questions on the FREE plan.\n"
    "The limit resets at 00:00 (UTC), in 12 h 0 min.\n"
    "📊 What you've used today: /points\n"
    "⭐ More every day with a plan: /subscribe",
    "ru": "⏳ Дневной лимит тарифа FREE исчерпан: 30 вопросов.\n"
    "Лимит обновится в 00:00 (UTC), через 12 ч 0 мин.\n"
    "📊 Сколько использовано сегодня: /points\n"
    "⭐ Больше каждый день с тарифом: /subscribe",
}


async def registered(
    context: AppContext,
    sessions: async_sessionmaker[AsyncSession],
    lang: str = "en",
    tier: Tier = Tier.FREE,
    tier_expires_at: datetime | None = None,
) -> UserProfile:
    await create_user(
        sessions, telegram_id=ME, language_code=lang, tier=tier, tier_expires_at=tier_expires_at
    )
    user = await context.users.get(ME)
    assert user is not None
    return user


async def use_up(context: AppContext, user: UserProfile, n: int) -> None:
    """`n` questions served earlier today (through the very service the handler asks)."""
    for i in range(n):
        assert (await context.quotas.take(user, TEXT, f"earlier:{i}")).granted


async def used_today(context: AppContext, user: UserProfile) -> int:
    usage = await context.quotas.usage(user)
    assert usage is not None
    return usage.of(TEXT).used


# ---------------------------------------------------------------------------- the boundary


@pytest.mark.parametrize("lang", LANGS)
async def test_the_30th_question_is_answered_and_the_31st_refused(
    harness: BotHarness,
    context: AppContext,
    sessions: async_sessionmaker[AsyncSession],
    fake_llm: FakeOpenAI,
    clock: FakeClock,
    lang: str,
) -> None:
    user = await registered(context, sessions, lang)
    await use_up(context, user, 29)

    thirtieth = await harness.send("gm", user_id=ME, language_code=lang)
    clock.advance(seconds=5)  # outside the paid interval: only the quota can refuse
    thirty_first = await harness.send("and now?", user_id=ME, language_code=lang)

    assert calls(thirtieth) == [("action", ME, "typing"), ("send", ME, "Answer: gm")]
    # "typing…" while the quota is asked (the sender is registered beside the handler); no AI call
    assert calls(thirty_first) == [("action", ME, "typing"), ("send", ME, REFUSED[lang])]
    assert len(fake_llm.requests) == 1
    assert [row.transaction_type for row in await ledger(sessions, ME)] == ["earn_text_request"]
    assert await balance_of(sessions, ME) == 10
    assert await used_today(context, user) == 30


async def test_the_reset_is_told_in_the_bots_time_zone(
    make_context: ContextFactory, sessions: async_sessionmaker[AsyncSession]
) -> None:
    context = make_context(TIMEZONE="Europe/Moscow")  # 12:00 UTC is 15:00 in Moscow
    user = await registered(context, sessions)
    await use_up(context, user, 30)

    requests = await harness_for(context).send("gm", user_id=ME)

    (reply,) = without_typing(requests)
    assert "The limit resets at 00:00 (Europe/Moscow), in 9 h 0 min." in reply[2]


async def test_an_unanswered_question_gives_its_slot_back(
    harness: BotHarness,
    context: AppContext,
    sessions: async_sessionmaker[AsyncSession],
    fake_llm: FakeOpenAI,
) -> None:
    user = await registered(context, sessions)
    await use_up(context, user, 29)
    fake_llm.mode = "error"

    failed = await harness.send("gm", user_id=ME)
    fake_llm.mode = "ok"
    served = await harness.send("gm again", user_id=ME)
    refused = await harness.send("one more", user_id=ME)

    assert without_typing(failed) == [("send", ME, tr("en")("ai-failed"))]
    assert without_typing(served) == [("send", ME, "Answer: gm again")]
    assert without_typing(refused) == [("send", ME, REFUSED["en"])]
    assert await used_today(context, user) == 30


async def test_a_redelivered_question_holds_one_slot(
    harness: BotHarness, context: AppContext, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = await registered(context, sessions)
    update = harness.message_update("gm", user_id=ME)

    await harness.feed(update)
    await harness.feed(update)

    assert await used_today(context, user) == 1
    assert len(await ledger(sessions, ME)) == 1


# ---------------------------------------------------------------------------- tiers


async def test_an_expired_subscription_has_the_free_quota(
    harness: BotHarness,
    context: AppContext,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
) -> None:
    user = await registered(
        context, sessions, tier=Tier.BASIC, tier_expires_at=clock() - timedelta(hours=1)
    )
    await use_up(context, user, 30)

    requests = await harness.send("gm", user_id=ME)

    assert without_typing(requests) == [("send", ME, REFUSED["en"])]


async def test_vip_is_never_refused(
    harness: BotHarness, context: AppContext, sessions: async_sessionmaker[AsyncSession]
) -> None:
    user = await registered(context, sessions, tier=Tier.VIP)
    async with sessions() as session, session.begin():
        await session.execute(
            text("INSERT INTO request_quotas VALUES (:u, '2026-03-10', :a, 5000)"),
            {"u": ME, "a": TEXT.value},
        )

    requests = await harness.send("gm", user_id=ME)

    assert without_typing(requests) == [("send", ME, "Answer: gm")]
    assert await used_today(context, user) == 5001


# ---------------------------------------------------------------------------- failing open


async def test_quotas_database_down_still_answers_and_counts_the_failure(
    context: AppContext, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await registered(context, sessions)
    dead = create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none", pool_size=1)
    quotas = QuotaService(engine=dead, rules=context.rules, failures=context.failures)
    try:
        harness = harness_for(dataclasses.replace(context, quotas=quotas))
        requests = await harness.send("gm", user_id=ME)
    finally:
        await dead.dispose()

    assert without_typing(requests) == [("send", ME, "Answer: gm")]
    assert context.failures.get("quota") == 1
    assert await balance_of(sessions, ME) == 10  # points never depended on the quota


async def test_registration_down_still_answers_uncounted(
    harness: BotHarness, context: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    break_method(monkeypatch, context.users, "register", ConnectionError("database is down"))

    requests = await harness.send("gm", user_id=ME)

    assert without_typing(requests) == [("send", ME, "Answer: gm")]
    assert context.failures.get("user_registration") == 1
    assert context.failures.get("quota") == 0


def test_the_how_to_get_more_hint_names_subscribe_only_once_it_exists() -> None:
    for lang in LANGS:
        hint = tr(lang)("quota-more")
        assert ("/subscribe" in hint) == ("subscribe" in USER_COMMANDS), (lang, hint)
        assert "/points" in hint or "/subscribe" in hint


# ---------------------------------------------------------------------------- /points


POINTS_LINES = {
    ("en", Tier.FREE): "📊 Today: 1/30 questions, 0/5 images, 0/10 charts",
    ("ru", Tier.FREE): "📊 Сегодня: 1/30 вопросов, 0/5 изображений, 0/10 графиков",
    ("en", Tier.PREMIUM): "📊 Today: 1/500 questions, 0/100 images, 0/200 charts",
    ("ru", Tier.PREMIUM): "📊 Сегодня: 1/500 вопросов, 0/100 изображений, 0/200 графиков",
    ("en", Tier.VIP): "📊 Today: 1 question, 0 images, 0 charts (no daily limits)",
    ("ru", Tier.VIP): "📊 Сегодня: 1 вопрос, 0 изображений, 0 графиков (без дневных лимитов)",
}


@pytest.mark.parametrize(("lang", "tier"), list(POINTS_LINES))
async def test_points_shows_todays_usage(
    harness: BotHarness,
    context: AppContext,
    sessions: async_sessionmaker[AsyncSession],
    lang: str,
    tier: Tier,
) -> None:
    await registered(context, sessions, lang, tier=tier)
    await harness.send("gm", user_id=ME, language_code=lang)

    (reply,) = without_typing(await harness.send("/points", user_id=ME, language_code=lang))

    lines = reply[2].splitlines()
    assert POINTS_LINES[lang, tier] in lines
    today = tr(lang)("points-today", earned=await balance_of(sessions, ME), cap=10_000)
    assert lines[lines.index(today) + 1] == POINTS_LINES[lang, tier]


async def test_points_of_an_expired_subscription_shows_free_limits(
    harness: BotHarness,
    context: AppContext,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
) -> None:
    await registered(context, sessions, tier=Tier.PREMIUM, tier_expires_at=clock())
    await harness.send("gm", user_id=ME)

    (reply,) = without_typing(await harness.send("/points", user_id=ME))

    assert POINTS_LINES["en", Tier.FREE] in reply[2].splitlines()


async def test_points_without_the_quota_line_when_it_cannot_be_read(
    context: AppContext, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await registered(context, sessions)
    dead = create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none", pool_size=1)
    quotas = QuotaService(engine=dead, rules=context.rules, failures=context.failures)
    try:
        harness = harness_for(dataclasses.replace(context, quotas=quotas))
        (reply,) = without_typing(await harness.send("/points", user_id=ME))
    finally:
        await dead.dispose()

    assert tr("en")("points-today", earned=0, cap=10_000) in reply[2]
    assert "📊" not in reply[2]
    assert context.failures.get("quota") == 1


# ---------------------------------------------------------------------------- /points_config


QUOTA_TABLE = {
    "en": [
        "Daily quotas of served requests (reset at midnight in the bot's time zone):",
        "FREE: 30 questions · 5 images · 10 charts",
        "BASIC: 150 questions · 25 images · 50 charts",
        "PREMIUM: 500 questions · 100 images · 200 charts",
        "VIP: unlimited",
    ],
    "ru": [
        "Дневные лимиты обслуженных запросов (сброс в полночь по часовому поясу бота):",
        "FREE: 30 вопросов · 5 изображений · 10 графиков",
        "BASIC: 150 вопросов · 25 изображений · 50 графиков",
        "PREMIUM: 500 вопросов · 100 изображений · 200 графиков",
        "VIP: без ограничений",
    ],
}


@pytest.mark.parametrize("lang", LANGS)
async def test_points_config_shows_the_quota_table(harness: BotHarness, lang: str) -> None:
    await become_admin(harness, lang)

    requests = await harness.press("adm_cf:tiers", user_id=ADMIN)

    text_lines = calls(requests)[-1][-1].splitlines()
    start = text_lines.index(QUOTA_TABLE[lang][0])
    assert text_lines[start : start + 5] == QUOTA_TABLE[lang]


async def test_points_config_shows_overridden_quotas(
    make_context: ContextFactory, tmp_path: Path
) -> None:
    path = tmp_path / "points.yaml"
    path.write_text("daily_quotas:\n  FREE: {vision: 0}\n  PREMIUM: {text: null}\n")
    harness = harness_for(make_context(POINTS_CONFIG_FILE=str(path)))
    await become_admin(harness, "en")

    requests = await harness.press("adm_cf:tiers", user_id=ADMIN)

    lines = calls(requests)[-1][-1].splitlines()
    assert "FREE: 30 questions · 0 images · 10 charts" in lines
    assert "PREMIUM: unlimited questions · 100 images · 200 charts" in lines


async def test_an_action_outside_the_plan_says_so(
    make_context: ContextFactory, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    path = tmp_path / "points.toml"
    path.write_text("[daily_quotas.FREE]\ntext = 0\n")
    context = make_context(POINTS_CONFIG_FILE=str(path))
    await registered(context, sessions, "ru")

    requests = await harness_for(context).send("gm", user_id=ME, language_code="ru")

    assert calls(requests) == [
        ("action", ME, "typing"),
        (
            "send",
            ME,
            "⏳ Это не входит в тариф FREE.\n📊 Сколько использовано сегодня: /points\n"
            "⭐ Больше каждый день с тарифом: /subscribe",
        ),
    ]
