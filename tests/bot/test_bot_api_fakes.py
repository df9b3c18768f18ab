"""The stand-ins for the Bot API refuse what Telegram refuses, with Telegram's error shape.

Both the in-process session (src/bot/local_session.py) and the HTTP fake
(tests/support/fake_telegram.py) are driven through a real aiogram `Bot`, so what a handler
would see is exactly what is asserted: `TelegramBadRequest` with Telegram's description.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from src.bot.local_session import local_bot
from src.bot.telegram_rules import NOT_MODIFIED
from tests.support.fake_telegram import FakeTelegram

CHAT = 4242
TOKEN = "123456:TEST"


def keyboard(*labels: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=x, callback_data=x) for x in labels]]
    )


@pytest.fixture(params=["local", "http"])
async def bot(request: pytest.FixtureRequest) -> AsyncIterator[Bot]:
    """A bot whose Bot API refuses no-op edits: in-process, or the HTTP fake."""
    if request.param == "local":
        local, _ = local_bot()  # what the handler tests and the console use
        yield local
        return
    async with FakeTelegram(token=TOKEN) as fake:
        session = AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))
        remote = Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode="HTML"))
        yield remote
        await session.close()


async def test_an_edit_that_changes_nothing_is_refused(bot: Bot) -> None:
    sent = await bot.send_message(CHAT, "<b>Balance</b>: 10", reply_markup=keyboard("a", "b"))

    with pytest.raises(TelegramBadRequest) as refused:
        await bot.edit_message_text(
            "<b>Balance</b>: 10",
            chat_id=CHAT,
            message_id=sent.message_id,
            reply_markup=keyboard("a", "b"),
        )
    assert refused.value.message == NOT_MODIFIED
    assert str(refused.value) == f"Telegram server says - {NOT_MODIFIED}"
    # Other HTML that parses to the same text and formatting is the same content to Telegram.
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "<strong>Balance</strong>: 10",
            chat_id=CHAT,
            message_id=sent.message_id,
            reply_markup=keyboard("a", "b"),
        )
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(
            chat_id=CHAT, message_id=sent.message_id, reply_markup=keyboard("a", "b")
        )


async def test_an_edit_that_changes_the_text_or_the_keyboard_is_accepted(bot: Bot) -> None:
    sent = await bot.send_message(CHAT, "<b>Balance</b>: 10", reply_markup=keyboard("a"))
    mid = sent.message_id

    edited = await bot.edit_message_text(
        "<b>Balance</b>: 20", chat_id=CHAT, message_id=mid, reply_markup=keyboard("a")
    )
    assert not isinstance(edited, bool) and edited.message_id == mid
    await bot.edit_message_text(
        "<i>Balance</i>: 20", chat_id=CHAT, message_id=mid, reply_markup=keyboard("a")
    )  # other formatting is a change
    await bot.edit_message_text(
        "<i>Balance</i>: 20", chat_id=CHAT, message_id=mid, reply_markup=keyboard("b")
    )
    await bot.edit_message_text("<i>Balance</i>: 20", chat_id=CHAT, message_id=mid)  # no keyboard
    await bot.edit_message_reply_markup(chat_id=CHAT, message_id=mid, reply_markup=keyboard("c"))
    # The edits are remembered: repeating the last one is refused.
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "<i>Balance</i>: 20", chat_id=CHAT, message_id=mid, reply_markup=keyboard("c")
        )
    # Messages are told apart by chat and id.
    other = await bot.send_message(CHAT + 1, "<i>Balance</i>: 20", reply_markup=keyboard("c"))
    await bot.edit_message_text("<i>Balance</i>: 21", chat_id=CHAT + 1, message_id=other.message_id)


async def test_a_message_sent_before_is_not_compared(bot: Bot) -> None:
    """An edit of a message the stand-in never saw is accepted (it knows no content)."""
    await bot.edit_message_text("menu", chat_id=CHAT, message_id=99_999)
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("menu", chat_id=CHAT, message_id=99_999)


async def test_the_refusal_can_be_switched_off() -> None:
    local, _ = local_bot(refuse_no_op_edits=False)
    sent = await local.send_message(CHAT, "same")
    await local.edit_message_text("same", chat_id=CHAT, message_id=sent.message_id)
    async with FakeTelegram(token=TOKEN, refuse_no_op_edits=False) as fake:
        session = AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))
        remote = Bot(TOKEN, session=session)
        try:
            sent = await remote.send_message(CHAT, "same")
            await remote.edit_message_text("same", chat_id=CHAT, message_id=sent.message_id)
        finally:
            await session.close()


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


async def test_a_photo_is_replaced_by_a_new_upload_with_its_caption(bot: Bot) -> None:
    from aiogram.types import BufferedInputFile, InputMediaPhoto

    sent = await bot.send_photo(
        CHAT, BufferedInputFile(PNG, "a.png"), caption="<b>BTC</b> 4h", reply_markup=keyboard("1h")
    )
    assert sent.photo

    edited = await bot.edit_message_media(
        InputMediaPhoto(media=BufferedInputFile(PNG, "b.png"), caption="<b>BTC</b> 1h"),
        chat_id=CHAT,
        message_id=sent.message_id,
        reply_markup=keyboard("4h"),
    )
    assert not isinstance(edited, bool) and edited.message_id == sent.message_id
    assert edited.photo


async def test_a_text_message_has_no_media_to_replace(bot: Bot) -> None:
    from aiogram.types import BufferedInputFile, InputMediaPhoto

    from src.bot.telegram_rules import NO_MEDIA

    sent = await bot.send_message(CHAT, "menu", reply_markup=keyboard("a"))
    with pytest.raises(TelegramBadRequest) as refused:
        await bot.edit_message_media(
            InputMediaPhoto(media=BufferedInputFile(PNG, "b.png"), caption="x"),
            chat_id=CHAT,
            message_id=sent.message_id,
        )
    assert refused.value.message == NO_MEDIA
