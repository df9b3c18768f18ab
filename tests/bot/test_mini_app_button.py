"""/points offers "📱 Open app" (a web_app button) only when MINI_APP_URL is set, and only in
private chats, where Telegram can open it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram.methods import EditMessageText, SendMessage, TelegramMethod
from aiogram.types import Chat, Message

from tests.bot.conftest import HarnessFactory
from tests.bot.helpers import LANGS, tr
from tests.support.telegram import BotHarness, only

ME = 301_001
APP_URL = "https://syntra.example/app/"


def web_app_buttons(request: TelegramMethod[Any]) -> list[tuple[str, str]]:
    markup = getattr(request, "reply_markup", None)
    assert markup is not None
    return [(b.text, b.web_app.url) for row in markup.inline_keyboard for b in row if b.web_app]


@pytest.mark.parametrize("lang", LANGS)
async def test_points_card_opens_the_mini_app_when_configured(
    make_harness: HarnessFactory, lang: str
) -> None:
    harness = make_harness(MINI_APP_URL=APP_URL)
    (sent,) = only(await harness.send("/points", user_id=ME, language_code=lang), SendMessage)
    assert web_app_buttons(sent) == [(tr(lang)("menu-app"), APP_URL)]
    assert sent.reply_markup.inline_keyboard[0][0].web_app is not None  # type: ignore[union-attr]
    # The Main button redraws the same card, with the same button.
    (edited,) = only(
        await harness.press("pts:main:0", user_id=ME, language_code=lang), EditMessageText
    )
    assert web_app_buttons(edited) == [(tr(lang)("menu-app"), APP_URL)]


async def test_never_shown_when_unset(harness: BotHarness) -> None:
    (sent,) = only(await harness.send("/points", user_id=ME), SendMessage)
    assert web_app_buttons(sent) == []
    (edited,) = only(await harness.press("pts:main:0", user_id=ME), EditMessageText)
    assert web_app_buttons(edited) == []


async def test_not_in_group_chats(make_harness: HarnessFactory) -> None:
    harness = make_harness(MINI_APP_URL=APP_URL)
    update = harness.message_update("/points", user_id=ME)
    assert update.message is not None
    group = Chat(id=-100_123, type="supergroup", title="Traders")
    message = Message(
        message_id=update.message.message_id,
        date=datetime.now(UTC),
        chat=group,
        from_user=update.message.from_user,
        text="/points",
    )
    (sent,) = only(await harness.feed(update.model_copy(update={"message": message})), SendMessage)
    assert web_app_buttons(sent) == []
    assert sent.chat_id == group.id
