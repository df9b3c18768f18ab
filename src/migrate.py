"""`./manage.sh migrate`: bring the configured database to the latest migration.

python -m src.migrate        (bot.py and the console also migrate on start)

The same as `alembic upgrade head`, but a bad setting, a server that is down or a database
that does not exist yet ends in one line saying what to do, not in a traceback.
"""

from __future__ import annotations

import sys

from config.settings import get_settings
from src.bootstrap import migrate
from src.database.engine import resolve_database_url
from src.operator_errors import run_operator_command


def _migrate() -> int:
    migrate(resolve_database_url(get_settings()))
    print("Database is at the latest migration.")
    return 0


if __name__ == "__main__":
    sys.exit(run_operator_command("migrate", _migrate))
