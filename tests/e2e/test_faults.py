"""Faults a running bot survives: kill -9 under chat load, PostgreSQL stopped for 10 s under
load, a stop in the middle of an AI answer.

Real bot.py processes against the fake Bot API and the fake LLM, on a private embedded
PostgreSQL (its own DATA_DIR, so `./manage.sh db stop` harms nothing else) reached as the bot
reaches it by default: no DATABASE_URL, the application role. `./manage.sh chaos` runs these.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import signal
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from config.points_config import DEFAULT_RULES
from config.settings import SHUTDOWN_MARGIN_SECONDS
from src.database.engine import create_engine
from src.services.ledger_audit import audit_ledger
from tests.support.embedded import app_urls, private_server
from tests.support.fake_openai import FakeOpenAI
from tests.support.fake_telegram import FakeTelegram
from tests.support.processes import BotProcess, bot_env, eventually, manage

pytestmark = [pytest.mark.slow, pytest.mark.chaos]

TOKEN = "123456:TEST"
START_TIMEOUT = 60.0
STEP_TIMEOUT = 30.0
TEXT_KEY = "text_req:{chat}:{message}"


@pytest.fixture(scope="module")
def data_dir() -> Iterator[Path]:
    with private_server() as path:
        yield path


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN) as fake:
        yield fake


@pytest.fixture
async def llm(fake_llm: FakeOpenAI) -> AsyncIterator[FakeOpenAI]:
    fake_llm.mode, fake_llm.reply, fake_llm.expected_key, fake_llm.delay = "ok", None, None, 5.0
    yield fake_llm
    fake_llm.mode, fake_llm.delay = "ok", 5.0


def env_for(
    tmp_path: Path, telegram: FakeTelegram, llm: FakeOpenAI, data_dir: Path, **extra: Any
) -> dict[str, str]:
    env = bot_env(
        BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE=telegram.base_url,
        DATA_DIR=data_dir,
        DATABASE_URL=None,
        LLM_BASE_URL=llm.base_url,
        LLM_API_KEY="test-key",
        LOG_DIR=tmp_path / "logs",
        **extra,
    )
    env["RUN_DIR"] = str(tmp_path / "run")
    return env


def fresh_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


async def start_bot(env: dict[str, str], workdir: Path, telegram: FakeTelegram) -> BotProcess:
    bot = await BotProcess(env, fresh_dir(workdir)).start()
    polls = len(telegram.calls_to("getUpdates"))

    def polling() -> bool:
        assert bot.running, f"bot.py exited early\n{bot.output()}"
        return len(telegram.calls_to("getUpdates")) > polls

    await eventually(polling, timeout=START_TIMEOUT, what="the bot polling")
    return bot


@dataclass
class ChatLoad:
    """Users asking questions, each a new message; what was asked and what was answered."""

    telegram: FakeTelegram
    users: list[int]
    asked: list[dict[str, Any]] = field(default_factory=list)  # the updates pushed
    _turns: Iterator[int] = field(default_factory=itertools.count)

    def ask(self) -> dict[str, Any]:
        turn = next(self._turns)
        user = self.users[turn % len(self.users)]
        update = self.telegram.message_update(f"question {turn}", user_id=user)
        self.asked.append(update)
        return self.telegram.push_update(update)

    async def run(self, stop: asyncio.Event, every: float) -> None:
        while not stop.is_set():
            self.ask()
            await asyncio.sleep(every)

    def answers(self) -> dict[str, int]:
        """How many times each question was answered, by its text."""
        counts: dict[str, int] = {}
        for call in self.telegram.calls_to("sendMessage"):
            answer = str(call.params.get("text", ""))
            if answer.startswith("Answer: question "):
                question = answer.removeprefix("Answer: ")
                counts[question] = counts.get(question, 0) + 1
        return counts

    def unanswered(self, updates: list[dict[str, Any]]) -> list[str]:
        answered = self.answers()
        return [u["message"]["text"] for u in updates if u["message"]["text"] not in answered]


def key_of(update: dict[str, Any]) -> str:
    message = update["message"]
    return TEXT_KEY.format(chat=message["chat"]["id"], message=message["message_id"])


async def text_awards(url: str) -> dict[str, int]:
    """Ledger rows per idempotency key of the answer awards."""
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT transaction_id, count(*) FROM points_transactions"
                    " WHERE transaction_type = 'earn_text_request' GROUP BY 1"
                )
            )
            return {str(key): int(n) for key, n in rows}
    finally:
        await engine.dispose()


async def audit(url: str) -> str:
    engine = create_engine(url, pool_size=1)
    try:
        report = await audit_ledger(engine, DEFAULT_RULES, "UTC")
    finally:
        await engine.dispose()
    assert report.ok, report.summary()
    return report.summary()


def events(log_file: Path) -> list[dict[str, Any]]:
    if not log_file.exists():
        return []
    return [json.loads(line) for line in log_file.read_text(encoding="utf-8").splitlines()]


async def test_kill_9_under_chat_load_then_start(
    tmp_path: Path, telegram: FakeTelegram, llm: FakeOpenAI, data_dir: Path
) -> None:
    # Each user asks every second, so after the start the backlog holds several questions of
    # one user at once: with the default AI_REQUESTS_PER_USER=1 all but one would be told to
    # wait (tests/bot/test_ai_request_limit.py); this test is about the kill, not that limit.
    env = env_for(tmp_path, telegram, llm, data_dir, AI_REQUESTS_PER_USER="100")
    urls = app_urls(data_dir)
    llm.mode, llm.delay = "slow", 0.3  # answers overlap: some are in flight at the kill
    first = await start_bot(env, tmp_path / "first", telegram)
    load = ChatLoad(telegram, users=list(range(950_001, 950_021)))
    stop = asyncio.Event()
    pushing = asyncio.create_task(load.run(stop, every=0.05))
    try:
        await eventually(lambda: len(load.answers()) >= 10, timeout=STEP_TIMEOUT, what="answers")
        await eventually(
            lambda: len(llm.requests) > len(load.answers()), timeout=STEP_TIMEOUT, what="in flight"
        )
        first.signal(signal.SIGKILL)
        assert await first.wait(10) == -signal.SIGKILL
        killed_at = len(load.asked)
        await asyncio.sleep(1.0)  # the load goes on while no bot runs
    finally:
        stop.set()
        await pushing
    paid_before = await text_awards(urls.app)
    assert paid_before, "nothing was paid before the kill"

    second = await start_bot(env, tmp_path / "second", telegram)
    try:
        # A message the dead bot had answered and been paid for is delivered again (a retried
        # delivery: a new update id, the same message).
        answered_and_paid = next(u for u in load.asked if key_of(u) in paid_before)
        telegram.push_update({"message": answered_and_paid["message"]})
        # Nothing asked while the bot was down is lost; and the bot serves new questions.
        fresh = load.ask()
        waiting = load.asked[killed_at:]
        await eventually(
            lambda: not load.unanswered(waiting), timeout=STEP_TIMEOUT, what="the queued questions"
        )
        second.signal(signal.SIGTERM)
        assert await second.wait(40) == 0, second.output()
    finally:
        await second.close()
        await first.close()

    paid = await text_awards(urls.app)
    assert all(n == 1 for n in paid.values())  # one award per update, whatever was redelivered
    assert paid[key_of(answered_and_paid)] == 1
    assert load.answers()[answered_and_paid["message"]["text"]] == 2  # answered twice, paid once
    answered = load.answers()
    by_key = {key_of(u): u["message"]["text"] for u in load.asked}
    assert all(by_key[key] in answered for key in paid)  # only answers that were sent are paid
    assert fresh["message"]["text"] in answered
    assert "OK: all invariants hold" in await audit(urls.app)


async def test_postgres_stopped_for_10_s_under_load(
    tmp_path: Path, telegram: FakeTelegram, llm: FakeOpenAI, data_dir: Path
) -> None:
    env = env_for(tmp_path, telegram, llm, data_dir)
    urls = app_urls(data_dir)
    log_file = tmp_path / "logs" / "bot.log"
    bot = await start_bot(env, tmp_path / "bot", telegram)
    load = ChatLoad(telegram, users=list(range(960_001, 960_011)))
    stop = asyncio.Event()
    pushing = asyncio.create_task(load.run(stop, every=0.25))
    try:
        await eventually(lambda: len(load.answers()) >= 5, timeout=STEP_TIMEOUT, what="answers")
        down = await manage("db", "stop", env=env)
        assert down.code == 0 and "stopped" in down.out, down
        outage = len(load.asked)
        await asyncio.sleep(10)
        during = load.asked[outage:]
        up = await manage("db", "start", env=env)
        assert up.code == 0 and "running" in up.out, up
        restarted_at = len(load.asked)
        await asyncio.sleep(8)  # past the 5 s interval between paid answers of a user
    finally:
        stop.set()
        await pushing
    try:
        await eventually(
            lambda: not load.unanswered(load.asked), timeout=STEP_TIMEOUT, what="every answer"
        )
        assert bot.running, bot.output()  # reconnected on its own, no restart
        assert len(during) >= 30 and not load.unanswered(during)  # answers kept flowing
        paid = await text_awards(urls.app)
        after = [key_of(u) for u in load.asked[restarted_at:]]
        assert any(key in paid for key in after), "no award after the database came back"
        assert not any(key_of(u) in paid for u in during)  # nothing paid while it was down
        bot.signal(signal.SIGTERM)
        assert await bot.wait(40) == 0, bot.output()
    finally:
        await bot.close()

    absorbed = [
        e
        for e in events(log_file)
        if e["event"] in {"non-blocking failure absorbed", "user registration failed"}
    ]
    assert absorbed and all(e["level"] == "error" and e["failures_total"] >= 1 for e in absorbed)
    audited = await manage("audit", env=env)
    assert audited.code == 0 and "OK: all invariants hold" in audited.out, audited


async def test_stop_in_the_middle_of_an_answer(
    tmp_path: Path, telegram: FakeTelegram, llm: FakeOpenAI, data_dir: Path
) -> None:
    """./manage.sh stop waits the shutdown grace: an answer being generated goes out and is
    paid; an answer the LLM never gives ends in the timeout message, not in silence."""
    llm_timeout = 4
    env = env_for(tmp_path, telegram, llm, data_dir, LLM_TIMEOUT_SECONDS=llm_timeout)
    urls = app_urls(data_dir)
    ready = Path(env["RUN_DIR"]) / "bot.ready"
    grace = llm_timeout + SHUTDOWN_MARGIN_SECONDS

    for user, delay, expected in (
        (970_001, llm_timeout * 0.6, "Answer: still thinking?"),  # answered before the timeout
        (970_002, 60.0, "⌛"),  # the LLM never answers in time
    ):
        llm.mode, llm.delay = "slow", delay
        started = await manage("start", "bot", env=env)
        assert started.code == 0, started
        assert ready.read_text().strip() == f"shutdown_grace_seconds={grace:g}"
        update = telegram.push_update(telegram.message_update("still thinking?", user_id=user))
        await eventually(
            lambda u=user: any(r.body and r.body.get("user") == str(u) for r in llm.requests),
            timeout=STEP_TIMEOUT,
            what="the LLM request",
        )
        began = time.monotonic()
        stopped = await manage("stop", "bot", env=env)
        assert stopped.code == 0 and "bot: stopped" in stopped.out, stopped
        assert "killing" not in stopped.err, stopped
        assert time.monotonic() - began < grace + 10  # stop's own bound (it never killed)

        sent = [c for c in telegram.calls_to("sendMessage") if c.params.get("chat_id") == user]
        assert sent and str(sent[-1].params["text"]).startswith(expected), sent
        paid = await text_awards(urls.app)
        assert (key_of(update) in paid) == expected.startswith("Answer")
