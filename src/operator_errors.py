"""One clear line, never a traceback, for every failure an operator can expect.

The operator commands (`./manage.sh migrate|audit|db`, the console, bot.py) run their work
through `run_operator_command`: a bad setting or rules file, or a database that is down,
missing or refusing, ends the command with `name: <what is wrong and what to do>` on stderr
and exit code 2 (settings) or 1 (everything else). Anything unexpected keeps its traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from config.points_config import PointsConfigError
from config.settings import SettingsError, get_settings
from src.database.connection_errors import describe_database_failure
from src.database.embedded import EmbeddedError

EXIT_FAILED = 1
EXIT_SETTINGS = 2


def configured_database_url() -> str | None:
    """DATABASE_URL as configured (None: the embedded server), if the settings are valid."""
    try:
        return get_settings().database_url
    except SettingsError:
        return None


def describe_failure(exc: BaseException, *, database_url: str | None) -> str | None:
    """The one-line reason for an expected failure; None for a bug."""
    if isinstance(exc, SettingsError | PointsConfigError):
        return str(exc)
    if isinstance(exc, EmbeddedError):
        return f"embedded PostgreSQL: {exc}"
    return describe_database_failure(exc, database_url)


def exit_code(exc: BaseException) -> int:
    return EXIT_SETTINGS if isinstance(exc, SettingsError | PointsConfigError) else EXIT_FAILED


def run_operator_command(name: str, command: Callable[[], int]) -> int:
    """`command()`'s exit code; an expected failure becomes one line on stderr instead."""
    try:
        return command()
    except Exception as exc:
        reason = describe_failure(exc, database_url=configured_database_url())
        if reason is None:
            raise
        print(f"{name}: {reason}", file=sys.stderr)
        return exit_code(exc)
