"""/chart SYMBOL [TIMEFRAME]: a candlestick chart with indicators, its summary and an AI
commentary; the buttons under it switch the timeframe or refresh it in place.

One service call serves a chart (`charts.serve`). Points come strictly after the photo went
out, through `absorb` (a points failure never touches the reply): key
`chart_req:{chat_id}:{message_id}` for the command, `chart_req:cb:{callback_query_id}` for a
button, so a redelivered update pays once. A refresh whose caption would not change is
answered "up to date" and edits nothing (Telegram refuses an identical edit); it serves no
new chart, so it earns nothing.
"""

from __future__ import annotations

import structlog
from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, InputMediaPhoto, Message
from aiogram.utils.chat_action import ChatActionSender

from config.points_config import RequestAction, TransactionType
from src.bootstrap import AppContext
from src.bot.keyboards.chart import ChartCb, chart_keyboard
from src.bot.middlewares.user import AI_REQUEST
from src.bot.quota_gate import within_quota
from src.bot.replies import congratulate_level_up
from src.bot.screens import alert, already_shown
from src.bot.text_split import split_escaped
from src.bot.views.chart import chart_caption
from src.locales import Translator
from src.services.chart_commentary import commentary_question
from src.services.chart_service import ChartService
from src.services.chart_types import (
    DEFAULT_TIMEFRAME,
    ChartError,
    ChartResult,
    ExchangeUnavailableError,
    NotEnoughHistoryError,
    Timeframe,
    UnknownSymbolError,
)
from src.services.failures import absorb
from src.services.llm_client import LLMError, LLMNotConfiguredError
from src.services.market_data import normalise_symbol
from src.services.user_types import UserProfile

log = structlog.get_logger(__name__)

_UNAVAILABLE = {
    "down": "chart-exchange-down",
    "timeout": "chart-exchange-timeout",
    "rate_limited": "chart-exchange-rate-limited",
}


def _refusal(t: Translator, error: ChartError, symbol_text: str, exchange: str) -> str:
    """What the user reads instead of a chart."""
    if isinstance(error, ExchangeUnavailableError):
        return t(_UNAVAILABLE.get(error.reason, "chart-exchange-down"), exchange=exchange)
    if isinstance(error, NotEnoughHistoryError):
        return t("chart-no-history", symbol=normalise_symbol(symbol_text) or "", exchange=exchange)
    return t("chart-unknown-symbol", symbol=symbol_text.strip()[:30], exchange=exchange)


def _photo(result: ChartResult) -> BufferedInputFile:
    name = f"{result.candles.symbol.replace('/', '-')}_{result.candles.timeframe.value}.png"
    return BufferedInputFile(result.png, filename=name)


async def _after_served(
    bot: Bot,
    chat_id: int,
    user: UserProfile | None,
    t: Translator,
    key: str,
    result: ChartResult,
    context: AppContext,
) -> None:
    """The award (never blocking), the AI commentary when an LLM is configured, a level-up."""
    outcome = None
    if user is not None:  # None: the database is unreachable; already logged and counted
        outcome = await absorb(
            context.failures,
            "points",
            context.points.award_request(
                user_id=user.telegram_id,
                action=RequestAction.CHART,
                key=key,
                metadata={"chat_id": chat_id, "symbol": result.candles.symbol},
            ),
            user_id=user.telegram_id,
            operation=TransactionType.CHART_REQUEST,
        )
    await _commentary(bot, chat_id, t, result, context)
    await congratulate_level_up(bot, chat_id, outcome, t, context.rules)


async def _commentary(
    bot: Bot, chat_id: int, t: Translator, result: ChartResult, context: AppContext
) -> None:
    if not context.llm.configured:
        return
    try:
        async with ChatActionSender.typing(bot=bot, chat_id=chat_id):
            text = await context.llm.answer(
                question=commentary_question(result), language=t.language, user_id=chat_id
            )
    except LLMNotConfiguredError:
        return
    except LLMError as exc:  # the chart was served; the commentary is a bonus
        log.info("chart commentary skipped", chat_id=chat_id, reason=str(exc))
        return
    chunks = split_escaped(text, limit=4000)
    if chunks:
        chunks[0] = f"{t('chart-commentary')}\n{chunks[0]}"
        for chunk in chunks:
            await bot.send_message(chat_id, chunk)


