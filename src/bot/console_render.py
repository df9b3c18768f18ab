"""How the console shows the bot's Bot API calls: Telegram's HTML as terminal text, inline
keyboards as numbered buttons. Pure functions, no I/O (src/bot/console.py does the talking)."""

from __future__ import annotations

import itertools
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageMedia,
    EditMessageReplyMarkup,
    EditMessageText,
    SendInvoice,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

# Telegram's HTML tags → ANSI (start, end); other tags are dropped, their text kept.
_STYLES = {
    "b": ("\x1b[1m", "\x1b[22m"),
    "strong": ("\x1b[1m", "\x1b[22m"),
    "i": ("\x1b[3m", "\x1b[23m"),
    "em": ("\x1b[3m", "\x1b[23m"),
    "u": ("\x1b[4m", "\x1b[24m"),
    "ins": ("\x1b[4m", "\x1b[24m"),
    "s": ("\x1b[9m", "\x1b[29m"),
    "strike": ("\x1b[9m", "\x1b[29m"),
    "del": ("\x1b[9m", "\x1b[29m"),
}


class _TerminalText(HTMLParser):
    def __init__(self, *, ansi: bool) -> None:
        super().__init__(convert_charrefs=True)  # &lt; &amp; ... become characters
        self._ansi = ansi
        self._parts: list[str] = []
        self._links: list[tuple[str, int]] = []  # (href, index of the link text's first part)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._links.append((dict(attrs).get("href") or "", len(self._parts)))
        elif self._ansi and tag in _STYLES:
            self._parts.append(_STYLES[tag][0])

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._links:
            href, start = self._links.pop()
            if href and href != "".join(self._parts[start:]):
                self._parts.append(f" ({href})")
        elif self._ansi and tag in _STYLES:
            self._parts.append(_STYLES[tag][1])

    def handle_data(self, data: str) -> None:
        self._parts.append(data)

    def text(self) -> str:
        self.close()
        return "".join(self._parts)


def html_to_text(html: str, *, ansi: bool = False) -> str:
    """Telegram HTML as a terminal shows it: tags dropped (bold etc. as ANSI when `ansi`)."""
    parser = _TerminalText(ansi=ansi)
    parser.feed(html)
    return parser.text()


def keyboard_buttons(markup: InlineKeyboardMarkup | None) -> list[InlineKeyboardButton]:
    """The buttons in the order the console numbers them: row by row, left to right."""
    return [button for row in markup.inline_keyboard for button in row] if markup else []


def render_keyboard(markup: InlineKeyboardMarkup) -> str:
    """One line per row: `[1] 📜 History  [2] 🏆 Leaderboard`; links show their address."""
    numbers = itertools.count(1)
    lines = []
    for row in markup.inline_keyboard:
        cells = [f"[{next(numbers)}] {b.text}" + (f" ({b.url})" if b.url else "") for b in row]
        lines.append("  ".join(cells))
    return "\n".join(lines)


def _message_text(text: str | None, parse_mode: Any, ansi: bool) -> str:
    # Unset parse_mode means the bot's default (HTML); an explicit None means plain text.
    return (text or "") if parse_mode is None else html_to_text(text or "", ansi=ansi)


def render(method: TelegramMethod[Any], *, ansi: bool = False, photo: Path | None = None) -> str:
    """How the terminal shows one Bot API call of the bot ("" for calls a user doesn't see)."""
    if isinstance(method, SendMessage):
        text = _message_text(method.text, method.parse_mode, ansi)
    elif isinstance(method, EditMessageText):
        text = "✏️ (edited) " + _message_text(method.text, method.parse_mode, ansi)
    elif isinstance(method, EditMessageReplyMarkup):
        text = "✏️ (edited buttons)"
    elif isinstance(method, SendPhoto):
        caption = _message_text(method.caption, method.parse_mode, ansi)
        text = f"🖼 photo: {photo or '(not saved)'} {caption}".rstrip()
    elif isinstance(method, EditMessageMedia):  # a chart redrawn in place
        caption = _message_text(method.media.caption, method.media.parse_mode, ansi)
        text = f"✏️ (edited) 🖼 photo: {photo or '(not saved)'} {caption}".rstrip()
    elif isinstance(method, SendInvoice):  # Telegram shows a card with a Pay button
        total = sum(p.amount for p in method.prices)
        text = f"🧾 invoice: {method.title} · {total} {method.currency}"
    elif isinstance(method, AnswerCallbackQuery):
        if not method.text:
            return ""
        return f"⚠️ alert: {method.text}" if method.show_alert else f"ℹ️ {method.text}"
    else:  # sendChatAction (typing), setMyCommands, ...: nothing a user would see
        return ""
    markup = method.reply_markup
    if isinstance(markup, InlineKeyboardMarkup):
        text += "\n" + render_keyboard(markup)
    return text
