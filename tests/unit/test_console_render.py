"""How the console shows what the bot sends: Telegram HTML as terminal text, numbered buttons."""

from __future__ import annotations

from pathlib import Path

from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageText,
    SendChatAction,
    SendMessage,
    SendPhoto,
)
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup

from src.bot.console_render import html_to_text, keyboard_buttons, render, render_keyboard


def _button(text: str, data: str = "x", url: str | None = None) -> InlineKeyboardButton:
    if url:
        return InlineKeyboardButton(text=text, url=url)
    return InlineKeyboardButton(text=text, callback_data=data)


MARKUP = InlineKeyboardMarkup(
    inline_keyboard=[
        [_button("📜 History", "pts:history"), _button("🏆 Leaderboard", "pts:top")],
        [_button("📊 How to earn", "pts:earn")],
    ]
)


def test_tags_are_dropped_and_entities_unescaped() -> None:
    html = "💎 <b>Your points</b>: <i>5</i> &lt; 10 &amp; <code>x&gt;y</code>"
    assert html_to_text(html) == "💎 Your points: 5 < 10 & x>y"


def test_bold_and_italic_become_ansi_on_a_terminal() -> None:
    assert html_to_text("<b>a</b> <i>b</i>", ansi=True) == "\x1b[1ma\x1b[22m \x1b[3mb\x1b[23m"


def test_links_show_their_address_unless_it_is_the_text() -> None:
    assert html_to_text('<a href="https://t.me/x">Open</a>') == "Open (https://t.me/x)"
    assert html_to_text('<a href="https://t.me/x">https://t.me/x</a>') == "https://t.me/x"


def test_buttons_are_numbered_across_rows() -> None:
    assert render_keyboard(MARKUP) == "[1] 📜 History  [2] 🏆 Leaderboard\n[3] 📊 How to earn"
    assert [b.callback_data for b in keyboard_buttons(MARKUP)] == [
        "pts:history",
        "pts:top",
        "pts:earn",
    ]
    assert keyboard_buttons(None) == []


def test_url_buttons_show_where_they_lead() -> None:
    markup = InlineKeyboardMarkup(inline_keyboard=[[_button("Site", url="https://example.com")]])
    assert render_keyboard(markup) == "[1] Site (https://example.com)"


def test_a_message_with_a_keyboard() -> None:
    method = SendMessage(chat_id=1, text="💎 <b>Your points</b>", reply_markup=MARKUP)
    assert render(method) == (
        "💎 Your points\n[1] 📜 History  [2] 🏆 Leaderboard\n[3] 📊 How to earn"
    )


def test_plain_text_messages_are_not_parsed_as_html() -> None:
    assert render(SendMessage(chat_id=1, text="a <b> c", parse_mode=None)) == "a <b> c"


def test_an_edit_is_marked() -> None:
    method = EditMessageText(chat_id=1, message_id=5, text="<b>History</b>")
    assert render(method) == "✏️ (edited) History"


def test_callback_answers_alerts_and_toasts() -> None:
    alert = AnswerCallbackQuery(callback_query_id="1", text="Too old", show_alert=True)
    assert render(alert) == "⚠️ alert: Too old"
    assert render(AnswerCallbackQuery(callback_query_id="1", text="Saved")) == "ℹ️ Saved"
    assert render(AnswerCallbackQuery(callback_query_id="1")) == ""


def test_a_photo_is_shown_as_its_file() -> None:
    photo = BufferedInputFile(b"png", filename="chart.png")
    method = SendPhoto(chat_id=1, photo=photo, caption="<b>BTC</b> chart")
    shown = render(method, photo=Path("data/console/photo-1.png"))
    assert shown == "🖼 photo: data/console/photo-1.png BTC chart"


def test_a_chart_redrawn_in_place_is_shown_as_its_new_file_and_buttons() -> None:
    from aiogram.methods import EditMessageMedia
    from aiogram.types import InputMediaPhoto

    media = InputMediaPhoto(
        media=BufferedInputFile(b"png", filename="BTC-USDT_1h.png"), caption="<b>BTC/USDT</b> 1h"
    )
    markup = InlineKeyboardMarkup(inline_keyboard=[[_button("• 1h"), _button("🔄 Refresh")]])
    method = EditMessageMedia(chat_id=1, message_id=5, media=media, reply_markup=markup)
    shown = render(method, photo=Path("data/console/photo-2.png"))
    assert shown == (
        "✏️ (edited) 🖼 photo: data/console/photo-2.png BTC/USDT 1h\n[1] • 1h  [2] 🔄 Refresh"
    )


def test_typing_is_not_shown() -> None:
    assert render(SendChatAction(chat_id=1, action="typing")) == ""


def test_leaving_the_console_says_the_embedded_server_keeps_running() -> None:
    from src.bot.console import farewell

    assert farewell(None) == (
        "Bye. The embedded PostgreSQL keeps running; ./manage.sh db stop stops it."
    )
    assert farewell("postgresql://syntra@db/syntra") == "Bye."


def test_an_invoice_shows_its_title_and_price() -> None:
    from aiogram.methods import SendInvoice
    from aiogram.types import LabeledPrice

    invoice = SendInvoice(
        chat_id=1,
        title="Syntra BASIC · 1 month",
        description="d",
        payload="p",
        currency="XTR",
        prices=[LabeledPrice(label="BASIC", amount=250)],
    )
    assert render(invoice) == "🧾 invoice: Syntra BASIC · 1 month · 250 XTR"
