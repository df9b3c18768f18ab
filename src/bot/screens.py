"""The one way a button shows its screen: answer the press, then put the screen in the message
the button belongs to.

- The press is answered first, so the client's spinner stops at once (with `notice`, a short
  toast); alerts that refuse a press are answered by the handler itself, with `show_alert`.
- A screen that is already shown is not edited again: Telegram refuses an edit that changes
  nothing (400 "message is not modified"). The comparison is on what was rendered, text and
  buttons; should Telegram still find nothing changed, that answer is logged, not an error.
- A message too old to edit (Telegram sends no content for it) gets the screen as a new message.
"""

from __future__ import annotations

import structlog
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

log = structlog.get_logger(__name__)

NOT_MODIFIED = "message is not modified"


async def show_screen(
    query: CallbackQuery,
    text: str,
    markup: InlineKeyboardMarkup | None,
    *,
    notice: str | None = None,
) -> None:
    await query.answer(notice)
    await replace_screen(query, text, markup)


async def replace_screen(
    query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None
) -> None:
    """`show_screen` for a press the handler has already answered (e.g. with an alert)."""
    message = query.message
    if not isinstance(message, Message):
        if message is not None:
            await message.answer(text, reply_markup=markup)
        return
    if already_shown(message, text, markup):
        return
    try:
        await message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest as exc:
        if NOT_MODIFIED not in exc.message:
            raise
        log.info("screen already shown", chat_id=message.chat.id, message_id=message.message_id)


def already_shown(message: Message, text: str, markup: InlineKeyboardMarkup | None) -> bool:
    """True if `message` shows exactly `text` (HTML) and `markup`."""
    if message.reply_markup != markup:
        return False
    return text in (message.html_text, message.text)
