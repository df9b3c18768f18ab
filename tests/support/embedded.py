"""A private embedded PostgreSQL for tests that stop, restart or replace their database.

The suite's shared server (./data) stays untouched: these tests get a DATA_DIR of their own, so
`./manage.sh db stop` or `db restore` there harms nothing else.

Not under pytest's tmp_path: as root the server runs as its own OS user, which must traverse
every parent directory, and every pytest run on the machine resets /tmp/pytest-of-<user> to
0700 (a concurrent run would lock the server out of its own data).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from src.database import embedded
from src.database.embedded import DatabaseUrls


@contextmanager
def server_home() -> Iterator[Path]:
    """A fresh directory for a private server's DATA_DIR, removed afterwards."""
    base = Path(tempfile.mkdtemp(prefix="syntra-test-pg-"))
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


@contextmanager
def private_server(name: str = "data") -> Iterator[Path]:
    """Start a server with its data in a fresh DATA_DIR; stop it and remove it afterwards."""
    with server_home() as base:
        data_dir = base / name
        data_dir.mkdir()
        embedded.ensure_running(data_dir)
        try:
            yield data_dir
        finally:
            embedded.stop(data_dir)


def app_urls(data_dir: Path, database: str = "syntra") -> DatabaseUrls:
    return embedded.embedded_urls(database, data_dir)
