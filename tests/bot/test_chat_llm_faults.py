"""The LLM API down, hanging, rate-limited or answering garbage: the user gets a clear message
within the LLM timeout, and nothing is paid.

tests/bot/test_chat.py covers a 500, a body without choices, a slow answer past the timeout and
no API configured; these are the faults it leaves out. The harness's client gives up after
SHORT_LLM_TIMEOUT (0.3 s); `asyncio.timeout` below only keeps a broken build from hanging.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.bot.conftest import SHORT_LLM_TIMEOUT, HarnessFactory
from tests.bot.helpers import LANGS, balance_of, calls, ledger, tr, without_typing
from tests.support.fake_openai import FakeOpenAI
from tests.support.processes import free_port
from tests.support.telegram import BotHarness

ME = 600_101
SAFETY_NET = 10.0  # seconds; the answer is due after at most SHORT_LLM_TIMEOUT


async def ask(harness: BotHarness, lang: str) -> list[tuple[object, ...]]:
    async with asyncio.timeout(SAFETY_NET):
        return calls(await harness.send("gm", user_id=ME, language_code=lang))


async def assert_not_paid(sessions: async_sessionmaker[AsyncSession]) -> None:
    assert await ledger(sessions, ME) == []


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("mode", ["rate_limited", "not_json", "disconnect"])
async def test_a_refusing_or_broken_api_says_so_and_pays_nothing(
    impatient: BotHarness,
    sessions: async_sessionmaker[AsyncSession],
    fake_llm: FakeOpenAI,
    mode: str,
    lang: str,
) -> None:
    fake_llm.mode = mode  # type: ignore[assignment]
    try:
        sent = await ask(impatient, lang)
    finally:
        fake_llm.mode = "ok"

    assert [c for c in sent if c[0] != "action"] == [("send", ME, tr(lang)("ai-failed"))]
    await assert_not_paid(sessions)
    assert impatient.dispatcher["failures"].get("handler") == 0  # handled, not crashed


@pytest.mark.parametrize("lang", LANGS)
async def test_an_api_that_never_answers_times_out_politely(
    impatient: BotHarness,
    sessions: async_sessionmaker[AsyncSession],
    fake_llm: FakeOpenAI,
    lang: str,
) -> None:
    fake_llm.mode = "hang"
    try:
        sent = await ask(impatient, lang)
    finally:
        fake_llm.mode = "ok"

    assert sent == [("action", ME, "typing"), ("send", ME, tr(lang)("ai-timeout"))]
    await assert_not_paid(sessions)


@pytest.mark.parametrize("lang", LANGS)
async def test_an_api_that_is_down_says_so_and_pays_nothing(
    make_harness: HarnessFactory, sessions: async_sessionmaker[AsyncSession], lang: str
) -> None:
    """Nothing listens at LLM_BASE_URL (connection refused)."""
    down = make_harness(
        LLM_TIMEOUT_SECONDS=str(SHORT_LLM_TIMEOUT),
        LLM_BASE_URL=f"http://127.0.0.1:{free_port()}/v1",
    )

    sent = await ask(down, lang)

    assert [c for c in sent if c[0] != "action"] == [("send", ME, tr(lang)("ai-failed"))]
    await assert_not_paid(sessions)


async def test_the_next_question_after_a_fault_is_answered_and_paid(
    impatient: BotHarness, sessions: async_sessionmaker[AsyncSession], fake_llm: FakeOpenAI
) -> None:
    """A fault leaves nothing behind: no interval consumed, no stuck state."""
    for mode in ("hang", "disconnect", "rate_limited"):
        fake_llm.mode = mode  # type: ignore[assignment]
        await ask(impatient, "en")
    fake_llm.mode = "ok"

    async with asyncio.timeout(SAFETY_NET):
        requests = await impatient.send("and now?", user_id=ME)

    assert without_typing(requests) == [("send", ME, "Answer: and now?")]
    assert await balance_of(sessions, ME) == 10
