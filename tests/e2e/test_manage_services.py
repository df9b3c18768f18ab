"""./manage.sh start|status|restart|logs|stop for the bot, as an operator (or a script) runs them.

The bot really runs (detached, as manage.sh starts it) against a local fake of the Telegram
Bot API; RUN_DIR and LOG_DIR point into a temporary folder so the project's own run/ and
logs/ are left alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from config.points_config import TransactionType
from config.settings import PROJECT_ROOT
from src.api.__main__ import GC_THRESHOLDS
from tests.support.fake_telegram import FakeTelegram
from tests.support.processes import MANAGE_SH, bot_env, eventually, free_port

pytestmark = pytest.mark.slow

TOKEN = "123456:TEST"
COMMAND_TIMEOUT = 90.0  # start waits ~6 s; stop up to 40 s; both slower on a loaded machine


@dataclass
class Result:
    code: int
    out: str
    err: str

    def __str__(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.out}\n--- stderr\n{self.err}"


class Manage:
    def __init__(self, env: dict[str, str], run_dir: Path, log_dir: Path) -> None:
        self.env = env
        self.run_dir = run_dir
        self.log_dir = log_dir
        self.timeout = COMMAND_TIMEOUT

    @property
    def pidfile(self) -> Path:
        return self.run_dir / "bot.pid"

    def pid(self) -> int | None:
        try:
            return int(self.pidfile.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    async def __call__(self, *args: str, env: dict[str, str] | None = None) -> Result:
        proc = await asyncio.create_subprocess_exec(
            "bash",
            str(MANAGE_SH),
            *args,
            cwd=PROJECT_ROOT,
            env=env or self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(), self.timeout)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise AssertionError(f"./manage.sh {' '.join(args)} hung") from None
        assert proc.returncode is not None
        return Result(proc.returncode, out.decode(), err.decode())


def alive(pid: int) -> bool:
    """Running and not a zombie (an exited child nobody reaped yet still answers kill -0)."""
    try:
        os.kill(pid, 0)
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (ProcessLookupError, FileNotFoundError):
        return False
    except PermissionError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture
async def manage(tmp_path: Path, database_url: str) -> AsyncIterator[tuple[Manage, FakeTelegram]]:
    async with FakeTelegram(token=TOKEN) as telegram:
        run_dir, log_dir = tmp_path / "run", tmp_path / "logs"
        env = bot_env(
            BOT_TOKEN=TOKEN,
            TELEGRAM_API_BASE=telegram.base_url,
            DATABASE_URL=database_url,
            LOG_DIR=log_dir,
        )
        env["RUN_DIR"] = str(run_dir)
        tool = Manage(env, run_dir, log_dir)
        try:
            yield tool, telegram
        finally:  # never leave a bot behind, whatever failed
            pid = tool.pid()
            if pid is not None and alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


RUNNING = re.compile(r"^bot: running \(pid (\d+), uptime (\d+-)?(\d+:)?\d+:\d+\)$")


async def test_start_status_restart_logs_stop(manage: tuple[Manage, FakeTelegram]) -> None:
    m, telegram = manage

    status = await m("status", "bot")
    assert (status.code, status.out.strip()) == (3, "bot: stopped"), status

    started = await m("start", "bot")
    assert started.code == 0, started
    pid = m.pid()
    assert pid is not None and alive(pid), started
    assert f"started (pid {pid})" in started.out

    status = await m("status", "bot")
    match = RUNNING.match(status.out.strip())
    assert status.code == 0 and match and int(match[1]) == pid, status

    again = await m("start", "bot")
    assert again.code == 0 and f"already running (pid {pid})" in again.out, again
    assert m.pid() == pid

    # restart is safe to repeat: each time the old process is gone and a new one runs.
    pids = [pid]
    for _ in range(2):
        restarted = await m("restart", "bot")
        assert restarted.code == 0, restarted
        new = m.pid()
        assert new is not None and new not in pids and alive(new), restarted
        assert not alive(pids[-1])
        pids.append(new)
    status = await m("status")  # no name: every service; 3 because the API is not running
    assert status.code == 3 and f"bot: running (pid {pids[-1]}," in status.out, status
    assert "api: stopped" in status.out

    # The detached bot really serves, through TELEGRAM_API_BASE, and logs its points.
    await eventually(
        lambda: telegram.calls_to("getUpdates"), timeout=60, what="the bot polling the fake"
    )
    user = 920_000_001
    telegram.push_update(telegram.message_update("/start", user_id=user))
    await telegram.wait_for("sendMessage", lambda c: c.params.get("chat_id") == user, timeout=30)
    await eventually(
        lambda: "💎" in (m.log_dir / "bot.log").read_text(encoding="utf-8"),
        timeout=30,
        what="a 💎 line in bot.log",
    )

    logs = await m("logs", "bot")
    assert logs.code == 0, logs
    records = [json.loads(line) for line in logs.out.splitlines() if line.strip()]
    assert records and all(isinstance(r, dict) and "event" in r for r in records), logs
    diamonds = [r for r in records if "💎" in r["event"]]
    assert any(
        r.get("user_id") == user and r.get("type") == TransactionType.DAILY_LOGIN for r in diamonds
    )

    stopped = await m("stop", "bot")
    assert stopped.code == 0 and "bot: stopped" in stopped.out, stopped
    assert not m.pidfile.exists()
    assert not alive(pids[-1])
    events = [json.loads(line)["event"] for line in (m.log_dir / "bot.log").open()]
    assert events[-1] == "bot stopped"  # a graceful exit, not a kill
    status = await m("status", "bot")
    assert (status.code, status.out.strip()) == (3, "bot: stopped"), status

    again = await m("stop", "bot")
    assert (again.code, again.out.strip()) == (0, "bot: not running"), again


async def test_start_refusals_exit_1(manage: tuple[Manage, FakeTelegram]) -> None:
    m, _ = manage
    refused = await m("start", "bot", env={**m.env, "BOT_TOKEN": ""})
    assert refused.code == 1, refused
    lines = refused.err.strip().splitlines()
    assert len(lines) == 1 and "./manage.sh console" in lines[0], refused
    assert "BOT_TOKEN" in lines[0]
    assert m.pid() is None and not m.pidfile.exists()

    # A token Telegram refuses (401) ends the bot after its start-up, however slow that is:
    # start waits for "serving" or the end, so its exit code can be trusted.
    refused = await m("start", "bot", env={**m.env, "BOT_TOKEN": "654321:REVOKED"})
    assert refused.code == 1, refused
    assert "failed to start" in refused.err and "refused BOT_TOKEN" in refused.err, refused
    assert "Traceback" not in (m.log_dir / "bot.out").read_text(), refused
    assert m.pid() is None and not m.pidfile.exists()

    status = await m("status", "bot")
    assert status.code == 3, status


async def test_api_start_status_logs_stop(manage: tuple[Manage, FakeTelegram]) -> None:
    m, _ = manage
    port = free_port()
    env = {**m.env, "API_PORT": str(port), "API_HOST": "127.0.0.1"}
    pidfile = m.run_dir / "api.pid"
    try:
        started = await m("start", "api", env=env)
        assert started.code == 0, started
        assert "api: started (pid" in started.out
        pid = int(pidfile.read_text())
        status = await m("status", "api", env=env)
        assert status.code == 0 and f"api: running (pid {pid}," in status.out, status
        both = await m("status", env=env)  # no name: every service; the bot is stopped
        assert both.code == 3 and "bot: stopped" in both.out and "api: running" in both.out

        # The curl recipe of docs/API.md, as an operator runs it.
        init_data = await m("init-data", "4242", "ru", env=env)
        assert init_data.code == 0, init_data
        body = await asyncio.to_thread(
            _get, f"http://127.0.0.1:{port}/api/points/balance", init_data.out.strip()
        )
        assert body["level_name"] == "Новичок" and body["balance"] == 0

        logs = await m("logs", "api", env=env)
        records = [json.loads(line) for line in logs.out.splitlines() if line.strip()]
        events = [r["event"] for r in records]
        assert "api listening" in events and "user registered" in events, logs
        # each serving process (one, or each worker) says what serves its requests
        serving = [r for r in records if r["event"] in ("api listening", "api worker serving")]
        serving = [r for r in serving if "workers" not in r]  # not the supervisor's line
        assert {
            (r.get("event_loop"), r.get("http"), str(r.get("gc_thresholds"))) for r in serving
        } == {("uvloop", "HttpToolsProtocol", str(list(GC_THRESHOLDS)))}, serving
        assert init_data.out.strip().split("hash=")[1] not in logs.out
    finally:
        stopped = await m("stop", "api", env=env)
    assert stopped.code == 0 and "api: stopped" in stopped.out, stopped
    assert not pidfile.exists()
    events = [json.loads(line)["event"] for line in (m.log_dir / "api.log").open()]
    assert events[-1] == "api stopped"  # graceful: uvicorn drained, the context closed


def _get(url: str, init_data: str) -> dict[str, object]:
    import urllib.request

    request = urllib.request.Request(url, headers={"Authorization": f"tma {init_data}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        body: dict[str, object] = json.loads(response.read())
        return body


async def test_start_all_without_a_token_refuses_each_service_in_one_line(
    manage: tuple[Manage, FakeTelegram],
) -> None:
    m, _ = manage
    refused = await m("start", env={**m.env, "BOT_TOKEN": ""})
    assert refused.code == 1, refused
    lines = refused.err.strip().splitlines()
    assert len(lines) == 2, refused
    assert lines[0].startswith("bot: BOT_TOKEN is not set")
    assert lines[1].startswith("api: BOT_TOKEN is not set") and "Mini App" in lines[1]
    assert not m.run_dir.exists() or not list(m.run_dir.glob("*.pid"))


async def test_api_port_taken_is_one_line(manage: tuple[Manage, FakeTelegram]) -> None:
    import socket

    m, _ = manage
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**m.env, "API_PORT": str(port), "API_HOST": "127.0.0.1"}
        refused = await m("start", "api", env=env)
    assert refused.code == 1, refused
    (line,) = refused.err.strip().splitlines()
    assert line == (
        f"api: failed to start: cannot listen on 127.0.0.1:{port} (API_HOST/API_PORT): "
        f"address already in use (log: {m.log_dir}/api.log)"
    ), refused
    assert "Traceback" not in (m.log_dir / "api.out").read_text()
    assert not (m.run_dir / "api.pid").exists()
