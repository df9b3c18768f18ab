"""/start: registration, welcome with menu buttons, daily login, referral deep links (SPEC 4, 6, 7)."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramForbiddenError
from aiogram.methods import SendMessage, TelegramMethod
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from src.services.points_service import PointsService
from tests.bot.helpers import (
    LANGS,
    LEVEL_ICONS,
    LEVEL_NAMES,
    balance_of,
    break_method,
    calls,
    db_user,
    ledger,
    multiplier,
    tr,
)
from tests.conftest import ADMIN_ID
from tests.support.telegram import BotHarness, buttons, only

REFERRER, NEWCOMER, OTHER = 200_001, 200_002, 200_003


def first_claim(lang: str) -> list[str]:
    """The daily block of a brand-new user's first /start: 50 + day-1 bonus 50."""
    t = tr(lang)
    return [
        "",
        t("daily-claimed", amount=100),
        t("daily-streak-line", streak=1),
        t("daily-bonus-line", bonus=50),
        t("daily-next-milestone", bonus=150, day=3),
    ]


def already_claimed(lang: str, *, hours: int = 12, minutes: int = 0) -> list[str]:
    return ["", tr(lang)("daily-already", streak=1, hours=hours, minutes=minutes)]


def welcome_new(lang: str, name: str, *middle: str) -> str:
    return "\n".join([tr(lang)("start-welcome-new", name=name), *middle, *first_claim(lang)])


def welcome_back(lang: str, name: str, *middle: str) -> str:
    return "\n".join([tr(lang)("start-welcome-back", name=name), *middle, *already_claimed(lang)])


async def referral_code(sessions: async_sessionmaker[AsyncSession], user_id: int) -> str:
    return (await db_user(sessions, user_id)).referral_code


# ---------------------------------------------------------------------------- welcome


@pytest.mark.parametrize("lang", LANGS)
async def test_first_start_registers_welcomes_and_claims_daily(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession], lang: str
) -> None:
    requests = await harness.send("/start", user_id=NEWCOMER, language_code=lang, first_name="Ann")

    assert calls(requests) == [("send", NEWCOMER, welcome_new(lang, "Ann"))]
    t = tr(lang)
    assert buttons(requests[0]) == [
        (t("menu-points"), "pts:main:0"),
        (t("menu-daily"), "pts:daily:0"),
        (t("menu-earn"), "pts:earn:0"),
        (t("menu-language"), "menu:language"),
    ]
    user = await db_user(sessions, NEWCOMER)
    assert (user.language, user.first_name, user.referrer_id) == (lang, "Ann", None)
    rows = await ledger(sessions, NEWCOMER)
    assert [(r.transaction_type, r.amount, r.transaction_id) for r in rows] == [
        ("earn_daily_login", 100, f"daily:{NEWCOMER}:2026-03-10")
    ]


def test_welcome_texts_literally() -> None:
    assert "+100</b> points" in welcome_new("en", "Ann")
    assert "+100</b> поинтов" in welcome_new("ru", "Ann")
    assert "Streak: <b>1 day</b>" in welcome_new("en", "Ann")
    assert "Серия: <b>1 день</b>" in welcome_new("ru", "Ann")


@pytest.mark.parametrize("lang", LANGS)
async def test_second_start_same_day_welcomes_back_and_pays_nothing(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession], lang: str
) -> None:
    await harness.send("/start", user_id=NEWCOMER, language_code=lang, first_name="Ann")

    requests = await harness.send("/start", user_id=NEWCOMER, language_code=lang, first_name="Ann")

    assert calls(requests) == [("send", NEWCOMER, welcome_back(lang, "Ann"))]
    assert await balance_of(sessions, NEWCOMER) == 100
    assert len(await ledger(sessions, NEWCOMER)) == 1


async def test_first_name_is_html_escaped(harness: BotHarness) -> None:
    requests = await harness.send("/start", user_id=NEWCOMER, first_name="<b>Bob</b> & Co")

    (text,) = [m.text for m in only(requests, SendMessage)]
    assert "&lt;b&gt;Bob&lt;/b&gt; &amp; Co" in text
    assert "<b>Bob</b>" not in text


async def test_payload_that_is_not_a_referral_is_ignored(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession]
) -> None:
    requests = await harness.send("/start promo2026", user_id=NEWCOMER, first_name="Ann")

    assert calls(requests) == [("send", NEWCOMER, welcome_new("en", "Ann"))]
    assert (await db_user(sessions, NEWCOMER)).referrer_id is None


async def test_start_still_welcomes_when_the_daily_claim_fails(
    harness: BotHarness, points: PointsService, monkeypatch: pytest.MonkeyPatch
) -> None:
    break_method(monkeypatch, points, "claim_daily_login", RuntimeError("points database is down"))

    requests = await harness.send("/start", user_id=NEWCOMER, language_code="ru", first_name="Ann")

    assert calls(requests) == [("send", NEWCOMER, tr("ru")("start-welcome-new", name="Ann"))]
    assert harness.dispatcher["failures"].get("points") == 1


