"""Run bot.py / manage.sh as real processes for the end-to-end tests.

The fakes (Telegram, the LLM) live in the test's event loop, so everything here waits with
asyncio: a blocking wait would freeze the very servers the child process is talking to.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from config.settings import PROJECT_ROOT, Settings

PYTHON = sys.executable
BOT_PY = PROJECT_ROOT / "bot.py"
MANAGE_SH = PROJECT_ROOT / "manage.sh"

# Settings that accept an empty value as "not set": an explicit "" also hides any `.env` line.
_EMPTY_MEANS_UNSET = (
    "DATABASE_URL",
    "BOT_TOKEN",
    "ADMIN_IDS",
    "TELEGRAM_API_BASE",
    "WEBHOOK_URL",
    "WEBHOOK_SECRET",
    "LLM_BASE_URL",
    "LLM_API_KEY",
    "POINTS_CONFIG_FILE",
    "LOG_FORMAT",
    "PUBLIC_BASE_URL",
    "MINI_APP_URL",
    "METRICS_PORT",
)


def bot_env(**settings: str | Path | int | None) -> dict[str, str]:
    """The environment for a child bot process: ours minus every Syntra setting, plus `settings`.

    Settings left out are pinned to "unset" (or a test default), so an operator's `.env` in the
    project folder cannot change what the test runs (e.g. switch it to webhook mode).
    """
    aliases = {str(f.alias) for f in Settings.model_fields.values() if f.alias}
    env = {k: v for k, v in os.environ.items() if k not in aliases and k != "RUN_DIR"}
    env.update({name: "" for name in _EMPTY_MEANS_UNSET})
    env.update(
        LLM_MODEL="test-model",
        LLM_TIMEOUT_SECONDS="20",
        LOG_LEVEL="INFO",
        TIMEZONE="UTC",
        WEBHOOK_LISTEN_HOST="127.0.0.1",
        WEBHOOK_LISTEN_PORT="8080",
        API_HOST="127.0.0.1",
        API_RATE_LIMIT_PER_MINUTE="120",
        API_RATE_LIMIT_BURST="30",
        INIT_DATA_MAX_AGE_SECONDS="86400",
        PYTHONUNBUFFERED="1",
    )
    env.pop("DATA_DIR", None)
    for name, value in settings.items():
        if value is None:
            env[name] = ""
        else:
            env[name] = str(value)
    return env


class BotProcess:
    """`python bot.py` with its stdout/stderr in files under `workdir`."""

    def __init__(self, env: Mapping[str, str], workdir: Path, *args: str) -> None:
        self.env = dict(env)
        self.workdir = workdir
        self.args = args
        self.stdout_path = workdir / "bot.stdout"
        self.stderr_path = workdir / "bot.stderr"
        self.proc: asyncio.subprocess.Process | None = None
        self._files: list[IO[bytes]] = []

    async def start(self) -> BotProcess:
        out = self.stdout_path.open("wb")
        err = self.stderr_path.open("wb")
        self._files = [out, err]
        self.proc = await asyncio.create_subprocess_exec(
            PYTHON,
            str(BOT_PY),
            *self.args,
            cwd=PROJECT_ROOT,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def signal(self, sig: int = signal.SIGTERM) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    async def wait(self, timeout: float) -> int:
        """The exit code; fails the test (and kills the process) after `timeout` seconds."""
        assert self.proc is not None
        try:
            return await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            self.kill()
            raise AssertionError(
                f"bot.py did not exit within {timeout} s\n{self.output()}"
            ) from None

    def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()

    async def close(self) -> None:
        """Make sure the process is gone (a test that failed half-way leaves no bot behind)."""
        if self.proc is not None and self.proc.returncode is None:
            self.kill()
            await self.proc.wait()
        for handle in self._files:
            handle.close()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def output(self) -> str:
        out = self.stdout_path.read_text(encoding="utf-8", errors="replace")
        return f"--- stdout\n{out[-4000:]}\n--- stderr\n{self.stderr()[-8000:]}"


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    def __str__(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.out}\n--- stderr\n{self.err}"


async def manage(*args: str, env: Mapping[str, str], timeout: float = 120.0) -> Result:
    """Run `./manage.sh args...` to the end (fails the test if it hangs)."""
    proc = await asyncio.create_subprocess_exec(
        "bash",
        str(MANAGE_SH),
        *args,
        cwd=PROJECT_ROOT,
        env=dict(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError(f"./manage.sh {' '.join(args)} hung") from None
    assert proc.returncode is not None
    return Result(proc.returncode, out.decode(), err.decode())


async def eventually(
    check: Callable[[], Any], *, timeout: float, what: str, interval: float = 0.05
) -> Any:
    """Poll `check` until it returns something truthy; fail with `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(interval)


def json_lines(path: Path) -> list[dict[str, Any]]:
    """Every line of a JSON-lines log, parsed (fails on a line that is not a JSON object)."""
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        record = json.loads(line)
        assert isinstance(record, dict), f"{path}:{number} is not a JSON object: {line!r}"
        records.append(record)
    return records


def free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class CommandResult:
    """What a finished command printed, and its exit code."""

    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def __str__(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.out}\n--- stderr\n{self.err}"

    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


async def run_manage(*args: str, env: Mapping[str, str], timeout: float = 90.0) -> CommandResult:
    """`./manage.sh ARGS` with `env`, stdin closed; fails the test if it hangs."""
    proc = await asyncio.create_subprocess_exec(
        "bash",
        str(MANAGE_SH),
        *args,
        cwd=PROJECT_ROOT,
        env=dict(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError(f"./manage.sh {' '.join(args)} hung") from None
    assert proc.returncode is not None
    return CommandResult(proc.returncode, out.decode(), err.decode())
