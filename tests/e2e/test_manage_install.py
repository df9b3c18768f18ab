"""What manage.sh installs: `start` (and every runtime command) only requirements.txt, `test`
everything (requirements-dev.txt), and each only when its requirements changed.

The venv is a stub (SYNTRA_VENV): its `python` records what it is asked and pretends pip
succeeded, so the test sees manage.sh's decisions without downloading anything.
"""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest

from config.settings import PROJECT_ROOT
from tests.support.processes import bot_env, run_manage

pytestmark = pytest.mark.slow

RUNTIME = "-m pip install --quiet -r requirements.txt"
EVERYTHING = "-m pip install --quiet -r requirements-dev.txt"


class StubVenv:
    def __init__(self, root: Path) -> None:
        self.path = root / "venv"
        self.calls_file = root / "python-calls.log"
        python = self.path / "bin" / "python"
        python.parent.mkdir(parents=True)
        # pip "succeeds"; anything else (bot.py --check, ...) fails at once, ending the command.
        python.write_text(
            "#!/bin/sh\n"
            f'echo "$*" >> "{self.calls_file}"\n'
            'case "$*" in "-m pip "*) exit 0 ;; esac\n'
            "exit 2\n"
        )
        python.chmod(python.stat().st_mode | stat.S_IXUSR)

    def pip_installs(self) -> list[str]:
        """The `pip install -r` calls so far, then forget them."""
        if not self.calls_file.exists():
            return []
        calls = self.calls_file.read_text().splitlines()
        self.calls_file.unlink()
        return [c for c in calls if c.startswith("-m pip install --quiet -r")]


@pytest.fixture
def venv(tmp_path: Path) -> StubVenv:
    return StubVenv(tmp_path)


def env_for(venv: StubVenv, tmp_path: Path) -> dict[str, str]:
    env = bot_env(BOT_TOKEN="1:x", LOG_DIR=tmp_path / "logs")
    env |= {"SYNTRA_VENV": str(venv.path), "RUN_DIR": str(tmp_path / "run")}
    return env


async def test_start_installs_the_runtime_and_test_tops_it_up(
    venv: StubVenv, tmp_path: Path
) -> None:
    env = env_for(venv, tmp_path)

    await run_manage("start", "bot", env=env)
    assert venv.pip_installs() == [RUNTIME]  # no ruff, mypy or pytest for the service

    await run_manage("start", "bot", env=env)
    await run_manage("migrate", env=env)
    assert venv.pip_installs() == []  # the stamp says the runtime is in place

    await run_manage("test", env=env)
    assert venv.pip_installs() == [EVERYTHING]  # the same venv, upgraded for the tests

    for command in (["start", "bot"], ["console"], ["test"]):
        await run_manage(*command, env=env)
    assert venv.pip_installs() == []  # both levels in place


async def test_a_venv_made_by_test_needs_nothing_more_for_start(
    venv: StubVenv, tmp_path: Path
) -> None:
    env = env_for(venv, tmp_path)

    await run_manage("test", env=env)
    await run_manage("start", "bot", env=env)

    assert venv.pip_installs() == [EVERYTHING]


async def test_changed_requirements_are_installed_again(venv: StubVenv, tmp_path: Path) -> None:
    env = env_for(venv, tmp_path)
    await run_manage("install", "dev", env=env)
    assert venv.pip_installs() == [EVERYTHING]
    # As if requirements.txt had changed since: both stamps no longer match it.
    for stamp in (".requirements.sha256", ".requirements-dev.sha256"):
        (venv.path / stamp).write_text("an older hash\n")

    await run_manage("install", env=env)
    assert venv.pip_installs() == [RUNTIME]
    await run_manage("test", env=env)
    assert venv.pip_installs() == [EVERYTHING]

    runtime = hashlib.sha256((PROJECT_ROOT / "requirements.txt").read_bytes()).hexdigest()
    assert (venv.path / ".requirements.sha256").read_text().strip() == runtime