def _arguments(command: CommandObject) -> tuple[str, Timeframe | str] | None:
    """(symbol text, timeframe or the unparsable timeframe text), or None for the usage."""
    parts = (command.args or "").split()
    if not 1 <= len(parts) <= 2:
        return None
    if len(parts) == 1:
        return parts[0], DEFAULT_TIMEFRAME
    return parts[0], Timeframe.parse(parts[1]) or parts[1]


async def cmd_chart(
    message: Message,
    command: CommandObject,
    bot: Bot,
    t: Translator,
    user: UserProfile | None,
    charts: ChartService,
    context: AppContext,
) -> None:
    exchange = charts.exchange_name
    arguments = _arguments(command)
    if arguments is None:
        await message.answer(t("chart-usage", exchange=exchange))
        return
    symbol_text, timeframe = arguments
    if not isinstance(timeframe, Timeframe):
        await message.answer(t("chart-bad-timeframe", timeframe=timeframe[:10]))
        return
    chosen: Timeframe = timeframe

    async def send_chart() -> ChartResult | None:
        try:
            async with ChatActionSender.upload_photo(bot=bot, chat_id=message.chat.id):
                result = await charts.serve(symbol_text, chosen)
        except ChartError as exc:
            log.info("chart not served", symbol=symbol_text[:30], reason=type(exc).__name__)
            await message.answer(_refusal(t, exc, symbol_text, exchange))
            return None
        await message.answer_photo(
            _photo(result),
            caption=chart_caption(t, result),
            reply_markup=chart_keyboard(t, result.candles.symbol, chosen),
        )
        return result

    key = f"chart_req:{message.chat.id}:{message.message_id}"
    served = await within_quota(
        context.quotas, user, RequestAction.CHART, key, t=t, refuse=message.answer, serve=send_chart
    )
    if served is not None:
        await _after_served(bot, message.chat.id, user, t, key, served, context)


async def on_chart_button(
    query: CallbackQuery,
    callback_data: ChartCb,
    bot: Bot,
    t: Translator,
    user: UserProfile | None,
    charts: ChartService,
    context: AppContext,
) -> None:
    message = query.message
    if message is None or normalise_symbol(callback_data.symbol) != callback_data.symbol:
        await alert(query, t("button-stale"))  # forged data, or an inline-mode message
        return
    chat_id = message.chat.id

    async def redraw() -> ChartResult | None:
        try:
            result = await charts.serve(callback_data.symbol, callback_data.tf)
        except UnknownSymbolError:
            await alert(query, t("button-stale"))
            return None
        except ChartError as exc:
            await alert(query, _refusal(t, exc, callback_data.symbol, charts.exchange_name))
            return None
        caption = chart_caption(t, result)
        markup = chart_keyboard(t, callback_data.symbol, callback_data.tf)
        if isinstance(message, Message) and already_shown(message, caption, markup):
            await query.answer(t("chart-up-to-date"))  # nothing new served
            return None
        await query.answer()
        if isinstance(message, Message):
            media = InputMediaPhoto(media=_photo(result), caption=caption)
            await message.edit_media(media=media, reply_markup=markup)
        else:  # too old to edit: the chart comes as a new message
            await bot.send_photo(chat_id, _photo(result), caption=caption, reply_markup=markup)
        return result

    async def refuse(text: str) -> None:  # longer than an alert may be: a message
        await query.answer()
        await bot.send_message(chat_id, text)

    key = f"chart_req:cb:{query.id}"
    served = await within_quota(
        context.quotas, user, RequestAction.CHART, key, t=t, refuse=refuse, serve=redraw
    )
    if served is not None:
        await _after_served(bot, chat_id, user, t, key, served, context)


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(
        cmd_chart, Command("chart"), flags={**AI_REQUEST}
    )  # a copy: aiogram adds its commands to the dict
    router.callback_query.register(
        on_chart_button, ChartCb.filter(), flags={**AI_REQUEST}
    )  # a copy: aiogram adds its commands to the dict
    return router
