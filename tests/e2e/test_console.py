"""`python -m src.bot.console` end to end, typed into a pseudo-terminal as a person would."""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from config.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow

TIMEOUT = 60  # seconds per step: the child starts Python, aiogram and a migration check
PROMPT = r"you \(id 100001, en\)> "


class Console:
    """The console child process and everything it printed so far."""

    def __init__(self, env: dict[str, str]) -> None:
        self.transcript = io.StringIO()
        self.child = pexpect.spawn(
            sys.executable,
            ["-m", "src.bot.console"],
            cwd=str(PROJECT_ROOT),
            env=env,
            encoding="utf-8",
            timeout=TIMEOUT,
            dimensions=(50, 200),
        )
        self.child.logfile_read = self.transcript

    def send(self, line: str, *expected: str, prompt: str = PROMPT) -> None:
        """Type `line`, expect each pattern in turn, then the prompt."""
        self.child.sendline(line)
        for pattern in expected:
            self.child.expect(pattern)
        self.child.expect(prompt)

    def quit(self) -> int:
        self.child.sendline(":quit")
        self.child.expect(pexpect.EOF)
        self.child.close()
        return int(self.child.exitstatus or 0)


def console_env(database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "LOG_DIR": str(tmp_path),
        "DATA_DIR": str(tmp_path / "data"),
        "LLM_BASE_URL": "",
        "ADMIN_IDS": "",
        "NO_COLOR": "1",  # plain text to match (bold would come as ANSI codes)
        **extra,
    }


@pytest.fixture
def console(database_url: str, clean_db: None, tmp_path: Path) -> Iterator[Console]:
    console = Console(console_env(database_url, tmp_path))
    try:
        console.child.expect("Syntra console")
        console.child.expect(":help")
        console.child.expect(PROMPT)
        yield console
    finally:
        console.child.close(force=True)


def test_console_chat_points_and_a_button(console: Console, tmp_path: Path) -> None:
    console.send("/start", "Welcome to", r"\[1\] 💎 My points")
    console.send("/daily", "already claimed")  # claimed by /start already: an expected replay
    console.send(
        "/points",
        "Your points",
        r"\[1\] 📜 History  \[2\] 🏆 Leaderboard",
        r"\[3\] 📊 How to earn  \[4\] 🎁 Daily bonus",
    )
    console.send(":3", r"✏️ \(edited\) 📊 \S*How to earn points", r"\[1\] « Back")
    assert console.quit() == 0, console.transcript.getvalue()

    # The chat stays clean: no log line at any level; the log file records everything.
    chat = console.transcript.getvalue()
    noise = (
        "points moved",
        "daily bonus already claimed",
        "Duplicate",
        "[info",
        "[warn",
        '"level"',
    )
    for line in noise:
        assert line not in chat, chat
    log = [json.loads(line) for line in (tmp_path / "console.log").read_text().splitlines()]
    assert any(r["event"] == "💎 points moved" for r in log)
    replays = [r for r in log if r["event"] == "daily bonus already claimed"]
    assert [r["level"] for r in replays] == ["info"]
    assert not [r for r in log if r["level"] == "warning"], log


def test_several_users_their_names_roles_and_languages(console: Console) -> None:
    alice = r"you \(id 200002, en\)> "
    alice_admin = r"you \(id 200002, en, admin\)> "

    console.send(":user 100001 Bob @bob_trader", r"user 100001: Bob \(@bob_trader\)")
    console.send("/start", "Welcome to Syntra, Bob")
    console.send(":user 200002 Alice @alice", r"user 200002: Alice \(@alice\)", prompt=alice)
    console.send("/start", "Alice", prompt=alice)

    # The admin role is given to an id: Alice's, not the console's.
    console.send(":admin on", "User 200002 is now an admin", prompt=alice_admin)
    console.send(
        "/points_grant @bob_trader 1000 Welcome",
        r"→ to 100001: 🎁 The Syntra team credited you \+1,000 points",
        r"→ to 100001: 🎉 Level up!",
        r"Granted \+1,000 points to Bob \(@bob_trader\)",
        prompt=alice_admin,
    )
    console.send(":user 100001", r"user 100001: Bob \(@bob_trader\)")  # no admin in the prompt
    console.send("/points_grant @alice 5", "I don't know that command")

    # The prompt follows the language the bot speaks to the user, changed by /language.
    console.send("/language", r"\[1\] 🇷🇺 Русский  \[2\] 🇬🇧 English")
    console.send(":1", "Язык: русский", prompt=r"you \(id 100001, ru\)> ")
    console.send(":lang de", "The bot speaks ru and en", prompt=r"you \(id 100001, ru\)> ")
    console.send(":user 200002", "Alice", prompt=alice_admin)  # the role stayed with the id
    console.send(":user x", r"Usage: :user ID \[NAME\] \[@username\]", prompt=alice_admin)
    assert console.quit() == 0, console.transcript.getvalue()


def test_the_demo_assistant_on_and_off(console: Console) -> None:
    console.send("What is Bitcoin?", "The AI assistant isn't connected yet")
    console.send(":demo on", "offline demo assistant answers questions")
    console.send(
        "What is Bitcoin?", "🧪 Demo assistant: offline, canned answers", "Bitcoin \\(BTC\\) is"
    )
    console.send("/points", "Balance: 10 points")  # the demo's answer earned, as a real one
    console.send(":demo off", "Demo assistant off")
    console.send("Is staking safe?", "The AI assistant isn't connected yet")
    assert console.quit() == 0, console.transcript.getvalue()


def test_llm_base_url_demo_starts_the_console_with_the_demo(
    database_url: str, clean_db: None, tmp_path: Path
) -> None:
    console = Console(console_env(database_url, tmp_path, LLM_BASE_URL="demo"))
    try:
        console.child.expect("The offline demo assistant answers questions")
        console.child.expect(PROMPT)
        console.send(":lang ru", "Telegram language set to ru", prompt=r"ru\)> ")
        console.send("Привет!", "🧪 Демо-ассистент", "Спросите меня о биткоине", prompt=r"ru\)> ")
        assert console.quit() == 0, console.transcript.getvalue()
    finally:
        console.child.close(force=True)
