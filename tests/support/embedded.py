"""A private embedded PostgreSQL for tests that stop, restart or replace their database.

The suite's shared server (./data) stays untouched: these tests get a DATA_DIR of their own, so
`./manage.sh db stop` or `db restore` there harms nothing else.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from src.database import embedded
from src.database.embedded import DatabaseUrls


@contextmanager
def private_server(base: Path) -> Iterator[Path]:
    """Start a server with its data under `base/data`; stop it and remove it afterwards."""
    data_dir = base / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    embedded.ensure_running(data_dir)
    try:
        yield data_dir
    finally:
        embedded.stop(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)


def app_urls(data_dir: Path, database: str = "syntra") -> DatabaseUrls:
    return embedded.embedded_urls(database, data_dir)
