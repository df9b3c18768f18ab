"""./manage.sh start bot --workers N: N webhook workers on one port, as one service.

Workers share the port (SO_REUSEPORT); status, stop, restart and logs cover them all; only
worker 0 sets the webhook; a killed worker shows in status while the others keep serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from src.bot.webhook import SECRET_HEADER
from tests.e2e.test_manage_services import Manage, alive
from tests.support.fake_telegram import FakeTelegram
from tests.support.processes import bot_env, free_port

pytestmark = pytest.mark.slow

TOKEN = "123456:TEST"
SECRET = "w0rkers"


@pytest.fixture
async def manage(
    tmp_path: Path, database_url: str
) -> AsyncIterator[tuple[Manage, FakeTelegram, str]]:
    async with FakeTelegram(token=TOKEN) as telegram:
        run_dir, log_dir = tmp_path / "run", tmp_path / "logs"
        port = free_port()
        hook = f"http://127.0.0.1:{port}/tg/hook"
        env = bot_env(
            BOT_TOKEN=TOKEN,
            TELEGRAM_API_BASE=telegram.base_url,
            DATABASE_URL=database_url,
            LOG_DIR=log_dir,
            WEBHOOK_URL=hook,
            WEBHOOK_SECRET=SECRET,
            WEBHOOK_LISTEN_PORT=port,
            WEBHOOK_ACK="handled",
        )
        env["RUN_DIR"] = str(run_dir)
        tool = Manage(env, run_dir, log_dir)
        tool.timeout = 300.0  # three workers start and stop; slow on a loaded machine
        try:
            yield tool, telegram, hook
        finally:  # never leave a worker behind
            for pidfile in run_dir.glob("*.pid"):
                with contextlib.suppress(ValueError, ProcessLookupError):
                    os.kill(int(pidfile.read_text().strip()), signal.SIGKILL)


def worker_pids(m: Manage) -> list[int]:
    return [int((m.run_dir / f"bot.{i}.pid").read_text()) for i in range(3)]


async def post_help(hook: str, telegram: FakeTelegram, users: range) -> None:
    """One /help per user, each on a new connection (the kernel picks the worker)."""
    connector = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(connector=connector) as http:
        for user in users:
            update = telegram.message_update("/help", user_id=user)
            async with http.post(hook, json=update, headers={SECRET_HEADER: SECRET}) as resp:
                assert resp.status == 200  # WEBHOOK_ACK=handled: answered by now
    answered = {c.params.get("chat_id") for c in telegram.calls_to("sendMessage")}
    assert set(users) <= answered


async def test_workers_start_status_restart_kill_stop(
    manage: tuple[Manage, FakeTelegram, str],
) -> None:
    m, telegram, hook = manage
    started = await m("start", "bot", "--workers", "3")
    assert started.code == 0, started
    assert [line.split(":")[0] for line in started.out.splitlines()] == ["bot.0", "bot.1", "bot.2"]
    assert (m.run_dir / "bot.workers").read_text().strip() == "3"
    pids = worker_pids(m)
    assert all(alive(p) for p in pids) and not m.pidfile.exists()
    assert len(telegram.calls_to("setWebhook")) == 1  # worker 0 only

    status = await m("status", "bot")
    assert status.code == 0 and status.out.count(": running (pid") == 3, status
    await post_help(hook, telegram, range(940_000_000, 940_000_012))

    restarted = await m("restart", "bot")  # keeps the number of workers
    assert restarted.code == 0 and restarted.out.count("started (pid") == 3, restarted
    assert not any(alive(p) for p in pids)
    pids = worker_pids(m)

    os.kill(pids[1], signal.SIGKILL)
    await asyncio.sleep(0.5)
    status = await m("status", "bot")
    assert status.code == 3 and "bot.1: stopped" in status.out, status
    assert status.out.count(": running (pid") == 2, status
    await post_help(hook, telegram, range(940_000_100, 940_000_110))  # the others serve

    stopped = await m("stop", "bot")
    assert stopped.code == 0, stopped
    assert "bot.0: stopped" in stopped.out and "bot.2: stopped" in stopped.out, stopped
    assert not any(alive(p) for p in pids) and not list(m.run_dir.glob("bot*"))
    logs = await m("logs", "bot")
    assert logs.code == 0 and '"worker": 2' in logs.out, logs


async def test_several_workers_need_webhook_mode(
    manage: tuple[Manage, FakeTelegram, str],
) -> None:
    m, _, _ = manage
    refused = await m("start", "bot", "--workers", "2", env={**m.env, "WEBHOOK_URL": ""})
    assert refused.code == 1, refused
    assert refused.err.strip().splitlines() == [
        "bot: several workers need webhook mode (WEBHOOK_URL, WEBHOOK_SECRET): Telegram hands "
        "getUpdates to one process only"
    ], refused
    assert not list(m.run_dir.glob("bot*"))
    bad = await m("start", "bot", "--workers", "x")
    assert bad.code == 1 and "--workers takes a number" in bad.err, bad