# ---------------------------------------------------------------------------- referrals


@pytest.mark.parametrize(("referrer_lang", "newcomer_lang"), [("ru", "en"), ("en", "ru")])
async def test_referral_credits_the_referrer_once_and_tells_them_in_their_language(
    harness: BotHarness,
    sessions: async_sessionmaker[AsyncSession],
    referrer_lang: str,
    newcomer_lang: str,
) -> None:
    await harness.send("/start", user_id=REFERRER, language_code=referrer_lang, first_name="Anna")
    code = await referral_code(sessions, REFERRER)

    requests = await harness.send(
        f"/start ref_{code}", user_id=NEWCOMER, language_code=newcomer_lang, first_name="Bob"
    )

    assert calls(requests) == [
        ("send", REFERRER, tr(referrer_lang)("referral-bonus", name="Bob", amount=500)),
        (
            "send",
            NEWCOMER,
            welcome_new(newcomer_lang, "Bob", tr(newcomer_lang)("start-referred", referrer="Anna")),
        ),
    ]
    assert await balance_of(sessions, REFERRER) == 100 + 500
    bonus = [r for r in await ledger(sessions, REFERRER) if r.amount == 500]
    assert [(r.transaction_type, r.transaction_id) for r in bonus] == [
        ("earn_referral_signup", f"ref_signup:{NEWCOMER}")
    ]
    assert (await db_user(sessions, NEWCOMER)).referrer_id == REFERRER


async def test_referral_texts_literally(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await harness.send("/start", user_id=REFERRER, language_code="ru", first_name="Анна")
    code = await referral_code(sessions, REFERRER)

    requests = await harness.send(f"/start ref_{code}", user_id=NEWCOMER, first_name="Bob")

    to_referrer, to_newcomer = only(requests, SendMessage)
    assert to_referrer.chat_id == REFERRER
    assert "Bob" in to_referrer.text and "+500 поинтов" in to_referrer.text
    assert "You joined by Анна's invitation." in to_newcomer.text


async def test_same_newcomer_coming_back_with_the_link_changes_nothing(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await harness.send("/start", user_id=REFERRER, first_name="Anna")
    code = await referral_code(sessions, REFERRER)
    await harness.send(f"/start ref_{code}", user_id=NEWCOMER, first_name="Bob")

    requests = await harness.send(f"/start ref_{code}", user_id=NEWCOMER, first_name="Bob")

    assert calls(requests) == [
        ("send", NEWCOMER, welcome_back("en", "Bob", tr("en")("start-ref-not-new")))
    ]
    assert await balance_of(sessions, REFERRER) == 600


async def test_redelivered_referral_update_pays_once(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await harness.send("/start", user_id=REFERRER, first_name="Anna")
    code = await referral_code(sessions, REFERRER)
    update = harness.message_update(f"/start ref_{code}", user_id=NEWCOMER, first_name="Bob")

    first = await harness.feed(update)
    again = await harness.feed(update)

    assert [m.chat_id for m in only(first, SendMessage)] == [REFERRER, NEWCOMER]
    assert [m.chat_id for m in only(again, SendMessage)] == [NEWCOMER]
    assert await balance_of(sessions, REFERRER) == 600
    assert [r.amount for r in await ledger(sessions, REFERRER)] == [100, 500]


@pytest.mark.parametrize("lang", LANGS)
async def test_existing_user_with_a_code_is_not_referred(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession], lang: str
) -> None:
    await harness.send("/start", user_id=REFERRER, first_name="Anna")
    code = await referral_code(sessions, REFERRER)
    await harness.send("/help", user_id=OTHER, language_code=lang, first_name="Carl")  # registers

    requests = await harness.send(
        f"/start ref_{code}", user_id=OTHER, language_code=lang, first_name="Carl"
    )

    t = tr(lang)
    assert calls(requests) == [
        (
            "send",
            OTHER,
            "\n".join(
                [t("start-welcome-back", name="Carl"), t("start-ref-not-new"), *first_claim(lang)]
            ),
        )
    ]
    assert await balance_of(sessions, REFERRER) == 100
    assert (await db_user(sessions, OTHER)).referrer_id is None


@pytest.mark.parametrize("lang", LANGS)
async def test_own_code_is_refused(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession], lang: str
) -> None:
    await harness.send("/start", user_id=REFERRER, language_code=lang, first_name="Anna")
    code = await referral_code(sessions, REFERRER)

    requests = await harness.send(
        f"/start ref_{code}", user_id=REFERRER, language_code=lang, first_name="Anna"
    )

    assert calls(requests) == [
        ("send", REFERRER, welcome_back(lang, "Anna", tr(lang)("start-ref-self")))
    ]
    assert await balance_of(sessions, REFERRER) == 100
    assert (await db_user(sessions, REFERRER)).referrer_id is None


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("payload", ["ref_zzzzzzzz", "ref_", "ref_<script>"])
async def test_unknown_code_is_answered_politely(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession], lang: str, payload: str
) -> None:
    requests = await harness.send(
        f"/start {payload}", user_id=NEWCOMER, language_code=lang, first_name="Dana"
    )

    assert calls(requests) == [
        ("send", NEWCOMER, welcome_new(lang, "Dana", tr(lang)("start-ref-unknown")))
    ]
    assert (await db_user(sessions, NEWCOMER)).referrer_id is None


