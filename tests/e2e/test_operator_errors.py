"""Every operator command, on every failure an operator can expect, ends in ONE clear line on
stderr and a meaningful exit code, never a traceback: a bad setting (exit 2), the database
down or not created yet, Telegram unreachable (exit 1). "Database down" is a closed local port.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.support.fake_telegram import FakeTelegram
from tests.support.processes import (
    BotProcess,
    CommandResult,
    bot_env,
    free_port,
    json_lines,
    run_manage,
)

pytestmark = pytest.mark.slow

TOKEN = "123456:TEST"


def one_line(result: CommandResult, code: int, prefix: str) -> str:
    """The single stderr line of `result`, after checking the exit code and the prefix."""
    assert result.code == code, result
    lines = result.err_lines()
    assert len(lines) == 1, result
    assert lines[0].startswith(prefix), result
    assert "Traceback" not in result.out + result.err, result
    return lines[0]


@pytest.fixture
def down_url() -> str:
    """A PostgreSQL URL nobody listens on."""
    return f"postgresql://postgres@127.0.0.1:{free_port()}/syntra"


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    """manage.sh's environment: the test database, pidfiles and logs in tmp_path."""
    env = bot_env(BOT_TOKEN=TOKEN, DATABASE_URL=database_url, LOG_DIR=tmp_path / "logs")
    env["RUN_DIR"] = str(tmp_path / "run")
    return env


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN) as fake:
        yield fake


@pytest.mark.parametrize(
    ("args", "name"), [(["migrate"], "migrate"), (["audit"], "audit"), (["db", "status"], "db")]
)
async def test_a_bad_setting_is_one_line_and_exit_2(
    env: dict[str, str], args: list[str], name: str
) -> None:
    result = await run_manage(*args, env={**env, "TIMEZONE": "Mars/Olympus"})

    line = one_line(result, 2, f"{name}: invalid setting TIMEZONE:")
    assert line.endswith("unknown time zone 'Mars/Olympus' (use an IANA name such as UTC)")


@pytest.mark.parametrize("command", ["migrate", "audit", "console"])
async def test_the_database_down_is_one_line_and_exit_1(
    env: dict[str, str], down_url: str, command: str
) -> None:
    result = await run_manage(command, env={**env, "DATABASE_URL": down_url})

    line = one_line(result, 1, f"{command}: cannot connect to 127.0.0.1:")
    assert "(connection refused): is PostgreSQL running there? Check DATABASE_URL" in line


async def test_migrate_on_a_database_that_does_not_exist_says_how_to_create_it(
    env: dict[str, str], database_url: str
) -> None:
    missing = make_url(database_url).set(database="syntra_never_created")
    url = missing.render_as_string(hide_password=False)

    result = await run_manage("migrate", env={**env, "DATABASE_URL": url})

    line = one_line(result, 1, 'migrate: database "syntra_never_created" does not exist on ')
    assert "createdb -O postgres syntra_never_created" in line and "DEPLOYMENT.md" in line


async def test_start_with_the_database_down(
    env: dict[str, str], down_url: str, telegram: FakeTelegram, tmp_path: Path
) -> None:
    env = {**env, "DATABASE_URL": down_url, "TELEGRAM_API_BASE": telegram.base_url}

    result = await run_manage("start", "bot", env=env)

    line = one_line(result, 1, "bot: failed to start: cannot connect to 127.0.0.1:")
    assert line.endswith(f"(log: {tmp_path / 'logs' / 'bot.log'})")
    (record,) = [r for r in json_lines(tmp_path / "logs" / "bot.log") if r["level"] == "error"]
    assert (
        record["event"] == "bot cannot run" and "cannot connect to 127.0.0.1:" in record["reason"]
    )
    assert not (tmp_path / "run" / "bot.pid").exists()


async def test_start_with_telegram_unreachable(env: dict[str, str], tmp_path: Path) -> None:
    api = f"http://127.0.0.1:{free_port()}"

    result = await run_manage("start", "bot", env={**env, "TELEGRAM_API_BASE": api})

    line = one_line(result, 1, f"bot: failed to start: cannot reach the Telegram Bot API at {api}")
    assert "TELEGRAM_API_BASE" in line
    (record,) = [r for r in json_lines(tmp_path / "logs" / "bot.log") if r["level"] == "error"]
    assert record["reason"].startswith(f"cannot reach the Telegram Bot API at {api}")
    status = await run_manage("status", "bot", env=env)
    assert status.code == 3, status


async def test_bot_py_itself_prints_the_reason_once(tmp_path: Path, down_url: str) -> None:
    """Run directly (as systemd does), the reason is one stderr line too: the log line that
    carries it goes to bot.log, not a second time to stderr."""
    env = bot_env(BOT_TOKEN=TOKEN, DATABASE_URL=down_url, LOG_DIR=tmp_path / "logs")
    process = await BotProcess(env, tmp_path).start()
    try:
        assert await process.wait(60) == 1, process.output()
    finally:
        await process.close()
    lines = [line for line in process.stderr().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("bot: cannot connect to 127.0.0.1:"), lines
    events = [json.loads(line)["event"] for line in (tmp_path / "logs" / "bot.log").open()]
    assert events == ["bot cannot run"]
