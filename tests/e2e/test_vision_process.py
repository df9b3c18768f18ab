"""bot.py as a real process: pictures are fetched from the Bot API that TELEGRAM_API_BASE names
(getFile, then the file path on the same server), an album pushed in one getUpdates batch is
answered once, and the analysis earns `earn_vision_request`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.e2e.test_bot_process import (
    STEP_TIMEOUT,
    TOKEN,
    env_for,
    running_until,
    start_bot,
    to_chat,
)
from tests.support.fake_openai import FakeOpenAI
from tests.support.fake_telegram import FakeTelegram
from tests.support.pictures import picture
from tests.support.processes import BotProcess

pytestmark = pytest.mark.slow

USER = 910_000_101


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN) as fake:
        yield fake


@pytest.fixture
async def processes() -> AsyncIterator[list[BotProcess]]:
    started: list[BotProcess] = []
    yield started
    for process in started:
        await process.close()


async def vision_rows(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        result = await conn.execute(
            text(
                "SELECT transaction_id FROM points_transactions"
                " WHERE user_id = :user AND transaction_type = 'earn_vision_request'"
            ),
            {"user": USER},
        )
        return [row[0] for row in result]


async def test_an_album_through_the_real_bot_process(
    tmp_path: Path,
    telegram: FakeTelegram,
    fake_llm: FakeOpenAI,
    database_url: str,
    engine: AsyncEngine,
    processes: list[BotProcess],
) -> None:
    fake_llm.mode, fake_llm.reply = "ok", None
    fake_llm.requests.clear()
    env = env_for(tmp_path, telegram, fake_llm, database_url)
    bot = await start_bot(processes, env, tmp_path)
    await running_until(bot, lambda: telegram.calls_to("getUpdates"), "the first getUpdates")

    files = [telegram.add_file(picture(2600, 1300)) for _ in range(3)]
    updates = [
        telegram.photo_update(
            stored,
            user_id=USER,
            media_group_id="e2e-album",
            caption="Which one is bullish?" if number == 0 else None,
            dimensions=(2560, 1280),
        )
        for number, stored in enumerate(files)
    ]
    for update in updates:
        telegram.push_update(update)

    answer = await telegram.wait_for(
        "sendMessage",
        to_chat(USER, "Answer: Which one is bullish? [3 image(s)]"),
        timeout=STEP_TIMEOUT,
    )
    assert answer is not None
    assert sorted(telegram.file_downloads) == sorted(f.file_path for f in files)
    assert fake_llm.requests[-1].images == ((2048, 1024),) * 3
    first_id = updates[0]["message"]["message_id"]
    rows: list[str] = []
    for _ in range(int(STEP_TIMEOUT / 0.1)):  # the award follows the answer
        if rows := await vision_rows(engine):
            break
        await asyncio.sleep(0.1)
    assert rows == [f"vision_req:{USER}:{first_id}"]
    answers = [c for c in telegram.calls_to("sendMessage") if to_chat(USER)(c)]
    assert len(answers) == 1, answers
