"""`:photo PATH [CAPTION]` in the console, and the in-process Bot API's files behind it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from aiogram.exceptions import TelegramBadRequest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from src.bot.console import Console
from src.bot.console_media import ConsoleFileError, split_path
from src.bot.local_session import local_bot
from tests.bot.helpers import ledger, tr
from tests.conftest import ContextFactory
from tests.support.fake_openai import FakeOpenAI
from tests.support.pictures import picture

CONSOLE_USER = 100_001


async def test_console_photo_is_analysed_and_earns(
    make_context: ContextFactory,
    fake_llm: FakeOpenAI,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    out = io.StringIO()
    console = Console(make_context(DATA_DIR=str(tmp_path)), out=out)
    chart = tmp_path / "my chart.png"
    chart.write_bytes(picture(3000, 1000, "PNG"))
    report = tmp_path / "report.pdf"
    report.write_bytes(b"%PDF-1.7")

    await console.handle(f':photo "{chart}" What now?')
    await console.handle(f":photo {report}")
    await console.handle(f":photo {tmp_path / 'missing.png'}")
    await console.handle(":photo")

    printed = out.getvalue()
    assert "Answer: What now? [1 image(s)]" in printed
    assert fake_llm.requests[0].images == ((2048, 683),)
    assert tr("en")("vision-not-image") in printed
    assert "Cannot read" in printed and "Usage: :photo PATH" in printed
    (row,) = await ledger(sessions, CONSOLE_USER)
    assert (row.transaction_type, row.amount) == ("earn_vision_request", 20)


def test_photo_arguments() -> None:
    assert split_path("a.png what is this?") == (Path("a.png"), "what is this?")
    assert split_path("'my chart.png'") == (Path("my chart.png"), None)
    with pytest.raises(ConsoleFileError):
        split_path('"unclosed.png')


async def test_the_in_process_bot_api_serves_files_like_telegram() -> None:
    bot, session = local_bot()
    small = session.add_file(b"picture bytes")
    huge = session.add_file(bytes(20 * 1024 * 1024 + 1))

    downloaded = await bot.download(small)
    assert downloaded is not None and downloaded.read() == b"picture bytes"
    with pytest.raises(TelegramBadRequest, match="file is too big"):
        await bot.download(huge)
    with pytest.raises(TelegramBadRequest, match="invalid file_id"):
        await bot.get_file("nope")