def test_unknown_code_texts_literally() -> None:
    assert "isn't valid" in tr("en")("start-ref-unknown")
    assert "недействительна" in tr("ru")("start-ref-unknown")


async def test_code_is_case_insensitive(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await harness.send("/start", user_id=REFERRER, first_name="Anna")
    code = await referral_code(sessions, REFERRER)

    await harness.send(f"/start ref_{code.upper()}", user_id=NEWCOMER, first_name="Bob")

    assert (await db_user(sessions, NEWCOMER)).referrer_id == REFERRER
    assert await balance_of(sessions, REFERRER) == 600


async def test_referral_bonus_that_crosses_a_level_congratulates_the_referrer(
    harness: BotHarness, points: PointsService, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await harness.send("/start", user_id=REFERRER, language_code="ru", first_name="Anna")
    await points.admin_grant(user_id=REFERRER, amount=450, admin_id=ADMIN_ID)  # 550 in all
    code = await referral_code(sessions, REFERRER)

    requests = await harness.send(f"/start ref_{code}", user_id=NEWCOMER, first_name="Bob")

    ru = tr("ru")
    level_up = ru(
        "level-up",
        icon=LEVEL_ICONS[1],
        name=LEVEL_NAMES["ru"][1],
        level=2,
        multiplier=multiplier("1.1", "ru"),
    )
    assert calls(requests)[:2] == [
        ("send", REFERRER, ru("referral-bonus", name="Bob", amount=500)),
        ("send", REFERRER, level_up),
    ]
    assert "Трейдер" in level_up and "×1,1" in level_up
    assert [c[1] for c in calls(requests)] == [REFERRER, REFERRER, NEWCOMER]


async def test_newcomer_name_in_the_referrer_notification_is_escaped(
    harness: BotHarness, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await harness.send("/start", user_id=REFERRER, first_name="Anna")
    code = await referral_code(sessions, REFERRER)

    requests = await harness.send(f"/start ref_{code}", user_id=NEWCOMER, first_name="<i>Eve</i>")

    notification = only(requests, SendMessage)[0]
    assert notification.chat_id == REFERRER
    assert notification.text == tr("en")(
        "referral-bonus", name="&lt;i&gt;Eve&lt;/i&gt;", amount=500
    )


class _BlockedBy:
    """A Bot API that answers 403 to messages for one chat (the user blocked the bot)."""

    def __init__(self, harness: BotHarness, chat_id: int) -> None:
        self.original = harness.session.make_request
        self.chat_id = chat_id
        self.refused: list[str] = []

    async def __call__(
        self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None
    ) -> Any:
        if isinstance(method, SendMessage) and method.chat_id == self.chat_id:
            self.refused.append(method.text)
            raise TelegramForbiddenError(
                method=method, message="Forbidden: bot was blocked by the user"
            )
        return await self.original(bot, method, timeout)


@pytest.mark.parametrize("crosses_level", [False, True])
async def test_referrer_who_blocked_the_bot_is_still_credited_and_the_newcomer_welcomed(
    harness: BotHarness,
    points: PointsService,
    sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
    crosses_level: bool,
) -> None:
    await harness.send("/start", user_id=REFERRER, first_name="Anna")
    if crosses_level:
        await points.admin_grant(user_id=REFERRER, amount=450, admin_id=ADMIN_ID)
    code = await referral_code(sessions, REFERRER)
    blocked = _BlockedBy(harness, REFERRER)
    monkeypatch.setattr(harness.session, "make_request", blocked)

    requests = await harness.send(f"/start ref_{code}", user_id=NEWCOMER, first_name="Bob")

    assert calls(requests) == [
        ("send", NEWCOMER, welcome_new("en", "Bob", tr("en")("start-referred", referrer="Anna")))
    ]
    assert len(blocked.refused) == (2 if crosses_level else 1)  # bonus (+ level-up) attempted
    assert await balance_of(sessions, REFERRER) == (1050 if crosses_level else 600)
    assert harness.dispatcher["failures"].get("handler") == 0
