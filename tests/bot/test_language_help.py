"""/language (inline choice, stored, used by every later reply), /help, unknown commands."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.bot.helpers import LANGS, calls, db_user, invite_link_of, tr
from tests.support.fake_openai import FakeOpenAI
from tests.support.telegram import BotHarness, buttons

ME = 500_001
MENU_ID = 1
LANGUAGE_BUTTONS = [("🇷🇺 Русский", "lang:ru"), ("🇬🇧 English", "lang:en")]


@pytest.mark.parametrize("lang", LANGS)
async def test_language_command_offers_the_choice(harness: BotHarness, lang: str) -> None:
    requests = await harness.send("/language", user_id=ME, language_code=lang)

    assert calls(requests) == [("send", ME, tr(lang)("language-choose"))]
    assert buttons(requests[0]) == LANGUAGE_BUTTONS


@pytest.mark.parametrize("lang", LANGS)
async def test_language_menu_button_offers_the_choice(harness: BotHarness, lang: str) -> None:
    requests = await harness.press("menu:language", user_id=ME, language_code=lang)

    assert calls(requests) == [("answer", None, None), ("send", ME, tr(lang)("language-choose"))]
    assert buttons(requests[-1]) == LANGUAGE_BUTTONS


async def test_switching_language_changes_later_replies(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession], fake_llm: FakeOpenAI
) -> None:
    ru, en = tr("ru"), tr("en")
    await harness.send("/help", user_id=ME, language_code="en")  # registered in English

    to_ru = await harness.press("lang:ru", user_id=ME, language_code="en")

    assert calls(to_ru) == [
        ("answer", ru("language-set"), None),
        ("edit", ME, MENU_ID, ru("language-set")),
    ]
    assert ru("language-set") == "✅ Язык: русский"
    assert (await db_user(sessions, ME)).language == "ru"
    # Telegram still says "en"; the stored choice wins from now on.
    link = await invite_link_of(sessions, ME)
    help_ru = await harness.send("/help", user_id=ME, language_code="en")
    assert calls(help_ru) == [
        ("send", ME, ru("help-text", signup=500, vision=20, chart=15, link=link))
    ]
    unknown_ru = await harness.send("/nope", user_id=ME, language_code="en")
    assert calls(unknown_ru) == [("send", ME, ru("unknown-command"))]
    await harness.send("hi", user_id=ME, language_code="en")
    assert fake_llm.requests[-1].body["messages"][0]["content"].endswith("Answer in Russian.")

    to_en = await harness.press("lang:en", user_id=ME, language_code="en")

    assert calls(to_en) == [
        ("answer", en("language-set"), None),
        ("edit", ME, MENU_ID, en("language-set")),
    ]
    help_en = await harness.send("/help", user_id=ME, language_code="ru")
    assert calls(help_en) == [
        ("send", ME, en("help-text", signup=500, vision=20, chart=15, link=link))
    ]


async def test_forged_language_code_gets_a_polite_alert(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await harness.send("/help", user_id=ME, language_code="ru")

    requests = await harness.press("lang:de", user_id=ME)

    assert calls(requests) == [("answer", tr("ru")("button-stale"), True)]
    assert (await db_user(sessions, ME)).language == "ru"


@pytest.mark.parametrize(
    ("telegram_code", "expected"), [("ru", "ru"), ("ru-RU", "ru"), ("en-GB", "en"), ("uk", "en")]
)
async def test_first_language_comes_from_telegram(
    harness: BotHarness,
    sessions: async_sessionmaker[AsyncSession],
    telegram_code: str,
    expected: str,
) -> None:
    requests = await harness.send("/language", user_id=ME, language_code=telegram_code)

    assert calls(requests) == [("send", ME, tr(expected)("language-choose"))]
    assert (await db_user(sessions, ME)).language == expected


# ---------------------------------------------------------------------------- /help


@pytest.mark.parametrize("lang", LANGS)
async def test_help_lists_commands_and_the_invite_link(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession], lang: str
) -> None:
    requests = await harness.send("/help", user_id=ME, language_code=lang)

    link = await invite_link_of(sessions, ME)
    expected = tr(lang)("help-text", signup=500, vision=20, chart=15, link=link)
    assert calls(requests) == [("send", ME, expected)]
    for command in ("/points", "/level", "/daily", "/language", "/help"):
        assert command in expected
    assert expected.endswith(f"+500 за каждого друга): {link}" if lang == "ru" else link)


# ---------------------------------------------------------------------------- unknown commands


@pytest.mark.parametrize("lang", LANGS)
async def test_unknown_command_is_not_sent_to_the_ai(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession], fake_llm: FakeOpenAI, lang: str
) -> None:
    for command in ("/foo", "/start_over", "/daily2"):
        requests = await harness.send(command, user_id=ME, language_code=lang)

        assert calls(requests) == [("send", ME, tr(lang)("unknown-command"))], command
    assert fake_llm.requests == []
    assert (await db_user(sessions, ME)).language == lang


async def test_unknown_command_literally(harness: BotHarness) -> None:
    en = calls(await harness.send("/foo", user_id=ME))
    ru = calls(await harness.send("/foo", user_id=ME + 1, language_code="ru"))

    assert en == [("send", ME, "🤔 I don't know that command. Send /help to see what I can do.")]
    assert ru == [
        ("send", ME + 1, "🤔 Я не знаю такой команды. Отправьте /help, чтобы увидеть, что я умею.")
    ]
