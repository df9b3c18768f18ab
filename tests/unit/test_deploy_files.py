"""deploy/: the systemd units and the logrotate file parse cleanly, and agree with the bot.

`systemd-analyze verify` and `logrotate -d` check them for real where the tools are installed
(Debian: apt install systemd logrotate); elsewhere those checks are skipped, saying why.
The units name /opt/syntra: the checks point them at this checkout and this venv's Python.
"""

from __future__ import annotations

import configparser
import getpass
import grp
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings import PROJECT_ROOT, load_settings
from src.operator_errors import EXIT_SETTINGS

DEPLOY = PROJECT_ROOT / "deploy"
UNITS = sorted(p.name for p in DEPLOY.glob("syntra-*.service")) + sorted(
    p.name for p in DEPLOY.glob("syntra-*.timer")
)


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string((DEPLOY / name).read_text())
    return parser


def here(text: str) -> str:
    """A deploy file pointed at this checkout: its Python, its folders."""
    return text.replace("/opt/syntra/.venv/bin/python", sys.executable).replace(
        "/opt/syntra", str(PROJECT_ROOT)
    )


def test_the_bot_unit_matches_the_bot() -> None:
    service = unit("syntra-bot.service")["Service"]
    assert service["ExecStart"] == "/opt/syntra/.venv/bin/python /opt/syntra/bot.py"
    assert service["Restart"] == "on-failure"
    # A bad setting (bot.py's exit 2) does not fix itself: no restart loop for it.
    assert service["RestartPreventExitStatus"] == str(EXIT_SETTINGS)
    # systemd must wait longer than the bot lets in-flight updates finish (default settings).
    assert int(service["TimeoutStopSec"]) > load_settings(_env_file=None).shutdown_grace_seconds
    assert service["LogsDirectory"] == "syntra"  # systemd creates /var/log/syntra for the user
    lines = (DEPLOY / "syntra-bot.service").read_text().splitlines()
    assert "Environment=LOG_DIR=/var/log/syntra" in lines  # (repeated keys: read the text)
    api = unit("syntra-api.service")["Service"]
    assert api["ExecStart"] == "/opt/syntra/.venv/bin/python -m src.api"
    assert api["RestartPreventExitStatus"] == str(EXIT_SETTINGS)
    # systemd must wait longer than uvicorn lets requests in flight finish.
    from src.api.__main__ import GRACEFUL_SHUTDOWN_SECONDS

    assert int(api["TimeoutStopSec"]) > GRACEFUL_SHUTDOWN_SECONDS
    audit = unit("syntra-audit.service")["Service"]
    assert audit["ExecStart"].endswith("-m src.services.ledger_audit")
    assert unit("syntra-audit.timer")["Timer"]["Persistent"] == "true"


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze is not installed (apt install systemd) so the units are not verified",
)
@pytest.mark.parametrize("name", UNITS)
def test_units_pass_systemd_analyze_verify(name: str, tmp_path: Path) -> None:
    for path in DEPLOY.glob("syntra-*"):  # a timer is verified with its service next to it
        (tmp_path / path.name).write_text(here(path.read_text()))
    result = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / name)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # Unknown keys and bad values are only warnings to systemd: none may name our files.
    assert [line for line in output.splitlines() if str(tmp_path) in line] == [], output


@pytest.mark.skipif(
    shutil.which("logrotate") is None,
    reason="logrotate is not installed (apt install logrotate) so its file is not checked",
)
def test_the_logrotate_file_parses(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir(mode=0o755)
    (logs / "bot.log").write_text("{}\n")
    user, group = getpass.getuser(), grp.getgrgid(os.getgid()).gr_name
    text = (DEPLOY / "syntra.logrotate").read_text().replace("/var/log/syntra", str(logs))
    config = tmp_path / "syntra.logrotate"
    config.write_text(re.sub(r"syntra syntra", f"{user} {group}", text))
    result = subprocess.run(
        ["logrotate", "--debug", "--state", str(tmp_path / "state"), str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0 and "error:" not in output, output
    assert f"considering log {logs / 'bot.log'}" in output
