"""The bot process serves Prometheus metrics on METRICS_PORT: updates handled and their
latency, LLM latency and errors, and the points it awarded (src/metrics.py)."""

from __future__ import annotations

import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.test_bot_process import TOKEN, asked, env_for, start_bot, to_chat
from tests.support.fake_openai import FakeOpenAI
from tests.support.fake_telegram import FakeTelegram
from tests.support.processes import BotProcess, eventually, free_port

pytestmark = pytest.mark.slow


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


HANDLED_MESSAGES = ("syntra_bot_updates_total", (("result", "handled"), ("type", "message")))


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_bot_metrics_port(
    tmp_path: Path,
    telegram: FakeTelegram,
    fake_llm: FakeOpenAI,
    database_url: str,
    clean_db: None,  # the user below may have asked questions in an earlier test (10 s apart)
    processes: list[BotProcess],
) -> None:
    fake_llm.mode, fake_llm.reply, fake_llm.delay = "ok", None, 5.0
    fake_llm.requests.clear()
    port = free_port()
    env = env_for(tmp_path, telegram, fake_llm, database_url, METRICS_PORT=str(port))
    bot = await start_bot(processes, env, tmp_path)
    await eventually(
        lambda: telegram.calls_to("getUpdates") or not bot.running, timeout=60, what="polling"
    )
    assert bot.running, bot.output()

    user = 930_000_001
    telegram.push_update(telegram.message_update("/start", user_id=user))
    await telegram.wait_for("sendMessage", to_chat(user, "Welcome"), timeout=30)
    telegram.push_update(telegram.message_update("What is DeFi?", user_id=user))
    await telegram.wait_for("sendMessage", to_chat(user, "Answer: What is DeFi?"), timeout=30)
    assert asked("What is DeFi?")(fake_llm)
    # The answer is out before its award is written; a question sent in between would get
    # "still answering your previous question" (one AI request per user in flight).
    await eventually(
        lambda: scrape(port).get(HANDLED_MESSAGES, 0) >= 2, timeout=30, what="the award"
    )
    fake_llm.mode = "error"
    telegram.push_update(telegram.message_update("And staking?", user_id=user))
    await eventually(lambda: asked("And staking?")(fake_llm), timeout=30, what="the LLM call")

    def metrics_show_everything() -> dict[tuple[str, tuple[tuple[str, str], ...]], float] | None:
        samples = scrape(port)
        handled = samples.get(HANDLED_MESSAGES, 0)
        errors = sum(v for (n, _), v in samples.items() if n == "syntra_llm_errors_total")
        return samples if handled >= 3 and errors >= 1 else None

    samples = await eventually(
        metrics_show_everything, timeout=30, what="three updates and an LLM error"
    )
    assert samples[("syntra_bot_update_duration_seconds_count", (("type", "message"),))] >= 3
    assert samples[("syntra_llm_request_duration_seconds_count", (("result", "ok"),))] == 1
    assert samples[("syntra_llm_errors_total", (("error", "unavailable"),))] == 1
    daily = (("outcome", "awarded"), ("type", "earn_daily_login"))
    assert samples[("syntra_points_operations_total", daily)] == 1
    credit = (("direction", "credit"), ("type", "earn_text_request"))
    assert samples[("syntra_points_moved_total", credit)] == 10
