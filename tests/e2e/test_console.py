"""`python -m src.bot.console` end to end, typed into a pseudo-terminal as a person would."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

import pexpect
import pytest

from config.settings import PROJECT_ROOT

TIMEOUT = 60  # seconds per step: the child starts Python, aiogram and a migration check
PROMPT = r"you \(id 100001, en\)> "


@pytest.mark.slow
def test_console_chat_points_and_a_button(
    database_url: str, clean_db: None, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "LOG_DIR": str(tmp_path),
        "DATA_DIR": str(tmp_path / "data"),
        "LLM_BASE_URL": "",
        "ADMIN_IDS": "",
    }
    child = pexpect.spawn(
        sys.executable,
        ["-m", "src.bot.console"],
        cwd=str(PROJECT_ROOT),
        env=env,
        encoding="utf-8",
        timeout=TIMEOUT,
        dimensions=(50, 200),
    )
    transcript = io.StringIO()
    child.logfile_read = transcript
    try:
        child.expect("Syntra console")
        child.expect(":help")
        child.expect(PROMPT)

        child.sendline("/start")
        child.expect("Welcome to")
        child.expect(r"\[1\] 💎 My points")
        child.expect(PROMPT)

        child.sendline("/daily")  # claimed by /start already: an expected replay
        child.expect("already claimed")
        child.expect(PROMPT)

        child.sendline("/points")
        child.expect("Your points")
        child.expect(r"\[1\] 📜 History  \[2\] 🏆 Leaderboard")
        child.expect(r"\[3\] 📊 How to earn  \[4\] 🎁 Daily bonus")
        child.expect(PROMPT)

        child.sendline(":3")
        child.expect(r"✏️ \(edited\) 📊 \S*How to earn points")
        child.expect(r"\[1\] « Back")
        child.expect(PROMPT)

        child.sendline(":quit")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0, transcript.getvalue()
    # The chat stays clean: no log line at any level; the log file records everything.
    chat = transcript.getvalue()
    noise = ("points moved", "daily bonus already claimed", "Duplicate", "[info", "[warn", '"level"')
    for line in noise:
        assert line not in chat, chat
    log = [json.loads(line) for line in (tmp_path / "console.log").read_text().splitlines()]
    assert any(r["event"] == "💎 points moved" for r in log)
    replays = [r for r in log if r["event"] == "daily bonus already claimed"]
    assert [r["level"] for r in replays] == ["info"]
    assert not [r for r in log if r["level"] == "warning"], log
