"""/chart through the production dispatcher, against a local fake of OKX's public REST API.

Real PostgreSQL for the ledger, ccxt's okx client talking HTTP to tests/support/fake_exchange.py,
TA-Lib and mplfinance drawing real PNGs (in a thread here, in a process in the pool test), the
fake LLM for the commentary.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram.methods import (
    EditMessageMedia,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.types import Chat, Message, MessageEntity, PhotoSize
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from structlog.testing import capture_logs

from config.points_config import RequestAction, TransactionType
from src.bot.dispatcher import USER_COMMANDS
from src.bot.telegram_rules import message_content
from tests.bot.conftest import HarnessFactory
from tests.bot.helpers import ledger, tr
from tests.support.clock import FakeClock
from tests.support.fake_exchange import FakeExchange
from tests.support.fake_openai import FakeOpenAI
from tests.support.telegram import BotHarness, alerts, only

ME = 555_000_001
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="session")
async def fake_exchange() -> AsyncIterator[FakeExchange]:
    async with FakeExchange() as fake:
        yield fake


@pytest.fixture
def exchange(fake_exchange: FakeExchange) -> FakeExchange:
    fake_exchange.mode = "ok"
    fake_exchange.delay = 5.0
    fake_exchange.requests.clear()
    return fake_exchange


@pytest.fixture
def charts(make_harness: HarnessFactory, exchange: FakeExchange) -> BotHarness:
    """The bot with EXCHANGE=okx on the fake; charts drawn in a thread (a process start
    per test would cost more than the render)."""
    return make_harness(
        EXCHANGE_API_URL=exchange.base_url,
        EXCHANGE_TIMEOUT_SECONDS="1.5",  # roomy for a loaded CI machine, under the slow fake's 2 s
        CHART_RENDER_PROCESSES="0",
    )


def photos(requests: list[TelegramMethod[Any]]) -> list[SendPhoto]:
    return only(requests, SendPhoto)


def texts_sent(requests: list[TelegramMethod[Any]]) -> list[str]:
    return [r.text for r in only(requests, SendMessage)]


def png_of(request: SendPhoto | EditMessageMedia) -> bytes:
    media = request.photo if isinstance(request, SendPhoto) else request.media.media
    data = getattr(media, "data", b"")
    assert isinstance(data, bytes)
    return data


def button_rows(request: SendPhoto | EditMessageMedia) -> list[list[tuple[str, str]]]:
    markup = request.reply_markup
    assert markup is not None
    return [[(b.text, b.callback_data or "") for b in row] for row in markup.inline_keyboard]


def as_delivered(request: SendPhoto | EditMessageMedia, message_id: int) -> Message:
    """The bot's photo message as Telegram hands it back in a callback: plain caption plus
    entities (UTF-16 offsets), the keyboard as sent."""
    caption = request.caption if isinstance(request, SendPhoto) else request.media.caption
    assert caption is not None
    plain, found = message_content(caption, "HTML")

    def utf16(text: str) -> int:
        return len(text.encode("utf-16-le")) // 2

    entities = [
        MessageEntity(
            type=kind,
            offset=utf16(plain[:offset]),
            length=utf16(plain[offset : offset + length]),
        )
        for kind, offset, length, _ in found
    ]
    return Message(
        message_id=message_id,
        date=datetime.now(UTC),
        chat=Chat(id=ME, type="private"),
        photo=[PhotoSize(file_id="p", file_unique_id="p", width=1, height=1)],
        caption=plain,
        caption_entities=entities or None,
        reply_markup=request.reply_markup,
    )


async def press(
    harness: BotHarness, data: str, message: Message, lang: str = "en"
) -> list[TelegramMethod[Any]]:
    update = harness.updates.callback(data, user=harness.user(ME, lang), message=message)
    return await harness.feed(update)


async def chart_rows(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, int]]:
    return [
        (row.transaction_id, row.amount)
        for row in await ledger(sessions, ME)
        if row.transaction_type == TransactionType.CHART_REQUEST
    ]


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_chart_sends_a_photo_with_its_summary_then_pays_15(
    charts: BotHarness,
    sessions: async_sessionmaker[AsyncSession],
    fake_llm: FakeOpenAI,
    lang: str,
) -> None:
    fake_llm.reply = "Momentum is cooling below resistance."
    sent = await charts.send("/chart btc", user_id=ME, language_code=lang, message_id=700)

    [photo] = photos(sent)
    assert png_of(photo).startswith(PNG_SIGNATURE) and len(png_of(photo)) > 20_000
    caption = photo.caption or ""
    assert caption.splitlines()[0] == "📈 <b>BTC/USDT</b> · 4h · OKX"
    words = {
        "en": ("Price", "Trend", "Support", "still open"),
        "ru": ("Цена", "Тренд", "Поддержка", "не закрыта"),
    }
    assert all(word in caption for word in words[lang])
    assert "RSI(14)" in caption and "MACD(12,26,9)" in caption and "EMA 20 / 50 / 200" in caption
    if lang == "ru":
        assert "128\xa0884" in caption  # the fixture's last close, as Russian writes it
    else:
        assert "128,884" in caption
    assert button_rows(photo) == [
        [
            ("15m", "chart:BTC/USDT:15m"),
            ("1h", "chart:BTC/USDT:1h"),
            ("• 4h", "chart:BTC/USDT:4h"),
            ("1d", "chart:BTC/USDT:1d"),
        ],
        [(tr(lang)("chart-refresh"), "chart:BTC/USDT:4h")],
    ]
    # After the photo: the AI commentary, with the figures as the model's context.
    commentary = texts_sent(sent)
    assert commentary == [f"{tr(lang)('chart-commentary')}\nMomentum is cooling below resistance."]
    assert sent.index(photo) < sent.index(only(sent, SendMessage)[0])
    question = fake_llm.requests[-1].body["messages"][-1]["content"]
    assert "BTC/USDT on OKX spot, 4h candles" in question and "RSI(14) 51.16" in question
    assert await chart_rows(sessions) == [(f"chart_req:{ME}:700", 15)]


async def test_a_redelivered_command_pays_once(
    charts: BotHarness, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    update = charts.message_update("/chart ETH/USDT 1h", user_id=ME, message_id=701)
    first = await charts.feed(update)
    clock.advance(seconds=60)  # past the 10 s interval: only the key can stop a second award
    again = await charts.feed(update)

    assert len(photos(first)) == len(photos(again)) == 1
    assert await chart_rows(sessions) == [(f"chart_req:{ME}:701", 15)]


async def test_buttons_switch_the_timeframe_in_place_and_each_press_pays(
    charts: BotHarness, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    [photo] = photos(await charts.send("/chart sol", user_id=ME, message_id=702))
    shown = as_delivered(photo, message_id=90)
    for tf in ("15m", "1h", "1d", "4h"):
        clock.advance(seconds=11)
        pressed = await press(charts, f"chart:SOL/USDT:{tf}", shown)
        [edit] = only(pressed, EditMessageMedia)
        assert edit.message_id == 90 and png_of(edit).startswith(PNG_SIGNATURE)
        caption = edit.media.caption or ""
        assert caption.splitlines()[0] == f"📈 <b>SOL/USDT</b> · {tf} · OKX"
        assert (f"• {tf}", f"chart:SOL/USDT:{tf}") in button_rows(edit)[0]
        assert [a.text for a in alerts(pressed)] == [None]  # the spinner stops, no alert
        shown = as_delivered(edit, message_id=90)

    rows = await chart_rows(sessions)
    assert len(rows) == 5 and all(amount == 15 for _, amount in rows)
    assert rows[0][0] == f"chart_req:{ME}:702"
    assert all(key.startswith("chart_req:cb:") for key, _ in rows[1:])
    assert len({key for key, _ in rows}) == 5


async def test_refresh_of_an_unchanged_chart_edits_nothing_and_pays_nothing(
    charts: BotHarness, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    [photo] = photos(await charts.send("/chart btc", user_id=ME, message_id=703))
    clock.advance(seconds=11)
    # Within EXCHANGE_CACHE_SECONDS the same candles: the same caption and keyboard.
    pressed = await press(charts, "chart:BTC/USDT:4h", as_delivered(photo, message_id=91))

    assert only(pressed, EditMessageMedia) == []
    assert [(a.text, a.show_alert) for a in alerts(pressed)] == [
        (tr("en")("chart-up-to-date"), None)
    ]
    assert await chart_rows(sessions) == [(f"chart_req:{ME}:703", 15)]


@pytest.mark.parametrize(
    "data",
    [
        "chart:BTC/USDT:2h",  # not a timeframe
        "chart:DOGE/EUR:4h",  # no such market
        "chart:<b>x</b>:4h",  # not a symbol
        "chart:BTC/USDT",  # truncated
    ],
)
async def test_a_forged_chart_button_gets_the_stale_alert(
    charts: BotHarness, sessions: async_sessionmaker[AsyncSession], data: str
) -> None:
    [photo] = photos(await charts.send("/chart btc", user_id=ME, message_id=704))
    pressed = await press(charts, data, as_delivered(photo, message_id=92))

    assert [(a.text, a.show_alert) for a in alerts(pressed)] == [(tr("en")("button-stale"), True)]
    assert only(pressed, EditMessageMedia) == [] and photos(pressed) == []
    assert len(await chart_rows(sessions)) == 1  # the command's award only


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_unknown_symbol_gets_examples_and_no_points(
    charts: BotHarness, sessions: async_sessionmaker[AsyncSession], lang: str
) -> None:
    sent = await charts.send("/chart xyzzy", user_id=ME, language_code=lang)

    assert photos(sent) == []
    assert texts_sent(sent) == [tr(lang)("chart-unknown-symbol", symbol="xyzzy", exchange="OKX")]
    assert "/chart btc" in texts_sent(sent)[0]
    assert await chart_rows(sessions) == []


@pytest.mark.parametrize(
    ("command", "key", "args"),
    [
        ("/chart", "chart-usage", {"exchange": "OKX"}),
        ("/chart btc eth 1h", "chart-usage", {"exchange": "OKX"}),
        ("/chart btc 2h", "chart-bad-timeframe", {"timeframe": "2h"}),
        ("/chart new", "chart-no-history", {"symbol": "NEW/USDT", "exchange": "OKX"}),
    ],
)
async def test_what_is_not_a_chart_request_is_explained(
    charts: BotHarness,
    sessions: async_sessionmaker[AsyncSession],
    command: str,
    key: str,
    args: dict[str, str],
) -> None:
    sent = await charts.send(command, user_id=ME, language_code="ru")

    assert texts_sent(sent) == [tr("ru")(key, **args)] and photos(sent) == []
    assert await chart_rows(sessions) == []


@pytest.mark.parametrize(
    ("mode", "reason", "key"),
    [
        ("down", "down", "chart-exchange-down"),
        ("maintenance", "down", "chart-exchange-down"),
        ("rate_limited", "rate_limited", "chart-exchange-rate-limited"),
        ("slow", "timeout", "chart-exchange-timeout"),
    ],
)
@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_exchange_trouble_gets_a_clear_reply_no_points_and_a_log_line(
    charts: BotHarness,
    exchange: FakeExchange,
    sessions: async_sessionmaker[AsyncSession],
    mode: str,
    reason: str,
    key: str,
    lang: str,
) -> None:
    exchange.mode = mode  # type: ignore[assignment]
    exchange.delay = 2.0  # EXCHANGE_TIMEOUT_SECONDS is 1.5
    with capture_logs() as logs:
        sent = await charts.send("/chart btc 1h", user_id=ME, language_code=lang)

    assert texts_sent(sent) == [tr(lang)(key, exchange="OKX")] and photos(sent) == []
    assert await chart_rows(sessions) == []
    failures = [e for e in logs if e["event"] == "exchange request failed"]
    assert failures and failures[0]["reason"] == reason and failures[0]["exchange"] == "okx"

    exchange.mode = "ok"  # the next request tries again (markets included) and is served
    assert len(photos(await charts.send("/chart btc 1h", user_id=ME, language_code=lang))) == 1


async def test_exchange_trouble_on_a_button_is_an_alert(
    charts: BotHarness, exchange: FakeExchange, sessions: async_sessionmaker[AsyncSession]
) -> None:
    [photo] = photos(await charts.send("/chart btc", user_id=ME, message_id=705))
    exchange.mode = "rate_limited"
    pressed = await press(charts, "chart:BTC/USDT:15m", as_delivered(photo, message_id=93))

    expected = tr("en")("chart-exchange-rate-limited", exchange="OKX")
    assert [(a.text, a.show_alert) for a in alerts(pressed)] == [(expected, True)]
    assert only(pressed, EditMessageMedia) == []
    assert len(await chart_rows(sessions)) == 1


async def test_only_spot_markets_load_once_and_candles_are_cached(
    charts: BotHarness, exchange: FakeExchange
) -> None:
    for _ in range(3):
        await charts.send("/chart btcusdt", user_id=ME)
    await charts.send("/chart BTC/USDT 1d", user_id=ME)

    assert [r.query for r in exchange.calls("/api/v5/public/instruments")] == [{"instType": "SPOT"}]
    bars = [r.query["bar"] for r in exchange.calls("/api/v5/market/candles")]
    assert bars == ["4H", "1Dutc"]


async def test_without_an_llm_the_chart_comes_alone(
    make_harness: HarnessFactory, exchange: FakeExchange, sessions: async_sessionmaker[AsyncSession]
) -> None:
    harness = make_harness(
        EXCHANGE_API_URL=exchange.base_url, CHART_RENDER_PROCESSES="0", LLM_BASE_URL=""
    )
    sent = await harness.send("/chart ton 15m", user_id=ME, message_id=706)

    assert len(photos(sent)) == 1 and texts_sent(sent) == []
    assert await chart_rows(sessions) == [(f"chart_req:{ME}:706", 15)]


async def test_charts_render_in_the_process_pool(
    make_harness: HarnessFactory, exchange: FakeExchange
) -> None:
    """The production setting: CHART_RENDER_PROCESSES worker processes draw the PNG."""
    harness = make_harness(EXCHANGE_API_URL=exchange.base_url, CHART_RENDER_PROCESSES="1")
    sent = await harness.send("/chart eth/btc 1d", user_id=ME)

    [photo] = photos(sent)
    assert png_of(photo).startswith(PNG_SIGNATURE)
    assert (photo.caption or "").startswith("📈 <b>ETH/BTC</b> · 1d · OKX")


async def test_help_and_the_command_menu_offer_chart(charts: BotHarness) -> None:
    sent = await charts.send("/help", user_id=ME)
    assert "/chart" in texts_sent(sent)[0] and "+15 points" in texts_sent(sent)[0]
    assert "chart" in USER_COMMANDS


# ------------------------------------------------------------------- the daily chart quota


async def charts_used_today(harness: BotHarness, n: int) -> int:
    """Take `n` chart slots as earlier requests today would have; today's count after."""
    context = harness.dispatcher["context"]
    user = await context.users.get(ME)
    assert user is not None
    for i in range(n):
        assert (await context.quotas.take(user, RequestAction.CHART, f"earlier:{i}")).granted
    usage = await context.quotas.usage(user)
    assert usage is not None
    return int(usage.of(RequestAction.CHART).used)


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_the_tenth_chart_is_drawn_and_the_eleventh_refused(
    charts: BotHarness,
    sessions: async_sessionmaker[AsyncSession],
    exchange: FakeExchange,
    clock: FakeClock,
    lang: str,
) -> None:
    await charts.send("/start", user_id=ME, language_code=lang)
    assert await charts_used_today(charts, 9) == 9  # FREE: 10 charts a day

    tenth = await charts.send("/chart btc", user_id=ME, language_code=lang, message_id=801)
    clock.advance(seconds=11)
    asked = len(exchange.requests)
    eleventh = await charts.send("/chart eth", user_id=ME, language_code=lang, message_id=802)

    assert len(photos(tenth)) == 1
    assert photos(eleventh) == [] and len(exchange.requests) == asked  # no market data fetched
    [refusal] = [m.text for m in only(eleventh, SendMessage)]
    unit = tr(lang)("quota-unit-earn_chart_request", count=10)
    assert tr(lang)("quota-used-up", unit=unit, tier="FREE", time="00:00", zone="UTC",
                    hours=12, minutes=0) in refusal  # fmt: skip
    assert await chart_rows(sessions) == [(f"chart_req:{ME}:801", 15)]
    assert await charts_used_today(charts, 0) == 10


async def test_a_button_over_the_quota_edits_nothing_and_says_why(
    charts: BotHarness, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    [photo] = photos(await charts.send("/chart btc", user_id=ME, message_id=811))
    await charts_used_today(charts, 9)
    clock.advance(seconds=11)

    pressed = await press(charts, "chart:BTC/USDT:1h", as_delivered(photo, message_id=92))

    assert only(pressed, EditMessageMedia) == []
    assert [a.text for a in alerts(pressed)] == [None]  # the spinner stops
    [refusal] = [m.text for m in only(pressed, SendMessage)]
    assert refusal is not None and refusal.startswith("⏳")
    assert await chart_rows(sessions) == [(f"chart_req:{ME}:811", 15)]


async def test_a_chart_not_drawn_gives_its_slot_back(
    charts: BotHarness, exchange: FakeExchange
) -> None:
    await charts.send("/start", user_id=ME)
    exchange.mode = "down"
    await charts.send("/chart btc", user_id=ME, message_id=821)
    assert await charts_used_today(charts, 0) == 0
