"""How a button press is answered, in three words: `show_screen`, `send_screen`, `alert`.

`show_screen` answers the press, then puts the screen in the message the button belongs to:

- The press is answered first, so the client's spinner stops at once (with `notice`, a short
  toast); alerts that refuse a press are answered by the handler itself, with `show_alert`.
- A screen that is already shown is not edited again: Telegram refuses an edit that changes
  nothing (400 "message is not modified"). The comparison is on what was rendered, text and
  buttons; should Telegram still find nothing changed, that answer is logged, not an error.
- A message too old to edit (Telegram sends no content for it) gets the screen as a new message.

`send_screen` answers the press and sends the screen as a new message (the pressed one stays,
e.g. a user card opened from a result); `alert` refuses a press with a pop-up.
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
    """True if `message` shows exactly `text` (HTML, or a caption) and `markup`.

    Keyboards are compared by content: a message that arrived in an update carries the bot in
    its objects, which makes `==` false for the very same buttons.
    """
    if _dump(message.reply_markup) != _dump(markup):
        return False
    return text in (message.html_text, message.text)


def _dump(markup: InlineKeyboardMarkup | None) -> object:
    return markup.model_dump(exclude_none=True) if markup is not None else None


async def send_screen(
    query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    await query.answer()
    if query.message is not None:  # None only for inline-mode messages, which the bot never sends
        await query.message.answer(text, reply_markup=markup)


async def alert(query: CallbackQuery, text: str) -> None:
    """Refuse or explain a press with a pop-up the user must dismiss."""
    await query.answer(text, show_alert=True)
